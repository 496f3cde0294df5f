"""Indexing with gradients: basic slicing, integer-array and boolean indexing, gather, scatter_add, index_select,
masked_fill."""

from .. import backend
from ..autograd.function import Function
from ..tensor import Tensor
from ..tensor import index_key
from ..arguments import normalize_dims


_NUMPY_SCALAR = backend.np.generic  # what NumPy returns for one element: a copy, where PyTorch gives a view


def _is_basic(key):
    parts = key if isinstance(key, tuple) else (key,)
    return all(isinstance(k, (int, slice)) or k is None or k is Ellipsis for k in parts)


def _take(x, key):
    """``x[key]``, with one element given as a 0-d view (NumPy returns a scalar copy, PyTorch a view)."""
    y = x[key]
    if isinstance(y, _NUMPY_SCALAR):
        y = x[(key if isinstance(key, tuple) else (key,)) + (Ellipsis,)]
    return y


def _accumulate(dy, shape, key, xp):
    """zeros(shape) with dy added at ``key`` (repeated positions of an advanced index add up)."""
    dx = xp.zeros(shape, dtype=dy.dtype)
    if _is_basic(key):
        dx[key] = dy
    else:
        xp.add.at(dx, key, dy)
    return dx


class GetItem(Function):
    """y = x[key]; backward scatters dy into zeros shaped like x (adding where an index repeats)."""

    def forward(self, x, key):
        try:
            y = _take(x, key)
        except IndexError as e:
            raise IndexError(f"index {key!r} is invalid for a tensor of shape {tuple(x.shape)}: {e}") from None
        self.save(x.shape, x.dtype, key)
        return y

    def backward(self, dy):
        shape, dtype, key = self.saved
        return _accumulate(dy, shape, key, self.xp)

    def backward_graph(self, dy):
        shape, dtype, key = self.saved
        return accumulate_at(dy, shape, key)


class IndexAccumulate(Function):
    """y = zeros(shape) with x added at ``key``: the adjoint of ``x[key]`` (GetItem), so each is the other's
    backward. Every gather-like op (gather, index_select, take-along, embedding) records its backward as this op
    under ``create_graph=True``, which makes them differentiable to any order."""

    def forward(self, x, shape, key):
        self.save(key)
        return _accumulate(x, shape, key, self.xp)

    def backward(self, dy):
        (key,) = self.saved
        return _take(dy, key), None, None

    def backward_graph(self, dy):
        (key,) = self.saved
        return GetItem.apply(dy, key), None, None


def accumulate_at(x, shape, key):
    """zeros(shape) with the Tensor ``x`` added at ``key`` (an index into an array of ``shape``), differentiably."""
    return IndexAccumulate.apply(x, tuple(shape), key)


def along_axis(index, axis, xp):
    """The advanced index that ``take_along_axis(a, index, axis)`` reads (and ``put_along_axis`` writes)."""
    return _mesh(index, axis, xp)


def getitem(input, key):
    return GetItem.apply(input, index_key(key))


def _mesh(index, dim, xp):
    """Index arrays that address input[..., index[...], ...] along ``dim`` for every position of ``index``."""
    parts = []
    for d, size in enumerate(index.shape):
        if d == dim:
            parts.append(index)
        else:
            shape = [1] * index.ndim
            shape[d] = size
            parts.append(xp.arange(size).reshape(shape))
    return tuple(parts)


def _check_gather(op, input, dim, index):
    if index.dtype.kind not in "iu":
        raise TypeError(f"{op}: index must be an integer tensor, got {index.dtype}")
    if index.ndim != input.ndim:
        raise ValueError(
            f"{op}: index {tuple(index.shape)} and input {tuple(input.shape)} must have the same number of dimensions"
        )
    for d in range(input.ndim):
        if d != dim and index.shape[d] > input.shape[d]:
            raise ValueError(
                f"{op}: index shape {tuple(index.shape)} is larger than input shape {tuple(input.shape)} at dim {d}"
            )
    size = input.shape[dim]
    if index.size and (int(index.min()) < -size or int(index.max()) >= size):
        raise IndexError(f"{op}: index out of range for dimension {dim} of size {size}")


class Gather(Function):
    """out[i][j] = input[index[i][j]][j] (for dim 0); backward adds dy into the gathered positions."""

    def forward(self, x, dim, index):
        key = _mesh(index, dim, self.xp)
        self.save(x.shape, key)
        return x[key]

    def backward(self, dy):
        shape, key = self.saved
        dx = self.xp.zeros(shape, dtype=dy.dtype)
        self.xp.add.at(dx, key, dy)
        return dx

    def backward_graph(self, dy):
        shape, key = self.saved
        return accumulate_at(dy, shape, key)


class ScatterAdd(Function):
    """out = input, then out[index[i][j]][j] += src[i][j] (for dim 0)."""

    def forward(self, x, dim, index, src):
        key = _mesh(index, dim, self.xp)
        out = x.copy()
        self.xp.add.at(out, key, src[tuple(slice(0, s) for s in index.shape)])
        self.save(key, index.shape, src.shape)
        return out

    def backward(self, dy):
        key, index_shape, src_shape = self.saved
        dsrc = None
        if self.needs_input_grad[3]:
            dsrc = self.xp.zeros(src_shape, dtype=dy.dtype)
            dsrc[tuple(slice(0, s) for s in index_shape)] = dy[key]
        return dy, None, None, dsrc

    def backward_graph(self, dy):
        key, index_shape, src_shape = self.saved
        dsrc = None
        if self.needs_input_grad[3]:
            dsrc = accumulate_at(GetItem.apply(dy, key), src_shape, tuple(slice(0, s) for s in index_shape))
        return dy, None, None, dsrc


