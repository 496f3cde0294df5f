"""Vector norms and similarities along an axis: ``normalize`` and ``cosine_similarity`` (PyTorch's names and
arguments). Composed of ops, so they have every derivative (double backward included).

For p = 2 the norm is clamped before its square root, sqrt(max(sum x^2, eps^2)) = max(||x||, eps): the same value,
and a zero vector then has a finite gradient (the square root's slope at 0 is infinite).
"""

from ... import backend
from ...tensor import Tensor


def _check(name, x):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: input must be a ganglion Tensor, got {type(x).__name__}")
    if x.dtype.kind != "f":
        raise TypeError(f"{name}: input must be a floating point tensor, got {x.dtype}")


def _check_dim(name, x, dim):
    if isinstance(dim, bool) or not isinstance(dim, int) or not -max(x.ndim, 1) <= dim < max(x.ndim, 1):
        raise ValueError(f"{name}: dim must be an int in [{-max(x.ndim, 1)}, {max(x.ndim, 1) - 1}] for input of shape "
                         f"{tuple(x.shape)}, got {dim!r}")


def _clamped_norm(x, p, dim, eps):
    """max(||x||_p, eps) along ``dim``, keeping the axis."""
    if p == 2:
        return (x * x).sum(dim=dim, keepdim=True).clamp(min=eps * eps).sqrt()
    if p == 1:
        return x.abs().sum(dim=dim, keepdim=True).clamp(min=eps)
    return (x.abs() ** p).sum(dim=dim, keepdim=True).clamp(min=eps ** p) ** (1.0 / p)


def normalize(input, p=2.0, dim=1, eps=1e-12):
    """x / max(||x||_p, eps) along ``dim``: unit vectors (zero vectors stay zero). Any shape -> the same shape.

    p: a positive number (1 and 2 are the common ones)."""
    _check("normalize", input)
    _check_dim("normalize", input, dim)
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not p > 0:
        raise ValueError(f"normalize: p must be a positive number, got {p!r}")
    if input.ndim == 0:
        raise ValueError("normalize: input must have at least one dimension, got a 0-d tensor")
    return input / _clamped_norm(input, float(p), dim, eps)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """cos(x1, x2) = sum(x1 / max(||x1||, eps) * x2 / max(||x2||, eps)) along ``dim``. x1, x2 broadcast to one
    shape (*); the output has that shape without ``dim``."""
    _check("cosine_similarity", x1)
    _check("cosine_similarity", x2)
    try:
        shape = backend.np.broadcast_shapes(tuple(x1.shape), tuple(x2.shape))
    except ValueError:
        raise ValueError(f"cosine_similarity: x1 {tuple(x1.shape)} and x2 {tuple(x2.shape)} do not broadcast to one "
                         "shape") from None
    if not shape:
        raise ValueError("cosine_similarity: inputs must have at least one dimension, got 0-d tensors")
    x1, x2 = (x if tuple(x.shape) == shape else x.expand(*shape) for x in (x1, x2))
    _check_dim("cosine_similarity", x1, dim)
    return (normalize(x1, 2.0, dim, eps) * normalize(x2, 2.0, dim, eps)).sum(dim=dim)
