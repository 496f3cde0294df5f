"""The thin SVD as a differentiable op: what the singular values' and the determinant's double backward stand on.

``Svd`` is not exposed as ``linalg.svd`` (its U and V are defined only up to signs, so only functions that do not
depend on those signs are meaningful to differentiate); ``SvdVals`` and ``Det`` use it under ``create_graph=True``
to differentiate ``U diag(w) V^T``, which is sign-invariant.
"""

from .. import backend
from ..autograd.function import Function


def _swap(a):
    return a.swapaxes(-1, -2)


class Svd(Function):
    """A = U diag(s) V^T, thin: A (..., m, n) -> U (..., m, k), s (..., k), V^T (..., k, n), k = min(m, n).

    Backward (Townsend, "Differentiating the singular value decomposition", 2016), with F_ij = 1 / (s_j^2 - s_i^2)
    off the diagonal and 0 on it:

        dA = U [ (F o (U^T dU - dU^T U)) S + diag(ds) + S (F o (V^T dV - dV^T V)) ] V^T
             + (I - U U^T) dU S^-1 V^T + U S^-1 dV^T (I - V V^T)

    Needs distinct nonzero singular values where dU or dV is nonzero. Written only in operators and ``xp``
    functions, on its own outputs, so it is differentiable again (``backward_composes``).
    """

    backward_composes = True

    def forward(self, a):
        u, s, vh = self.xp.linalg.svd(a, full_matrices=False)
        self.save(u, s, vh)
        return u, s, vh

    def backward(self, du, ds, dvh):
        u, s, vh = self.saved
        xp = self.xp
        k = s.shape[-1]
        off = ~backend.get_array_module(getattr(s, "array", s)).eye(k, dtype=bool)  # a constant mask
        v, dv = _swap(vh), _swap(dvh)
        u_t, dv_t = _swap(u), _swap(dv)
        s2 = s * s
        f = xp.where(off, 1 / xp.where(off, s2[..., None, :] - s2[..., :, None], 1), 0)
        inner = (f * (u_t @ du - _swap(du) @ u)) * s[..., None, :] + s[..., :, None] * (f * (vh @ dv - dv_t @ v))
        inner = inner + xp.where(off, 0, ds[..., None, :])
        da = u @ inner @ vh
        if u.shape[-2] > k:  # tall: U does not span the column space of dU
            da = da + ((du - u @ (u_t @ du)) / s[..., None, :]) @ vh
        if vh.shape[-1] > k:  # wide: V does not span the row space of dV^T
            da = da + u @ ((dv_t - (dv_t @ v) @ vh) / s[..., :, None])
        return da
