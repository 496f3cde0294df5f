"""Reductions over dimensions: sum, mean, max, min, amax, amin, var, std, prod, logsumexp, argmax, argmin.

Every reduction takes PyTorch's ``dim``/``keepdim`` and NumPy's ``axis``/``keepdims``. ``dim=None`` reduces all.
"""

import builtins
from collections import namedtuple

from .. import backend
from ..autograd.function import Function
from ..tensor import Tensor
from .indexing import accumulate_at, along_axis
from ..arguments import normalize_dim, normalize_dims
from .util import reduction_args

values_indices = namedtuple("values_indices", ["values", "indices"])


def _expand(dy, axes, keepdim, xp):
    """Re-insert reduced axes into a gradient so that it broadcasts against the input."""
    return dy if keepdim or not axes else xp.expand_dims(dy, axes)


def _max_keepdims(x, axes, xp):
    """max over ``axes`` keeping dims, as a shift for exp; 0 where a reduced axis is empty (max has no identity)."""
    axes = axes if isinstance(axes, tuple) else (axes,)
    if any(x.shape[a] == 0 for a in axes):
        return xp.zeros(tuple(1 if i in axes else s for i, s in enumerate(x.shape)), dtype=x.dtype)
    return x.max(axis=axes, keepdims=True)


class Sum(Function):
    """y = sum_i x_i;  dy/dx_i = 1."""

    backward_composes = True

    def forward(self, x, axes, keepdim):
        self.save(x.shape, axes, keepdim)
        return x.sum(axis=axes, keepdims=keepdim)

    def backward(self, dy):
        shape, axes, keepdim = self.saved
        return self.xp.broadcast_to(_expand(dy, axes, keepdim, self.xp), shape)


class Mean(Function):
    """y = (1/n) sum_i x_i;  dy/dx_i = 1/n."""

    backward_composes = True

    def forward(self, x, axes, keepdim):
        if x.dtype.kind not in "fc":
            raise TypeError(f"mean: input dtype should be floating point, got {x.dtype}")
        count = 1
        for a in axes:
            count *= x.shape[a]
        self.save(x.shape, axes, keepdim, count)
        return x.mean(axis=axes, keepdims=keepdim)

    def backward(self, dy):
        shape, axes, keepdim, count = self.saved
        return self.xp.broadcast_to(_expand(dy, axes, keepdim, self.xp) / count, shape)


class Extreme(Function):
    """y = max (or min) over ``axes``; the gradient is shared equally among the tied extreme elements."""

    def forward(self, x, axes, keepdim, largest):
        y = x.max(axis=axes, keepdims=True) if largest else x.min(axis=axes, keepdims=True)
        self.save(x, y, axes, keepdim)
        return y if keepdim else y.squeeze(axis=axes)

    def backward(self, dy):
        x, y, axes, keepdim = self.saved
        mask = x == y
        return mask * (_expand(dy, axes, keepdim, self.xp) / mask.sum(axis=axes, keepdims=True))

    def backward_graph(self, dy):
        x, y, axes, keepdim = self.saved
        share = (x == y) / (x == y).sum(axis=axes, keepdims=True)  # which elements tie for the extreme: a constant
        return _expand(dy, axes, keepdim, self.graph_xp) * share.astype(x.dtype, copy=False)


class ExtremeAlongDim(Function):
    """(values, indices) of the max (or min) along one dim; the gradient goes to the returned index."""

    def forward(self, x, dim, keepdim, largest):
        xp = self.xp
        idx = xp.expand_dims((x.argmax if largest else x.argmin)(axis=dim), dim)
        values = xp.take_along_axis(x, idx, axis=dim)
        self.save(x.shape, idx, dim, keepdim)
        if not keepdim:
            values, idx = values.squeeze(axis=dim), idx.squeeze(axis=dim)
        return values, idx.astype("int64")

    def backward(self, dy, _):
        shape, idx, dim, keepdim = self.saved
        xp = self.xp
        dx = xp.zeros(shape, dtype=dy.dtype)
        xp.put_along_axis(dx, idx, dy if keepdim else xp.expand_dims(dy, dim), axis=dim)
        return dx

    def backward_graph(self, dy, _):
        shape, idx, dim, keepdim = self.saved
        return accumulate_at(dy if keepdim else dy.unsqueeze(dim), shape, along_axis(idx, dim, self.xp))


