"""The matrix functions of ``ganglion.linalg``: inv, det, slogdet, solve, svdvals, with their gradients (and
second derivatives: det and svdvals differentiate through the SVD of linalg_svd.py where an inverse would not do).

Matrix ops take batches: every dimension before the last two is a batch dimension."""

from .. import backend
from ..autograd.function import Function
from .linalg_svd import Svd
from .shape import cat


class LinAlgError(RuntimeError):
    """A matrix the operation cannot handle (singular for inv and solve); a RuntimeError, as torch.linalg's."""


def _swap(a):
    return a.swapaxes(-1, -2)


def check_matrix(name, a, square=True):
    """PyTorch's RuntimeErrors for what ``torch.linalg.<name>`` rejects: integer dtypes, fewer than 2 dims and
    (when ``square``) non-square matrices."""
    if a.dtype.kind not in "fc":
        raise RuntimeError(f"linalg.{name}: Expected a floating point or complex tensor as input. Got {a.dtype}")
    if a.ndim < 2:
        raise RuntimeError(
            f"linalg.{name}: The input tensor A must have at least 2 dimensions. Got shape {tuple(a.shape)}"
        )
    if square and a.shape[-1] != a.shape[-2]:
        raise RuntimeError(
            f"linalg.{name}: A must be batches of square matrices, but they are {a.shape[-2]} by {a.shape[-1]} "
            f"matrices (shape {tuple(a.shape)})"
        )


def _singular(name, error):
    return LinAlgError(
        f"linalg.{name}: the input matrix is singular, so the operation could not be completed ({error})"
    )


class Inv(Function):
    """Y = A^-1;  dA = -Y^T dY Y^T."""

    backward_composes = True

    def forward(self, a):
        try:
            y = self.xp.linalg.inv(a)
        except backend.np.linalg.LinAlgError as error:
            raise _singular("inv", error) from None
        self.save(y)
        return y

    def backward(self, dy):
        (y,) = self.saved
        y_t = _swap(y)
        return -(y_t @ dy @ y_t)


def _adjugate_transposed(xp, a):
    """adj(A)^T = det(A) A^-T, computed from the SVD A = U S V^T so that it stays exact for singular A:
    adj(A)^T = det(U) det(V) U adj(S) V^T, with adj(S)_ii = prod_{j != i} s_j (prefix times suffix products, no
    division by a zero singular value)."""
    u, s, vh = xp.linalg.svd(a)
    ones = xp.ones(s.shape[:-1] + (1,), dtype=s.dtype)
    before = xp.cumprod(xp.concatenate([ones, s[..., :-1]], axis=-1), axis=-1)
    after = xp.flip(xp.cumprod(xp.concatenate([ones, xp.flip(s, -1)[..., :-1]], axis=-1), axis=-1), -1)
    orientation = xp.linalg.det(u) * xp.linalg.det(vh)
    return orientation[..., None, None] * ((u * (before * after)[..., None, :]) @ vh)


def _near_singular(xp, a):
    """Whether any matrix of the batch ``a`` is singular to working precision (its inverse is then meaningless)."""
    s = xp.linalg.svd(a, compute_uv=False)
    return bool((s[..., -1] <= s[..., 0] * a.shape[-1] * xp.finfo(a.dtype).eps).any())


class Det(Function):
    """d = det A;  dA = g adj(A)^T (= g d A^-T when A is invertible; the adjugate keeps it defined when not)."""

    def forward(self, a):
        self.save(a)
        return self.xp.linalg.det(a)

    def backward(self, g):
        (a,) = self.saved
        if a.shape[-1] == 0:
            return self.xp.zeros_like(a)
        return (g[..., None, None] * _adjugate_transposed(self.xp, a)).astype(a.dtype, copy=False)

    def backward_graph(self, g):
        (a,) = self.saved
        if a.shape[-1] == 0:
            return self.graph_xp.zeros_like(self.inputs[0])
        A = self.inputs[0]
        if not _near_singular(self.xp, a):
            return g[..., None, None] * det(A)[..., None, None] * _swap(inv(A))
        # singular somewhere (to working precision): adj(A)^T = det(U) det(V) U adj(S) V^T, from a differentiable
        # SVD (as backward does)
        u, s, vh = Svd.apply(A)
        signs = self.xp.linalg.det(u.array) * self.xp.linalg.det(vh.array)  # +-1: constant
        ones = s[..., :1] * 0 + 1
        before = cat([ones, s[..., :-1]], -1).cumprod(-1)  # prod_{j < i} s_j
        after = cat([s[..., 1:], ones], -1).flip(-1).cumprod(-1).flip(-1)  # prod_{j > i} s_j
        adjugate_t = (u * (before * after)[..., None, :]) @ vh
        return g[..., None, None] * signs[..., None, None] * adjugate_t


