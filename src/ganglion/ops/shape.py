"""Ops that move values around without changing them: reshape, transpose, expand, repeat, cat, stack, split, pad,
and the dtype/device casts. Backward puts each gradient element back where its value came from."""

import builtins

from .. import backend
from ..autograd.function import Function
from .indexing import accumulate_at
from ..arguments import normalize_dims


def _shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


class Reshape(Function):
    """Same values, new shape (a view when possible)."""

    backward_composes = True

    def forward(self, x, shape):
        self.save(x.shape)
        try:
            return x.reshape(shape)
        except ValueError:
            raise ValueError(
                f"reshape: cannot reshape a tensor of shape {tuple(x.shape)} ({x.size} elements) into {tuple(shape)}"
            ) from None

    def backward(self, dy):
        (shape,) = self.saved
        return dy.reshape(shape)


class Permute(Function):
    """Reorder dimensions; backward applies the inverse permutation."""

    def forward(self, x, dims):
        self.save(dims)
        return x.transpose(dims)

    def backward(self, dy):
        return dy.transpose(self._inverse())

    def backward_graph(self, dy):
        return dy.permute(*self._inverse())

    def _inverse(self):
        """The permutation that undoes ``dims``: inverse[dims[i]] = i."""
        (dims,) = self.saved
        inverse = [0] * len(dims)
        for i, d in enumerate(dims):
            inverse[d] = i
        return inverse


class Expand(Function):
    """Broadcast to a larger shape without copying; the engine sums the gradient back to the input's shape."""

    backward_composes = True

    def forward(self, x, shape):
        try:
            return self.xp.broadcast_to(x, shape)
        except ValueError:
            raise ValueError(
                f"expand: a tensor of shape {tuple(x.shape)} cannot be expanded to {tuple(shape)} "
                "(only dimensions of size 1 can grow)"
            ) from None

    def backward(self, dy):
        return dy


class Tile(Function):
    """Repeat the whole tensor ``reps`` times along each dimension; backward sums the copies."""

    backward_composes = True

    def forward(self, x, reps):
        x_shape = (1,) * (len(reps) - x.ndim) + x.shape
        self.save(x.shape, x_shape, reps)
        return self.xp.tile(x.reshape(x_shape), reps)

    def backward(self, dy):
        shape, x_shape, reps = self.saved
        split = []
        for r, s in zip(reps, x_shape):
            split += [r, s]
        return dy.reshape(split).sum(axis=tuple(range(0, 2 * len(reps), 2))).reshape(shape)


class Cat(Function):
    """Join tensors along an existing dimension; backward slices the gradient into the pieces."""

    backward_composes = True

    def forward(self, *xs, dim):
        self.save([x.shape[dim] for x in xs], dim)
        return self.xp.concatenate(xs, axis=dim)

    def backward(self, dy):
        sizes, dim = self.saved
        out, start = [], 0
        index = [slice(None)] * dy.ndim
        for i, size in enumerate(sizes):
            if self.needs_input_grad[i]:
                index[dim] = slice(start, start + size)
                out.append(dy[tuple(index)])
            else:
                out.append(None)
            start += size
        return tuple(out)


class Stack(Function):
    """Join same-shaped tensors along a new dimension."""

    def forward(self, *xs, dim):
        self.save(dim)
        return self.xp.stack(xs, axis=dim)

    def backward(self, dy):
        (dim,) = self.saved
        return tuple(self.xp.moveaxis(dy, dim, 0))

    def backward_graph(self, dy):
        (dim,) = self.saved
        return tuple(dy[(slice(None),) * dim + (i,)] for i in range(dy.shape[dim]))


class PadIndexed(Function):
    """Pad by gathering: out = x.flat[index], where ``index`` maps each output element to its source.

    One rule for every padding mode (reflect, replicate, circular): backward scatter-adds into the sources.
    """

    def forward(self, x, index):
        self.save(x.shape, index)
        return x.reshape(-1)[index]

    def backward(self, dy):
        shape, index = self.saved
        xp = self.xp
        size = 1
        for s in shape:
            size *= s
        flat = xp.bincount(index.reshape(-1), weights=dy.reshape(-1), minlength=size)
        return flat.astype(dy.dtype).reshape(shape)

    def backward_graph(self, dy):
        shape, index = self.saved
        return accumulate_at(dy, shape, backend.get_array_module(index).unravel_index(index, shape))


class PadConstant(Function):
    """Pad with a constant value; backward slices the interior back out."""

    backward_composes = True

    def forward(self, x, widths, value):
        self.save(widths, x.shape)
        return self.xp.pad(x, widths, mode="constant", constant_values=value)

    def backward(self, dy):
        widths, shape = self.saved
        return dy[tuple(slice(lo, lo + s) for (lo, _), s in zip(widths, shape))]


