"""Loss functions: the helpers every loss shares (reduction, shape checks) and the classification losses on class
indices. ``cross_entropy`` is one fused op: log-softmax and the negative log-likelihood together, so its gradient is
the textbook softmax - target, and it stays finite for logits of any size.

The other losses live next door: ``losses_regression`` (MSE, L1, smooth L1, Huber), ``losses_probabilistic`` (binary
cross-entropy on probabilities and on logits, KL divergence) and ``losses_margin`` (cosine embedding, hinge
embedding, margin ranking).
"""

import warnings

import numpy as np

from ... import backend
from ...kernels import losses as loss_kernels
from ...autograd.function import Function
from ...tensor import Tensor

REDUCTIONS = ("none", "mean", "sum")


def check_reduction(reduction, op, accepted=REDUCTIONS):
    """Raise ValueError unless ``reduction`` is one of ``accepted`` (the message lists them)."""
    if not isinstance(reduction, str) or reduction not in accepted:
        raise ValueError(f"{op}: unknown reduction {reduction!r}; accepted values are {', '.join(accepted)}")


def resolve_reduction(op, reduction, size_average=None, reduce=None, accepted=REDUCTIONS):
    """The reduction to apply. PyTorch's deprecated ``size_average``/``reduce`` flags, when either is given, decide
    it as they do there (reduce=False: 'none'; else size_average=False: 'sum'; else 'mean'), with a warning."""
    if size_average is not None or reduce is not None:
        keep_dims = reduce is not None and not reduce
        average = size_average is None or bool(size_average)
        legacy = "none" if keep_dims else ("mean" if average else "sum")
        warnings.warn(
            f"{op}: size_average and reduce are deprecated; use reduction={legacy!r} instead", UserWarning, stacklevel=3
        )
        reduction = legacy
    check_reduction(reduction, op, accepted)
    return reduction


def apply_reduction(loss, reduction):
    """The element-wise ``loss`` as it is ('none'), summed ('sum') or averaged over all elements ('mean')."""
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()


def reduce_forward(loss, reduction):
    """Inside an op's forward: the element-wise ``loss`` array as it is ('none'), summed ('sum'), averaged over all
    elements ('mean') or summed and divided by the batch size, the first dimension ('batchmean')."""
    if reduction == "none":
        return loss
    if reduction == "mean":
        return loss.mean()
    total = loss.sum()
    return total / loss.shape[0] if reduction == "batchmean" and loss.ndim else total


def reduce_backward(dy, reduction, shape):
    """Inside an op's backward: what multiplies the element-wise slope, dy divided by the count the forward's
    reduction divided by (1 for 'none' and 'sum')."""
    if reduction == "mean":
        count = 1
        for n in shape:
            count *= n
        return dy / count
    if reduction == "batchmean" and shape:
        return dy / shape[0]
    return dy


def check_input(op, input, name="input"):
    """Raise TypeError unless ``input`` is a floating-point Tensor."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(input).__name__}")
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: {name} must be a floating-point tensor, got {input.dtype}")


def as_target(op, target, like, name="target"):
    """``target`` as a Tensor on ``like``'s device; non-floating values (ints, bools, lists) take ``like``'s dtype,
    as PyTorch's type promotion would give."""
    if not isinstance(target, Tensor):
        from ...factories import tensor

        target = tensor(target, device=like.device)
    if target.dtype.kind != "f":
        target = target.type(like.dtype)
    return target


def check_same_shape(op, a, b, a_name="input", b_name="target"):
    """Raise ValueError unless ``a`` and ``b`` have the same shape: a loss never silently broadcasts its operands."""
    if tuple(a.shape) != tuple(b.shape):
        raise ValueError(
            f"{op}: {b_name} shape {tuple(b.shape)} must equal {a_name} shape {tuple(a.shape)} "
            "(losses do not broadcast their operands)"
        )


def check_broadcasts_to(op, value, shape, name):
    """Raise ValueError unless ``value`` (e.g. a weight) broadcasts to ``shape`` without enlarging it."""
    small, shape = tuple(value.shape), tuple(shape)
    ok = len(small) <= len(shape) and all(s in (1, t) for s, t in zip(reversed(small), reversed(shape)))
    if not ok:
        raise ValueError(f"{op}: {name} of shape {small} does not broadcast to the input shape {shape}")


