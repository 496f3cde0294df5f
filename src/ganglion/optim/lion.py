"""Lion (Chen et al., 2023, "Symbolic Discovery of Optimization Algorithms"): the sign of an interpolated momentum,
one state array per parameter instead of Adam's two."""

from .. import backend
from .optimizer import Optimizer, as_betas, lerp_


class Lion(Optimizer):
    """Evolved sign momentum.

    g = -grad if maximize else grad;  p *= 1 - lr * weight_decay  (decoupled, as AdamW);
    p -= lr * sign(b1 m + (1 - b1) g);  m = b2 m + (1 - b2) g.

    Every coordinate moves by exactly lr per step, so Lion wants a smaller lr than Adam (about 3-10x) and a larger
    weight_decay. State per parameter: exp_avg (m). PyTorch has no Lion; its names follow the paper's reference code.
    """

    saves_step = False

    def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0, *, maximize=False, foreach=None):
        super().__init__(params, dict(lr=lr, betas=as_betas(betas), weight_decay=weight_decay, maximize=maximize,
                                      foreach=foreach))

    def state_names(self, group):
        return ("exp_avg",)

    def update(self, group, p, g, state):
        xp = backend.get_array_module(p)
        beta1, beta2 = group["betas"]
        lr = group["lr"]
        g = self.decayed_grad(group, p, g, state, decoupled=True)
        m, tmp, tmp2 = state.exp_avg, state.tmp, state.tmp2
        xp.multiply(m, beta1, out=tmp)
        xp.multiply(g, 1 - beta1, out=tmp2)
        tmp += tmp2
        xp.sign(tmp, out=tmp)
        tmp *= lr
        p -= tmp
        lerp_(m, g, 1 - beta2, tmp)
