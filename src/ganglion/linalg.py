"""``ganglion.linalg``: the ``torch.linalg`` names, each the op in ``ganglion.ops.linalg`` or ``ganglion.ops.linalg_matrix``.

Matrix functions take batches (..., m, n) and raise RuntimeError naming the function and the shape for inputs they
cannot take; a singular matrix raises ``LinAlgError`` (a RuntimeError subclass, as ``torch.linalg.LinAlgError``).
"""

from .ops.linalg import linalg_norm as norm, matmul, matrix_norm, vector_norm
from .ops.linalg_matrix import LinAlgError, det, inv, slogdet, solve, svdvals

__all__ = [
    "LinAlgError", "det", "inv", "matmul", "matrix_norm", "norm", "slogdet", "solve", "svdvals", "vector_norm",
]
