"""Shape and indexing ``keras.ops``: reshape, transpose, expand_dims, squeeze, concatenate, stack, tile, repeat,
take, take_along_axis, tril, triu. Each maps Keras' arguments onto one engine op and stays differentiable."""

import numpy as np

from ... import ops as E
from ...ops.linalg import check_matmul_shapes
from ._convert import result_dtype, tensor_of, tensors_of


def _axes(name, axis, ndim):
    """``axis`` (int or sequence) as non-negative ints checked against ``ndim``."""
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(f"{name}: axis {a} is out of range for a result of {ndim} dimension(s)")
    return tuple(int(a) % ndim for a in axes)


def reshape(x, newshape):
    """``x`` with shape ``newshape`` (one entry may be -1)."""
    x = tensor_of(x, "reshape")
    newshape = (newshape,) if isinstance(newshape, (int, np.integer)) else tuple(newshape)
    return E.reshape(x, tuple(-1 if s is None else int(s) for s in newshape))


def transpose(x, axes=None):
    """Dimensions permuted by ``axes`` (reversed when None)."""
    x = tensor_of(x, "transpose")
    axes = tuple(range(x.ndim - 1, -1, -1)) if axes is None else tuple(axes)
    return E.permute(x, axes)


def expand_dims(x, axis):
    """``x`` with size-1 dimensions inserted at ``axis`` (an int or a tuple, positions in the result)."""
    x = tensor_of(x, "expand_dims")
    axes = _axes("expand_dims", axis, x.ndim + (1 if isinstance(axis, (int, np.integer)) else len(axis)))
    shape = list(x.shape)
    for a in sorted(axes):
        shape.insert(a, 1)
    return E.reshape(x, tuple(shape))


def squeeze(x, axis=None):
    """``x`` without its size-1 dimensions (only ``axis``, which must have size 1, when given)."""
    x = tensor_of(x, "squeeze")
    if axis is None:
        return E.squeeze(x)
    axes = _axes("squeeze", axis, x.ndim)
    for a in axes:
        if x.shape[a] != 1:
            raise ValueError(f"squeeze: cannot squeeze axis {a} of shape {tuple(x.shape)}: its size is not 1")
    return E.reshape(x, tuple(s for i, s in enumerate(x.shape) if i not in axes))


def concatenate(xs, axis=0):
    """The tensors ``xs`` joined along ``axis`` (promoted to one dtype)."""
    if axis is None:
        xs = [tensor_of(x, "concatenate").reshape(-1) for x in xs]
        axis = 0
    return E.cat(tensors_of("concatenate", *xs), axis)


def stack(x, axis=0):
    """The tensors ``x`` stacked along a new ``axis`` (promoted to one dtype)."""
    return E.stack(tensors_of("stack", *x), axis)


def tile(x, repeats):
    """``x`` repeated ``repeats`` times along each dimension (NumPy's ``tile``)."""
    x = tensor_of(x, "tile")
    repeats = (repeats,) if isinstance(repeats, (int, np.integer)) else tuple(repeats)
    return E.tile(x, repeats)


def repeat(x, repeats, axis=None):
    """Each element repeated ``repeats`` times along ``axis`` (of the flattened array when None)."""
    x = tensor_of(x, "repeat")
    if not isinstance(repeats, (int, np.integer)):
        repeats = tensor_of(repeats, "repeat", np.dtype("int64"))
    return E.repeat_interleave(x, repeats, dim=axis)


def _index(name, indices):
    indices = tensor_of(indices, name)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"{name}: indices must be integers, got dtype {indices.dtype}")
    return indices


def take(x, indices, axis=None):
    """Elements of ``x`` at ``indices`` along ``axis`` (of the flattened array when None); negative indices count
    from the end. The result has shape x.shape[:axis] + indices.shape + x.shape[axis+1:]."""
    x, indices = tensor_of(x, "take"), _index("take", indices)
    if axis is None:
        x, axis = x.reshape(-1), 0
    (axis,) = _axes("take", axis, x.ndim)
    indices = E.where(E.lt(indices, 0), E.add(indices, x.shape[axis]), indices)
    return x[(slice(None),) * axis + (indices.array,)]


def take_along_axis(x, indices, axis=None):
    """``x`` gathered at ``indices`` along ``axis`` (NumPy's ``take_along_axis``; the two broadcast except on
    ``axis``)."""
    x, indices = tensor_of(x, "take_along_axis"), _index("take_along_axis", indices)
    if axis is None:
        x, axis = x.reshape(-1), 0
    (axis,) = _axes("take_along_axis", axis, x.ndim)
    if indices.ndim != x.ndim:
        raise ValueError(f"take_along_axis: x {tuple(x.shape)} and indices {tuple(indices.shape)} must have the same rank")
    x_shape, i_shape = list(x.shape), list(indices.shape)
    x_shape[axis] = i_shape[axis] = 1
    common = np.broadcast_shapes(tuple(x_shape), tuple(i_shape))
    x = E.broadcast_to(x, common[:axis] + (x.shape[axis],) + common[axis + 1:])
    indices = E.broadcast_to(indices, common[:axis] + (indices.shape[axis],) + common[axis + 1:])
    indices = E.where(E.lt(indices, 0), E.add(indices, x.shape[axis]), indices)
    return E.gather(x, axis, tensor_of(indices, "take_along_axis", np.dtype("int64")))


def tril(x, k=0):
    """``x`` with the entries above the k-th diagonal set to zero."""
    return E.tril(tensor_of(x, "tril"), k)


def triu(x, k=0):
    """``x`` with the entries below the k-th diagonal set to zero."""
    return E.triu(tensor_of(x, "triu"), k)


def matmul(x1, x2):
    """Matrix product with NumPy's broadcasting rules (bool and small ints give int32)."""
    x1, x2 = tensors_of("matmul", x1, x2)
    check_matmul_shapes("matmul", x1.shape, x2.shape)
    return E.matmul(x1, x2)


def dot(x1, x2):
    """NumPy's ``dot``: scalars multiply, vectors give the inner product, otherwise the last axis of ``x1`` meets
    the second-to-last of ``x2`` (the last when ``x2`` is 1-d)."""
    x1, x2 = tensors_of("dot", x1, x2)
    if x1.ndim == 0 or x2.ndim == 0:
        return E.mul(x1, x2)
    if x2.ndim <= 2:
        check_matmul_shapes("dot", x1.shape, x2.shape)
        return E.matmul(x1, x2)
    letters = "abcdefghijklmnopqrstuvw"
    a, b = letters[:x1.ndim], letters[x1.ndim:x1.ndim + x2.ndim]
    b = b[:-2] + a[-1] + b[-1]
    return E.einsum(f"{a},{b}->{a[:-1] + b[:-2] + b[-1]}", x1, x2)


def einsum(subscripts, *operands):
    """Einstein summation over ``operands`` (promoted to one dtype)."""
    return E.einsum(subscripts, *tensors_of("einsum", *operands, dtype=result_dtype(*operands)))
