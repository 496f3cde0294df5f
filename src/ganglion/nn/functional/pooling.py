"""Pooling over the spatial dims of (N, C, *spatial) inputs with sliding windows: max, average, max unpooling.

Every window reduction loops over the kernel offsets only (a 2x2 pool is four whole-array steps), never over
output positions; 2x2 max pooling with stride 2 over NumPy floats runs compiled (``kernels.pooling``). Output sizes follow PyTorch: out = floor((in + 2 padding - dilation (k - 1) - 1) / stride) + 1,
or ceil with ``ceil_mode`` where the last window must start inside the input or its left padding.
Adaptive (and global) pooling lives in ``pooling_adaptive``.
"""

import math
from itertools import product

from ... import backend
from ...autograd.function import Function
from ...autograd.grad_mode import is_grad_enabled
from ...kernels import pooling as compiled_pooling
from ...memory import Workspace
from ...ops.indexing import accumulate_at
from .window import (
    add_batch_dim, check_rank, crop, drop_batch_dim, element_strides, kernel_slices, ntuple, output_sizes, pad_array,
)


def _lowest(xp, dtype):
    return -math.inf if dtype.kind == "f" else xp.iinfo(dtype).min


def _index_dtype(count):
    np = backend.np
    return np.int8 if count <= 127 else np.int16 if count <= 32767 else np.int32


def _window_pads(sizes, kernel, stride, padding, dilation, out):
    """(lo, hi) per dim: ``padding`` on the left, and on the right what the last window needs (ceil_mode windows
    may run past the padded input)."""
    return tuple(
        (p, max(0, (o - 1) * s + d * (k - 1) + 1 - size - p))
        for size, k, s, p, d, o in zip(sizes, kernel, stride, padding, dilation, out)
    )


def _max_and_first(xp, candidates, want_arg=True):
    """Element-wise max over ``candidates`` (same-shaped arrays) and which one won, by PyTorch's rule: the first
    maximum, except that NaN propagates and then the last NaN wins. ``want_arg=False`` skips the winner (None).

    The winner's number is counted without masked writes: it is the number of leading candidates that are not the
    maximum, accumulated with one compare, one ``and`` and one add per candidate.
    """
    best = xp.maximum(candidates[0], candidates[1]) if len(candidates) > 1 else xp.array(candidates[0], copy=True)
    for v in candidates[2:]:
        xp.maximum(best, v, out=best)
    if not want_arg:
        return best, None
    index_dtype = _index_dtype(len(candidates))
    if len(candidates) == 1:
        return best, xp.zeros(best.shape, dtype=index_dtype)
    not_yet = candidates[0] != best
    arg = not_yet.astype(index_dtype)
    for v in candidates[1:-1]:
        not_yet &= v != best
        arg += not_yet
    # one pass to rule NaN out: a sum is NaN if any term is (or if +inf meets -inf, which only costs the check below)
    if best.dtype.kind == "f" and best.size and bool(xp.isnan(best.sum())):
        nan = best != best
        if nan.any():  # PyTorch points at the last NaN of the window
            last = xp.zeros(best.shape, dtype=index_dtype)
            for k, v in enumerate(candidates):
                xp.copyto(last, k, where=v != v)
            arg = xp.where(nan, last, arg)
    return best, arg


