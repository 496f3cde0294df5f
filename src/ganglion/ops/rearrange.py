"""Ops that rearrange values without combining them: ``narrow``, ``t``, ``flip``, ``roll``, ``tril``, ``triu``,
``repeat_interleave``. Backward moves each gradient back to where its value came from (adding up copies)."""

from .. import backend
from ..autograd.function import Function
from ..tensor import Tensor
from .indexing import accumulate_at
from ..arguments import normalize_dim, normalize_dims


def _int(value, name, op):
    if isinstance(value, Tensor):
        if value.ndim != 0 or value.dtype.kind not in "iu":
            raise TypeError(f"{op}(): {name} must be an int or a 0-d integer tensor, got a {value.dtype} tensor "
                            f"of shape {tuple(value.shape)}")
        return int(value.item())
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{op}(): argument '{name}' must be int, not {type(value).__name__}")
    return value


def narrow(input, dim, start, length):
    """``input`` cut to ``length`` entries from ``start`` along ``dim`` (a view; ``start`` may be negative).

    Shape: (..., n, ...) -> (..., length, ...). IndexError for a bad dim or start; RuntimeError for a length that
    is negative or runs past the end.
    """
    if input.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    (axis,) = normalize_dims(_int(dim, "dim", "narrow"), input.ndim, "narrow")
    start, length, n = _int(start, "start", "narrow"), _int(length, "length", "narrow"), input.shape[axis]
    if not -n <= start <= n:
        raise IndexError(f"narrow(): start out of range (expected to be in range of [{-n}, {n}], but got {start})")
    if start < 0:
        start += n
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if start + length > n:
        raise RuntimeError(f"narrow(): start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return input[(slice(None),) * axis + (slice(start, start + length),)]


def t(input):
    """The transpose of a matrix; 0-d and 1-d tensors come back as they are. RuntimeError above 2 dims."""
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.ndim}D")
    return input.transpose(0, 1) if input.ndim == 2 else input.view(input.shape)


class Flip(Function):
    """y = x reversed along ``axes`` (a copy, as PyTorch);  dx = dy reversed the same way."""

    backward_composes = True

    def forward(self, x, axes):
        self.save(axes)
        return self.xp.flip(x, axis=axes).copy()

    def backward(self, dy):
        (axes,) = self.saved
        return self.xp.flip(dy, axis=axes)


def _dims_list(dims, ndim, op):
    """Checked, non-negative dims in the given order; RuntimeError for a repeated one, as PyTorch."""
    if isinstance(dims, int) or not hasattr(dims, "__iter__"):
        raise TypeError(f"{op}(): argument 'dims' must be tuple of ints, not {type(dims).__name__}")
    out = []
    for d in dims:
        axis = normalize_dim(d, ndim, op)
        if axis in out:
            raise RuntimeError(f"{op}(): dim {axis} appears multiple times in the list of dims")
        out.append(axis)
    return tuple(out)


def flip(input, dims):
    """``input`` reversed along each dim in ``dims`` (a tuple or list). Shape unchanged."""
    axes = _dims_list(dims, input.ndim, "flip")
    if input.ndim == 0:
        return Flip.apply(input, ())
    return Flip.apply(input, axes)


def flip_method(self, *dims):
    """``x.flip(0, 1)`` and ``x.flip((0, 1))`` both work on a tensor."""
    return flip(self, dims[0] if len(dims) == 1 and not isinstance(dims[0], int) else dims)


class Roll(Function):
    """y = x shifted cyclically by ``shifts`` along ``axes``;  dx = dy shifted back."""

    backward_composes = True

    def forward(self, x, shifts, axes):
        self.save(shifts, axes)
        return self.xp.roll(x, shifts, axis=axes)

    def backward(self, dy):
        shifts, axes = self.saved
        return self.xp.roll(dy, tuple(-s for s in shifts), axis=axes)


