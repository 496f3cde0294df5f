"""Cumulative ops along one dimension: ``cumsum`` and ``cumprod``.

Integer and bool inputs accumulate in int64, as PyTorch (unless ``dtype`` is given).
"""

from ..autograd.function import Function
from ..arguments import normalize_dims
from .shape import cat


def _reverse_cumsum(a, axis, xp):
    """r_i = sum_{j >= i} a_j along ``axis``."""
    return xp.flip(xp.cumsum(xp.flip(a, axis=axis), axis=axis), axis=axis)


class CumSum(Function):
    """y_i = sum_{j <= i} x_j;  dx_i = sum_{j >= i} dy_j."""

    backward_composes = True

    def forward(self, x, axis):
        self.save(axis)
        return self.xp.cumsum(x, axis=axis, dtype=x.dtype)

    def backward(self, dy):
        (axis,) = self.saved
        return _reverse_cumsum(dy, axis, self.xp)


class CumProd(Function):
    """y_i = prod_{j <= i} x_j;  dx_i = sum_{j >= i} dy_j prod_{k <= j, k != i} x_k.

    Without zeros that is ``reverse_cumsum(dy y) / x``. With a zero the division is undefined, so the products
    leaving out x_i are formed directly, one position at a time (O(n^2) along the axis, only for that case).
    """

    def forward(self, x, axis):
        y = self.xp.cumprod(x, axis=axis, dtype=x.dtype)
        self.save(x, y, axis)
        return y

    def backward(self, dy):
        x, y, axis = self.saved
        xp = self.xp
        if x.size == 0 or xp.all(x != 0):
            return _reverse_cumsum(dy * y, axis, xp) / x
        x_last, dy_last = xp.moveaxis(x, axis, -1), xp.moveaxis(dy, axis, -1)
        dx = xp.empty_like(x_last)
        for i in range(x_last.shape[-1]):
            without_i = x_last.copy()
            without_i[..., i] = 1
            products = xp.cumprod(without_i[..., i:], axis=-1) * xp.prod(without_i[..., :i], axis=-1, keepdims=True)
            dx[..., i] = (dy_last[..., i:] * products).sum(axis=-1)
        return xp.moveaxis(dx, -1, axis)

    def forward_graph(self, x, axis):
        """The running product as a chain of multiplications (exact with zeros, differentiable to any order)."""
        n = x.shape[axis]
        if n == 0:
            return x.detach().clone()
        steps = [x.narrow(axis, 0, 1)]
        for i in range(1, n):
            steps.append(steps[-1] * x.narrow(axis, i, 1))
        return cat(steps, axis)


def _scan(op, fn, input, dim, dtype):
    if dtype is not None:
        input = input.type(dtype)
    elif input.dtype.kind in "biu":
        input = input.long()
    if input.ndim == 0:
        normalize_dims(dim, 0, op)
        return fn.apply(input.reshape(1), 0).reshape(())
    return fn.apply(input, normalize_dims(dim, input.ndim, op)[0])


def cumsum(input, dim, *, dtype=None):
    """Running sums along ``dim``: shape unchanged; ints and bools give int64."""
    return _scan("cumsum", CumSum, input, dim, dtype)


def cumprod(input, dim, *, dtype=None):
    """Running products along ``dim``: shape unchanged; ints and bools give int64; exact gradients at zeros."""
    return _scan("cumprod", CumProd, input, dim, dtype)
