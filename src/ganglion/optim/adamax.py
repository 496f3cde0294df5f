"""Adamax (Kingma & Ba): Adam with the infinity norm in place of the second moment."""

from .. import backend
from .optimizer import Optimizer, addcdiv_, as_betas, lerp_


class Adamax(Optimizer):
    """Adam's infinity-norm variant.

    g = -grad if maximize else grad;  g += weight_decay * p;
    m = b1 m + (1 - b1) g;  u = max(b2 u, |g| + eps);  p -= lr / (1 - b1^t) * m / u.

    State per parameter: step, exp_avg (m), exp_inf (u).
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False):
        super().__init__(params, dict(lr=lr, betas=as_betas(betas), eps=eps, weight_decay=weight_decay,
                                      foreach=foreach, maximize=maximize))

    def state_names(self, group):
        return ("exp_avg", "exp_inf")

    def update(self, group, p, g, state):
        xp = backend.get_array_module(p)
        beta1, beta2 = group["betas"]
        g = self.grad_of(group, p, g, state)
        m, u, tmp = state.exp_avg, state.exp_inf, state.tmp
        lerp_(m, g, 1 - beta1, tmp)
        u *= beta2
        xp.abs(g, out=tmp)
        tmp += group["eps"]
        xp.maximum(u, tmp, out=u)
        clr = group["lr"] / (1 - beta1**state.step)
        addcdiv_(p, m, u, -clr, tmp)