# ------------------------------------------------------------------------------------------------------ max
class MaxPool(Function):
    """y = max over each window of x padded with -inf; the gradient flows to the element that won. 2x2 windows with
    stride 2 over float NumPy arrays take the compiled loops of ``kernels.pooling`` (the same results, one visit per
    window, on every core)."""

    def forward(self, x, kernel, stride, dilation, padding, out, return_indices):
        pads = _window_pads(x.shape[2:], kernel, stride, padding, dilation, out)
        padded_shape = x.shape[:2] + tuple(lo + size + hi for size, (lo, hi) in zip(x.shape[2:], pads))
        slices = kernel_slices(kernel, stride, dilation, out)
        want_arg = return_indices or (self.needs_input_grad[0] and is_grad_enabled())
        if compiled_pooling.covers(x, x.shape[2:], out, kernel, stride, padding, dilation):
            best, arg = compiled_pooling.max_pool2x2(x)
            arg = arg if want_arg else None
        else:
            best, arg = self._max_and_winner(x, pads, slices, kernel, stride, dilation, padding, out, want_arg)
        overlap = any(s < d * (k - 1) + 1 for k, s, d in zip(kernel, stride, dilation))
        tiled = kernel == stride and all(d == 1 for d in dilation) and all(
            o * k == n for o, k, n in zip(out, kernel, padded_shape[2:]))
        window = (out, kernel, stride, padding, dilation)
        self.save(arg, padded_shape, pads, x.shape[2:], slices, overlap, tiled, window)
        if not return_indices:
            return best
        return best, self._flat_indices(arg, kernel, stride, dilation, padding, out, x.shape[2:])

    def _max_and_winner(self, x, pads, slices, kernel, stride, dilation, padding, out, want_arg):
        """(best, arg) by whole-array steps over x padded with -inf, one per kernel offset (arg: the number of the
        offset that won, None unless ``want_arg``)."""
        xp = self.xp
        temporary = Workspace(xp)
        x_pad = pad_array(xp, x, pads, temporary, value=_lowest(xp, x.dtype))
        lead = (slice(None), slice(None))
        best, arg = _max_and_first(xp, [x_pad[lead + s] for s in slices], want_arg)
        if want_arg and any(padding) and x.dtype.kind == "f":
            empty = best == -math.inf
            if empty.any():  # all -inf: PyTorch points at the window's first element inside the input, not padding
                arg = xp.where(empty, self._first_inside(kernel, stride, dilation, padding, out, x.shape[2:]), arg)
        temporary.check_not_holding("max_pool", (best, arg))
        temporary.release()
        return best, arg

    def _first_inside(self, kernel, stride, dilation, padding, out, sizes):
        """For each window, the number of its first kernel offset that falls inside the input."""
        xp = self.xp
        offsets = list(product(*(range(k) for k in kernel)))
        first = xp.full(out, len(offsets) - 1, dtype=_index_dtype(len(offsets)))
        for number in range(len(offsets) - 1, -1, -1):
            inside = True
            for dim, (s, d, p, o, n) in enumerate(zip(stride, dilation, padding, out, sizes)):
                shape = [1] * len(out)
                shape[dim] = o
                position = (xp.arange(o) * s - p + offsets[number][dim] * d).reshape(shape)
                inside = inside & (position >= 0) & (position < n)
            first = xp.where(inside, number, first)
        return first

    def _flat_indices(self, arg, kernel, stride, dilation, padding, out, sizes):
        """PyTorch's indices: the flat position of each winner in its (unpadded) input plane."""
        xp = self.xp
        offsets = list(product(*(range(k) for k in kernel)))
        flat = 0
        for dim, (s, d, p, o, e) in enumerate(zip(stride, dilation, padding, out, element_strides(sizes))):
            table = xp.asarray([off[dim] * d for off in offsets], dtype=xp.int64)
            shape = [1] * len(out)
            shape[dim] = o
            base = (xp.arange(o, dtype=xp.int64) * s - p).reshape(shape)
            flat = flat + (base + table[arg]) * e
        return flat

    def backward(self, dy, *_):
        arg, padded_shape, pads, sizes, slices, overlap, tiled, window = self.saved
        if compiled_pooling.covers(dy, sizes, *window):
            return compiled_pooling.max_pool2x2_backward(dy, arg, dy.shape[:2] + tuple(sizes))
        xp = self.xp
        # windows that tile the padded input write every element once: no zero fill needed
        dx = (xp.empty if tiled else xp.zeros)(padded_shape, dtype=dy.dtype)
        lead = (slice(None), slice(None))
        for k, s in enumerate(slices):
            if overlap:
                dx[lead + s] += dy * (arg == k)
            else:
                xp.multiply(dy, arg == k, out=dx[lead + s])
        return crop(dx, pads, sizes)

    def backward_graph(self, dy, *_):
        """dy added at each window's winner, as one index-accumulate (its own backward gathers at the winners)."""
        arg, padded_shape, pads, sizes, slices = self.saved[:5]
        return crop(accumulate_at(dy, padded_shape, _winner_key(self.xp, arg, slices)), pads, sizes)


