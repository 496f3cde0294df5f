"""Adam (Kingma & Ba), with PyTorch's arguments: betas, eps, weight_decay, amsgrad, maximize, and the decoupled weight
decay that AdamW uses."""

from .. import backend
from ..kernels import optim as compiled_rules
from .optimizer import Optimizer, addcdiv_, as_betas


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

    def state_names(self, group):
        return ("exp_avg", "exp_avg_sq", "max_exp_avg_sq") if group["amsgrad"] else ("exp_avg", "exp_avg_sq")

    def update(self, group, p, g, state):
        xp = backend.get_array_module(p)
        beta1, beta2 = group["betas"]
        lr, eps = group["lr"], group["eps"]
        g = self.decayed_grad(group, p, g, state)
        m, v, tmp = state.exp_avg, state.exp_avg_sq, state.tmp
        self.update_moments_(m, v, g, beta1, beta2, tmp)
        t = state.step
        step_size = lr / (1 - beta1**t)
        bias_correction2_sqrt = (1 - beta2**t) ** 0.5
        if group["amsgrad"]:
            xp.maximum(state.max_exp_avg_sq, v, out=state.max_exp_avg_sq)
            v = state.max_exp_avg_sq
        xp.sqrt(v, out=tmp)
        tmp /= bias_correction2_sqrt
        tmp += eps
        addcdiv_(p, m, tmp, -step_size, state.tmp2)

    def has_compiled_update(self, group):
        return True

    def compiled_update(self, group, p, grads, state):
        """``update`` as one parallel loop (``kernels.optim.adam_``), each constant rounded to p's dtype as NumPy
        rounds it in ``update``."""
        f = p.dtype.type
        beta1, beta2 = group["betas"]
        lr, wd, t = group["lr"], group["weight_decay"], state.step
        decoupled = bool(group.get("decoupled_weight_decay")) and wd != 0
        lerp_weight = f(1 - beta1)
        v_max = state.max_exp_avg_sq if group["amsgrad"] else state.exp_avg_sq
        compiled_rules.adam_(p, grads, state.exp_avg, state.exp_avg_sq, v_max, f(1 - lr * wd) if decoupled else f(1),
                             bool(group["maximize"]), not decoupled and wd != 0, f(wd), lerp_weight,
                             abs(lerp_weight) >= 0.5, f(1) - lerp_weight, f(beta2), f(1 - beta2),
                             bool(group["amsgrad"]), f((1 - beta2**t) ** 0.5), f(group["eps"]),
                             f(-(lr / (1 - beta1**t))))
