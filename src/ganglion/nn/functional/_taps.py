"""Separable resampling along one axis: each output position is a weighted sum of a few input positions ("taps").

y[..., i, ...] = sum_t weight[i, t] x[..., index[i, t], ...]

Nearest-neighbour (one tap), linear interpolation (two taps) and adaptive average pooling (one tap per window
element) are all of this form, and a 2-D or 3-D resampling is one such op per spatial axis. The backward pass is the
transposed sum; since every column ``index[:, t]`` is non-decreasing in i, it is a segmented sum (``reduceat``)
over runs of equal indices, with no scatter of single elements.
"""

from ... import backend
from ...autograd.function import Function


class AxisTaps(Function):
    """y = sum_t w[:, t] * take(x, index[:, t], axis);  dx[j] = sum over (i, t) with index[i, t] = j of w[i, t] dy[i]."""

    def forward(self, x, axis, index, weight):
        xp = self.xp
        n_out, n_taps = index.shape
        w_shape = [1] * x.ndim
        w_shape[axis] = n_out
        y = None
        for t in range(n_taps):
            v = xp.take(x, xp.asarray(index[:, t]), axis=axis)
            if weight is not None:
                v *= xp.asarray(weight[:, t].reshape(w_shape), dtype=x.dtype)
            if y is None:
                y = v
            else:
                y += v
        self.save(x.shape, axis, index, weight, w_shape)
        return y

    def backward(self, dy):
        shape, axis, index, weight, w_shape = self.saved
        xp = self.xp
        dx = xp.zeros(shape, dtype=dy.dtype)
        np = backend.np
        lead = (slice(None),) * axis
        for t in range(index.shape[1]):
            g = dy if weight is None else dy * xp.asarray(weight[:, t].reshape(w_shape), dtype=dy.dtype)
            column = index[:, t]
            starts = np.flatnonzero(np.concatenate(([True], column[1:] != column[:-1])))
            sums = xp.add.reduceat(g, xp.asarray(starts), axis=axis)
            dx[lead + (xp.asarray(column[starts]),)] += sums
        return dx


def apply_taps(input, axis, index, weight=None):
    """Resample ``input`` along ``axis`` with the (out, taps) tables ``index`` (ints) and ``weight`` (floats or None
    for a single tap of weight 1); tables are NumPy arrays on the host, columns non-decreasing."""
    return AxisTaps.apply(input, axis, index, weight)


def window_taps(in_size, starts, ends):
    """Tables averaging ``x[start_i:end_i]`` for each output i: index (out, T) clamped into each window, weight
    1 / window length inside the window and 0 on the clamped padding."""
    np = backend.np
    starts, ends = np.asarray(starts), np.asarray(ends)
    lengths = ends - starts
    taps = int(lengths.max())
    offsets = starts[:, None] + np.arange(taps)[None, :]
    index = np.minimum(offsets, ends[:, None] - 1)
    weight = np.where(offsets < ends[:, None], 1.0 / lengths[:, None], 0.0)
    return index, weight
