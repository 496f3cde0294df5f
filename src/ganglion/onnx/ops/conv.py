"""Convolutions and pooling -> ONNX: Conv, ConvTranspose, MaxPool, AveragePool, global and adaptive pooling.

Padding is always written as explicit (begin..., end...) pads, so asymmetric 'same' padding and ceil_mode windows
need no auto_pad: the engine's own (lo, hi) pairs go straight into the node.
"""

import math

import numpy as np

from ...nn.functional.pooling_adaptive import adaptive_windows


def _window_pads(sizes, kernel, stride, padding, dilation, out):
    """(lo, hi) per spatial dim: ``padding`` on the left, and on the right what the last window needs (the
    engine's pooling rule: ceil_mode windows may run past the padded input)."""
    return [(p, max(0, (o - 1) * s + d * (k - 1) + 1 - n - p))
            for n, k, s, p, d, o in zip(sizes, kernel, stride, padding, dilation, out)]


def _onnx_pads(pairs):
    return [lo for lo, _ in pairs] + [hi for _, hi in pairs]


def conv(g, node, x, weight, bias, stride, pads, dilation, groups):
    inputs = [g.value(x), g.value(weight)] + ([g.value(bias)] if bias is not None else [])
    return g.add("Conv", inputs, kernel_shape=list(weight.shape[2:]), strides=list(stride), pads=_onnx_pads(pads),
                 dilations=list(dilation), group=int(groups))


def conv_transpose(g, node, x, weight, bias, stride, padding, output_padding, dilation, groups):
    """o = (in - 1) stride - 2 padding + dilation (k - 1) + output_padding + 1, ONNX's formula with pads (p, p)."""
    inputs = [g.value(x), g.value(weight)] + ([g.value(bias)] if bias is not None else [])
    return g.add("ConvTranspose", inputs, kernel_shape=list(weight.shape[2:]), strides=list(stride),
                 pads=list(padding) * 2, output_padding=list(output_padding), dilations=list(dilation),
                 group=int(groups))


def max_pool(g, node, x, kernel, stride, dilation, padding, out, return_indices):
    pads = _window_pads(x.shape[2:], kernel, stride, padding, dilation, out)
    y = g.add("MaxPool", [g.value(x)], kernel_shape=list(kernel), strides=list(stride), pads=_onnx_pads(pads),
              dilations=list(dilation))
    return [y, None] if return_indices else y  # the indices are integers: no recorded op reads them


def avg_pool(g, node, x, kernel, stride, padding, out, divisor):
    """AveragePool with the zero padding counted (sum / prod(kernel)), then rescaled to the engine's divisor
    (count_include_pad=False, ceil_mode edges and divisor_override give one per output position)."""
    nd = len(kernel)
    pads = _window_pads(x.shape[2:], kernel, stride, padding, (1,) * nd, out)
    y = g.add("AveragePool", [g.value(x)], kernel_shape=list(kernel), strides=list(stride), pads=_onnx_pads(pads),
              count_include_pad=1)
    window = float(math.prod(kernel))
    divisor = np.asarray(divisor, dtype=np.float64)
    if np.all(divisor == window):
        return y
    scale = (window / divisor).astype(x.dtype)
    return g.add("Mul", [y, g.const(scale, "pool_scale")])


def adaptive_max_pool(g, node, x, out):
    """Global max pooling, MaxPool when the windows tile the input, otherwise one Gather + ReduceMax per axis: a
    max over a box is a max along each axis in turn. Along an axis of size n, window i spans PyTorch's
    [floor(i n / o), ceil((i + 1) n / o)); the (o, widest) index table repeats a shorter window's last index, which
    leaves its max unchanged."""
    sizes = tuple(x.shape[2:])
    if all(o == 1 for o in out):
        return [g.add("GlobalMaxPool", [g.value(x)]), None]
    if all(n % o == 0 for n, o in zip(sizes, out)):
        kernel = [n // o for n, o in zip(sizes, out)]
        return [g.add("MaxPool", [g.value(x)], kernel_shape=kernel, strides=kernel), None]
    y = g.value(x)
    for axis, (n, o) in enumerate(zip(sizes, out), start=2):
        if n == o:
            continue
        starts, ends = adaptive_windows(n, o)
        widest = int((ends - starts).max())
        table = np.minimum(starts[:, None] + np.arange(widest)[None, :], ends[:, None] - 1)
        taken = g.add("Gather", [y, g.const(table.astype(np.int64), "windows")], axis=axis)  # (..., o, widest, ...)
        y = g.reduce("ReduceMax", taken, [axis + 1], keepdims=False)
    return [y, None]


def axis_taps(g, node, x, axis, index, weight, rows):
    """Resampling along one axis (adaptive average pooling with unequal windows): one MatMul with the dense
    (in, out) matrix of the taps, the axis moved last and back."""
    n_out, n_taps = index.shape
    matrix = np.zeros((x.shape[axis], n_out), dtype=np.float64)
    for t in range(n_taps):
        where = np.arange(n_out) if rows is None or rows[t] is None else np.asarray(rows[t])
        w = np.ones(len(where)) if weight is None else np.asarray(weight)[where, t]
        np.add.at(matrix, (np.asarray(index)[where, t], where), w)
    perm = list(range(x.ndim))
    perm[axis], perm[-1] = perm[-1], perm[axis]
    moved = g.add("Transpose", [g.value(x)], perm=perm)
    y = g.add("MatMul", [moved, g.const(matrix.astype(x.dtype), "taps")])
    return g.add("Transpose", [y], perm=perm)


MAPPINGS = {
    "Conv": conv, "ConvTranspose": conv_transpose, "MaxPool": max_pool, "AvgPool": avg_pool,
    "AdaptiveMaxPool": adaptive_max_pool, "AxisTaps": axis_taps,
}
