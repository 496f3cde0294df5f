"""Run every benchmark: ganglion vs PyTorch on the same workload, printing the time ratio ganglion / PyTorch.

    python benchmarks/run.py [--rounds 5] [--repeats 3] [--only SUBSTRING] [--same-process]
    python benchmarks/run.py --first-step [--only SUBSTRING]


By default each framework's side of a workload runs in its own child process, the two sides alternating
``--repeats`` times (the last column gives the range of the per-repeat ratios, a measure of the noise): in one
process, NumPy's OpenBLAS threads and PyTorch's OpenMP threads keep spinning after their work and slow the other
framework down. ``--same-process`` times both alternately in this process. ``--first-step`` prints, for each side
in a fresh process, the first call's time (compile, warm-up), the second's, and the peak resident memory's growth
over the two.
Ratios, not absolute times, are what to quote: these machines are shared and noisy.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import first_step_side, run_side, time_pair, time_sides_isolated  # noqa: E402

import cnn_workloads  # noqa: E402
import data_workloads  # noqa: E402
import keras_workloads  # noqa: E402
import mlp_workloads  # noqa: E402
import optim_workloads  # noqa: E402
import rnn_workloads  # noqa: E402

ALL = {**mlp_workloads.WORKLOADS, **rnn_workloads.WORKLOADS, **optim_workloads.WORKLOADS,
       **data_workloads.WORKLOADS, **cnn_workloads.WORKLOADS, **keras_workloads.WORKLOADS}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", default="", help="run only workloads whose name contains this")
    parser.add_argument("--repeats", type=int, default=3, help="child processes per side, alternating")
    parser.add_argument("--same-process", action="store_true", help="time both frameworks in this process")
    parser.add_argument("--first-step", action="store_true",
                        help="each side's first and second call and peak memory growth, each in a fresh process")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--side", choices=("ganglion", "pytorch"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        import json

        if args.first_step:
            print(json.dumps(first_step_side(ALL[args.child](), args.side)))
        else:
            print(json.dumps(run_side(ALL[args.child](), args.side, args.rounds)))
        return
    selected = [(name, make) for name, make in ALL.items() if args.only in name]
    if args.first_step:
        first_step_table(selected)
        return
    import numpy
    import torch

    mode = "both in this process" if args.same_process else "each framework in its own process"
    print(f"numpy {numpy.__version__}, torch {torch.__version__} ({torch.get_num_threads()} threads), "
          f"{os.cpu_count()} CPUs; median of {args.rounds} rounds, {mode}")
    print(f"{'workload':<58} {'ganglion':>10} {'pytorch':>10} {'ratio':>7}  range")
    for i, (name, make) in enumerate(selected):
        if args.same_process:
            g, t = time_pair(*make(), rounds=args.rounds)
            spread = ""
        else:
            g, t, ratios = time_sides_isolated(os.path.abspath(__file__), name, args.rounds,
                                               first="ganglion" if i % 2 == 0 else "pytorch", repeats=args.repeats)
            spread = f"  {min(ratios):.2f}-{max(ratios):.2f}x"
        print(f"{name:<58} {g:>9.3f}s {t:>9.3f}s {g / t:>6.2f}x{spread}", flush=True)


def first_step_table(selected):
    """For each workload and side, in a fresh child process: the first call, the second, the peak memory growth."""
    import json
    import subprocess

    print(f"{'workload':<58} {'side':<9} {'first call':>11} {'second call':>12} {'peak memory growth':>19}")
    for name, _ in selected:
        for side in ("ganglion", "pytorch"):
            out = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", name, "--side", side,
                                  "--first-step"], capture_output=True, text=True, check=True).stdout
            r = json.loads(out.strip().splitlines()[-1])
            print(f"{name:<58} {side:<9} {r['first_s']:>10.3f}s {r['second_s']:>11.3f}s "
                  f"{r['peak_growth_mb']:>16.0f} MB", flush=True)


if __name__ == "__main__":
    main()
