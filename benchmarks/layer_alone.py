"""Each 3x3 convolution of the quarter-width ResNet-18 alone, through ``nn.functional.conv2d``: forward, then backward
to the input and the weight, batch 32, median ms of 35 calls after 5, for one framework in this process.

    python benchmarks/layer_alone.py ganglion 2     # framework, threads
    python benchmarks/layer_alone.py pytorch 2

Run the two one after the other (each in its own process: in one process their thread pools slow each other down).
Beside ``layer_times.py`` (each layer inside the training step), this gives both frameworks the same harness: no
profiler, no network around the call.
"""

import argparse
import statistics
import time

import numpy as np

LAYERS = ((3, 16, 32, 1), (16, 16, 32, 1), (16, 32, 32, 2), (32, 32, 16, 1), (32, 64, 16, 2), (64, 64, 8, 1),
          (64, 128, 8, 2), (128, 128, 4, 1))  # (channels in, out, input height = width, stride)
BATCH, WARM_UP, CALLS = 32, 5, 35


def layer_times(framework, channels_in, channels_out, size, stride, rng):
    """(forward ms, backward ms), medians, for one layer in ``framework`` (ganglion or torch)."""
    x = framework.from_numpy(rng.standard_normal((BATCH, channels_in, size, size)).astype(np.float32))
    w = framework.from_numpy(rng.standard_normal((channels_out, channels_in, 3, 3)).astype(np.float32))
    x.requires_grad_(True)
    w.requires_grad_(True)
    forward, backward = [], []
    for call in range(WARM_UP + CALLS):
        start = time.perf_counter()
        y = framework.nn.functional.conv2d(x, w, padding=1, stride=stride)
        middle = time.perf_counter()
        y.backward(framework.ones_like(y))
        end = time.perf_counter()
        x.grad = w.grad = None
        if call >= WARM_UP:
            forward.append(middle - start)
            backward.append(end - middle)
    return statistics.median(forward) * 1e3, statistics.median(backward) * 1e3


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("framework", choices=("ganglion", "pytorch"))
    parser.add_argument("threads", type=int)
    args = parser.parse_args()
    if args.framework == "ganglion":
        import ganglion as framework
    else:
        import torch as framework
    framework.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    print(f"{args.framework}, {args.threads} threads: median ms per call, batch {BATCH}")
    for channels_in, channels_out, size, stride in LAYERS:
        forward, backward = layer_times(framework, channels_in, channels_out, size, stride, rng)
        print(f"  {channels_in:>3} -> {channels_out:<3} 3x3 on {size}x{size}, stride {stride}: "
              f"forward {forward:5.2f}  backward {backward:5.2f}")


if __name__ == "__main__":
    main()