class Cast(Function):
    """Convert to another dtype; gradients are cast back to the input's dtype by the engine."""

    backward_composes = True

    def forward(self, x, dtype):
        return x.astype(dtype)

    def backward(self, dy):
        return dy


class ToDevice(Function):
    """Copy to another device; the gradient travels back to the input's device."""

    def forward(self, x, device):
        self.save(backend.device_of(x))
        return backend.to_device(x, device)

    def backward(self, dy):
        (source,) = self.saved
        return backend.to_device(dy, source)

    def backward_graph(self, dy):
        (source,) = self.saved
        return ToDevice.apply(dy, source)


class Clone(Function):
    """A copy that stays in the graph (gradient passes through unchanged)."""

    backward_composes = True

    def forward(self, x):
        return x.copy()

    def backward(self, dy):
        return dy


def reshape(input, *shape):
    """Same values in a new shape; one dimension may be -1 (inferred)."""
    return Reshape.apply(input, _shape_arg(shape))


view = reshape


def flatten(input, start_dim=0, end_dim=-1):
    """Merge dimensions start_dim..end_dim into one: (2, 3, 4) with start_dim=1 -> (2, 12)."""
    shape = input.shape
    if input.ndim == 0:
        return reshape(input, (1,))
    start, end = normalize_dims(start_dim, input.ndim, "flatten")[0], normalize_dims(end_dim, input.ndim, "flatten")[0]
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} must not come after end_dim {end_dim}")
    merged = 1
    for s in shape[start:end + 1]:
        merged *= s
    return reshape(input, shape[:start] + (merged,) + shape[end + 1:])


def squeeze(input, dim=None):
    """Drop dimensions of size 1 (only ``dim`` when given, and only if it has size 1, as PyTorch)."""
    shape = input.shape
    if dim is None:
        new = tuple(s for s in shape if s != 1)
    else:
        dims = normalize_dims(dim, input.ndim, "squeeze")
        new = tuple(s for i, s in enumerate(shape) if not (i in dims and s == 1))
    return input if new == shape else reshape(input, new)


def unsqueeze(input, dim):
    """Insert a dimension of size 1 at ``dim`` (negative dims count from the end of the result)."""
    n = input.ndim + 1
    if not -n <= dim < n:
        raise IndexError(f"unsqueeze: dimension {dim} is out of range for a result of {n} dimension(s)")
    dim %= n
    shape = input.shape
    return reshape(input, shape[:dim] + (1,) + shape[dim:])


def permute(input, *dims):
    """Reorder dimensions: permute(x, 2, 0, 1) turns (a, b, c) into (c, a, b)."""
    dims = _shape_arg(dims)
    if len(dims) != input.ndim or sorted(normalize_dims(dims, input.ndim, "permute")) != list(range(input.ndim)):
        raise ValueError(f"permute: {tuple(dims)} is not a permutation of the {input.ndim} dims of shape {tuple(input.shape)}")
    dims = tuple(d % builtins.max(input.ndim, 1) for d in dims)
    return Permute.apply(input, dims)


def transpose(input, dim0, dim1):
    """Swap two dimensions."""
    if input.ndim < 2 and dim0 in (0, -1) and dim1 in (0, -1):
        return input
    (d0,), (d1,) = normalize_dims(dim0, input.ndim, "transpose"), normalize_dims(dim1, input.ndim, "transpose")
    dims = list(range(input.ndim))
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return Permute.apply(input, tuple(dims))


swapaxes = transpose


def expand(input, *sizes):
    """Broadcast to ``sizes`` without copying; -1 keeps a dimension's size."""
    sizes = _shape_arg(sizes)
    lead = len(sizes) - input.ndim
    if lead < 0:
        raise ValueError(f"expand: the number of sizes {len(sizes)} is less than the tensor's dimensions {input.ndim}")
    shape = tuple(input.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(sizes))
    return Expand.apply(input, shape)


def broadcast_to(input, shape):
    """Broadcast to ``shape`` (NumPy's name for ``expand``)."""
    return expand(input, tuple(shape))


def expand_as(input, other):
    return expand(input, other.shape)


def repeat(input, *sizes):
    """PyTorch's repeat: tile the tensor ``sizes[i]`` times along dim i (len(sizes) >= ndim)."""
    sizes = _shape_arg(sizes)
    if len(sizes) < input.ndim:
        raise ValueError(
            f"repeat: the number of repeats {len(sizes)} can not be smaller than the tensor's dimensions {input.ndim}"
        )
    return Tile.apply(input, sizes)


def tile(input, dims):
    """Tile like PyTorch/NumPy: fewer reps than dims are padded with ones in front."""
    dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
    dims = (1,) * (input.ndim - len(dims)) + dims
    return Tile.apply(input, dims)