def roll(input, shifts, dims=None):
    """``input`` shifted cyclically: entry i moves to (i + shift) mod n along each dim (of the flattened tensor when
    ``dims`` is None, keeping the shape). RuntimeError when ``shifts`` and ``dims`` differ in length."""
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    shifts = tuple(_int(s, "shifts", "roll") for s in shifts)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"roll(): shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
        return Roll.apply(input.reshape(-1), shifts, (0,)).reshape(input.shape)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(f"roll(): shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
    axes = tuple(normalize_dim(d, input.ndim, "roll") for d in dims)
    if input.ndim == 0:
        return input.clone()
    return Roll.apply(input, shifts, axes)


class Triangle(Function):
    """y = x with the entries above (tril) or below (triu) diagonal ``k`` of the last two dims set to 0;
    dx = dy masked the same way."""

    backward_composes = True

    def forward(self, x, k, lower):
        self.save(k, lower)
        return (self.xp.tril if lower else self.xp.triu)(x, k)

    def backward(self, dy):
        k, lower = self.saved
        return (self.xp.tril if lower else self.xp.triu)(dy, k)


def _triangle(op, input, diagonal, lower):
    diagonal = _int(diagonal, "diagonal", op)
    if input.ndim < 2:
        raise RuntimeError(f"{op}: input tensor must have at least 2 dimensions")
    return Triangle.apply(input, diagonal, lower)


def tril(input, diagonal=0):
    """The lower triangle of the last two dims (entries j - i <= diagonal kept, others 0). Shape unchanged."""
    return _triangle("tril", input, diagonal, True)


def triu(input, diagonal=0):
    """The upper triangle of the last two dims (entries j - i >= diagonal kept, others 0). Shape unchanged."""
    return _triangle("triu", input, diagonal, False)


class RepeatInterleave(Function):
    """y = each slice of x along ``axis`` repeated ``repeats[i]`` times in place;  dx_i = sum of its copies' dy."""

    def forward(self, x, repeats, axis):
        self.save(x.shape, repeats, axis)
        return self.xp.repeat(x, repeats, axis=axis)

    def backward(self, dy):
        shape, repeats, axis = self.saved
        xp = self.xp
        source = xp.repeat(xp.arange(shape[axis]), repeats)  # the input position of every output position
        dx = xp.zeros(shape, dtype=dy.dtype)
        xp.add.at(dx, (slice(None),) * axis + (source,), dy)
        return dx

    def backward_graph(self, dy):
        shape, repeats, axis = self.saved
        xp = backend.get_array_module(dy.array)
        source = xp.repeat(xp.arange(shape[axis]), repeats)
        return accumulate_at(dy, shape, (slice(None),) * axis + (source,))


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Repeat each element (or each slice along ``dim``) ``repeats`` times, consecutively.

    ``repeats``: an int, or an integer tensor with one count per slice (or one count for all). Shape: (..., n, ...)
    -> (..., sum(repeats), ...); with ``dim=None`` the input is flattened first. ``repeat_interleave(counts)`` with
    a single integer tensor gives ``arange(len(counts))`` repeated by the counts.
    """
    if repeats is None:
        counts = input
        if counts.ndim > 1:
            raise RuntimeError("repeat_interleave(): repeats must be 0-dim or 1-dim tensor")
        positions = Tensor._wrap(backend.get_array_module(counts.array).arange(counts.numel(), dtype="int64"))
        return repeat_interleave(positions, counts.reshape(-1), 0, output_size=output_size)
    if dim is None:
        input, axis = input.reshape(-1), 0
    else:
        axis = normalize_dim(dim, input.ndim, "repeat_interleave")
        if input.ndim == 0:
            input = input.reshape(1)
    n = input.shape[axis]
    if isinstance(repeats, Tensor):
        if repeats.ndim > 1:
            raise RuntimeError("repeat_interleave(): repeats must be 0-dim or 1-dim tensor")
        if repeats.dtype.kind not in "iu":
            raise NotImplementedError(f"repeat_interleave(): repeats must be an integer tensor, got {repeats.dtype}")
        counts = repeats.array.reshape(-1)
        if counts.size not in (1, n):
            raise RuntimeError(
                "repeat_interleave(): repeats must have the same size as input along dim, but got "
                f"repeats.size(0) = {counts.size} and input.size({axis}) = {n}"
            )
        counts = backend.to_numpy(counts).astype("int64")
    else:
        counts = backend.np.asarray([_int(repeats, "repeats", "repeat_interleave")], dtype="int64")
    if (counts < 0).any():
        raise RuntimeError("repeat_interleave(): Repeats must be non-negative")
    if counts.size == 1:
        counts = backend.np.full(n, counts[0], dtype="int64")
    if output_size is not None and output_size != int(counts.sum()):
        raise RuntimeError(f"repeat_interleave(): output_size {output_size} does not match sum(repeats) = "
                           f"{int(counts.sum())}")
    return RepeatInterleave.apply(input, tuple(counts.tolist()), axis)
