"""Adam (Kingma & Ba), with PyTorch's arguments: betas, eps, weight_decay, amsgrad, maximize, and the decoupled weight
decay that AdamW uses."""

from .. import backend
from .optimizer import Optimizer, as_betas, check_betas, check_non_negative, lerp_


class Adam(Optimizer):
    """Adaptive moment estimation.

    g = -grad if maximize else grad;  g += weight_decay * p  (or, decoupled: p *= 1 - lr * weight_decay);
    m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  (AMSGrad: v_max = max(v_max, v), used instead of v);
    p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).

    State per parameter: step, exp_avg (m), exp_avg_sq (v), max_exp_avg_sq (AMSGrad).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, decoupled_weight_decay=False):
        super().__init__(params, dict(lr=lr, betas=as_betas(betas), eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize, foreach=foreach,
                                      decoupled_weight_decay=decoupled_weight_decay))

    def _check_group(self, group):
        check_non_negative("learning rate", group["lr"])
        check_non_negative("epsilon value", group["eps"])
        check_betas(group["betas"])
        check_non_negative("weight_decay value", group["weight_decay"])

    def state_names(self, group):
        return ("exp_avg", "exp_avg_sq", "max_exp_avg_sq") if group["amsgrad"] else ("exp_avg", "exp_avg_sq")

    def update(self, group, p, g, state):
        xp = backend.get_array_module(p)
        beta1, beta2 = group["betas"]
        lr, eps = group["lr"], group["eps"]
        g = self.decayed_grad(group, p, g, state)
        m, v, tmp, tmp2 = state.exp_avg, state.exp_avg_sq, state.tmp, state.tmp2
        lerp_(m, g, 1 - beta1, tmp)
        v *= beta2
        xp.multiply(g, 1 - beta2, out=tmp)
        tmp *= g
        v += tmp
        t = state.step
        step_size = lr / (1 - beta1**t)
        bias_correction2_sqrt = (1 - beta2**t) ** 0.5
        if group["amsgrad"]:
            xp.maximum(state.max_exp_avg_sq, v, out=state.max_exp_avg_sq)
            v = state.max_exp_avg_sq
        xp.sqrt(v, out=tmp)
        tmp /= bias_correction2_sqrt
        tmp += eps
        xp.multiply(m, -step_size, out=tmp2)
        tmp2 /= tmp
        p += tmp2