def _winner_key(xp, arg, slices):
    """The advanced index of each window's winner in the padded input: (n, c, *coordinates), shaped like ``arg``.
    Along dim d, window o starts at o * stride and kernel offset k sits ``slices[k][d].start`` further."""
    n, c = arg.shape[:2]
    nd = arg.ndim - 2
    key = [xp.arange(n).reshape((n,) + (1,) * (nd + 1)), xp.arange(c).reshape((1, c) + (1,) * nd)]
    for d in range(nd):
        starts = xp.asarray([s[d].start for s in slices])
        shape = [1] * arg.ndim
        shape[2 + d] = arg.shape[2 + d]
        key.append(xp.arange(arg.shape[2 + d]).reshape(shape) * slices[0][d].step + starts[arg])
    return tuple(key)


# -------------------------------------------------------------------------------------------------- average
class AvgPool(Function):
    """y = (sum over each window of x padded with zeros) / divisor; dx spreads dy / divisor over each window."""

    def forward(self, x, kernel, stride, padding, out, divisor):
        xp = self.xp
        divisor = xp.asarray(divisor, dtype=x.dtype)
        nd = len(kernel)
        tiled = kernel == stride and not any(padding) and all(o * k <= n for o, k, n in zip(out, kernel, x.shape[2:]))
        padded_shape = pads = None
        if tiled:  # windows tile the input: one reshape and one sum
            cut = x[(slice(None), slice(None)) + tuple(slice(0, o * k) for o, k in zip(out, kernel))]
            split = x.shape[:2] + tuple(v for o, k in zip(out, kernel) for v in (o, k))
            y = cut.reshape(split).sum(axis=tuple(range(3, 3 + 2 * nd, 2))) / divisor
        else:
            pads = _window_pads(x.shape[2:], kernel, stride, padding, (1,) * nd, out)
            temporary = Workspace(xp)
            x_pad = pad_array(xp, x, pads, temporary)
            padded_shape = x_pad.shape
            y = None
            for s in kernel_slices(kernel, stride, (1,) * nd, out):
                v = x_pad[(slice(None), slice(None)) + s]
                y = v.copy() if y is None else xp.add(y, v, out=y)
            temporary.check_not_holding("avg_pool", (y,))
            temporary.release()
            y /= divisor
        self.save(x.shape, kernel, stride, out, divisor, tiled, padded_shape, pads)
        return y

    def backward(self, dy):
        x_shape, kernel, stride, out, divisor, tiled, padded_shape, pads = self.saved
        xp = self.xp
        g = dy / divisor
        nd = len(kernel)
        if tiled:
            split = x_shape[:2] + tuple(v for o, k in zip(out, kernel) for v in (o, k))
            expanded = xp.expand_dims(g, tuple(range(3, 3 + 2 * nd, 2)))
            block = xp.broadcast_to(expanded, split).reshape(x_shape[:2] + tuple(o * k for o, k in zip(out, kernel)))
            if block.shape == x_shape:
                return block
            dx = xp.zeros(x_shape, dtype=dy.dtype)
            dx[(slice(None), slice(None)) + tuple(slice(0, s) for s in block.shape[2:])] = block
            return dx
        dx = xp.zeros(padded_shape, dtype=dy.dtype)
        for s in kernel_slices(kernel, stride, (1,) * nd, out):
            dx[(slice(None), slice(None)) + s] += g
        return crop(dx, pads, x_shape[2:])

    def backward_graph(self, dy):
        """dy / divisor added over each window, one index-accumulate per kernel offset (linear in dy)."""
        x_shape, kernel, stride, out, divisor, tiled, padded_shape, pads = self.saved
        g = dy / divisor
        lead = (slice(None), slice(None))
        dx = None
        for s in kernel_slices(kernel, stride, (1,) * len(kernel), out):
            part = accumulate_at(g, x_shape if tiled else padded_shape, lead + s)
            dx = part if dx is None else dx + part
        return dx if tiled else crop(dx, pads, x_shape[2:])