class SoftmaxCrossEntropy(Function):
    """loss_i = -sum_c a_ic log softmax(z_i)_c, where a_i is the (weighted, smoothed) target distribution of sample i.

    z: (M, C) logits. target: (M,) class indices or (M, C) probabilities.
    d loss_i / d z_i = softmax(z_i) * sum_c a_ic - a_i   (= softmax - onehot in the plain case).
    Probability targets p are differentiable too: d loss_i / d p_ic = -(1 - label_smoothing) w_c log softmax(z_i)_c.
    """

    def forward(self, z, target, weight, ignore_index, label_smoothing, reduction):
        if weight is None and label_smoothing == 0 and loss_kernels.covers(z, target):
            return self._forward_compiled(z, target, ignore_index, reduction)
        xp = self.xp
        m, c = z.shape
        shifted = z - z.max(axis=1, keepdims=True)
        logp = shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))
        rows = xp.arange(m)
        coef = None  # a: (M, C), built only when weights, smoothing or probabilities ask for it
        if target.dtype.kind in "iu":
            check_labels("cross_entropy", target, c, ignore_index)
            valid = target != ignore_index
            all_valid = bool(valid.all())
            safe = target if all_valid else xp.where(valid, target, 0)
            w_t = (weight[safe] if weight is not None else xp.ones(m, dtype=z.dtype)) * valid
            per = -logp[rows, safe] * w_t
            denom = w_t.sum()
            if label_smoothing > 0:
                w_c = weight if weight is not None else xp.ones(c, dtype=z.dtype)
                smooth = -(logp * w_c).sum(axis=1) * valid
                per = (1 - label_smoothing) * per + (label_smoothing / c) * smooth
            if weight is not None or label_smoothing > 0 or not all_valid:
                coef = xp.zeros_like(z)
                coef[rows, safe] = (1 - label_smoothing) * w_t
                if label_smoothing > 0:
                    coef += (label_smoothing / c) * w_c[None, :] * valid[:, None]
        else:
            probs = target
            if label_smoothing > 0:
                probs = probs * (1 - label_smoothing) + label_smoothing / c
            coef = probs * weight[None, :] if weight is not None else probs
            per = -(logp * coef).sum(axis=1)
            denom = m
            safe = None
        self.save(logp, coef, safe, reduction, denom, weight, label_smoothing)
        if reduction == "none":
            return per
        total = per.sum()
        return total if reduction == "sum" else total / denom

    def _forward_compiled(self, z, target, ignore_index, reduction):
        """The plain case (class indices, no weights, no smoothing) in one compiled pass (``kernels.losses``)."""
        logp, per, valid, bad = loss_kernels.log_softmax_at_targets(z, target, ignore_index)
        if bad >= 0:
            check_labels("cross_entropy", target, z.shape[1], ignore_index)
        coef, safe = None, target
        if valid < len(target):  # ignored rows: NumPy's target distribution, as the other path builds it
            kept = target != ignore_index
            safe = np.where(kept, target, 0)
            coef = np.zeros_like(z)
            coef[np.arange(len(target)), safe] = kept
        denom = z.dtype.type(valid)
        self.save(logp, coef, safe, reduction, denom, None, 0.0)
        if reduction == "none":
            return per
        total = per.sum()
        return total if reduction == "sum" else total / denom

    def backward(self, dy):
        logp, coef, safe, reduction, denom, weight, label_smoothing = self.saved
        xp = self.xp
        if coef is None and not self.needs_input_grad[1] and loss_kernels.covers(logp, safe):
            scale = dy if reduction != "mean" else dy / denom
            return loss_kernels.softmax_minus_onehot(logp, safe, scale), None
        p = xp.exp(logp)
        if coef is None:  # plain class indices: softmax - onehot
            grad = p
            grad[xp.arange(p.shape[0]), safe] -= 1
        else:
            grad = p * coef.sum(axis=1, keepdims=True) - coef
        if reduction == "none":
            scale = dy[:, None]
        else:
            scale = dy / denom if reduction == "mean" else dy
        grad_target = None
        if self.needs_input_grad[1]:
            grad_target = -(1 - label_smoothing) * logp
            if weight is not None:
                grad_target *= weight[None, :]
            grad_target = grad_target * scale
        return grad * scale, grad_target

    def forward_graph(self, z, target, weight, ignore_index, label_smoothing, reduction):
        """The loss again from ``log_softmax(z)`` (double backward): the same target distribution a_i, a constant
        for class indices, a function of the target Tensor for probabilities."""
        _, coef, safe, _, denom, _, _ = self.saved
        logp = z.log_softmax(1)
        if safe is None:  # probabilities: a = p (1 - ls) + ls / C, weighted
            coef = target * (1 - label_smoothing) + label_smoothing / z.shape[1] if label_smoothing > 0 else target
            if weight is not None:
                coef = coef * weight[None, :]
        per = -logp[self.xp.arange(z.shape[0]), safe] if coef is None else -(logp * coef).sum(axis=1)
        if reduction == "none":
            return per
        total = per.sum()
        return total if reduction == "sum" else total / denom


def _float_scores(op, input):
    """The input (logits or log-probabilities) must be floating point; PyTorch raises NotImplementedError for
    integers. (The target may be integer class indices.)"""
    if isinstance(input, Tensor) and input.dtype.kind not in "fc":
        raise NotImplementedError(f"{op}: not implemented for an input of dtype {input.dtype}: expected floating-point "
                                  f"scores (logits or log-probabilities); convert the input with .float() (the "
                                  f"target may be integers)")


