"""The quarter-width ResNet-18's 3x3 layers one at a time: forward and backward by ``kernels.winograd`` and by
``kernels.conv_columns``, called directly (batch 32, median of 15 calls), on one thread and on two.

    python benchmarks/conv_layers.py
"""

import numpy as np

from ganglion.kernels import conv_columns, winograd
from harness import layers_on_threads, timed_runs

BATCH, CALLS = 32, 15
LAYERS = ((16, 32), (32, 16), (64, 8), (128, 4))  # (channels in = out, height = width)


def _median_ms(call):
    return float(np.median(timed_runs(call, CALLS))) * 1e3


def layer_times(channels, size, rng):
    """(Winograd forward, backward, columns forward, backward) in ms for one channels -> channels layer."""
    x = rng.standard_normal((BATCH, channels, size, size)).astype(np.float32)
    w = rng.standard_normal((channels, channels, 3, 3)).astype(np.float32)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    u = winograd.transform_weight(w)
    geo = conv_columns.geometry((3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), (size, size))
    w2 = w.reshape(channels, -1)
    dy_rows = np.empty(conv_columns.rows_shape(BATCH, channels, geo), np.float32)
    return (_median_ms(lambda: winograd.conv3x3_forward(x, u, None, (1, 1), (size, size))),
            _median_ms(lambda: winograd.conv3x3_backward(dy, x, u, (1, 1), x.shape, True, True, True)),
            _median_ms(lambda: conv_columns.conv2d_forward(x, w2, None, geo)),
            _median_ms(lambda: conv_columns.conv2d_backward(dy, x, w2, geo, x.shape, True, True, True, dy_rows)))


def main():
    rng = np.random.default_rng(0)
    print("layer            threads  Winograd fwd / bwd   columns fwd / bwd  (ms)")
    for channels, size, threads in layers_on_threads(LAYERS):
        wf, wb, cf, cb = layer_times(channels, size, rng)
        print(f"{channels:>3} -> {channels:<3} {size:>2}x{size:<2}  {threads:>7}  {wf:>8.2f} / {wb:<8.2f}"
              f"  {cf:>8.2f} / {cb:<8.2f}", flush=True)


if __name__ == "__main__":
    main()