def _sequence_args(op, tensors, dim, axis):
    """(the tensors as a non-empty list, the dim): NumPy's ``axis`` is accepted for PyTorch's ``dim``."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError(f"{op}: expected a non-empty sequence of tensors")
    return tensors, dim if axis is None else axis


def cat(tensors, dim=0, *, axis=None):
    """Join tensors along an existing dimension; all other dimensions must match."""
    tensors, dim = _sequence_args("cat", tensors, dim, axis)
    # PyTorch skips 1-D empty tensors in cat
    kept = [t for t in tensors if not (t.ndim == 1 and t.shape[0] == 0)] or tensors[:1]
    ref = kept[0]
    (d,) = normalize_dims(dim, ref.ndim, "cat")
    for i, t in enumerate(kept):
        if t.ndim != ref.ndim or any(a != b for j, (a, b) in enumerate(zip(t.shape, ref.shape)) if j != d):
            raise ValueError(
                f"cat: sizes of tensors must match except in dimension {d}; tensor 0 has shape {tuple(ref.shape)} "
                f"but tensor {i} has shape {tuple(t.shape)}"
            )
    return Cat.apply(*kept, dim=d)


concatenate = concat = cat


def stack(tensors, dim=0, *, axis=None):
    """Join same-shaped tensors along a new dimension ``dim``."""
    tensors, dim = _sequence_args("stack", tensors, dim, axis)
    ref = tensors[0]
    for i, t in enumerate(tensors):
        if t.shape != ref.shape:
            raise ValueError(
                f"stack: expects each tensor to be equal size, but got {tuple(ref.shape)} at entry 0 and "
                f"{tuple(t.shape)} at entry {i}"
            )
    n = ref.ndim + 1
    if not -n <= dim < n:
        raise IndexError(f"stack: dimension {dim} is out of range for a result of {n} dimension(s)")
    return Stack.apply(*tensors, dim=dim % n)


def split(tensor, split_size_or_sections, dim=0):
    """Split into pieces of ``split_size`` (the last may be smaller) or of the given list of sizes."""
    (d,) = normalize_dims(dim, tensor.ndim, "split")
    length = tensor.shape[d]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0:
            raise ValueError(f"split: split_size must be positive, got {step}")
        sizes = [builtins.min(step, length - s) for s in range(0, length, step)] or [0]
    else:
        sizes = list(split_size_or_sections)
        if builtins.sum(sizes) != length:
            raise ValueError(f"split: sections {sizes} do not sum to the size {length} of dimension {d}")
    pieces, start = [], 0
    for size in sizes:
        index = [slice(None)] * tensor.ndim
        index[d] = slice(start, start + size)
        pieces.append(tensor[tuple(index)])
        start += size
    return tuple(pieces)


def chunk(input, chunks, dim=0):
    """Split into ``chunks`` pieces of equal size (the last may be smaller), as PyTorch."""
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    (d,) = normalize_dims(dim, input.ndim, "chunk")
    size = -(-input.shape[d] // chunks) if input.shape[d] else 1
    return split(input, builtins.max(size, 1), d)


_PAD_MODES = {"constant": None, "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def pad(input, pad, mode="constant", value=0.0):
    """Pad the last len(pad)/2 dimensions: ``pad = (left_last, right_last, left_prev, right_prev, ...)``.

    Modes (as ``torch.nn.functional.pad``): constant (with ``value``), reflect, replicate, circular.
    """
    if mode not in _PAD_MODES:
        raise ValueError(f"pad: unknown mode {mode!r}; accepted modes are {', '.join(_PAD_MODES)}")
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(
            f"pad: padding length {len(pad)} must be even and at most twice the number of dimensions ({input.ndim})"
        )
    widths = [(0, 0)] * input.ndim
    for i in range(len(pad) // 2):
        widths[input.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    if any(lo < 0 or hi < 0 for lo, hi in widths):
        raise ValueError(f"pad: negative padding {pad} is not supported")
    if mode == "constant":
        return PadConstant.apply(input, widths, value)
    for dim, (lo, hi) in enumerate(widths):
        size = input.shape[dim]
        if mode == "reflect" and (lo >= size or hi >= size):
            raise ValueError(
                f"pad: reflect padding ({lo}, {hi}) must be smaller than the size {size} of dimension {dim}"
            )
        if (lo or hi) and size == 0:
            raise ValueError(f"pad: cannot {mode}-pad the empty dimension {dim}")
    np = backend.np
    index = np.arange(input.array.size).reshape(input.shape)
    index = backend.np.pad(index, widths, mode=_PAD_MODES[mode])
    xp = backend.get_array_module(input.array)
    return PadIndexed.apply(input, xp.asarray(index))


def cast(input, dtype):
    return Cast.apply(input, dtype)


def to_device(input, device):
    return ToDevice.apply(input, device)


def clone(input):
    """A copy of the values that keeps the graph (gradients flow through)."""
    return Clone.apply(input)
