"""Losses between distributions: binary cross-entropy on probabilities and on logits (multi-label
classification: one independent sigmoid per output), and the Kullback-Leibler divergence.

Each ``backward_graph`` writes the backward's formula with differentiable ops on the input Tensors, so the
gradients that ``create_graph=True`` builds can be differentiated again."""

import warnings

from ... import backend
from ...autograd.function import Function
from ...ops import maximum, where
from ...tensor import Tensor
from .activations_smooth import softplus_graph
from .losses import (
    apply_reduction, as_target, check_broadcasts_to, check_input, check_same_shape, reduce_backward, reduce_forward,
    resolve_reduction,
)

LOG_FLOOR = -100.0  # PyTorch clamps BCE's logarithms here, so p = 0 or 1 gives a large finite loss, never inf


class BinaryCrossEntropy(Function):
    """l = -[y log p + (1 - y) log(1 - p)], both logs clamped at -100, then reduced.

    dl/dp = (p - y) / max(p (1 - p), 1e-12)  (PyTorch's gradient: finite at p = 0 and 1);
    dl/dy = log(1 - p) - log p, with the same clamped logs as the value (so it is finite everywhere).
    """

    def forward(self, p, y, reduction):
        xp = self.xp
        tiny = xp.finfo(p.dtype).smallest_subnormal  # log(0) would warn; log(tiny) < -100 is clamped all the same
        log_p = xp.maximum(xp.log(xp.maximum(p, tiny)), LOG_FLOOR)
        log_q = xp.maximum(xp.log(xp.maximum(1 - p, tiny)), LOG_FLOOR)
        self.save(p, y, log_p, log_q, reduction)
        return reduce_forward(-(y * log_p + (1 - y) * log_q), reduction)

    def backward(self, dy):
        p, y, log_p, log_q, reduction = self.saved
        xp = self.xp
        scale = reduce_backward(dy, reduction, p.shape)
        needs = self.needs_input_grad
        grad_p = grad_y = None
        if needs[0]:
            grad_p = (p - y) / xp.maximum(p * (1 - p), 1e-12)
            grad_p *= scale
        if needs[1]:
            grad_y = log_q - log_p
            grad_y *= scale
        return grad_p, grad_y

    def backward_graph(self, dy):
        p, y = self.inputs[:2]
        scale = reduce_backward(dy, self.saved[4], p.shape)
        needs = self.needs_input_grad
        grad_p = grad_y = None
        if needs[0]:
            grad_p = (p - y) / maximum(p * (1 - p), 1e-12) * scale
        if needs[1]:
            tiny = backend.np.finfo(p.array.dtype).smallest_subnormal
            log_p = maximum(maximum(p, tiny).log(), LOG_FLOOR)
            log_q = maximum(maximum(1 - p, tiny).log(), LOG_FLOOR)
            grad_y = (log_q - log_p) * scale
        return grad_p, grad_y


class BinaryCrossEntropyWithLogits(Function):
    """l = (1 - y) x + (1 + (w - 1) y) softplus(-x), i.e. -[w y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))],
    with w the positive-class weight (1 when absent), then reduced. softplus(-x) = max(-x, 0) + log1p(e^-|x|) never
    overflows, and sigmoid(x) = 1 / (1 + e^-x) only overflows to inf where the sigmoid rounds to 0 anyway.

    dl/dx = (1 + (w - 1) y) sigmoid(x) - w y;  dl/dy = -x + (w - 1) softplus(-x);  dl/dw = y softplus(-x).
    """

    def forward(self, x, y, pos_weight, reduction):
        xp = self.xp
        softplus_neg = xp.log1p(xp.exp(-xp.abs(x)))
        softplus_neg += xp.maximum(-x, 0)
        loss = (1 - y) * x
        loss += softplus_neg if pos_weight is None else (1 + (pos_weight - 1) * y) * softplus_neg
        self.save(x, y, pos_weight, softplus_neg, reduction)
        return reduce_forward(loss, reduction)

    def backward(self, dy):
        x, y, w, softplus_neg, reduction = self.saved
        xp = self.xp
        scale = reduce_backward(dy, reduction, x.shape)
        needs = self.needs_input_grad
        grad_x = grad_y = grad_w = None
        if needs[0]:
            with backend.errstate(over="ignore"):  # e^-x = inf for x << 0 gives sigmoid 0, which is right
                s = xp.exp(-x)
            s += 1
            s = xp.reciprocal(s, out=s)
            grad_x = s - y if w is None else (1 + (w - 1) * y) * s - w * y
            grad_x *= scale
        if needs[1]:
            grad_y = -x if w is None else (w - 1) * softplus_neg - x
            grad_y = grad_y * scale
        if needs[2]:
            grad_w = y * softplus_neg
            grad_w *= scale
        return grad_x, grad_y, grad_w

    def backward_graph(self, dy):
        x, y, w = self.inputs[:3]
        scale = reduce_backward(dy, self.saved[4], x.shape)
        softplus_neg = softplus_graph(-x)
        needs = self.needs_input_grad
        grad_x = grad_y = grad_w = None
        if needs[0]:
            s = x.sigmoid()
            grad_x = (s - y if w is None else (1 + (w - 1) * y) * s - w * y) * scale
        if needs[1]:
            grad_y = (-x if w is None else (w - 1) * softplus_neg - x) * scale
        if needs[2]:
            grad_w = y * softplus_neg * scale
        return grad_x, grad_y, grad_w