def _check_nonempty(op, shape, axes, dim_given):
    """max, min and their arg- and a- forms have no identity: like PyTorch, refuse to reduce over a size-0 dim
    (IndexError) or over all dims of an empty tensor without a ``dim`` (RuntimeError; IndexError for argmax/argmin).
    Reducing a non-empty dim of an empty tensor is fine and gives an empty result."""
    size = 1
    for s in shape:
        size *= s
    if size:
        return
    if not dim_given:
        error = IndexError if op.startswith("arg") else RuntimeError
        raise error(f"{op}(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction "
                    f"dim with the 'dim' argument (the input has shape {tuple(shape)}).")
    for a in axes:
        if shape[a] == 0:
            raise IndexError(f"{op}(): Expected reduction dim {a} to have non-zero size (the input has shape "
                             f"{tuple(shape)}); the {op} of nothing is undefined.")


class Var(Function):
    """y = sum_i (x_i - mean)^2 / (n - correction);  dy/dx_i = 2 (x_i - mean) / (n - correction)."""

    def forward(self, x, axes, keepdim, correction):
        n = 1
        for a in axes:
            n *= x.shape[a]
        centered = x - x.mean(axis=axes, keepdims=True)
        denom = builtins.max(n - correction, 0)
        xp = self.xp
        with backend.errstate(divide="ignore", invalid="ignore"):
            y = (centered * centered).sum(axis=axes, keepdims=keepdim) / x.dtype.type(denom)
        self.save(centered, axes, keepdim, denom)
        return y

    def backward(self, dy):
        centered, axes, keepdim, denom = self.saved
        return _expand(dy, axes, keepdim, self.xp) * centered * (2 / centered.dtype.type(denom))

    def backward_graph(self, dy):
        _, axes, keepdim, denom = self.saved[:4]
        return _expand(dy, axes, keepdim, self.graph_xp) * self._centered(axes) * _twice_reciprocal(denom)

    def _centered(self, axes):
        """x - mean(x) as a Tensor of the input: its dependence on x matters once differentiated again."""
        x = self.inputs[0]
        return x - x.mean(axis=axes, keepdims=True)


def _twice_reciprocal(denom):
    """2 / denom, infinite for denom 0 (a variance with correction >= n), as NumPy's division gives."""
    return 2.0 / denom if denom else float("inf")


class Std(Var):
    """y = sqrt(var(x));  dy/dx_i = (x_i - mean) / ((n - correction) y), and 0 where y = 0 (as PyTorch: a constant
    slice has a zero gradient, not 0/0)."""

    def forward(self, x, axes, keepdim, correction):
        y = self.xp.sqrt(super().forward(x, axes, keepdim, correction))
        self.save(*self.saved, y)
        return y

    def backward(self, dy):
        centered, axes, keepdim, denom, y = self.saved
        xp = self.xp
        with backend.errstate(divide="ignore", invalid="ignore"):
            half_over_y = xp.where(y == 0, 0, dy / (2 * y)).astype(y.dtype, copy=False)
        return _expand(half_over_y, axes, keepdim, xp) * centered * (2 / centered.dtype.type(denom))

    def backward_graph(self, dy):
        _, axes, keepdim, denom, _ = self.saved
        xp = self.graph_xp
        centered = self._centered(axes)
        y = ((centered * centered).sum(axis=axes, keepdims=True) * (_twice_reciprocal(denom) / 2)).sqrt()
        zero = y.detach() == 0
        half_over_y = xp.where(zero, 0.0, _expand(dy, axes, keepdim, xp) / (2 * xp.where(zero, 1.0, y)))
        return half_over_y * centered * _twice_reciprocal(denom)


