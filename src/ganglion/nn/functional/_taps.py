"""Separable resampling along one axis: each output position is a weighted sum of a few input positions ("taps").

y[..., i, ...] = sum_t weight[i, t] x[..., index[i, t], ...]

Nearest-neighbour (one tap), linear interpolation (two taps) and adaptive average pooling (one tap per window
element) are all of this form, and a 2-D or 3-D resampling is one such op per spatial axis. The backward pass is the
transposed sum; since every column ``index[:, t]`` is non-decreasing in i, it is a segmented sum (``reduceat``)
over runs of equal indices, with no scatter of single elements.
"""

from ... import backend
from ...autograd.function import Function
from ...ops.indexing import accumulate_at


class AxisTaps(Function):
    """y = sum_t w[:, t] take(x, index[:, t], axis);  dx[j] = sum over (i, t) with index[i, t] = j of w[i, t] dy[i].

    ``rows``: optional, per tap the output rows it applies to (None: all); a window shorter than the table's width
    skips its missing taps instead of weighting a stand-in value by 0, which would turn an infinite value into NaN.
    """

    def forward(self, x, axis, index, weight, rows):
        xp = self.xp
        n_out, n_taps = index.shape
        w_shape = [1] * x.ndim
        lead = (slice(None),) * axis
        y = None
        for t in range(n_taps):
            where = slice(None) if rows is None or rows[t] is None else rows[t]
            w_shape[axis] = len(range(n_out)[where]) if isinstance(where, slice) else len(where)
            v = xp.take(x, xp.asarray(index[where, t]), axis=axis)
            if weight is not None:
                v *= xp.asarray(weight[where, t].reshape(w_shape), dtype=x.dtype)
            if y is None:
                y = v
            elif isinstance(where, slice):
                y += v
            else:
                y[lead + (xp.asarray(where),)] += v
        self.save(x.shape, axis, index, weight, rows)
        return y

    def backward(self, dy):
        shape, axis, index, weight, rows = self.saved
        xp = self.xp
        np = backend.np
        dx = xp.zeros(shape, dtype=dy.dtype)
        lead = (slice(None),) * axis
        w_shape = [1] * dy.ndim
        for t in range(index.shape[1]):
            where = slice(None) if rows is None or rows[t] is None else rows[t]
            g = dy if isinstance(where, slice) else dy[lead + (xp.asarray(where),)]
            if weight is not None:
                w_shape[axis] = g.shape[axis]
                g = g * xp.asarray(weight[where, t].reshape(w_shape), dtype=dy.dtype)
            column = index[where, t]
            starts = np.flatnonzero(np.concatenate(([True], column[1:] != column[:-1])))
            sums = xp.add.reduceat(g, xp.asarray(starts), axis=axis)
            dx[lead + (xp.asarray(column[starts]),)] += sums
        return dx

    def backward_graph(self, dy):
        """The same transposed sum, one index-accumulate per tap (linear in dy; its own backward is the taps)."""
        shape, axis, index, weight, rows = self.saved
        xp = self.xp
        lead = (slice(None),) * axis
        w_shape = [1] * dy.ndim
        dx = None
        for t in range(index.shape[1]):
            where = slice(None) if rows is None or rows[t] is None else rows[t]
            g = dy if isinstance(where, slice) else dy[lead + (xp.asarray(where),)]
            if weight is not None:
                w_shape[axis] = g.shape[axis]
                g = g * xp.asarray(weight[where, t].reshape(w_shape), dtype=dy.array.dtype)
            part = accumulate_at(g, shape, lead + (xp.asarray(index[where, t]),))
            dx = part if dx is None else dx + part
        return dx


def apply_taps(input, axis, index, weight=None, rows=None):
    """Resample ``input`` along ``axis`` with the (out, taps) tables ``index`` (ints) and ``weight`` (floats, or None
    for a single tap of weight 1), and optionally ``rows`` (see AxisTaps). Tables are NumPy arrays on the host, their
    columns non-decreasing."""
    return AxisTaps.apply(input, axis, index, weight, rows)


def window_taps(in_size, starts, ends):
    """Tables averaging ``x[start_i:end_i]`` for each output i: index (out, T) clamped into each window, weight
    1 / window length, and per tap the rows whose window reaches that far (None where all do)."""
    np = backend.np
    starts, ends = np.asarray(starts), np.asarray(ends)
    lengths = ends - starts
    taps = int(lengths.max())
    offsets = starts[:, None] + np.arange(taps)[None, :]
    index = np.minimum(offsets, ends[:, None] - 1)
    weight = np.broadcast_to(1.0 / lengths[:, None], index.shape)
    inside = offsets < ends[:, None]
    rows = [None if inside[:, t].all() else np.flatnonzero(inside[:, t]) for t in range(taps)]
    return index, weight, rows