class SlogDet(Function):
    """(sign, log|det A|);  d log|det A| / dA = A^-T, sign has gradient 0."""

    def forward(self, a):
        sign, logabsdet = self.xp.linalg.slogdet(a)
        self.save(a)
        return sign, logabsdet

    def backward(self, dsign, dlogabsdet):
        (a,) = self.saved
        try:
            a_inv_t = _swap(self.xp.linalg.inv(a))
        except backend.np.linalg.LinAlgError as error:
            raise _singular("slogdet", error) from None
        return dlogabsdet[..., None, None] * a_inv_t

    def backward_graph(self, dsign, dlogabsdet):
        return dlogabsdet[..., None, None] * _swap(inv(self.inputs[0]))


class Solve(Function):
    """X = A^-1 B;  dB = A^-T dX, dA = -dB X^T. B is a (batch of) vector(s) when it is 1-D or has shape
    A.shape[:-1] (PyTorch's rule); batch dimensions broadcast."""

    def forward(self, a, b, vector):
        xp = self.xp
        bm = b[..., None] if vector else b
        try:
            x = xp.linalg.solve(a, bm)
        except backend.np.linalg.LinAlgError as error:
            raise _singular("solve", error) from None
        self.save(a, x, vector)
        return x[..., 0] if vector else x

    def backward(self, dx):
        a, x, vector = self.saved
        xp = self.xp
        db = xp.linalg.solve(_swap(a), dx[..., None] if vector else dx)
        da = -(db @ _swap(x)) if self.needs_input_grad[0] else None
        return da, (db[..., 0] if vector else db)

    def backward_graph(self, dx):
        A, B, vector = self.inputs
        x = solve(A, B)
        db = solve(_swap(A), dx[..., None] if vector else dx)
        da = -(db @ _swap(x[..., None] if vector else x)) if self.needs_input_grad[0] else None
        return da, (db[..., 0] if vector else db)


class SvdVals(Function):
    """s = singular values of A, descending;  dA = U diag(ds) V^T (U, V of the reduced SVD)."""

    def forward(self, a):
        u, s, vh = self.xp.linalg.svd(a, full_matrices=False)
        self.save(u, vh)
        return s

    def backward(self, ds):
        u, vh = self.saved
        return (u * ds[..., None, :]) @ vh

    def backward_graph(self, ds):
        u, _, vh = Svd.apply(self.inputs[0])  # U and V^T as outputs of a differentiable op
        return (u * ds[..., None, :]) @ vh


def inv(A):
    """A^-1 for a (..., n, n) batch of square matrices; LinAlgError (a RuntimeError) if one is singular."""
    check_matrix("inv", A)
    return Inv.apply(A)


def det(A):
    """det A for a (..., n, n) batch of square matrices; shape (...)."""
    check_matrix("det", A)
    return Det.apply(A)


def slogdet(A):
    """(sign, logabsdet) of det A for a (..., n, n) batch, each of shape (...): log|det A| without overflow."""
    check_matrix("slogdet", A)
    return SlogDet.apply(A)


def solve(A, B):
    """X with A X = B. A: (..., n, n); B: (..., n, k), or a vector (n,) / (..., n) when 1-D or of shape
    A.shape[:-1], giving X of B's kind. Batch dimensions broadcast."""
    check_matrix("solve", A)
    if B.dtype.kind not in "fc":
        raise RuntimeError(f"linalg.solve: Expected a floating point or complex tensor as B. Got {B.dtype}")
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    rows, cols = (B.shape[-1], 1) if vector else (B.shape[-2], B.shape[-1])
    if rows != A.shape[-1]:
        raise RuntimeError(
            f"linalg.solve: Incompatible shapes of A and B for the equation AX = B "
            f"({A.shape[-2]}x{A.shape[-1]} and {rows}x{cols}); shapes {tuple(A.shape)} and {tuple(B.shape)}"
        )
    return Solve.apply(A, B, vector)


def svdvals(A):
    """Singular values of A (..., m, n), descending; shape (..., min(m, n))."""
    check_matrix("svdvals", A, square=False)
    return SvdVals.apply(A)