class IndexSelect(Function):
    """out = input taken at ``index`` along ``dim``; backward adds dy back at those positions."""

    def forward(self, x, dim, index):
        self.save(x.shape, dim, index)
        return self.xp.take(x, index, axis=dim)

    def backward(self, dy):
        shape, dim, index = self.saved
        dx = self.xp.zeros(shape, dtype=dy.dtype)
        self.xp.add.at(dx, (slice(None),) * dim + (index,), dy)
        return dx

    def backward_graph(self, dy):
        shape, dim, index = self.saved
        return accumulate_at(dy, shape, (slice(None),) * dim + (index,))


def gather(input, dim, index):
    """Pick values along ``dim`` at ``index`` (same number of dims as ``input``)."""
    (d,) = normalize_dims(dim, input.ndim, "gather")
    _check_gather("gather", input, d, index.array)
    return Gather.apply(input, d, index.array)


def scatter_add(input, dim, index, src):
    """A copy of ``input`` with ``src`` added at ``index`` along ``dim`` (repeated indices add up)."""
    (d,) = normalize_dims(dim, input.ndim, "scatter_add")
    _check_gather("scatter_add", input, d, index.array)
    for k in range(input.ndim):
        if index.shape[k] > src.shape[k]:
            raise ValueError(
                f"scatter_add: index shape {tuple(index.shape)} is larger than src shape {tuple(src.shape)} at dim {k}"
            )
    return ScatterAdd.apply(input, d, index.array, src)


def index_select(input, dim, index):
    """The slices of ``input`` at the positions ``index`` (a 1-D integer tensor) along ``dim``."""
    (d,) = normalize_dims(dim, input.ndim, "index_select")
    idx = index.array
    if idx.ndim > 1 or idx.dtype.kind not in "iu":
        raise ValueError(f"index_select: index must be a 1-D integer tensor, got shape {tuple(idx.shape)} {idx.dtype}")
    size = input.shape[d]
    if idx.size and (int(idx.min()) < -size or int(idx.max()) >= size):
        raise IndexError(f"index_select: index out of range for dimension {d} of size {size}")
    return IndexSelect.apply(input, d, idx.reshape(-1))


class MaskedFill(Function):
    """y = value where mask else x (broadcast together);  dx = dy where not mask, dvalue = sum of dy where mask."""

    def forward(self, x, mask, value):
        xp = self.xp
        self.save(mask)
        return xp.where(mask, xp.asarray(value, dtype=x.dtype), x)

    def backward(self, dy):
        (mask,) = self.saved
        xp = self.xp
        dx = xp.where(mask, 0, dy).astype(dy.dtype, copy=False)
        dvalue = xp.where(mask, dy, 0).sum().astype(dy.dtype) if self.needs_input_grad[2] else None
        return dx, None, dvalue

    def backward_graph(self, dy):
        (mask,) = self.saved
        xp = self.graph_xp
        dvalue = xp.where(mask, dy, 0.0).sum() if self.needs_input_grad[2] else None
        return xp.where(mask, 0.0, dy), None, dvalue


def _masked_fill_args(op, mask, value):
    """The mask's array and the fill value (a number, or a 0-d Tensor kept for its gradient), checked as PyTorch."""
    if not isinstance(mask, Tensor) or mask.dtype.kind != "b":
        got = mask.dtype if isinstance(mask, Tensor) else type(mask).__name__
        raise RuntimeError(f"{op} only supports boolean masks, but got mask with dtype {got}")
    if isinstance(value, Tensor) and value.ndim != 0:
        raise RuntimeError(
            f"{op} only supports a 0-dimensional value tensor, but got tensor with {value.ndim} dimension(s)."
        )
    return mask.array, value


def masked_fill(input, mask, value):
    """A copy of ``input`` with ``value`` wherever the bool ``mask`` is True.

    Shapes: ``input`` and ``mask`` broadcast together to the output's shape; ``value`` is a number or a 0-d tensor
    (cast to ``input``'s dtype, and differentiable when it requires grad).
    """
    mask_array, value = _masked_fill_args("masked_fill", mask, value)
    try:
        _broadcast_shapes(input.shape, mask_array.shape)
    except ValueError:
        raise RuntimeError(
            f"masked_fill: the mask of shape {tuple(mask_array.shape)} does not broadcast with the input of shape "
            f"{tuple(input.shape)}"
        ) from None
    return MaskedFill.apply(input, mask_array, value)


def masked_fill_(self, mask, value):
    """In place: write ``value`` wherever ``mask`` is True (``mask`` must broadcast to this tensor's shape)."""
    mask_array, value = _masked_fill_args("masked_fill_", mask, value)
    try:
        shape = _broadcast_shapes(self.shape, mask_array.shape)
    except ValueError:
        shape = None
    if shape != tuple(self.shape):
        raise RuntimeError(
            f"masked_fill_: the mask of shape {tuple(mask_array.shape)} does not broadcast to the tensor's shape "
            f"{tuple(self.shape)}"
        )
    self._check_inplace("masked_fill_")
    xp = backend.get_array_module(self.array)
    fill = value.array if isinstance(value, Tensor) else value
    self.array[xp.broadcast_to(mask_array, self.shape)] = fill
    self._bump_version()
    return self


def _broadcast_shapes(*shapes):
    """The broadcast of ``shapes`` (ValueError when they do not broadcast)."""
    return tuple(backend.np.broadcast_shapes(*shapes))
