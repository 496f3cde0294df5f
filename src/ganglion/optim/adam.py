"""Adam (Kingma & Ba), with PyTorch's arguments: betas, eps, weight_decay (L2, added to the gradient), amsgrad,
maximize."""

import math

from .optimizer import Optimizer, check_non_negative


class Adam(Optimizer):
    """m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  (AMSGrad: v_max = max(v_max, v), used instead of v)
    p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 maximize=False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize))

    def _check_group(self, group):
        check_non_negative("learning rate", group["lr"])
        check_non_negative("epsilon value", group["eps"])
        check_non_negative("weight_decay value", group["weight_decay"])
        betas = group["betas"]
        if len(betas) != 2:
            raise ValueError(f"Invalid betas: expected two values, got {betas}")
        for i, b in enumerate(betas):
            if not 0.0 <= b < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {b}")

    def state_names(self, group):
        return ("exp_avg", "exp_avg_sq", "max_exp_avg_sq") if group["amsgrad"] else ("exp_avg", "exp_avg_sq")

    def update(self, group, p, g, state):
        beta1, beta2 = group["betas"]
        lr, eps, wd = group["lr"], group["eps"], group["weight_decay"]
        if group["maximize"]:
            g = -g
        if wd != 0:
            g = g + wd * p
        m, v, tmp, tmp2 = state.exp_avg, state.exp_avg_sq, state.tmp, state.tmp2
        xp = _xp(p)
        # m += (1 - b1) (g - m): PyTorch's lerp, the same formula as b1 m + (1 - b1) g, rounded the same way
        xp.subtract(g, m, out=tmp)
        tmp *= 1 - beta1
        m += tmp
        v *= beta2
        xp.multiply(g, 1 - beta2, out=tmp)
        tmp *= g
        v += tmp
        t = state.step
        step_size = lr / (1 - beta1**t)
        bias_correction2_sqrt = math.sqrt(1 - beta2**t)
        if group["amsgrad"]:
            xp.maximum(state.max_exp_avg_sq, v, out=state.max_exp_avg_sq)
            v = state.max_exp_avg_sq
        xp.sqrt(v, out=tmp)
        tmp /= bias_correction2_sqrt
        tmp += eps
        xp.multiply(m, -step_size, out=tmp2)
        tmp2 /= tmp
        p += tmp2


def _xp(array):
    from .. import backend

    return backend.get_array_module(array)
