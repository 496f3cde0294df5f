"""Loss functions. ``cross_entropy`` is one fused op: log-softmax and the negative log-likelihood together, so its
gradient is the textbook softmax - target, and it stays finite for logits of any size."""

from ... import backend
from ...autograd.function import Function
from ...tensor import Tensor

REDUCTIONS = ("none", "mean", "sum")


def check_reduction(reduction, op):
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op}: unknown reduction {reduction!r}; accepted values are {', '.join(REDUCTIONS)}")


class SoftmaxCrossEntropy(Function):
    """loss_i = -sum_c a_ic log softmax(z_i)_c, where a_i is the (weighted, smoothed) target distribution of sample i.

    z: (M, C) logits. target: (M,) class indices or (M, C) probabilities.
    d loss_i / d z_i = softmax(z_i) * sum_c a_ic - a_i   (= softmax - onehot in the plain case).
    Probability targets p are differentiable too: d loss_i / d p_ic = -(1 - label_smoothing) w_c log softmax(z_i)_c.
    """

    def forward(self, z, target, weight, ignore_index, label_smoothing, reduction):
        xp = self.xp
        m, c = z.shape
        shifted = z - z.max(axis=1, keepdims=True)
        logp = shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))
        rows = xp.arange(m)
        coef = None  # a: (M, C), built only when weights, smoothing or probabilities ask for it
        if target.dtype.kind in "iu":
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

    def backward(self, dy):
        logp, coef, safe, reduction, denom, weight, label_smoothing = self.saved
        xp = self.xp
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


def _as_rows(op, input, target, weight, ignore_index, allow_probabilities):
    """Check a classification loss's arguments and flatten them to rows: input (M, C), target (M,) or (M, C).

    input: (N, C), (C,) or (N, C, d1, ...). target: class indices of shape (N,) / () / (N, d1, ...) with values in
    [0, C) or ``ignore_index``, or (when allowed) class probabilities with the input's shape.
    Returns (rows, target_rows, weight array or None, shape of the unreduced loss, whether targets are probabilities).
    """
    if not isinstance(target, Tensor):
        from ...factories import tensor

        target = tensor(target)
    if input.ndim == 0:
        raise ValueError(f"{op}: input must have a class dimension, got a 0-d tensor")
    c = input.shape[1] if input.ndim > 1 else input.shape[0]
    probabilities = target.dtype.kind == "f"
    if probabilities:
        if not allow_probabilities:
            raise TypeError(f"{op}: target must be class indices (integers), got {target.dtype}")
        if target.shape != input.shape:
            raise ValueError(
                f"{op}: probability targets must have the input's shape {tuple(input.shape)}, got {tuple(target.shape)}"
            )
    else:
        if target.dtype.kind not in "iu":
            raise TypeError(f"{op}: target must be class indices (integers) or probabilities, got {target.dtype}")
        expected = (input.shape[0],) + tuple(input.shape[2:]) if input.ndim > 1 else ()
        if tuple(target.shape) != expected:
            raise ValueError(
                f"{op}: expected target of shape {expected} for input of shape {tuple(input.shape)}, "
                f"got {tuple(target.shape)}"
            )
        t = target.array
        if t.size:
            bad = (t < 0) | (t >= c)
            if ignore_index is not None:
                bad &= t != ignore_index
            if bad.any():
                value = int(t[bad].reshape(-1)[0])
                raise ValueError(f"{op}: target {value} is out of bounds for {c} classes (valid: 0..{c - 1})")
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
    check_reduction(reduction, "cross_entropy")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    rows, target, w, out_shape, _ = _as_rows("cross_entropy", input, target, weight, ignore_index, True)
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
    check_reduction(reduction, "nll_loss")
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
