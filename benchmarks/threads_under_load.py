"""Two threads against one, in one process (``ganglion.set_num_threads`` alternating), for LeNet-5, the MNIST MLP,
the quarter-width ResNet-18 and the LSTM, with the other cores idle or busy (``--busy``: a process spinning on each other
core). The issue's rule: a busy machine must not make two threads slower than one.

    python benchmarks/threads_under_load.py           # idle machine
    python benchmarks/threads_under_load.py --busy    # the other cores busy
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

import ganglion
from cnn_workloads import make_pair as make_lenet_pair
from cnn_workloads import make_resnet_pair
from mlp_workloads import make_pair as make_mlp_pair
from rnn_workloads import make_pair as make_lstm_pair

WORKLOADS = {
    "LeNet-5": make_lenet_pair,
    "MNIST MLP": lambda: make_mlp_pair((784, 128, 64, 10), 2048, 64, 300),
    "ResNet-18/4": make_resnet_pair,
    "LSTM": lambda: make_lstm_pair(n_batches=2),
}
REPEATS = 8


def two_over_one(run):
    """(median time on one thread, on two, ratio two / one), the thread counts alternating, each run warmed up."""
    times = {1: [], 2: []}
    for _ in range(REPEATS):
        for threads in (1, 2):
            ganglion.set_num_threads(threads)
            run()
            start = time.perf_counter()
            run()
            times[threads].append(time.perf_counter() - start)
    one, two = statistics.median(times[1]), statistics.median(times[2])
    return one, two, two / one


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--busy", action="store_true", help="run a spinning process on each other core")
    args = parser.parse_args()
    spinners = []
    if args.busy:
        spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
                    for _ in range(max(1, (os.cpu_count() or 2) - 1))]
    try:
        print(f"{'workload':<12} {'one thread':>11} {'two threads':>12} {'two / one':>10}  ({'busy' if args.busy else 'idle'})")
        for name, make in WORKLOADS.items():
            run = make()[0]()
            run()
            one, two, ratio = two_over_one(run)
            print(f"{name:<12} {one:>10.3f}s {two:>11.3f}s {ratio:>9.2f}x", flush=True)
    finally:
        for spinner in spinners:
            spinner.kill()


if __name__ == "__main__":
    main()
