"""Adagrad (Duchi et al.): per-coordinate learning rates that shrink with the sum of squared gradients."""

from .. import backend
from .optimizer import Optimizer, addcdiv_


class Adagrad(Optimizer):
    """Adaptive gradient.

    g = -grad if maximize else grad;  g += weight_decay * p;
    clr = lr / (1 + (t - 1) * lr_decay);  s += g^2;  p -= clr * g / (sqrt(s) + eps).

    State per parameter: step, sum (s, starting at initial_accumulator_value). As in PyTorch, the state of the
    parameters given at construction exists from the start (so ``state_dict()`` lists it before any step). A param
    group's own initial_accumulator_value is used for its parameters (PyTorch uses the constructor's for all).
    """

    eager_state = True

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                                      maximize=maximize))

    def state_names(self, group):
        return ("sum",)

    def initial_state(self, group, name):
        return group["initial_accumulator_value"]

    def update(self, group, p, g, state):
        xp = backend.get_array_module(p)
        g = self.grad_of(group, p, g, state)
        clr = group["lr"] / (1 + (state.step - 1) * group["lr_decay"])
        total, tmp = state.sum, state.tmp
        xp.multiply(g, g, out=tmp)
        total += tmp
        xp.sqrt(total, out=tmp)
        tmp += group["eps"]
        addcdiv_(p, g, tmp, -clr, state.tmp2)
