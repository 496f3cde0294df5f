"""The quarter-width ResNet-18's batch norms one at a time: ``kernels.normalization``'s training forward and backward,
called directly (batch 32, median of 200 calls), by the short-row block loops and by the channel-by-channel loops,
on one thread and on two.

    python benchmarks/norm_layers.py
"""

import numpy as np

from conv_layers import BATCH, LAYERS  # the ResNet's (channels, height = width), batch 32
from ganglion.kernels import normalization
from harness import layers_on_threads, timed_runs

CALLS = 200


def _median_us(call):
    return float(np.median(timed_runs(call, CALLS))) * 1e6


def norm_times(channels, size, short_rows, rng):
    """(forward, backward) in us for one batch norm, with ``normalization.SHORT_ROWS`` set to ``short_rows``."""
    x = rng.standard_normal((BATCH, channels, size, size)).astype(np.float32)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    weight, bias = np.ones(channels, np.float32), np.zeros(channels, np.float32)
    before = normalization.SHORT_ROWS
    normalization.SHORT_ROWS = short_rows
    try:
        _, mean, _, invstd = normalization.batch_norm_forward(x, weight, bias, 1e-5)
        return (_median_us(lambda: normalization.batch_norm_forward(x, weight, bias, 1e-5)),
                _median_us(lambda: normalization.batch_norm_backward(dy, x, mean, invstd, weight, True)))
    finally:
        normalization.SHORT_ROWS = before


def main():
    rng = np.random.default_rng(0)
    print("batch norm       threads  blocks fwd / bwd   channel loops fwd / bwd  (us)")
    for channels, size, threads in layers_on_threads(LAYERS):
        block = norm_times(channels, size, size * size + 1, rng)  # rows count as short
        loops = norm_times(channels, size, 1, rng)  # every row channel by channel
        print(f"{channels:>3}x{size}x{size:<9} {threads:>7}  {block[0]:>6.0f} / {block[1]:<6.0f}     "
              f"{loops[0]:>6.0f} / {loops[1]:<6.0f}")


if __name__ == "__main__":
    main()