class Prod(Function):
    """y = prod_i x_i;  dy/dx_i = prod_{j != i} x_j (computed without dividing, so zeros are exact)."""

    def forward(self, x, dim, keepdim):
        self.save(x, dim, keepdim)
        if dim is None:
            return x.prod()
        return x.prod(axis=dim, keepdims=keepdim)

    def backward(self, dy):
        x, dim, keepdim = self.saved
        xp = self.xp
        if x.size == 0:  # nothing to differentiate (and the prefix products below need a non-empty axis)
            return xp.zeros(x.shape, dtype=dy.dtype)
        flat = dim is None
        work = x.reshape(-1) if flat else x
        axis = 0 if flat else dim
        ones_shape = list(work.shape)
        ones_shape[axis] = 1
        ones = xp.ones(ones_shape, dtype=x.dtype)
        before = xp.cumprod(xp.concatenate([ones, xp.delete(work, -1, axis=axis)], axis=axis), axis=axis)
        flipped = xp.flip(work, axis=axis)
        after = xp.flip(
            xp.cumprod(xp.concatenate([ones, xp.delete(flipped, -1, axis=axis)], axis=axis), axis=axis), axis=axis
        )
        others = before * after
        if flat:
            return (dy * others).reshape(x.shape)
        return (dy if keepdim else xp.expand_dims(dy, dim)) * others

    def forward_graph(self, x, dim, keepdim):
        """The product as a chain of multiplications (exact with zeros, differentiable to any order)."""
        work = x.reshape(-1) if dim is None else x
        axis = 0 if dim is None else dim
        if work.shape[axis] == 0:
            return x.detach().prod(dim=dim, keepdim=keepdim) if dim is not None else x.detach().prod()
        y = work.narrow(axis, 0, 1)
        for i in range(1, work.shape[axis]):
            y = y * work.narrow(axis, i, 1)
        if dim is None:
            return y.reshape(())
        return y if keepdim else y.squeeze(axis)


class LogSumExp(Function):
    """y = log sum_i e^{x_i}, computed as m + log sum e^{x_i - m} with m = max x;  dy/dx_i = e^{x_i - y}."""

    def forward(self, x, axes, keepdim):
        xp = self.xp
        m = _max_keepdims(x, axes, xp)
        m = xp.where(xp.isfinite(m), m, 0)
        with backend.errstate(divide="ignore"):  # an empty sum is 0: its log is -inf, as in PyTorch
            y = xp.log(xp.exp(x - m).sum(axis=axes, keepdims=True)) + m
        self.save(x, y, axes, keepdim)
        return y if keepdim else y.squeeze(axis=axes)

    def backward(self, dy):
        x, y, axes, keepdim = self.saved
        return _expand(dy, axes, keepdim, self.xp) * self.xp.exp(x - y)

    def backward_graph(self, dy):
        _, _, axes, keepdim = self.saved
        x = self.inputs[0]
        return _expand(dy, axes, keepdim, self.graph_xp) * (x - LogSumExp.apply(x, axes, True)).exp()


class Softmax(Function):
    """y_i = e^{x_i - max x} / sum_j e^{x_j - max x} along ``dim``;  dx = y (dy - sum(dy y))."""

    backward_composes = True

    def forward(self, x, dim):
        e = self.xp.exp(x - _max_keepdims(x, dim, self.xp))
        y = e / e.sum(axis=dim, keepdims=True)
        self.save(y, dim)
        return y

    def backward(self, dy):
        y, dim = self.saved
        dyy = dy * y
        return dyy - y * dyy.sum(axis=dim, keepdims=True)


class LogSoftmax(Function):
    """y_i = x_i - logsumexp(x) along ``dim`` (finite for any finite input);  dx = dy - softmax sum(dy)."""

    backward_composes = True

    def forward(self, x, dim):
        xp = self.xp
        shifted = x - _max_keepdims(x, dim, xp)
        with backend.errstate(divide="ignore"):  # only an empty dim sums to 0, and then nothing reads the -inf
            y = shifted - xp.log(xp.exp(shifted).sum(axis=dim, keepdims=True))
        self.save(y, dim)
        return y

    def backward(self, dy):
        y, dim = self.saved
        return dy - self.xp.exp(y) * dy.sum(axis=dim, keepdims=True)


