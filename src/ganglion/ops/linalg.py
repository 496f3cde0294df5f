"""Matrix products (``matmul`` for 1-D, 2-D and batched n-d inputs, batch dimensions broadcast), ``norm``, and the
vector and matrix norms of ``ganglion.linalg`` (inv, det, slogdet, solve and svdvals are in linalg_matrix.py).

Matrix ops take batches: every dimension before the last two is a batch dimension."""

from .. import backend
from ..arguments import normalize_dims
from ..autograd.function import Function
from .linalg_matrix import check_matrix, svdvals


def check_matmul_shapes(op, a_shape, b_shape):
    """Raise ValueError naming ``op`` unless shapes ``a_shape`` and ``b_shape`` can be matrix-multiplied: both at least
    1-D, and the last dim of the first equal to the second's only (1-D) or second-to-last dim. Batch dims are
    checked by broadcasting itself."""
    if len(a_shape) == 0 or len(b_shape) == 0:
        raise ValueError(f"{op}: both operands need at least 1 dimension, got shapes {tuple(a_shape)} and "
                         f"{tuple(b_shape)}")
    k_a = a_shape[-1]
    k_b = b_shape[0] if len(b_shape) == 1 else b_shape[-2]
    if k_a != k_b:
        raise ValueError(
            f"{op}: shapes {tuple(a_shape)} and {tuple(b_shape)} are not aligned: {k_a} (last dim of the first) != "
            f"{k_b} ({'only' if len(b_shape) == 1 else 'second-to-last'} dim of the second)"
        )


class MatMul(Function):
    """Y = A B;  dL/dA = dY B^T, dL/dB = A^T dY (vectors are promoted to matrices and back, as in NumPy)."""

    backward_composes = True

    def forward(self, a, b):
        check_matmul_shapes("matmul", a.shape, b.shape)
        try:
            y = a @ b
        except ValueError:
            raise ValueError(
                f"matmul: batch dimensions of shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be broadcast together"
            ) from None
        self.save(a, b)
        return y

    def backward(self, dy):
        a, b = self.saved
        xp = self.xp
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        # restore the dims that the promotion of vectors removed (b's first: for vector @ vector dy is 0-d)
        if b.ndim == 1:
            dy = xp.expand_dims(dy, -1)
        if a.ndim == 1:
            dy = xp.expand_dims(dy, -2)
        da = db = None
        if self.needs_input_grad[0]:
            da = dy @ xp.swapaxes(b2, -1, -2)
            if a.ndim == 1:
                da = da.reshape(-1, a.shape[0]).sum(axis=0) if da.ndim > 2 else da.reshape(a.shape)
        if self.needs_input_grad[1]:
            db = xp.swapaxes(a2, -1, -2) @ dy
            if b.ndim == 1:
                db = db.reshape(-1, b.shape[0]).sum(axis=0) if db.ndim > 2 else db.reshape(b.shape)
        return da, db


def matmul(input, other):
    """Matrix product with NumPy's rules: (n,k)@(k,m), batched (..., n, k)@(..., k, m), vectors promoted."""
    from .util import as_operand

    return MatMul.apply(input, as_operand(other, input))


def rmatmul(self, other):
    from .util import as_operand

    return MatMul.apply(as_operand(other, self), self)


def mm(input, mat2):
    if input.ndim != 2 or mat2.ndim != 2:
        raise ValueError(f"mm: expects two 2-D tensors, got shapes {tuple(input.shape)} and {tuple(mat2.shape)}")
    return matmul(input, mat2)


def bmm(input, mat2):
    if input.ndim != 3 or mat2.ndim != 3:
        raise ValueError(f"bmm: expects two 3-D tensors, got shapes {tuple(input.shape)} and {tuple(mat2.shape)}")
    if input.shape[0] != mat2.shape[0]:
        raise ValueError(f"bmm: batch sizes differ: {tuple(input.shape)} and {tuple(mat2.shape)}")
    return matmul(input, mat2)


def dot(input, other):
    if input.ndim != 1 or other.ndim != 1 or input.shape != other.shape:
        raise ValueError(f"dot: expects two 1-D tensors of equal size, got {tuple(input.shape)} and {tuple(other.shape)}")
    return matmul(input, other)