def check_labels(op, t, c, ignore_index):
    """Raise ValueError naming the first class index in ``t`` outside [0, c) that is not ``ignore_index``."""
    if t.size:
        bad = (t < 0) | (t >= c)
        if ignore_index is not None:
            bad &= t != ignore_index
        if bad.any():
            value = int(t[bad].reshape(-1)[0])
            raise ValueError(f"{op}: target {value} is out of bounds for {c} classes (valid: 0..{c - 1})")


def _as_rows(op, input, target, weight, ignore_index, allow_probabilities, check_bounds=True):
    """Check a classification loss's arguments and flatten them to rows: input (M, C), target (M,) or (M, C).

    input: (N, C), (C,) or (N, C, d1, ...). target: class indices of shape (N,) / () / (N, d1, ...) with values in
    [0, C) or ``ignore_index``, or (when allowed) class probabilities with the input's shape.
    Returns (rows, target_rows, weight array or None, shape of the unreduced loss, whether targets are probabilities).
    ``check_bounds=False``: the class indices are checked later, by the op (``SoftmaxCrossEntropy``).
    """
    if not isinstance(target, Tensor):
        from ...factories import tensor

        target = tensor(target)
    if input.ndim == 0:
        raise ValueError(f"{op}: input must have a class dimension, got a 0-d tensor")
    in_shape = input.array.shape  # plain tuples here: this runs once per step
    c = in_shape[1] if len(in_shape) > 1 else in_shape[0]
    probabilities = target.dtype.kind == "f"
    if probabilities:
        if not allow_probabilities:
            raise TypeError(f"{op}: target must be class indices (integers), got {target.dtype}")
        if target.array.shape != in_shape:
            raise ValueError(
                f"{op}: probability targets must have the input's shape {tuple(input.shape)}, got {tuple(target.shape)}"
            )
    else:
        if target.dtype.kind not in "iu":
            raise TypeError(f"{op}: target must be class indices (integers) or probabilities, got {target.dtype}")
        expected = (in_shape[0],) + in_shape[2:] if len(in_shape) > 1 else ()
        if target.array.shape != expected:
            raise ValueError(
                f"{op}: expected target of shape {expected} for input of shape {tuple(input.shape)}, "
                f"got {tuple(target.shape)}"
            )
        if check_bounds:
            check_labels(op, target.array, c, ignore_index)
    if weight is not None and tuple(weight.shape) != (c,):
        raise ValueError(f"{op}: weight must have shape ({c},), one per class, got {tuple(weight.shape)}")
    w = None if weight is None else weight.array.astype(input.dtype)

    out_shape = None
    rows = input
    if input.ndim == 1:
        rows = input.reshape(1, c)
        target = target.reshape(1, c) if probabilities else target.reshape(1)
        out_shape = ()
    elif input.ndim > 2:
        rows = _channels_last(input).reshape(-1, c)
        target = _channels_last(target).reshape(-1, c) if probabilities else target.reshape(-1)
        out_shape = (input.shape[0],) + tuple(input.shape[2:])
    return rows, target, w, out_shape, probabilities


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """Cross-entropy between softmax(input) and ``target``, from raw logits (PyTorch's ``F.cross_entropy``).

    input: (N, C), (C,) or (N, C, d1, ...). target: class indices of shape (N,) / () / (N, d1, ...) with values in
    [0, C) or ``ignore_index``, or class probabilities with the input's shape.
    """
    reduction = resolve_reduction("cross_entropy", reduction, size_average, reduce)
    _float_scores("cross_entropy", input)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    rows, target, w, out_shape, _ = _as_rows("cross_entropy", input, target, weight, ignore_index, True, False)
    ignore = -100 if ignore_index is None else ignore_index
    loss = SoftmaxCrossEntropy.apply(rows, target, w, ignore, float(label_smoothing), reduction)
    if reduction == "none" and out_shape is not None:
        loss = loss.reshape(out_shape)
    return loss


def _channels_last(x):
    return x.permute(0, *range(2, x.ndim), 1)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """Negative log-likelihood of log-probabilities ``input`` at class indices ``target``: -w[t] input[t].

    input: (N, C), (C,) or (N, C, d1, ...); target: (N,), () or (N, d1, ...). Mean divides by the summed weights.
    """
    reduction = resolve_reduction("nll_loss", reduction, size_average, reduce)
    _float_scores("nll_loss", input)
    rows, target, w, out_shape, _ = _as_rows("nll_loss", input, target, weight, ignore_index, False)
    t = target.array
    xp = backend.get_array_module(t)
    valid = t != ignore_index
    safe = xp.where(valid, t, 0)
    picked = rows[xp.arange(len(t)), safe]
    weights = xp.ones(len(t), dtype=input.dtype) if w is None else w[safe]
    weights = Tensor._wrap(weights * valid)
    per = -(picked * weights)
    if reduction == "none":
        return per.reshape(out_shape) if out_shape is not None else per
    return per.sum() if reduction == "sum" else per.sum() / weights.sum()