def _softmax_dim(op, input, dim):
    if dim is None:  # PyTorch's legacy implicit choice
        dim = 0 if input.ndim in (0, 1, 3) else 1
    return normalize_dim(dim, input.ndim, op)


def _float_only(op, input):
    """softmax and log_softmax of integers or bools are not implemented in PyTorch (NotImplementedError); pass
    ``dtype=`` or convert the input first."""
    if input.dtype.kind not in "fc":
        raise NotImplementedError(f"{op}: not implemented for an input of dtype {input.dtype}: expected a "
                                  f"floating-point tensor (convert it with .float() or pass dtype=)")


def _along_dim(op, function, input, dim, dtype):
    """``function`` (Softmax or LogSoftmax) of ``input`` cast to ``dtype`` along ``dim``; a 0-d input is one slice."""
    if dtype is not None:
        input = input.type(dtype)
    _float_only(op, input)
    if input.ndim == 0:
        return function.apply(input.reshape(1), 0).reshape(())
    return function.apply(input, _softmax_dim(op, input, dim))


def softmax(input, dim=None, dtype=None):
    """Normalized exponentials along ``dim``: every slice sums to 1; stable for inputs of any magnitude."""
    return _along_dim("softmax", Softmax, input, dim, dtype)


def log_softmax(input, dim=None, dtype=None):
    """log(softmax(x)) along ``dim``, computed without forming softmax (no log of 0)."""
    return _along_dim("log_softmax", LogSoftmax, input, dim, dtype)


def sum(input, dim=None, keepdim=False, dtype=None, *, axis=None, keepdims=None):
    """Sum over ``dim`` (all dims when None). Integers and bools sum as int64, like PyTorch."""
    dim, keepdim = reduction_args("sum", dim, keepdim, axis, keepdims)
    if dtype is not None:
        input = input.type(dtype)
    elif input.dtype.kind in "biu":
        input = input.long()
    return Sum.apply(input, normalize_dims(dim, input.ndim, "sum"), keepdim)


def mean(input, dim=None, keepdim=False, dtype=None, *, axis=None, keepdims=None):
    """Arithmetic mean over ``dim`` (floating tensors only, as PyTorch)."""
    dim, keepdim = reduction_args("mean", dim, keepdim, axis, keepdims)
    if dtype is not None:
        input = input.type(dtype)
    return Mean.apply(input, normalize_dims(dim, input.ndim, "mean"), keepdim)


def _extreme(op, largest, input, dim, keepdim, axis, keepdims):
    if isinstance(dim, Tensor):  # max(a, b) is the element-wise maximum, as in PyTorch
        from .arithmetic import maximum, minimum

        return (maximum if largest else minimum)(input, dim)
    dim, keepdim = reduction_args(op, dim, keepdim, axis, keepdims)
    if dim is None:
        _check_nonempty(op, input.shape, (), False)
        return Extreme.apply(input, normalize_dims(None, input.ndim, op), False, largest)
    if not isinstance(dim, int):
        raise TypeError(f"{op}: dim must be a single int (use amax/amin for several dims), got {dim!r}")
    d = normalize_dim(dim, input.ndim, op)
    _check_nonempty(op, input.shape, (d,), True)
    if input.ndim == 0:
        return values_indices(input, Tensor._wrap(input.array.astype("int64") * 0))
    values, indices = ExtremeAlongDim.apply(input, d, keepdim, largest)
    return values_indices(values, indices)


