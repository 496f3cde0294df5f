"""Matrix products: ``matmul`` for 1-D, 2-D and batched n-d inputs (batch dimensions broadcast)."""

from ..autograd.function import Function


class MatMul(Function):
    """Y = A B;  dL/dA = dY B^T, dL/dB = A^T dY (vectors are promoted to matrices and back, as in NumPy)."""

    def forward(self, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(f"matmul: both operands need at least 1 dimension, got shapes {a.shape} and {b.shape}")
        k_a = a.shape[-1]
        k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
        if k_a != k_b:
            raise ValueError(
                f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} are not aligned: "
                f"{k_a} (last dim of the first) != {k_b} ({'only' if b.ndim == 1 else 'second-to-last'} dim of the second)"
            )
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
    from ._util import as_operand

    return MatMul.apply(input, as_operand(other, input))


def rmatmul(self, other):
    from ._util import as_operand

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
