"""Convolutions composed of differentiable ops: what ``create_graph=True`` differentiates.

The fast convolutions in ``conv.py`` compute on raw arrays with workspaces. For higher-order gradients (a gradient
penalty on a CNN, a Hessian-vector product) Conv and ConvTranspose recompute their output here from ops that are
differentiable to any order, and the engine differentiates that:

- convolution: zero-pad (IndexAccumulate), gather the windows (GetItem with index arrays), one batched matmul per
  group, add the bias;
- transposed convolution: the same matmul the other way, then scatter-add the windows (IndexAccumulate) and crop.

Memory is that of im2col (N x C x K x O), which is fine for the sizes double backward is used at.
"""

from ... import backend
from ...ops.indexing import accumulate_at


def _window_index(sizes_out, kernel, stride, dilation):
    """One index array per spatial dim: position o * stride + k * dilation, shaped to broadcast to (*k, *o)."""
    xp = backend.np
    nd = len(kernel)
    index = []
    for i, (o, k, s, d) in enumerate(zip(sizes_out, kernel, stride, dilation)):
        shape = [1] * (2 * nd)
        shape[i], shape[nd + i] = k, o
        positions = xp.arange(k)[:, None] * d + xp.arange(o)[None, :] * s
        index.append(positions.reshape(shape))
    return tuple(index)


def conv_forward_graph(x, weight, bias, stride, pads, dilation, groups):
    """y = conv(x, W) + b as ops. x (N, C, *in), W (O, C/G, *k), pads ((lo, hi), ...) -> (N, O, *out)."""
    n, c = x.shape[:2]
    kernel = tuple(weight.shape[2:])
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[2:], pads))
    out = tuple((p - d * (k - 1) - 1) // s + 1 for p, k, s, d in zip(padded, kernel, stride, dilation))
    interior = (slice(None), slice(None)) + tuple(slice(lo, lo + s) for s, (lo, _) in zip(x.shape[2:], pads))
    x_pad = accumulate_at(x, (n, c) + padded, interior)
    cols = x_pad[(slice(None), slice(None)) + _window_index(out, kernel, stride, dilation)]  # (N, C, *k, *o)
    k_size, o_size = _prod(kernel), _prod(out)
    o_channels = weight.shape[0]
    cols = cols.reshape(n, groups, (c // groups) * k_size, o_size)
    w = weight.reshape(groups, o_channels // groups, (c // groups) * k_size)
    y = (w @ cols).reshape((n, o_channels) + out)
    if bias is not None:
        y = y + bias.reshape((1, -1) + (1,) * len(out))
    return y


def conv_transpose_forward_graph(x, weight, bias, stride, padding, output_padding, dilation, groups):
    """y = conv_transpose(x, W) + b as ops. x (N, C, *in), W (C, O/G, *k) -> (N, O, *out)."""
    n, c = x.shape[:2]
    sizes = tuple(x.shape[2:])
    kernel = tuple(weight.shape[2:])
    o_per_group = weight.shape[1]
    full = tuple((s - 1) * st + d * (k - 1) + 1 for s, st, d, k in zip(sizes, stride, dilation, kernel))
    out = tuple(f - 2 * p + op for f, p, op in zip(full, padding, output_padding))
    buffer = tuple(max(f, p + o) for f, p, o in zip(full, padding, out))
    k_size, i_size = _prod(kernel), _prod(sizes)
    w = weight.reshape(groups, c // groups, o_per_group * k_size).transpose(-1, -2)  # (G, O/G * K, C/G)
    cols = w @ x.reshape(n, groups, c // groups, i_size)  # (N, G, O/G * K, I)
    cols = cols.reshape((n, groups * o_per_group) + kernel + sizes)
    y = accumulate_at(cols, (n, groups * o_per_group) + buffer,
                      (slice(None), slice(None)) + _window_index(sizes, kernel, stride, dilation))
    y = y[(slice(None), slice(None)) + tuple(slice(p, p + o) for p, o in zip(padding, out))]
    if bias is not None:
        y = y + bias.reshape((1, -1) + (1,) * len(out))
    return y


def _prod(sizes):
    result = 1
    for s in sizes:
        result *= s
    return result