def max(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """The largest value; with ``dim``, a (values, indices) pair along it; ``max(a, b)`` is ``maximum``."""
    return _extreme("max", True, input, dim, keepdim, axis, keepdims)


def min(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """The smallest value; with ``dim``, a (values, indices) pair along it; ``min(a, b)`` is ``minimum``."""
    return _extreme("min", False, input, dim, keepdim, axis, keepdims)


def amax(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """The largest values over ``dim`` (several dims allowed); ties share the gradient."""
    dim, keepdim = reduction_args("amax", dim, keepdim, axis, keepdims)
    axes = normalize_dims(dim, input.ndim, "amax")
    _check_nonempty("amax", input.shape, axes, dim is not None and dim != ())
    return Extreme.apply(input, axes, keepdim, True)


def amin(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """The smallest values over ``dim`` (several dims allowed); ties share the gradient."""
    dim, keepdim = reduction_args("amin", dim, keepdim, axis, keepdims)
    axes = normalize_dims(dim, input.ndim, "amin")
    _check_nonempty("amin", input.shape, axes, dim is not None and dim != ())
    return Extreme.apply(input, axes, keepdim, False)


def _correction(op, unbiased, correction):
    if correction is not None and unbiased is not None:
        raise TypeError(f"{op}: pass either unbiased or correction, not both")
    if correction is not None:
        return correction
    return 1 if unbiased is None or unbiased else 0


def _spread(op, function, input, dim, unbiased, keepdim, correction, axis, keepdims, ddof):
    """``function`` (Var or Std) with PyTorch's and NumPy's arguments resolved: dims, keepdim and the correction
    (``unbiased``, ``correction`` or NumPy's ``ddof``; ``op(x, 1)`` means dim=1, as in PyTorch)."""
    dim, keepdim = reduction_args(op, dim, keepdim, axis, keepdims)
    if isinstance(unbiased, bool) is False and unbiased is not None and dim is None:
        dim, unbiased = unbiased, None
    corr = _correction(op, unbiased, ddof if ddof is not None else correction)
    return function.apply(input, normalize_dims(dim, input.ndim, op), keepdim, corr)


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=None, ddof=None):
    """Variance over ``dim``, divided by n - correction (correction=1, Bessel's, by default as in PyTorch)."""
    return _spread("var", Var, input, dim, unbiased, keepdim, correction, axis, keepdims, ddof)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=None, ddof=None):
    """Standard deviation over ``dim``: sqrt(var), divided by n - correction (1 by default, as in PyTorch)."""
    return _spread("std", Std, input, dim, unbiased, keepdim, correction, axis, keepdims, ddof)


def prod(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Product over one ``dim`` (or of all elements)."""
    dim, keepdim = reduction_args("prod", dim, keepdim, axis, keepdims)
    if dim is not None:
        (dim,) = normalize_dims(dim, input.ndim, "prod")
    return Prod.apply(input, dim, keepdim)


def logsumexp(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """log(sum(exp(x))) over ``dim``, without overflow."""
    dim, keepdim = reduction_args("logsumexp", dim, keepdim, axis, keepdims)
    return LogSumExp.apply(input, normalize_dims(dim, input.ndim, "logsumexp"), keepdim)


def _arg(op, input, dim, keepdim, axis, keepdims):
    dim, keepdim = reduction_args(op, dim, keepdim, axis, keepdims)
    a = input.array
    fn = a.argmax if op == "argmax" else a.argmin
    if dim is None:
        _check_nonempty(op, a.shape, (), False)
        out = fn()
        if keepdim:
            out = out.reshape((1,) * a.ndim)
    else:
        dims = normalize_dims(dim, a.ndim, op)  # checks dim; () for a 0-d tensor, whose only index is 0
        _check_nonempty(op, a.shape, dims, True)
        out = fn(axis=dims[0], keepdims=keepdim) if a.ndim else fn()
    return Tensor._wrap(out.astype("int64"))


def argmax(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Index of the largest value (over the flattened tensor when ``dim`` is None)."""
    return _arg("argmax", input, dim, keepdim, axis, keepdims)


def argmin(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Index of the smallest value (over the flattened tensor when ``dim`` is None)."""
    return _arg("argmin", input, dim, keepdim, axis, keepdims)
