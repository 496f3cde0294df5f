"""Stochastic gradient descent, with momentum, dampening, Nesterov momentum and weight decay (PyTorch's rule).

Plain (full-batch) gradient descent is this optimizer with the whole training set as one batch: one step per epoch.
"""

from .optimizer import Optimizer, check_non_negative, required


class SGD(Optimizer):
    """g = -g if maximize;  g += weight_decay p;
    b = g on the first step, else momentum b + (1 - dampening) g;  g = g + momentum b (Nesterov) or b;
    p -= lr g."""

    saves_step = False

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize))

    def _check_group(self, group):
        if group["lr"] is required:
            raise ValueError("SGD: lr is required")
        check_non_negative("learning rate", group["lr"])
        check_non_negative("momentum value", group["momentum"])
        check_non_negative("weight_decay value", group["weight_decay"])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def state_names(self, group):
        return ("momentum_buffer",) if group["momentum"] != 0 else ()

    def update(self, group, p, g, state):
        lr, momentum, wd = group["lr"], group["momentum"], group["weight_decay"]
        if group["maximize"]:
            g = -g
        if wd != 0:
            g = g + wd * p
        if momentum != 0:
            buf = state.momentum_buffer
            if state.step == 1:
                buf[...] = g
            else:
                buf *= momentum
                dampening = group["dampening"]
                if dampening == 0:
                    buf += g
                else:
                    buf += (1 - dampening) * g
            g = g + momentum * buf if group["nesterov"] else buf
        tmp = state.tmp
        tmp[...] = g
        tmp *= lr
        p -= tmp
