"""Run every benchmark: ganglion vs PyTorch on the same workload in one process, printing the time ratio.

    python benchmarks/run.py [--rounds 5] [--only SUBSTRING]

Ratios, not absolute times, are what to quote: these machines are shared and noisy.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import time_pair  # noqa: E402

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
    args = parser.parse_args(argv)
    import numpy
    import torch

    print(f"numpy {numpy.__version__}, torch {torch.__version__} ({torch.get_num_threads()} threads), "
          f"{os.cpu_count()} CPUs; median of {args.rounds} rounds")
    print(f"{'workload':<58} {'ganglion':>10} {'pytorch':>10} {'ratio':>7}")
    for name, make in ALL.items():
        if args.only not in name:
            continue
        g, t = time_pair(*make(), rounds=args.rounds)
        print(f"{name:<58} {g:>9.3f}s {t:>9.3f}s {g / t:>6.2f}x", flush=True)


if __name__ == "__main__":
    main()
