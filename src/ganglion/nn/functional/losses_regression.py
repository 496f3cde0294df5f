"""Regression losses on the difference d = input - target: MSE (L2), L1 (MAE), smooth L1 and Huber.

Each is one element-wise op (value and slope of d together) followed by the reduction. ``input`` and ``target`` must
have the same shape (any shape); with reduction='none' the loss has that shape too, else it is a 0-d tensor.
Both ``input`` and a floating ``target`` receive gradients (d loss / d target = -d loss / d input).
"""

import numbers

from ...autograd.function import Function
from .losses import (
    apply_reduction, as_target, check_input, check_same_shape, reduce_backward, reduce_forward, resolve_reduction,
)


class _OfDifference(Function):
    """A loss l(d) of d = x - y, element by element, then reduced (one op: no separate reduction node);
    dl/dx = l'(d), dl/dy = -l'(d), times dy (divided by the element count for 'mean').

    ``slope_graph`` is l' again on the Tensor d = x - y, for double backward."""

    def forward(self, x, y, reduction, *options):
        d = x - y
        loss = self.value(d, *options)
        self.save(d, reduction, options)
        return reduce_forward(loss, reduction)

    def backward(self, dy):
        d, reduction, options = self.saved
        g = self.slope(d, *options)  # a fresh array: scaled in place
        g *= reduce_backward(dy, reduction, d.shape)
        needs = self.needs_input_grad
        return (g if needs[0] else None), (-g if needs[1] else None)

    def backward_graph(self, dy):
        _, reduction, options = self.saved
        x, y = self.inputs[:2]
        g = self.slope_graph(x - y, *options) * reduce_backward(dy, reduction, x.shape)
        needs = self.needs_input_grad
        return (g if needs[0] else None), (-g if needs[1] else None)


class SquaredError(_OfDifference):
    """l = d^2;  l' = 2 d."""

    def value(self, d):
        return d * d

    def slope(self, d):
        return 2 * d

    def slope_graph(self, d):
        return 2 * d


class AbsoluteError(_OfDifference):
    """l = |d|;  l' = sign(d) (0 at d = 0, as PyTorch)."""

    def value(self, d):
        return self.xp.abs(d)

    def slope(self, d):
        return self.xp.sign(d)

    def slope_graph(self, d):
        return d.sign()


class SmoothL1(_OfDifference):
    """l = 0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (plain |d| for beta = 0);
    l' = d / beta inside, sign(d) outside: clip(d, -beta, beta) / beta."""

    def value(self, d, beta):
        xp = self.xp
        a = xp.abs(d)
        if beta == 0:
            return a
        q = xp.clip(a, 0, beta)  # branch-free: q (|d| - q / 2) is d^2 / 2 inside and beta (|d| - beta / 2) outside
        a -= 0.5 * q
        a *= q
        a /= beta
        return a

    def slope(self, d, beta):
        xp = self.xp
        if beta == 0:
            return xp.sign(d)
        g = xp.clip(d, -beta, beta)
        g /= beta
        return g

    def slope_graph(self, d, beta):
        return d.sign() if beta == 0 else d.clamp(-beta, beta) / beta


class Huber(_OfDifference):
    """l = 0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta);  l' = clip(d, -delta, delta)."""

    def value(self, d, delta):
        xp = self.xp
        a = xp.abs(d)
        q = xp.clip(a, 0, delta)  # as in SmoothL1: q (|d| - q / 2) is both branches at once
        a -= 0.5 * q
        a *= q
        return a

    def slope(self, d, delta):
        return self.xp.clip(d, -delta, delta)

    def slope_graph(self, d, delta):
        return d.clamp(-delta, delta)


def _operands(op, input, target, weight=None):
    check_input(op, input)
    target = as_target(op, target, input)
    check_same_shape(op, input, target)
    if weight is not None:
        weight = as_target(op, weight, input, "weight")
        check_same_shape(op, input, weight, b_name="weight")
    return target, weight


def _weighted(loss, weight, reduction, mean_over_weights):
    """PyTorch's element weights: loss * w, and 'mean' is sum(loss * w) / sum(w) (or the plain mean of loss * w)."""
    loss = loss * weight
    if reduction == "mean" and mean_over_weights:
        return loss.sum() / weight.sum()
    return apply_reduction(loss, reduction)


def check_positive(op, name, value, allow_zero):
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{op}: {name} must be a real number, got {type(value).__name__}")
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{op}: {name} must be {bound}, got {value}")
    return float(value)


def _elementwise_loss(op, loss, input, target, size_average, reduce, reduction, weight):
    """``loss`` (SquaredError or AbsoluteError) of input and target, reduced; with an element ``weight``, 'mean' is
    sum(w l) / sum(w)."""
    reduction = resolve_reduction(op, reduction, size_average, reduce)
    target, weight = _operands(op, input, target, weight)
    if weight is not None:
        return _weighted(loss.apply(input, target, "none"), weight, reduction, mean_over_weights=True)
    return loss.apply(input, target, reduction)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error (L2 loss): l = (input - target)^2, reduced.

    input, target, optional element ``weight``: the same shape. With a weight, 'mean' is sum(w l) / sum(w).
    """
    return _elementwise_loss("mse_loss", SquaredError, input, target, size_average, reduce, reduction, weight)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error (L1 loss): l = |input - target|, reduced.

    input, target, optional element ``weight``: the same shape. With a weight, 'mean' is sum(w l) / sum(w).
    """
    return _elementwise_loss("l1_loss", AbsoluteError, input, target, size_average, reduce, reduction, weight)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """Smooth L1: l = 0.5 d^2 / beta if |d| < beta else |d| - 0.5 beta, with d = input - target (beta = 0: L1).

    input, target: the same shape. beta >= 0.
    """
    reduction = resolve_reduction("smooth_l1_loss", reduction, size_average, reduce)
    beta = check_positive("smooth_l1_loss", "beta", beta, allow_zero=True)
    target, _ = _operands("smooth_l1_loss", input, target)
    return SmoothL1.apply(input, target, reduction, beta)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """Huber loss: l = 0.5 d^2 if |d| < delta else delta (|d| - 0.5 delta), with d = input - target.

    Equals delta * smooth_l1_loss(beta=delta). input, target, optional element ``weight``: the same shape; delta > 0.
    With a weight, 'mean' is the plain mean of w l (PyTorch's choice for this loss, unlike MSE and L1).
    """
    reduction = resolve_reduction("huber_loss", reduction)
    delta = check_positive("huber_loss", "delta", delta, allow_zero=False)
    target, weight = _operands("huber_loss", input, target, weight)
    if weight is not None:
        return _weighted(Huber.apply(input, target, "none", delta), weight, reduction, mean_over_weights=False)
    return Huber.apply(input, target, reduction, delta)