def no_identity_error(p, dim=None):
    """PyTorch's RuntimeError for a +-inf norm over no elements (max and min have no identity): over the whole
    (empty) tensor when ``dim`` is None, else over the empty dimension ``dim``."""
    where = "an empty tensor" if dim is None else f"the dimension {dim}"
    return RuntimeError(f"linalg.vector_norm cannot compute the {'inf' if p > 0 else '-inf'} norm on {where} because "
                        "the operation does not have an identity")


class VectorNorm(Function):
    """y = (sum |x|^p)^(1/p) over ``axes``; p = inf: max |x|, p = -inf: min |x|, p = 0: count of nonzeros.

    dx = sign(x) |x|^(p-1) dy / y^(p-1) (p = 2: x dy / y; p = 1: sign(x) dy), and 0 where y = 0, as PyTorch;
    for p = +-inf the gradient is shared among the tied extreme entries; p = 0 has none.
    """

    def forward(self, x, p, axes, keepdim):
        xp = self.xp
        a = xp.abs(x)
        if p == float("inf") or p == float("-inf"):
            empty = [i for i in axes if x.shape[i] == 0]
            if empty:
                raise no_identity_error(p, None if len(axes) == x.ndim else empty[0])
            y = (a.max if p > 0 else a.min)(axis=axes, keepdims=True)
        elif p == 0:
            y = (a != 0).sum(axis=axes, keepdims=True).astype(x.dtype)
        elif p == 1:
            y = a.sum(axis=axes, keepdims=True)
        elif p == 2:
            y = xp.sqrt((x * x).sum(axis=axes, keepdims=True))
        else:
            y = (a ** p).sum(axis=axes, keepdims=True) ** (1.0 / p)
        self.save(x, y, p, axes)
        return y if keepdim else y.reshape(tuple(n for i, n in enumerate(y.shape) if i not in axes))

    def backward(self, dy):
        x, y, p, axes = self.saved
        xp = self.xp
        dy = dy.reshape(y.shape)
        if p == 0:
            return xp.zeros_like(x)
        if p == float("inf") or p == float("-inf"):
            tied = xp.abs(x) == y
            return xp.sign(x) * tied * (dy / tied.sum(axis=axes, keepdims=True))
        if p == 1:
            return xp.sign(x) * dy
        with backend.errstate(divide="ignore", invalid="ignore"):
            if p == 2:
                scale = xp.where(y == 0, 0, dy / y)
                return (x * scale).astype(x.dtype, copy=False)
            scale = xp.where(y == 0, 0, dy / y ** (p - 1))
            return (xp.sign(x) * xp.abs(x) ** (p - 1) * scale).astype(x.dtype, copy=False)

    def backward_graph(self, dy):
        x_array, y_array, p, axes = self.saved
        x, xp = self.inputs[0], self.graph_xp
        dy = dy.reshape(y_array.shape)
        if p == 0:
            return xp.zeros_like(x)
        if p in (float("inf"), float("-inf")):  # which elements attain the norm: a constant share of dy each
            tied = backend.get_array_module(x_array).abs(x_array) == y_array
            return dy * (backend.get_array_module(x_array).sign(x_array) * tied / tied.sum(axis=axes, keepdims=True))
        if p == 1:
            return xp.sign(x) * dy
        zero = y_array == 0  # where the norm is 0 its gradient is taken as 0, as in backward
        if p == 2:
            y = (x * x).sum(axis=axes, keepdims=True).sqrt()
            return x * xp.where(zero, 0.0, dy / xp.where(zero, 1.0, y))
        y = (x.abs() ** p).sum(axis=axes, keepdims=True) ** (1.0 / p)
        return xp.sign(x) * x.abs() ** (p - 1) * xp.where(zero, 0.0, dy / xp.where(zero, 1.0, y) ** (p - 1))


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """The vector p-norm of ``input`` over ``dim`` (all elements when None): p a number (2, 1, inf, -inf, 0, any
    real) or ``'fro'`` (the 2-norm over at most 2 dims). Shape: ``dim`` removed (kept as 1 with ``keepdim``).

    RuntimeError for integer inputs, for ``'fro'`` over more than 2 dims and for other matrix norms ('nuc'), which
    ganglion does not provide.
    """
    if dtype is not None:
        input = input.type(dtype)
    if input.dtype.kind not in "fc":
        raise RuntimeError(
            f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got {input.dtype}"
        )
    if isinstance(p, str):
        dims = normalize_dims(dim, input.ndim, "norm")
        if p != "fro":
            raise RuntimeError(f"linalg.matrix_norm: Order {p} not supported (ganglion offers 'fro' and numbers)")
        if dim is not None and not isinstance(dim, int) and len(dims) > 2:
            raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {' '.join(map(str, dims))}")
        p = 2
    elif p is None:
        p = 2
    elif isinstance(p, bool) or not isinstance(p, (int, float)):
        raise TypeError(f"norm(): p must be a number or 'fro', got {type(p).__name__}")
    return VectorNorm.apply(input, float(p), normalize_dims(dim, input.ndim, "norm"), bool(keepdim))


