"""Margin losses on +-1 targets: cosine embedding (similar / dissimilar pairs), hinge embedding (a distance that
must be small for similar and larger than a margin for dissimilar pairs) and margin ranking (which of two scores
should be larger). They are compositions of differentiable ops, so their gradients come from the ops' own rules."""

from ...ops import clamp, where
from .losses import apply_reduction, as_target, check_input, check_same_shape, resolve_reduction

COSINE_EPS = 1e-12  # added to each squared norm, as PyTorch does, so a zero vector gives cos = 0, not NaN


def _check_signs(op, target):
    """Raise ValueError unless every target value is 1 or -1 (the losses are defined only for those)."""
    t = target.array
    bad = (t != 1) & (t != -1)
    if bad.any():
        value = t[bad].reshape(-1)[0].item()
        raise ValueError(f"{op}: target values must be 1 or -1, got {value}")


def _margin(op, margin):
    try:
        return float(margin)
    except (TypeError, ValueError):
        raise TypeError(f"{op}: margin must be a real number, got {type(margin).__name__}") from None


def _pair_door(op, input1, input2, margin, size_average, reduce, reduction):
    """What the losses of a pair of inputs check first: (reduction, margin) resolved, input1 and input2 tensors of
    one shape."""
    reduction = resolve_reduction(op, reduction, size_average, reduce)
    margin = _margin(op, margin)
    check_input(op, input1, "input1")
    check_input(op, input2, "input2")
    check_same_shape(op, input1, input2, "input1", "input2")
    return reduction, margin


def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    """l = 1 - cos(x1, x2) for target 1 (pull together), max(0, cos(x1, x2) - margin) for target -1 (push apart).

    input1, input2: (N, D) or (D,); target: (N,) or () of +-1. cos = x1.x2 / sqrt((|x1|^2 + eps)(|x2|^2 + eps)).
    Output: (N,) or () with reduction='none', else a scalar.
    """
    op = "cosine_embedding_loss"
    reduction, margin = _pair_door(op, input1, input2, margin, size_average, reduce, reduction)
    if input1.ndim not in (1, 2):
        raise ValueError(f"{op}: inputs must have shape (N, D) or (D,), got {tuple(input1.shape)}")
    target = as_target(op, target, input1)
    expected = tuple(input1.shape[:1]) if input1.ndim == 2 else ()
    if tuple(target.shape) != expected:
        raise ValueError(
            f"{op}: expected target of shape {expected} for inputs of shape {tuple(input1.shape)}, "
            f"got {tuple(target.shape)}"
        )
    _check_signs(op, target)
    dim = input1.ndim - 1
    dot = (input1 * input2).sum(dim)
    norms = ((input1 * input1).sum(dim) + COSINE_EPS) * ((input2 * input2).sum(dim) + COSINE_EPS)
    cos = dot / norms.sqrt()
    loss = where(target == 1, 1 - cos, clamp(cos - margin, min=0.0))
    return apply_reduction(loss, reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    """l = x for target 1, max(0, margin - x) for target -1, where x is typically a distance between a pair.

    input, target (+-1): the same shape (any). Output: that shape with reduction='none', else a scalar.
    """
    op = "hinge_embedding_loss"
    reduction = resolve_reduction(op, reduction, size_average, reduce)
    margin = _margin(op, margin)
    check_input(op, input)
    target = as_target(op, target, input)
    check_same_shape(op, input, target)
    _check_signs(op, target)
    loss = where(target == 1, input, clamp(margin - input, min=0.0))
    return apply_reduction(loss, reduction)


def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    """l = max(0, -y (x1 - x2) + margin): y = 1 asks for x1 > x2 + margin, y = -1 for x2 > x1 + margin.

    input1, input2, target: the same shape ((N,) or ()); target usually +-1 (other values scale the term, as in
    PyTorch). Output: that shape with reduction='none', else a scalar.
    """
    op = "margin_ranking_loss"
    reduction, margin = _pair_door(op, input1, input2, margin, size_average, reduce, reduction)
    target = as_target(op, target, input1)
    check_same_shape(op, input1, target, "input1", "target")
    loss = clamp(-target * (input1 - input2) + margin, min=0.0)
    return apply_reduction(loss, reduction)