def _avg_divisor(sizes, kernel, stride, padding, out, count_include_pad, divisor_override):
    """PyTorch's divisor per output position: the window's size clipped to the padded input (count_include_pad) or
    to the input itself; a product of one factor per dim."""
    np = backend.np
    if divisor_override is not None:
        return float(divisor_override)
    divisor = np.ones(out)
    for dim, (size, k, s, p, o) in enumerate(zip(sizes, kernel, stride, padding, out)):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, size + p)
        count = end - start if count_include_pad else np.minimum(end, size) - np.maximum(start, 0)
        shape = [1] * len(out)
        shape[dim] = o
        divisor = divisor * count.reshape(shape)
    return divisor


class MaxUnpool(Function):
    """y = zeros with y[n, c, indices[n, c, i]] = x[n, c, i] (the inverse of max pooling); dx = dy at indices."""

    backward_composes = True  # backward is a reshape and an integer-indexed read: the same on Tensors

    def forward(self, x, indices, out, fn):
        xp = self.xp
        n, c = x.shape[:2]
        plane = math.prod(out)
        flat = indices.reshape(n * c, -1).astype(xp.int64, copy=False)
        if flat.size and (int(flat.min()) < 0 or int(flat.max()) >= plane):
            bad = int(flat.min()) if int(flat.min()) < 0 else int(flat.max())
            raise ValueError(f"{fn}: found an invalid max index {bad} (the output planes {tuple(out)} have {plane} "
                             "positions)")
        rows = xp.arange(n * c)[:, None]
        y = xp.zeros((n * c, plane), dtype=x.dtype)
        y[rows, flat] = x.reshape(n * c, -1)
        self.save(rows, flat, x.shape)
        return y.reshape((n, c) + tuple(out))

    def backward(self, dy):
        rows, flat, shape = self.saved
        return dy.reshape(rows.shape[0], -1)[rows, flat].reshape(shape)


# ----------------------------------------------------------------------------------------------- functions
def batch_of(fn, input, nd):
    """(input as (N, C, *spatial), whether it came unbatched): its rank checked for ``fn``'s errors."""
    unbatched = check_rank(fn, input, nd)
    return add_batch_dim(input, unbatched), unbatched


def pool_args(fn, nd, kernel_size, stride, padding, dilation=1):
    kernel = ntuple(kernel_size, nd, "kernel_size", fn)
    if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0):
        stride = kernel
    stride = ntuple(stride, nd, "stride", fn)
    padding = ntuple(padding, nd, "padding", fn, minimum=0)
    dilation = ntuple(dilation, nd, "dilation", fn)
    if any(p > k // 2 for p, k in zip(padding, kernel)):
        raise ValueError(f"{fn}: padding {padding} must be at most half of kernel_size {kernel}")
    return kernel, stride, padding, dilation


def max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, nd, fn):
    """The shared body of max_pool1d/2d/3d; ``fn`` names the caller (a function or a layer) in errors."""
    x, unbatched = batch_of(fn, input, nd)
    kernel, stride, padding, dilation = pool_args(fn, nd, kernel_size, stride, padding, dilation)
    out = output_sizes(fn, x.shape[2:], kernel, stride, tuple((p, p) for p in padding), dilation, ceil_mode,
                       what="pooling window", must_fit=False)
    result = MaxPool.apply(x, kernel, stride, dilation, padding, out, bool(return_indices))
    if return_indices:
        return drop_batch_dim(result[0], unbatched), drop_batch_dim(result[1], unbatched)
    return drop_batch_dim(result, unbatched)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over sliding windows. (N, C, L) or (C, L) -> (N, C, L_out); indices are flat positions in L."""
    return max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 1, "max_pool1d")


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over sliding windows. (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out), H_out =
    floor((H + 2 padding - dilation (k - 1) - 1) / stride) + 1; indices are flat positions h W + w."""
    return max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 2, "max_pool2d")


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over sliding windows. (N, C, D, H, W) or (C, D, H, W) -> (N, C, D_out, H_out, W_out)."""
    return max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 3, "max_pool3d")


def avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, nd, fn):
    """The shared body of avg_pool1d/2d/3d; ``fn`` names the caller in errors."""
    x, unbatched = batch_of(fn, input, nd)
    kernel, stride, padding, _ = pool_args(fn, nd, kernel_size, stride, padding)
    if divisor_override is not None and (isinstance(divisor_override, bool) or divisor_override == 0):
        raise ValueError(f"{fn}: divisor_override must be a non-zero number, got {divisor_override!r}")
    out = output_sizes(fn, x.shape[2:], kernel, stride, tuple((p, p) for p in padding), (1,) * nd, ceil_mode,
                       what="pooling window", must_fit=False)
    divisor = _avg_divisor(x.shape[2:], kernel, stride, padding, out, count_include_pad, divisor_override)
    return drop_batch_dim(AvgPool.apply(x, kernel, stride, padding, out, divisor), unbatched)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Mean over sliding windows. (N, C, L) or (C, L) -> (N, C, L_out)."""
    return avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, None, 1, "avg_pool1d")


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean over sliding windows. (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out); the divisor counts the
    zero padding with ``count_include_pad`` and is ``divisor_override`` when given."""
    return avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, 2,
                    "avg_pool2d")


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean over sliding windows. (N, C, D, H, W) or (C, D, H, W) -> (N, C, D_out, H_out, W_out)."""
    return avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, 3,
                    "avg_pool3d")


