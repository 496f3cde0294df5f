"""Convolutions as one fused op each: a few large strided copies feeding batched matrix products.

conv:            y[n, o, p] = b[o] + sum_{c, k} W[o, c, k] x_pad[n, g(o) C/G + c, p stride + k dilation]
conv_transpose:  its adjoint in x: every input value spreads W-weighted copies of itself over the output, then
                 ``padding`` is cropped from both ends (and ``output_padding`` extra positions kept at the end).

Two routes for conv, by which large temporary is smaller (``_columns_route``):
- columns: im2col (one strided copy, C/G x K rows per position) and one product W cols; backward dW = dy cols^T,
  dx = ``_spread`` (a row-wise col2im of W^T dy);
- offsets (fewer output than input channels, stride 1, groups 1): one product per kernel offset, W_k x (O x K rows
  per position), then K shifted adds; backward from one shifted copy of dy (``_offsets_backward``).
conv_transpose: y by ``_spread``, backward by im2col of dy. Layouts and the window arithmetic live in ``window``.
On NumPy float32/float64 arrays with compiled kernels, 1-D and 2-D convolutions and transposed convolutions with
groups 1 (not the offsets route) take a third route, ``kernels.conv_columns``: compiled im2col/col2im over the whole
batch and one product per chunk of examples (the routes above stay the reference, and serve CuPy, 3-D and groups).

Measured choices (LeNet-5 shapes, one core): a batched product over the examples beats one large product on a
(C K, N L) layout and einsum/tensordot; dW as (cols dy^T) beats (dy cols^T); the row-wise col2im halves the time
of summing W^T dy offset by offset; reusing the large temporaries (``memory.Workspace``) removed ~1,500 page faults
a step. Threads: the batched products and dW's sum over the examples split the batch over ganglion's threads with
single-threaded BLAS (``kernels.conv``): OpenBLAS's own threads on each small product were 5-20x slower than one
thread with the other core busy (numbers there and in benchmarks/README.md).

Memory ownership: each forward and backward takes its temporaries from a workspace of its own, released when it
returns; what a convolution keeps for dW (the columns, or the padded input on the offsets route) lives in the node's
workspace (``BufferedFunction``), released when the graph is spent. What an op returns is always a new array (or a
view of its input), never a workspace's.
"""

import math
from itertools import product

from ... import backend, kernels
from ...kernels import conv_columns, winograd
from ...autograd.grad_mode import is_grad_enabled
from ...memory import Workspace
from ...tensor import Tensor
from ._buffered import BufferedFunction
from .conv_graph import conv_forward_graph, conv_transpose_forward_graph
from .window import (
    Layout, add_batch_dim, as_strided, check_rank, col2im, crop, drop_batch_dim, element_strides, from_layout, im2col,
    ntuple, output_sizes, pad_array, spatial_shape_text, to_layout,
)


# ------------------------------------------------------------------------------------------- array kernels

