"""Sorting and selection: ``sort``, ``argsort``, ``topk``, ``unique``.

Sorts are stable (ties keep their input order, also when descending) and put NaN last ascending, first descending,
as PyTorch does. Values flow back to the positions they came from; indices are int64 and carry no gradient.
"""

from collections import namedtuple

from .. import backend
from ..autograd.function import Function
from ..tensor import Tensor
from ..arguments import normalize_dims
from .indexing import accumulate_at, along_axis

sort_result = namedtuple("sort", ["values", "indices"])
topk_result = namedtuple("topk", ["values", "indices"])


def _order(x, axis, descending, xp):
    """Stable argsort of ``x`` along ``axis``. Descending: sort the reversed axis ascending, then reverse back, so
    that equal values keep their input order and NaN (last ascending) comes first."""
    if not descending:
        return xp.argsort(x, axis=axis, kind="stable")
    n = x.shape[axis]
    reversed_order = xp.argsort(xp.flip(x, axis=axis), axis=axis, kind="stable")
    return xp.flip(n - 1 - reversed_order, axis=axis)


class TakeAlong(Function):
    """y = x taken at ``index`` along ``axis`` (each index at most once);  dx = dy put back at ``index``."""

    def forward(self, x, index, axis):
        self.save(x.shape, index, axis)
        return self.xp.take_along_axis(x, index, axis=axis), index.astype("int64")

    def backward(self, dy, _):
        shape, index, axis = self.saved
        dx = self.xp.zeros(shape, dtype=dy.dtype)
        self.xp.put_along_axis(dx, index, dy, axis=axis)
        return dx

    def backward_graph(self, dy, _):
        shape, index, axis = self.saved
        return accumulate_at(dy, shape, along_axis(index, axis, backend.get_array_module(index)))


def _axis(op, input, dim):
    return normalize_dims(dim, input.ndim, op)[0] if input.ndim else None


def _sorted(op, input, dim, descending, k=None):
    """(values, indices) of the first ``k`` (all when None) entries of ``input`` sorted along ``dim``."""
    axis = _axis(op, input, dim)
    a = input.array if axis is not None else input.array.reshape(1)
    xp = backend.get_array_module(a)
    order = _order(a, axis or 0, descending, xp)
    if k is not None:
        order = xp.take(order, xp.arange(k), axis=axis or 0)
    values, indices = TakeAlong.apply(input if axis is not None else input.reshape(1), order, axis or 0)
    if axis is None:
        values, indices = values.reshape(()), indices.reshape(())
    return values, indices


def sort(input, dim=-1, descending=False, stable=False):
    """(values, indices) of ``input`` sorted along ``dim``; ``values == input.gather(dim, indices)``.

    Always stable (which ``stable=False`` allows). Shapes: both outputs shaped like ``input``; indices int64.
    """
    return sort_result(*_sorted("sort", input, dim, bool(descending)))


def argsort(input, dim=-1, descending=False, stable=False):
    """The int64 indices that sort ``input`` along ``dim`` (stable)."""
    return _sorted("argsort", input, dim, bool(descending))[1]


def topk(input, k, dim=-1, largest=True, sorted=True):
    """(values, indices) of the ``k`` largest (or smallest) entries along ``dim``.

    Shapes: ``input`` (..., n, ...) -> (..., k, ...) at ``dim``; results are always in sorted order (which
    ``sorted=False`` allows); ties keep their input order. RuntimeError unless 0 <= k <= n.
    """
    if not isinstance(k, int) or isinstance(k, bool):
        raise TypeError(f"topk(): argument 'k' must be int, not {type(k).__name__}")
    axis = _axis("topk", input, dim)
    n = input.shape[axis] if axis is not None else 1
    if not 0 <= k <= n:
        raise RuntimeError(f"selected index k out of range (k={k}, size of dim {dim} is {n})")
    return topk_result(*_sorted("topk", input, dim, bool(largest), k))


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values of ``input`` (or distinct slices along ``dim``), in ascending order.

    Returns the values alone, or a tuple adding ``inverse`` (int64, ``input``'s shape (or (n,) along ``dim``):
    where each element went) and ``counts`` (int64, how often each distinct value occurs). No gradient.
    """
    a = input.array
    xp = backend.get_array_module(a)
    axis = None if dim is None else normalize_dims(dim, input.ndim, "unique")[0]
    if axis is None:
        values, inverse, counts = xp.unique(a.reshape(-1), return_inverse=True, return_counts=True)
        inverse = inverse.reshape(a.shape)
    else:
        values, inverse, counts = xp.unique(a, return_inverse=True, return_counts=True, axis=axis)
        inverse = inverse.reshape(-1)
    out = [Tensor._wrap(values.astype(a.dtype, copy=False))]
    if return_inverse:
        out.append(Tensor._wrap(inverse.astype("int64")))
    if return_counts:
        out.append(Tensor._wrap(counts.astype("int64")))
    return out[0] if len(out) == 1 else tuple(out)