def unpool_output_size(fn, sizes, kernel, stride, padding, output_size):
    """Default (in - 1) stride - 2 padding + kernel per dim, or ``output_size`` checked to lie strictly within one
    stride of it (as PyTorch)."""
    nd = len(kernel)
    default = tuple((s - 1) * st - 2 * p + k for s, st, p, k in zip(sizes, stride, padding, kernel))
    if output_size is None:
        return default
    output_size = tuple(int(o) for o in output_size)
    if len(output_size) == nd + 2:
        output_size = output_size[2:]
    if len(output_size) != nd:
        raise ValueError(f"{fn}: output_size must have {nd} or {nd + 2} elements, got {output_size}")
    for dim, (o, d, st) in enumerate(zip(output_size, default, stride)):
        if not d - st < o < d + st:
            raise ValueError(f"{fn}: invalid output_size {output_size} (dim {dim} must be between {d - st} and "
                             f"{d + st}, exclusive)")
    return output_size


def max_unpool(input, indices, kernel_size, stride, padding, output_size, nd, fn):
    """The shared body of max_unpool1d/2d/3d."""
    x, unbatched = batch_of(fn, input, nd)
    if tuple(indices.shape) != tuple(input.shape):
        raise ValueError(f"{fn}: expected indices of the input's shape {tuple(input.shape)}, got "
                         f"{tuple(indices.shape)}")
    idx = indices.reshape(tuple(x.shape))
    kernel, stride, padding, _ = pool_args(fn, nd, kernel_size, stride, padding)
    out = unpool_output_size(fn, x.shape[2:], kernel, stride, padding, output_size)
    return drop_batch_dim(MaxUnpool.apply(x, idx, out, fn), unbatched)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Inverse of max_pool1d: (N, C, L) values and indices -> (N, C, L_out) zeros with the values put back."""
    return max_unpool(input, indices, kernel_size, stride, padding, output_size, 1, "max_unpool1d")


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Inverse of max_pool2d: (N, C, H, W) values and indices -> (N, C, H_out, W_out), H_out =
    (H - 1) stride - 2 padding + kernel (or ``output_size``)."""
    return max_unpool(input, indices, kernel_size, stride, padding, output_size, 2, "max_unpool2d")


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Inverse of max_pool3d: (N, C, D, H, W) values and indices -> (N, C, D_out, H_out, W_out)."""
    return max_unpool(input, indices, kernel_size, stride, padding, output_size, 3, "max_unpool3d")