# ----------------------------------------------------------------------------------------- torch.linalg's ops
def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """(sum |x|^ord)^(1/ord) over ``dim`` (all elements when None), ord any real or +-inf (0: count of nonzeros).
    Shape: ``dim`` removed (kept as 1 with ``keepdim``)."""
    if dtype is not None:
        x = x.type(dtype)
    if x.dtype.kind not in "fc":
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got {x.dtype}")
    if isinstance(ord, (bool, str)) or not isinstance(ord, (int, float)):
        raise RuntimeError(f"linalg.vector_norm: ord must be a number, got {ord!r}")
    return VectorNorm.apply(x, float(ord), normalize_dims(dim, x.ndim, "linalg.vector_norm"), bool(keepdim))


_MATRIX_ORDS = ("fro", "nuc", 1, -1, 2, -2, float("inf"), float("-inf"))


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """A matrix norm over the two dims ``dim`` of A: 'fro' sqrt(sum a_ij^2); 'nuc' sum of singular values; 2 / -2
    the largest / smallest singular value; 1 / -1 the max / min column sum of |a_ij|; inf / -inf the max / min
    row sum. Shape: ``dim`` removed (kept as 1 with ``keepdim``)."""
    from . import reduction, shape, unary

    if dtype is not None:
        A = A.type(dtype)
    check_matrix("matrix_norm", A, square=False)
    if ord not in _MATRIX_ORDS or isinstance(ord, bool):
        accepted = ", ".join(map(str, _MATRIX_ORDS))
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported (accepted: {accepted})")
    if isinstance(dim, int) or len(dim) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {dim}")
    rows, cols = (d % A.ndim if -A.ndim <= d < A.ndim else None for d in dim)
    if rows is None or cols is None or rows == cols:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different dims of a {A.ndim}-D tensor. Got {dim}")
    kept = tuple(1 if i in (rows, cols) else n for i, n in enumerate(A.shape))
    if ord == "fro":
        return VectorNorm.apply(A, 2.0, tuple(sorted((rows, cols))), bool(keepdim))
    if ord in ("nuc", 2, -2):
        rest = [i for i in range(A.ndim) if i not in (rows, cols)]
        s = svdvals(shape.permute(A, rest + [rows, cols]))
        y = reduction.sum(s, -1) if ord == "nuc" else (reduction.amax if ord == 2 else reduction.amin)(s, -1)
    else:  # 1, -1: sum over rows, extreme over columns; inf, -inf: the other way round
        summed, extreme = (rows, cols) if abs(ord) == 1 else (cols, rows)
        sums = reduction.sum(unary.abs(A), summed, keepdim=True)
        y = (reduction.amax if ord > 0 else reduction.amin)(sums, extreme, keepdim=True)
    removed = tuple(n for i, n in enumerate(A.shape) if i not in (rows, cols))
    return shape.reshape(y, kept if keepdim else removed)


def linalg_norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """``torch.linalg.norm``: a vector norm when ``dim`` is an int (or None with ord None: all elements, flattened)
    or when A is 1-D; a matrix norm when ``dim`` is a 2-tuple or A is 2-D (ord None: 'fro')."""
    if isinstance(dim, int):
        dim = (dim,)
    if dim is None:
        if ord is None:
            return vector_norm(A, 2, None, keepdim, dtype=dtype)
        if A.ndim not in (1, 2):
            raise RuntimeError(
                f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got {A.ndim}D."
            )
        dim = tuple(range(A.ndim))
    dim = tuple(dim)
    if len(dim) == 2:
        return matrix_norm(A, "fro" if ord is None else ord, dim, keepdim, dtype=dtype)
    if len(dim) == 1:
        if isinstance(ord, str):
            raise RuntimeError(f"linalg.norm: ord '{ord}' is a matrix norm, but dim selects one dimension: {dim}")
        return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
    raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got {list(dim)}")