def _weight_matrix(weight, groups):
    """(out, C/G, *k) -> (out, C/G * K), or (G, out/G, C/G * K) with groups."""
    out = weight.shape[0]
    if groups == 1:
        return weight.reshape(out, -1)
    return weight.reshape(groups, out // groups, -1)


def _matmul(xp, a, b, work):
    """a @ b (batched, broadcasting): an array of the workspace ``work`` (a temporary), or new when ``work`` is
    None (an array the caller may return). On NumPy arrays with compiled kernels available, the batch is split
    over ganglion's threads with single-threaded BLAS (``kernels.conv``: two OpenBLAS threads per small product
    were 5-20x slower than one with the other core busy)."""
    np = backend.np
    shape = np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + (a.shape[-2], b.shape[-1])
    dtype = np.result_type(a.dtype, b.dtype)
    out = xp.empty(shape, dtype) if work is None else work.empty(shape, dtype)
    if len(shape) > 2 and kernels.usable(a, b):
        from ...kernels.conv import batched_matmul

        return batched_matmul(a, b, out)
    return xp.matmul(a, b, out=out)


def _mix(xp, w2, cols, groups, work):
    """W cols per group: (out, CK) @ (N, CK, L) -> (N, out, L); in ``work`` or new (see ``_matmul``)."""
    if groups == 1:
        return _matmul(xp, w2, cols, work)
    n, ck, length = cols.shape
    return _matmul(xp, w2, cols.reshape(n, groups, ck // groups, length), work).reshape(n, groups * w2.shape[1], length)


def _mix_transposed(xp, w2, dy, groups, work):
    """W^T dy per group: (N, out, L) -> (N, CK, L); in ``work`` or new (see ``_matmul``)."""
    if groups == 1:
        return _matmul(xp, w2.T, dy, work)
    n, out, length = dy.shape
    w_t = w2.transpose(0, 2, 1)
    return _matmul(xp, w_t, dy.reshape(n, groups, out // groups, length), work).reshape(n, groups * w_t.shape[1],
                                                                                            length)


def _weight_grad(xp, dy, cols, groups, work):
    """dW[o, ck] = sum_{n, l} dy[n, o, l] cols[n, ck, l], per group; (out, CK) or (G, out/G, CK/G), a new array
    (its per-example products are temporaries of ``work``).

    Computed as (cols dy^T) summed over the batch, then transposed: measured faster than dy cols^T, whose second
    operand is the transposed (and larger) one. On NumPy with compiled kernels available, ``kernels.conv.matmul_sum``
    sums the per-example products on every thread without an (N, CK, out) array: the loop below on OpenBLAS's own
    threads took 7.9 s of an 11.5 s profile of two quarter-width ResNet-18 steps at load ~20 on 2 cores.
    """
    n, out, length = dy.shape
    ck = cols.shape[1]
    if groups > 1:
        dy = dy.reshape(n, groups, out // groups, length)
        cols = cols.reshape(n, groups, ck // groups, length)
    dy_t = xp.swapaxes(dy, -1, -2)
    if n and kernels.usable(cols, dy_t):
        from ...kernels.conv import matmul_sum

        return xp.swapaxes(matmul_sum(cols, dy_t), -1, -2)
    if out <= length or n == 0:  # the batched product's (N, CK, out) temporary is at most the size of cols
        grad = _matmul(xp, cols, dy_t, work).sum(axis=0)
        return xp.swapaxes(grad, -1, -2)
    grad = cols[0] @ dy_t[0]
    for i in range(1, n):
        grad += cols[i] @ dy_t[i]
    return xp.swapaxes(grad, -1, -2)


def _spread(xp, dy, margin, weight, groups, layout, channels, work):
    """col2im(W^T dy): from dy (N, out, L) in ``layout`` back to a new (N, channels, *padded), the adjoint of
    im2col followed by W. ``dy`` carries ``margin`` zeros on both sides of its L positions (see ``spread_margin``).
    Temporaries come from the workspace ``work``; the result is always a new array.

    In the flat layout this is done row by row instead of offset by offset: dy is shifted by the offsets of the
    kernel's last dim only (a copy of out x kw rows, not channels x prod(kernel)), one product with the weights
    (that dim flipped) gives every row offset's contribution, and one add per row offset puts them in place.
    Measured about twice as fast as col2im of the full W^T dy.
    """
    if not layout.flat:
        # col2im is a reshape of its input when one_to_one: the columns are then the result, so not a temporary
        cols = _mix_transposed(xp, _weight_matrix(weight, groups), dy, groups, None if layout.one_to_one() else work)
        return col2im(xp, cols, channels, layout)
    n, out, _ = dy.shape
    kw, dw = layout.kernel[-1], layout.dilation[-1]
    og, cg = out // groups, channels // groups
    span = layout.length + margin
    item = dy.itemsize
    s_n, s_c = dy.strides[:2]
    # shifted[n, g, o, j, q] = dy[n, g og + o, q - (kw - 1 - j) dw]
    view = as_strided(dy, (n, groups, og, kw, span), (s_n, og * s_c, s_c, dw * item, item))
    shifted = view.reshape(n, groups, og * kw, span) if kw == 1 else work.empty((n, groups, og * kw, span), dy.dtype)
    if kw > 1:
        shifted.reshape(view.shape)[...] = view
    rows = math.prod(layout.kernel[:-1])
    w = weight.reshape(groups, og, cg, rows, kw)[..., ::-1]
    w = w.transpose(0, 3, 2, 1, 4).reshape(groups, rows * cg, og * kw)
    direct = rows == 1 and span == math.prod(layout.padded)  # a 1-wide kernel covering the input: no shifts
    per_row = _matmul(xp, w, shifted, None if direct else work)
    if direct:
        return per_row.reshape((n, channels) + layout.padded)
    per_row = per_row.reshape(n, groups, rows, cg, span)
    dx = xp.zeros((n, groups, cg, math.prod(layout.padded)), dtype=dy.dtype)
    e = element_strides(layout.padded)
    for r, offset in enumerate(product(*(range(k) for k in layout.kernel[:-1]))):
        start = sum(k * d * ed for k, d, ed in zip(offset, layout.dilation, e))
        dx[:, :, :, start:start + span] += per_row[:, :, r]
    return dx.reshape((n, channels) + layout.padded)


def spread_margin(layout):
    """The zeros ``_spread`` needs on each side of the gradient's positions (0 outside the flat layout)."""
    return layout.dilation[-1] * (layout.kernel[-1] - 1) if layout.flat else 0


def _sum_bias(dy):
    return dy.sum(axis=(0,) + tuple(range(2, dy.ndim)))


def _columns_route(layout, weight, groups):
    """True when the convolution goes through im2col (``_conv_by_columns``), False for ``_conv_by_offsets``.

    Both routes do the same multiplications; they differ in the large temporary: the columns hold C/G x K rows per
    position, the offsets route's products O x K. With fewer output than input channels (a 7x7 conv 128 -> 1 on
    64x128x28x28: 1.5 GB of columns against 15 MB of products, and 12x against 1.3x PyTorch's time) the offsets route
    wins; it needs the flat layout (stride 1) and serves groups == 1.
    """
    return not (layout.flat and groups == 1 and weight.shape[0] < weight.shape[1] and math.prod(layout.kernel) > 1)


def _conv_by_columns(xp, x_pad, weight, bias, layout, groups, kept):
    """y = W im2col(x) (+ b): returns y (a new array), the columns (arrays of ``kept``, which backward reads) and
    whether the bias rode in the product (then the columns carry a row of ones, and dW's last column is db)."""
    # the bias rides in the product as a column of W against a row of ones in cols: no pass of its own over y
    # (gathering y from the layout while adding it cost twice a plain copy), and backward gets db with dW
    bias_in_product = bias is not None and groups == 1 and math.prod(layout.kernel) > 1
    cols = im2col(x_pad, layout, kept, ones=bias_in_product)
    w2 = _weight_matrix(weight, groups)
    if bias_in_product:
        w2 = xp.concatenate((w2, bias[:, None]), axis=1)
    bias_to_add = bias is not None and not bias_in_product
    if layout.gapless() and not bias_to_add:  # the product is y: a new array, no second pass
        return from_layout(_mix(xp, w2, cols, groups, None), layout), cols, bias_in_product
    temporary = Workspace(xp)  # the product is read once more, into the new y
    y_layout = from_layout(_mix(xp, w2, cols, groups, temporary), layout)
    y = y_layout + _bias_column(bias, layout) if bias_to_add else y_layout.copy()
    temporary.release()
    return y, cols, bias_in_product


def _bias_column(bias, layout):
    return bias.reshape((-1,) + (1,) * len(layout.out))


def _conv_by_offsets(xp, x_pad, weight, bias, layout):
    """y = conv(x, W) + b as one product per kernel offset followed by shifted adds (groups == 1, flat layout):
    z[n, o, k, q] = sum_c W[o, c, k] x_pad[n, c, q], then y[n, o, p] = sum_k z[n, o, k, off_k + p]. Returns y, a new
    array; the products are a temporary."""
    out_channels, channels = weight.shape[:2]
    k_total = math.prod(layout.kernel)
    n = x_pad.shape[0]
    positions = math.prod(x_pad.shape[2:])
    x_line = x_pad.reshape(n, channels, positions)  # sizes spelled out: -1 is ambiguous for an empty batch
    w_by_offset = weight.reshape(out_channels, channels, k_total).transpose(0, 2, 1).reshape(-1, channels)
    temporary = Workspace(xp)
    z = _matmul(xp, w_by_offset, x_line, temporary).reshape(n, out_channels, k_total, positions)
    terms = (from_layout(z[:, :, k, start:start + layout.length], layout) for k, start in enumerate(layout.offsets()))
    y = next(terms) + _bias_column(bias, layout) if bias is not None else next(terms).copy()
    for term in terms:
        y += term
    temporary.release()
    return y


def _offsets_backward(xp, dy, x_pad, weight, layout, need_x, need_w, work):
    """The offsets route's dx_pad and dW (each None unless asked), from one shifted copy of dy:
    shifted[n, o, k', q] = dy[n, o, q - off_k] with k' = K - 1 - k (the kernel flipped, so every stride is positive),
    dW[o, c, k] = sum_{n, q} shifted[n, o, k', q] x_pad[n, c, q],  dx_pad[n, c, q] = sum_{o, k} W[o, c, k]
    shifted[n, o, k', q]. No columns: the temporary is O x K rows per position. ``work`` holds the temporaries."""
    out_channels, channels = weight.shape[:2]
    kernel = layout.kernel
    k_total = math.prod(kernel)
    n = dy.shape[0]
    reach = layout.offsets()[-1]  # the last offset: dy needs that many zeros on each side
    dy_wide = to_layout(xp, dy, layout, work, reach)
    positions = math.prod(layout.padded)
    item = dy_wide.itemsize
    e = element_strides(layout.padded)
    view = as_strided(dy_wide, (n, out_channels) + kernel + (positions,),
                      dy_wide.strides[:2] + tuple(d * ed * item for d, ed in zip(layout.dilation, e)) + (item,))
    shifted = work.empty((n, out_channels * k_total, positions), dy.dtype)
    shifted.reshape(view.shape)[...] = view
    flip = (slice(None), slice(None)) + (slice(None, None, -1),) * len(kernel)
    dx_pad = dw = None
    if need_w:
        x_line = x_pad.reshape(n, channels, positions)
        grad = _weight_grad(xp, shifted, x_line, 1, work)  # (O K', C)
        grad = grad.reshape((out_channels,) + kernel + (channels,))
        dw = xp.ascontiguousarray(xp.moveaxis(grad, -1, 1)[flip])
    if need_x:
        w_flipped = weight[flip].transpose(1, 0, *range(2, weight.ndim)).reshape(channels, -1)  # (C, O K')
        dx_pad = _matmul(xp, w_flipped, shifted, None).reshape((n, channels) + layout.padded)
    return dx_pad, dw


def _batch_columns_route(x, weight, groups, layout_of_padded):
    """True when a 1-D or 2-D convolution goes through ``kernels.conv_columns`` (the whole batch's columns, built and
    spread by compiled loops, one product per chunk of examples): NumPy float32/float64 arrays with compiled kernels
    available, groups == 1, and not the offsets route. Measured on a quarter-width ResNet-18's layers (batch 32,
    forward + backward), against the per-example route below: see benchmarks/README.md, "convolutions"."""
    return (x.ndim in (3, 4) and groups == 1 and x.dtype in _COMPILED_DTYPES and weight.dtype == x.dtype
            and kernels.usable(x, weight) and _columns_route(layout_of_padded, weight, groups))


_COMPILED_DTYPES = (backend.np.dtype("float32"), backend.np.dtype("float64"))


def _direct_route(geo, out_channels):
    """True when a batch-columns convolution (``geo``: ``conv_columns.geometry``) is computed by
    ``kernels.conv_direct`` instead (stride 1, dilation 1, few output channels: LeNet-5's first layer), where the
    columns' products are too short for BLAS. Backward, dx always goes through the columns; dW alone (a network's
    first layer) goes through ``conv_direct`` where ``weight_grad_applies`` says, whichever route the forward took."""
    return _conv_direct().applies(geo, out_channels)


def _conv_direct():
    from ...kernels import conv_direct  # imports numba: reached only where the compiled kernels run

    return conv_direct


def _winograd_route(x, weight, stride, dilation, groups):
    """True when a 2-D convolution goes through ``kernels.winograd``: NumPy float32/float64 arrays with compiled
    kernels available, and a convolution that ``winograd.applies`` to (3x3, stride 1, many channels), whichever of
    the other routes it would take."""
    return (x.ndim == 4 and x.dtype in _COMPILED_DTYPES and weight.dtype == x.dtype and kernels.usable(x, weight)
            and winograd.applies(weight.shape, stride, dilation, groups))


def _batch_columns_transposed_route(x, weight, groups):
    """True when a 1-D or 2-D transposed convolution goes through ``kernels.conv_columns`` (the conditions of
    ``_batch_columns_route``; a transposed convolution has no offsets route)."""
    return (x.ndim in (3, 4) and groups == 1 and x.dtype in _COMPILED_DTYPES and weight.dtype == x.dtype
            and kernels.usable(x, weight))


def _as_2d(x, weight, stride, pads, dilation):
    """A 1-D convolution's arguments as a 2-D one's of height 1 (views); 2-D ones unchanged."""
    if x.ndim == 4:
        return x, weight, stride, pads, dilation
    return x[:, :, None], weight[:, :, None], (1,) + stride, ((0, 0),) + pads, (1,) + dilation


class Conv(BufferedFunction):
    """N-d convolution (cross-correlation, as PyTorch). x: (N, C, *in), W: (out, C/G, *k), b: (out,) ->
    y: (N, out, *o) with o = floor((in + pad_lo + pad_hi - dilation (k - 1) - 1) / stride) + 1.

    Columns route: y = W cols + b (one product), dW = dy cols^T (one product), dx = col2im(W^T dy), db = sum of dy.
    Offsets route (fewer output than input channels): see ``_conv_by_offsets`` and ``_offsets_backward``.
    Batch-columns route (1-D/2-D on NumPy with compiled kernels): the columns route over the whole batch at once,
    ``kernels.conv_columns``; 3x3 stride-1 2-D convolutions of many channels by Winograd's F(2x2, 3x3) instead,
    ``kernels.winograd``.
    """

    def forward(self, x, weight, bias, stride, pads, dilation, groups):
        xp = self.xp
        kernel = weight.shape[2:]
        out = output_sizes("conv", x.shape[2:], kernel, stride, pads, dilation)
        padded = tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[2:], pads))
        if _winograd_route(x, weight, stride, dilation, groups):
            return self._forward_winograd(x, weight, bias, pads, out)
        if _batch_columns_route(x, weight, groups, Layout(padded, kernel, stride, dilation, out)):
            return self._forward_batch_columns(x, weight, bias, stride, pads, dilation, out)
        kept = Workspace(xp)  # what backward reads (the columns, or the padded x): this node's until the graph is spent
        x_pad = pad_array(xp, x, pads, kept)
        layout = Layout(x_pad.shape[2:], kernel, stride, dilation, out)
        by_columns = _columns_route(layout, weight, groups)
        if by_columns:
            y, backward_input, bias_in_product = _conv_by_columns(xp, x_pad, weight, bias, layout, groups, kept)
        else:
            y, backward_input, bias_in_product = _conv_by_offsets(xp, x_pad, weight, bias, layout), x_pad, False
        need_w = self.needs_input_grad[1] and is_grad_enabled()  # else nothing will call backward or free
        if not need_w:
            kept.release()
        self.keep_for_backward(kept, (y,), backward_input if need_w else None, weight, layout, x.shape, pads, groups,
                               by_columns, bias_in_product)
        return y

    def _forward_batch_columns(self, x, weight, bias, stride, pads, dilation, out):
        """y by ``kernels.conv_columns``; keeps x (as PyTorch does), from which backward rebuilds the columns a piece
        at a time, when the weight needs a gradient."""
        x_contiguous = backend.np.ascontiguousarray(x)  # x itself when it is: then its version is checked in backward
        need_w = self.needs_input_grad[1] and is_grad_enabled()
        x2, w2d, stride2, pads2, dilation2 = _as_2d(x_contiguous, weight, stride, pads, dilation)
        geo = conv_columns.geometry(w2d.shape[2:], stride2, pads2, dilation2, out if x.ndim == 4 else (1,) + out)
        w2 = w2d.reshape(w2d.shape[0], -1)
        if _direct_route(geo, w2d.shape[0]):
            y = _conv_direct().conv2d_forward(x2, w2d, bias, geo)
        else:
            y, _ = conv_columns.conv2d_forward(x2, w2, bias, geo, wide=conv_columns.wide_rows(geo, *x2.shape[2:]))
        y = y.reshape(y.shape[:2] + out)
        self.keep_for_backward(Workspace(self.xp), (y,), "batch columns", x_contiguous if need_w else None, w2, geo,
                               x2.shape, x.shape, weight.shape)
        return y

    def _forward_winograd(self, x, weight, bias, pads, out):
        """y by ``kernels.winograd`` (3x3, stride 1: 2.25x fewer multiply-adds than the columns); keeps x, as the
        columns route does, and the transformed weights U (16, out, C), which backward's dx reads.

        A result that is not all finite is made again by the columns route, whose non-finite values are PyTorch's
        (tested; ``winograd.FINITE_CHECK`` says why)."""
        x = backend.np.ascontiguousarray(x)  # x itself when it is: then its version is checked in backward
        need_w = self.needs_input_grad[1] and is_grad_enabled()
        u = winograd.transform_weight(weight)
        y, finite = winograd.conv3x3_forward(x, u, bias, (pads[0][0], pads[1][0]), out)
        if not finite:
            return self._forward_batch_columns(x, weight, bias, (1, 1), pads, (1, 1), out)
        self.keep_for_backward(Workspace(self.xp), (y,), "winograd", x if need_w else None, u, weight, pads, x.shape)
        return y

    def _backward_winograd(self, dy):
        """(dx, dW, db) by ``kernels.winograd``; by the columns route when they are not all finite (see forward)."""
        _, x, u, weight, pads, x_shape = self.saved
        need_x, need_w, need_b = self.needs_input_grad[:3]
        dx, du, db, finite = winograd.conv3x3_backward(dy, x, u, (pads[0][0], pads[1][0]), x_shape, need_x, need_w,
                                                       need_b)
        dw = None if du is None else winograd.weight_grad(du)
        if finite and (dw is None or winograd.all_finite(dw)):
            return dx, dw, db
        geo = conv_columns.geometry((3, 3), (1, 1), pads, (1, 1), dy.shape[2:])
        w2 = weight.reshape(weight.shape[0], -1)
        dx, dw2, db = self._columns_backward_2d(dy, x, w2, geo, x_shape, need_x, need_w, need_b)
        return dx, None if dw2 is None else dw2.reshape(weight.shape), db

    def _columns_backward_2d(self, dy, x, w2, geo, x_shape, need_x, need_w, need_b):
        """(dx, dW2, db) by ``kernels.conv_columns`` for a 2-D convolution (x (N, C, H, W), w2 (out, C kh kw)), dy
        laid out as rows in a work array of its own."""
        wide = conv_columns.wide_rows(geo, *x_shape[2:])
        temporary = Workspace(self.xp)
        dy_rows = temporary.empty(conv_columns.rows_shape(dy.shape[0], w2.shape[0], geo,
                                                          x_shape[3] if wide else None), dy.dtype)
        dx, dw2, db = conv_columns.conv2d_backward(dy, x, w2, geo, x_shape, need_x, need_w, need_b, dy_rows, wide)
        temporary.check_not_holding("conv backward", (dx, dw2, db))
        temporary.release()
        return dx, dw2, db

    def _backward_batch_columns(self, dy):
        _, x, w2, geo, x2_shape, x_shape, weight_shape = self.saved
        need_x, need_w, need_b = self.needs_input_grad[:3]
        if need_w and not need_x and _conv_direct().weight_grad_applies(geo, x2_shape[1], w2.shape[0], dy.itemsize):
            dy2 = dy.reshape(x2_shape[:1] + dy.shape[1:2] + geo[-2:])
            dw = _conv_direct().weight_grad(dy2, x.reshape(x2_shape), (w2.shape[0], x2_shape[1]) + geo[:2], geo)
            return None, dw.reshape(weight_shape), _sum_bias(dy) if need_b else None
        dx, dw, db = self._columns_backward_2d(dy.reshape(x2_shape[:1] + dy.shape[1:2] + geo[-2:]),
                                               None if x is None else x.reshape(x2_shape), w2, geo, x2_shape,
                                               need_x, need_w, need_b)
        return (None if dx is None else dx.reshape(x_shape),
                None if dw is None else dw.reshape(weight_shape), db)

    def backward(self, dy):
        route = self.saved[0]
        if isinstance(route, str):  # "winograd" or "batch columns"
            return self._backward_winograd(dy) if route == "winograd" else self._backward_batch_columns(dy)
        backward_input, weight, layout, x_shape, pads, groups, by_columns, bias_in_product = self.saved
        xp = self.xp
        need_x, need_w, need_b = self.needs_input_grad[:3]
        dx = dw = db = None
        if need_b and not (bias_in_product and need_w):
            db = _sum_bias(dy)
        if need_x or need_w:
            temporary = Workspace(xp)
            if by_columns:
                dx_pad, dw, db_in_product = self._columns_backward(dy, backward_input, weight, layout, groups,
                                                                   bias_in_product, x_shape[1], temporary)
                if db_in_product is not None and need_b:
                    db = db_in_product
            else:
                dx_pad, dw = _offsets_backward(xp, dy, backward_input, weight, layout, need_x, need_w, temporary)
            if need_x:
                dx = crop(dx_pad, pads, x_shape[2:])
            temporary.check_not_holding("conv backward", (dx, dw, db))
            temporary.release()
        return dx, dw, db

    def _columns_backward(self, dy, cols, weight, layout, groups, bias_in_product, channels, work):
        """dx_pad = col2im(W^T dy) (None unless asked), dW = dy cols^T (None unless asked) and, when the bias rode in
        the product, db (dW's last column)."""
        xp = self.xp
        need_x, need_w = self.needs_input_grad[:2]
        dx_pad = dw = db = None
        margin = spread_margin(layout) if need_x else 0
        dy_wide = to_layout(xp, dy, layout, work, margin)
        if need_w:
            dy_layout = dy_wide[:, :, margin:margin + layout.length] if margin else dy_wide
            grad = _weight_grad(xp, dy_layout, cols, groups, work)
            if bias_in_product:  # the ones row's column is db
                grad, db = grad[:, :-1], grad[:, -1]
            dw = grad.reshape(weight.shape)
        if need_x:
            dx_pad = _spread(xp, dy_wide, margin, weight, groups, layout, channels, work)
        return dx_pad, dw, db

    def forward_graph(self, x, weight, bias, stride, pads, dilation, groups):
        """The same convolution from differentiable ops (for create_graph=True; see conv_graph.py)."""
        return conv_forward_graph(x, weight, bias, stride, pads, dilation, groups)


class ConvTranspose(BufferedFunction):
    """N-d transposed convolution. x: (N, C, *in), W: (C, out/G, *k), b: (out,) -> y: (N, out, *o) with
    o = (in - 1) stride - 2 padding + dilation (k - 1) + output_padding + 1.

    y = crop(col2im(W^T x)) + b; dx = W im2col(dy) (a convolution of dy), dW = x im2col(dy)^T, db = sum of dy.
    1-D/2-D on NumPy with compiled kernels: the same through ``kernels.conv_columns`` (forward is a convolution's dx,
    backward a convolution's forward, with dW summed as the columns are made).
    """

    def forward(self, x, weight, bias, stride, padding, output_padding, dilation, groups):
        xp = self.xp
        kernel = weight.shape[2:]
        full = tuple((s - 1) * st + d * (k - 1) + 1 for s, st, d, k in zip(x.shape[2:], stride, dilation, kernel))
        out = tuple(f - 2 * p + op for f, p, op in zip(full, padding, output_padding))
        if _batch_columns_transposed_route(x, weight, groups):
            return self._forward_batch_columns(x, weight, bias, stride, padding, dilation, out)
        buffer = tuple(max(f, p + o) for f, p, o in zip(full, padding, out))
        layout = Layout(buffer, kernel, stride, dilation, x.shape[2:])
        margin = spread_margin(layout)
        kept, temporary = Workspace(xp), Workspace(xp)  # kept: x in the layout, which dW reads
        x_wide = to_layout(xp, x, layout, kept, margin)
        x_layout = x_wide[:, :, margin:margin + layout.length] if margin else x_wide
        y_buffer = _spread(xp, x_wide, margin, weight, groups, layout, weight.shape[1] * groups, temporary)
        temporary.release()
        pads = tuple((p, b - p - o) for p, b, o in zip(padding, buffer, out))
        y = crop(y_buffer, pads, out)
        y = y + bias.reshape((-1,) + (1,) * len(out)) if bias is not None else xp.ascontiguousarray(y)
        need_w = self.needs_input_grad[1] and is_grad_enabled()  # else nothing will call backward or free
        if not need_w:
            kept.release()
        self.keep_for_backward(kept, (y,), x_layout if need_w else None, weight, layout, pads, groups)
        return y

    def _forward_batch_columns(self, x, weight, bias, stride, padding, dilation, out):
        """y = col2im(W^T x) (+ b) by ``kernels.conv_columns``: the dx of the convolution of y whose output is x.
        Keeps x as rows (C, N L), which dW reads, when the weight needs a gradient."""
        x2, w2d, stride2, pads2, dilation2 = _as_2d(x, weight, stride, tuple((p, p) for p in padding), dilation)
        y_shape = (x2.shape[0], w2d.shape[1]) + (out if x.ndim == 4 else (1,) + out)
        geo = conv_columns.geometry(w2d.shape[2:], stride2, pads2, dilation2, x2.shape[2:])
        w2 = w2d.reshape(w2d.shape[0], -1)  # (C, out K)
        kept = Workspace(self.xp)
        x_rows = kept.empty(conv_columns.rows_shape(x2.shape[0], w2.shape[0], geo), x.dtype)
        y, _, _ = conv_columns.conv2d_backward(x2, None, w2, geo, y_shape, True, False, False, x_rows)
        if bias is not None:
            y += bias.reshape((-1,) + (1,) * (len(y_shape) - 2))
        y = y.reshape(y_shape[:2] + out)
        need_w = self.needs_input_grad[1] and is_grad_enabled()
        if not need_w:
            kept.release()
        self.keep_for_backward(kept, (y,), "batch columns", x_rows if need_w else None, w2, geo, y_shape, x.shape,
                               weight.shape)
        return y

    def _backward_batch_columns(self, dy):
        _, x_rows, w2, geo, y_shape, x_shape, weight_shape = self.saved
        need_x, need_w, need_b = self.needs_input_grad[:3]
        dx = dw = db = None
        if need_b:
            db = _sum_bias(dy)
        if need_x or need_w:
            dy2 = backend.np.ascontiguousarray(dy).reshape(y_shape)
            dx, dw = conv_columns.conv2d_forward(dy2, w2 if need_x else None, None, geo, x_rows if need_w else None)
        return (None if dx is None else dx.reshape(x_shape), None if dw is None else dw.reshape(weight_shape), db)

    def backward(self, dy):
        if isinstance(self.saved[0], str):  # "batch columns"
            return self._backward_batch_columns(dy)
        x_layout, weight, layout, pads, groups = self.saved
        xp = self.xp
        need_x, need_w, need_b = self.needs_input_grad[:3]
        dx = dw = db = None
        if need_b:
            db = _sum_bias(dy)
        if need_x or need_w:
            temporary = Workspace(xp)
            dy_pad = pad_array(xp, dy, pads, temporary)
            cols = im2col(dy_pad, layout, temporary)
            if need_x:
                copied = not layout.gapless()  # the product is read once more, into dx: then it is a temporary
                product_ = _mix(xp, _weight_matrix(weight, groups), cols, groups, temporary if copied else None)
                dx = from_layout(product_, layout)
                dx = dx.copy() if copied else xp.ascontiguousarray(dx)
            if need_w:
                dw = _weight_grad(xp, x_layout, cols, groups, temporary).reshape(weight.shape)
            temporary.check_not_holding("conv_transpose backward", (dx, dw, db))
            temporary.release()
        return dx, dw, db

    def forward_graph(self, x, weight, bias, stride, padding, output_padding, dilation, groups):
        """The same transposed convolution from differentiable ops (for create_graph=True; see conv_graph.py)."""
        return conv_transpose_forward_graph(x, weight, bias, stride, padding, output_padding, dilation, groups)


# ------------------------------------------------------------------------------------------ argument checks
def conv_padding(padding, kernel, stride, dilation, fn):
    """``padding`` (int, tuple, 'same', 'valid') as (lo, hi) per spatial dim; 'same' puts the odd one on the right."""
    nd = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * nd
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(f"{fn}: padding='same' is not supported for strided convolutions (stride {stride})")
            totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
            return tuple((t // 2, t - t // 2) for t in totals)
        raise ValueError(f"{fn}: padding must be an int, a tuple of {nd} ints, 'same' or 'valid', got {padding!r}")
    return tuple((p, p) for p in ntuple(padding, nd, "padding", fn, minimum=0))


def check_input(fn, input, weight, bias, nd, groups, transposed):
    for arg, value in (("input", input), ("weight", weight)):
        if not isinstance(value, Tensor):
            raise TypeError(f"{fn}: {arg} must be a Tensor, got {type(value).__name__}")
    if bias is not None and not isinstance(bias, Tensor):
        raise TypeError(f"{fn}: bias must be a Tensor or None, got {type(bias).__name__}")
    if not isinstance(groups, int) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"{fn}: groups must be a positive int, got {groups!r}")
    unbatched = check_rank(fn, input, nd)
    layout = ("(in_channels, out_channels/groups, *kernel)" if transposed
              else "(out_channels, in_channels/groups, *kernel)")
    if weight.ndim != nd + 2:
        raise ValueError(f"{fn}: expected a {nd + 2}-D weight {layout}, got shape {tuple(weight.shape)}")
    channels = weight.shape[0] if transposed else weight.shape[1] * groups
    out_channels = weight.shape[1] * groups if transposed else weight.shape[0]
    if (weight.shape[0] % groups) != 0:
        raise ValueError(f"{fn}: weight {tuple(weight.shape)}: its first dim must be divisible by groups={groups}")
    received = input.shape[0 if unbatched else 1]
    if received != channels:
        expected = spatial_shape_text(nd, batch=not unbatched, channels=channels)
        raise ValueError(
            f"{fn}: expected input of shape {expected} (weight {tuple(weight.shape)}, groups={groups}), "
            f"got {tuple(input.shape)}"
        )
    if bias is not None and tuple(bias.shape) != (out_channels,):
        raise ValueError(f"{fn}: expected bias of shape ({out_channels},), got {tuple(bias.shape)}")
    for arg, value in (("weight", weight), ("bias", bias)):
        if value is not None and value.dtype != input.dtype:
            raise TypeError(f"{fn}: input is {input.dtype} but {arg} is {value.dtype}; convert one of them")
    return unbatched


# --------------------------------------------------------------------------------------------- functions
def convolution(input, weight, bias, stride, padding, dilation, groups, nd, fn):
    """The shared body of conv1d/2d/3d; ``fn`` names the caller (a function or a layer) in errors."""
    unbatched = check_input(fn, input, weight, bias, nd, groups, transposed=False)
    kernel = tuple(weight.shape[2:])
    stride = ntuple(stride, nd, "stride", fn)
    dilation = ntuple(dilation, nd, "dilation", fn)
    pads = conv_padding(padding, kernel, stride, dilation, fn)
    output_sizes(fn, tuple(input.shape[-nd:]), kernel, stride, pads, dilation)
    y = Conv.apply(add_batch_dim(input, unbatched), weight, bias, stride, pads, dilation, groups)
    return drop_batch_dim(y, unbatched)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution. input (N, C_in, L) or (C_in, L), weight (C_out, C_in/groups, k) -> (N, C_out, L_out)."""
    return convolution(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution. input (N, C_in, H, W) or (C_in, H, W), weight (C_out, C_in/groups, kH, kW) ->
    (N, C_out, H_out, W_out), H_out = floor((H + 2 padding - dilation (kH - 1) - 1) / stride) + 1."""
    return convolution(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D convolution. input (N, C_in, D, H, W) or unbatched, weight (C_out, C_in/groups, kD, kH, kW)."""
    return convolution(input, weight, bias, stride, padding, dilation, groups, 3, "conv3d")


def transposed_convolution(input, weight, bias, stride, padding, output_padding, groups, dilation, nd, fn):
    """The shared body of conv_transpose1d/2d/3d; ``fn`` names the caller in errors."""
    unbatched = check_input(fn, input, weight, bias, nd, groups, transposed=True)
    stride = ntuple(stride, nd, "stride", fn)
    dilation = ntuple(dilation, nd, "dilation", fn)
    if isinstance(padding, str):
        raise ValueError(f"{fn}: padding must be an int or a tuple of {nd} ints (not {padding!r}) for a transposed "
                         "convolution")
    padding = ntuple(padding, nd, "padding", fn, minimum=0)
    output_padding = ntuple(output_padding, nd, "output_padding", fn, minimum=0)
    for op, s, d in zip(output_padding, stride, dilation):
        if op >= max(s, d):
            raise ValueError(f"{fn}: output_padding {output_padding} must be smaller than either stride {stride} "
                             f"or dilation {dilation}")
    kernel = tuple(weight.shape[2:])
    sizes = tuple(input.shape[-nd:])
    out = tuple((s - 1) * st - 2 * p + d * (k - 1) + op + 1
                for s, st, p, d, k, op in zip(sizes, stride, padding, dilation, kernel, output_padding))
    if any(o < 1 for o in out) or any(s < 1 for s in sizes):
        terms = "; ".join(f"({s} - 1)*{st} - 2*{p} + {d}*({k} - 1) + {op} + 1 = {o}"
                          for s, st, p, d, k, op, o in zip(sizes, stride, padding, dilation, kernel, output_padding,
                                                           out))
        raise ValueError(f"{fn}: the input {sizes} is too small for kernel {kernel} with padding {padding}: output "
                         "size (in - 1)*stride - 2*padding + dilation*(kernel - 1) + output_padding + 1 gives "
                         f"{terms}; each must be >= 1")
    y = ConvTranspose.apply(add_batch_dim(input, unbatched), weight, bias, stride, padding, output_padding, dilation,
                            groups)
    return drop_batch_dim(y, unbatched)


def transposed_output_padding(fn, input_sizes, output_size, stride, padding, kernel, dilation):
    """The output_padding that makes a transposed convolution produce ``output_size`` (a module's forward argument)."""
    nd = len(kernel)
    output_size = tuple(output_size)[-nd:]
    if len(output_size) != nd:
        raise ValueError(f"{fn}: output_size must have {nd} or {nd + 2} elements, got {tuple(output_size)}")
    smallest = tuple((s - 1) * st - 2 * p + d * (k - 1) + 1
                     for s, st, p, d, k in zip(input_sizes, stride, padding, dilation, kernel))
    largest = tuple(m + st - 1 for m, st in zip(smallest, stride))
    if any(not lo <= o <= hi for o, lo, hi in zip(output_size, smallest, largest)):
        raise ValueError(f"{fn}: requested an output size of {output_size}, but valid sizes range from {smallest} to "
                         f"{largest} (for an input of spatial size {tuple(input_sizes)})")
    return tuple(o - m for o, m in zip(output_size, smallest))


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """1-D transposed convolution. input (N, C_in, L), weight (C_in, C_out/groups, k) -> (N, C_out, L_out),
    L_out = (L - 1) stride - 2 padding + dilation (k - 1) + output_padding + 1."""
    return transposed_convolution(input, weight, bias, stride, padding, output_padding, groups, dilation, 1,
                                  "conv_transpose1d")


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """2-D transposed convolution. input (N, C_in, H, W), weight (C_in, C_out/groups, kH, kW) ->
    (N, C_out, H_out, W_out), H_out = (H - 1) stride - 2 padding + dilation (kH - 1) + output_padding + 1."""
    return transposed_convolution(input, weight, bias, stride, padding, output_padding, groups, dilation, 2,
                                  "conv_transpose2d")


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """3-D transposed convolution. input (N, C_in, D, H, W), weight (C_in, C_out/groups, kD, kH, kW)."""
    return transposed_convolution(input, weight, bias, stride, padding, output_padding, groups, dilation, 3,
                                  "conv_transpose3d")


__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"]
