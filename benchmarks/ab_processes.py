"""Does a change to one of ganglion's settings make a workload faster, judged with each setting in a process of its
own? ``ab_pair.py`` alternates the two values call by call in one process, which misleads where a setting moves work
between ganglion's threads and OpenBLAS's: a call on OpenBLAS's threads leaves its workers spinning for ~0.1 s
(``ganglion.kernels.blas``), through the other setting's next call. Here each run is a fresh process doing ``--calls``
calls after two of warm-up, the two settings alternating run by run.

    python benchmarks/ab_processes.py LSTM ganglion.kernels.recurrent.MIN_ROWS_PER_THREAD 1000000 16
    python benchmarks/ab_processes.py LeNet ganglion.kernels.POOL_RECENT_SECONDS 0 1.0 --runs 4 --calls 30

Workloads as ``ab_pair.py``'s: LeNet (one step), ResNet (one step), MNIST (20 steps), LSTM (2 batches of 50 steps).
The setting is a module attribute (``package.module.NAME``; values are Python literals). Prints each run's median and
the ratio of the medians of the runs, B over A.
"""

import argparse
import ast
import importlib
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def _one_run(workload, setting, value, calls):
    """In this process: set ``setting`` to ``value``, warm ``workload`` up, time ``calls`` calls; print the median."""
    sys.path.insert(0, HERE)
    import ab_pair

    module, name = setting.rsplit(".", 1)
    setattr(importlib.import_module(module), name, ast.literal_eval(value))
    run = ab_pair._workload(workload)
    run()
    run()
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    print(statistics.median(times))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("workload", choices=["LeNet", "ResNet", "MNIST", "LSTM"])
    parser.add_argument("setting", help="a module attribute, package.module.NAME")
    parser.add_argument("a", help="value A (a Python literal)")
    parser.add_argument("b", help="value B (a Python literal)")
    parser.add_argument("--runs", type=int, default=3, help="processes per value (default 3)")
    parser.add_argument("--calls", type=int, default=20, help="timed calls per process (default 20)")
    parser.add_argument("--one-run", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one_run:
        _one_run(args.workload, args.setting, args.a, args.calls)
        return
    medians = {args.a: [], args.b: []}
    for _ in range(args.runs):
        for value in (args.a, args.b):
            command = [sys.executable, os.path.abspath(__file__), args.workload, args.setting, value, value,
                       "--calls", str(args.calls), "--one-run"]
            out = subprocess.run(command, capture_output=True, text=True, check=True).stdout.split()
            medians[value].append(float(out[-1]))
            print(f"{args.workload}, {args.setting}={value}: {medians[value][-1] * 1e3:.2f} ms", flush=True)
    a, b = statistics.median(medians[args.a]), statistics.median(medians[args.b])
    print(f"{args.workload}, {args.setting}: A={args.a} {a * 1e3:.2f} ms, B={args.b} {b * 1e3:.2f} ms, B/A {b / a:.3f} "
          f"(runs: A {', '.join(f'{m * 1e3:.1f}' for m in medians[args.a])}; "
          f"B {', '.join(f'{m * 1e3:.1f}' for m in medians[args.b])})")


if __name__ == "__main__":
    main()
