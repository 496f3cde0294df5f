"""Where a second thread starts to pay for the memory-bound passes: ReLU, batch norm and 2x2 max pooling, forward and
backward, on one thread and on two (each module's ``GRAIN`` lowered so that two threads do split), over a range of
sizes. The thread counts alternate round by round; median of ``--calls`` calls, best of ``--rounds`` rounds, in us.

    python benchmarks/thread_grains.py
    python benchmarks/thread_grains.py --calls 300 --rounds 5

A pass is worth sharing from the size where "two / one" falls clearly below 1; each module's ``GRAIN`` (the smallest
chunk a thread gets) is then half that size.
"""

import argparse
import statistics
import time

import numpy as np

import ganglion
from ganglion.kernels import elementwise, normalization, pooling

BATCH = 32
SHAPES = ((16, 32), (32, 16), (16, 64), (64, 32), (32, 64), (64, 64))  # (channels, height = width) at batch 32


def _passes(channels, size, rng):
    """name -> zero-argument call, for one (BATCH, channels, size, size) float32 input."""
    x = rng.standard_normal((BATCH, channels, size, size)).astype(np.float32)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    weight, bias = np.ones(channels, np.float32), np.zeros(channels, np.float32)
    y = elementwise.relu(x)
    _, mean, _, invstd = normalization.batch_norm_forward(x, weight, bias, 1e-5)
    _, arg = pooling.max_pool2x2(x)
    pooled_dy = rng.standard_normal(arg.shape).astype(np.float32)
    return {
        "relu fwd": lambda: elementwise.relu(x),
        "relu bwd": lambda: elementwise.relu_backward(dy, y),
        "bn fwd": lambda: normalization.batch_norm_forward(x, weight, bias, 1e-5),
        "bn bwd": lambda: normalization.batch_norm_backward(dy, x, mean, invstd, weight, True),
        "pool fwd": lambda: pooling.max_pool2x2(x),
        "pool bwd": lambda: pooling.max_pool2x2_backward(pooled_dy, arg, x.shape),
    }


def _median_us(call, calls):
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    grains = {module: module.GRAIN for module in (elementwise, normalization, pooling)}
    for module in grains:
        module.GRAIN = 1 << 12  # every size below splits on two threads
    rng = np.random.default_rng(0)
    print(f"{'pass':9} {'input':>16} {'elements':>9}  {'one':>8}  {'two':>8}  two / one  (us)")
    try:
        for channels, size in SHAPES:
            for name, call in _passes(channels, size, rng).items():
                best = {1: float("inf"), 2: float("inf")}
                for _ in range(args.rounds):
                    for threads in (1, 2):
                        ganglion.set_num_threads(threads)
                        call()
                        best[threads] = min(best[threads], _median_us(call, args.calls))
                print(f"{name:9} {f'{BATCH}x{channels}x{size}x{size}':>16} {BATCH * channels * size * size:>9}  "
                      f"{best[1]:8.1f}  {best[2]:8.1f}  {best[2] / best[1]:.2f}", flush=True)
    finally:
        for module, grain in grains.items():
            module.GRAIN = grain


if __name__ == "__main__":
    main()
