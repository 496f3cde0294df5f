"""RMSprop (Hinton): divide the gradient by a running root mean square of recent gradients."""

from .. import backend
from .optimizer import Optimizer, addcdiv_, ema_square_, lerp_


class RMSprop(Optimizer):
    """Root mean square propagation.

    g = -grad if maximize else grad;  g += weight_decay * p;  v = alpha v + (1 - alpha) g^2;
    centered:  a = alpha a + (1 - alpha) g,  d = sqrt(max(v - a^2, 0)) + eps;   otherwise  d = sqrt(v) + eps;
    with momentum:  b = momentum b + g / d,  p -= lr b;   without:  p -= lr g / d.

    State per parameter: step, square_avg (v), momentum_buffer (b, when momentum > 0), grad_avg (a, when centered).
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False, *,
                 foreach=None, maximize=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                                      weight_decay=weight_decay, foreach=foreach, maximize=maximize))

    def state_names(self, group):
        names = ["square_avg"]
        if group["momentum"] > 0:
            names.append("momentum_buffer")
        if group["centered"]:
            names.append("grad_avg")
        return tuple(names)

    def update(self, group, p, g, state):
        xp = backend.get_array_module(p)
        alpha, lr, momentum = group["alpha"], group["lr"], group["momentum"]
        g = self.grad_of(group, p, g, state)
        v, tmp, tmp2 = state.square_avg, state.tmp, state.tmp2
        ema_square_(v, g, alpha, tmp)
        if group["centered"]:
            a = state.grad_avg
            lerp_(a, g, 1 - alpha, tmp)
            xp.multiply(a, a, out=tmp)
            xp.subtract(v, tmp, out=tmp)
            xp.maximum(tmp, 0, out=tmp)  # rounding can leave v - a^2 just below 0 (nan in PyTorch)
            xp.sqrt(tmp, out=tmp)
        else:
            xp.sqrt(v, out=tmp)
        tmp += group["eps"]
        if momentum > 0:
            buf = state.momentum_buffer
            buf *= momentum
            xp.divide(g, tmp, out=tmp2)
            buf += tmp2
            xp.multiply(buf, lr, out=tmp2)
            p -= tmp2
        else:
            addcdiv_(p, g, tmp, -lr, tmp2)
