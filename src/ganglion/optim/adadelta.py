"""Adadelta (Zeiler): step sizes from running averages of squared gradients and squared updates, no global rate
needed (lr scales the result, 1.0 by default)."""

from .. import backend
from .optimizer import Optimizer, ema_square_


class Adadelta(Optimizer):
    """An adaptive learning rate method.

    g = -grad if maximize else grad;  g += weight_decay * p;  v = rho v + (1 - rho) g^2;
    delta = sqrt(u + eps) / sqrt(v + eps) * g;  u = rho u + (1 - rho) delta^2;  p -= lr delta.

    State per parameter: step, square_avg (v), acc_delta (u).
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, maximize=False):
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                                      foreach=foreach))

    def _check_group(self, group):
        super()._check_group(group)
        rho = group["rho"]
        if not isinstance(rho, (int, float)) or isinstance(rho, bool) or not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")

    def state_names(self, group):
        return ("square_avg", "acc_delta")

    def update(self, group, p, g, state):
        xp = backend.get_array_module(p)
        rho, eps = group["rho"], group["eps"]
        g = self.grad_of(group, p, g, state)
        v, u, tmp, tmp2 = state.square_avg, state.acc_delta, state.tmp, state.tmp2
        ema_square_(v, g, rho, tmp)
        xp.add(v, eps, out=tmp)
        xp.sqrt(tmp, out=tmp)
        xp.add(u, eps, out=tmp2)
        xp.sqrt(tmp2, out=tmp2)
        tmp2 /= tmp
        tmp2 *= g  # tmp2 is delta from here on
        ema_square_(u, tmp2, rho, tmp)
        xp.multiply(tmp2, group["lr"], out=tmp)
        p -= tmp