class KLDivergence(Function):
    """Point-wise KL term with ``input`` = log q:  l = t (log t - input), 0 where t = 0;
    or, with log_target (target = log t):  l = e^target (target - input); then reduced.

    dl/dinput = -t;  dl/dt = log t + 1 - input, taking log t as 0 at t = 0 (PyTorch gives NaN there)
    (log_target: dl/dinput = -e^target, dl/dtarget = e^target (target - input + 1)).
    """

    def forward(self, x, t, log_target, reduction):
        xp = self.xp
        if log_target:
            aux = xp.exp(t)
            loss = aux * (t - x)
        else:
            aux = xp.log(xp.where(t == 0, 1, t))  # so that t log t is 0 at t = 0 (and NaN for t < 0, as PyTorch)
            loss = t * aux - t * x
        self.save(x, t, aux, log_target, reduction)
        return reduce_forward(loss, reduction)

    def backward(self, dy):
        x, t, aux, log_target, reduction = self.saved
        scale = reduce_backward(dy, reduction, x.shape)
        needs = self.needs_input_grad
        grad_x = grad_t = None
        if needs[0]:
            grad_x = -(aux if log_target else t) * scale
        if needs[1]:
            grad_t = aux * (t - x + 1) if log_target else aux + 1 - x
            grad_t *= scale
        return grad_x, grad_t

    def backward_graph(self, dy):
        _, t_array, _, log_target, reduction = self.saved
        x, t = self.inputs[:2]
        scale = reduce_backward(dy, reduction, x.shape)
        aux = t.exp() if log_target else where(t_array == 0, 1.0, t).log()
        needs = self.needs_input_grad
        grad_x = grad_t = None
        if needs[0]:
            grad_x = -(aux if log_target else t) * scale
        if needs[1]:
            grad_t = (aux * (t - x + 1) if log_target else aux + 1 - x) * scale
        return grad_x, grad_t


def _weighted(op, loss, weight, input):
    if weight is None:
        return loss
    if not isinstance(weight, Tensor):
        weight = as_target(op, weight, input, "weight")
    check_broadcasts_to(op, weight, input.shape, "weight")
    return loss * weight


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Binary cross-entropy between probabilities ``input`` and ``target``: -w [y log p + (1 - y) log(1 - p)].

    input p (values in [0, 1], e.g. after a sigmoid) and target y: the same shape; ``weight`` broadcasts to it.
    Logs are clamped at -100, so a confident mistake costs 100, never inf. Prefer
    ``binary_cross_entropy_with_logits`` on raw scores: it is exact where sigmoid(x) rounds to 0 or 1.
    """
    op = "binary_cross_entropy"
    reduction = resolve_reduction(op, reduction, size_average, reduce)
    check_input(op, input)
    target = as_target(op, target, input)
    check_same_shape(op, input, target)
    p = input.array
    outside = ~((p >= 0) & (p <= 1))  # written so that NaN counts as outside
    if outside.any():
        bad = float(p[outside].reshape(-1)[0])
        raise ValueError(
            f"{op}: input must hold probabilities in [0, 1], got {bad}; for raw scores (logits) use "
            "binary_cross_entropy_with_logits"
        )
    if weight is None:
        return BinaryCrossEntropy.apply(input, target, reduction)
    return apply_reduction(_weighted(op, BinaryCrossEntropy.apply(input, target, "none"), weight, input), reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None):
    """Sigmoid + binary cross-entropy in one stable op: -w [pw y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))].

    input x (logits) and target y: the same shape, e.g. (N, C) for C independent labels. ``weight`` (per element)
    and ``pos_weight`` (per class, e.g. (C,) weighting the positives of each class) broadcast to the input's shape.
    Finite and exact for |x| up to the float range (1e4 included).
    """
    op = "binary_cross_entropy_with_logits"
    reduction = resolve_reduction(op, reduction, size_average, reduce)
    check_input(op, input)
    target = as_target(op, target, input)
    check_same_shape(op, input, target)
    if pos_weight is not None:
        pos_weight = as_target(op, pos_weight, input, "pos_weight")
        check_broadcasts_to(op, pos_weight, input.shape, "pos_weight")
    if weight is None:
        return BinaryCrossEntropyWithLogits.apply(input, target, pos_weight, reduction)
    loss = BinaryCrossEntropyWithLogits.apply(input, target, pos_weight, "none")
    return apply_reduction(_weighted(op, loss, weight, input), reduction)


KL_REDUCTIONS = ("none", "batchmean", "sum", "mean")


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """Kullback-Leibler divergence KL(t || q) = sum t (log t - log q), given ``input`` = log q (log-probabilities,
    e.g. from log_softmax) and ``target`` = t (probabilities, or log t with ``log_target=True``).

    input, target: the same shape, e.g. (N, C). reduction: 'batchmean' (the sum divided by N: the KL divergence
    per sample, as in the math), 'sum', 'mean' (divides by every element, N C: not a true KL) or 'none'.
    """
    op = "kl_div"
    reduction = resolve_reduction(op, reduction, size_average, reduce, accepted=KL_REDUCTIONS)
    if reduction == "mean":
        warnings.warn(
            "kl_div: reduction='mean' divides the summed divergence by the number of elements, not by the batch "
            "size; reduction='batchmean' gives the KL divergence per sample",
            UserWarning,
            stacklevel=2,
        )
    check_input(op, input)
    target = as_target(op, target, input)
    check_same_shape(op, input, target)
    return KLDivergence.apply(input, target, bool(log_target), reduction)
