"""``ganglion.linalg``: the ``torch.linalg`` names, each the op in ``ganglion.ops.linalg``.

Matrix functions take batches (..., m, n) and raise RuntimeError naming the function and the shape for inputs they
cannot take; a singular matrix raises ``LinAlgError`` (a RuntimeError subclass, as ``torch.linalg.LinAlgError``).
"""

from .ops.linalg import (
    LinAlgError, det, inv, linalg_norm as norm, matmul, matrix_norm, slogdet, solve, svdvals, vector_norm,
)

__all__ = [
    "LinAlgError", "det", "inv", "matmul", "matrix_norm", "norm", "slogdet", "solve", "svdvals", "vector_norm",
]
