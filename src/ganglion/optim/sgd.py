"""Stochastic gradient descent, with momentum, dampening, Nesterov momentum and weight decay (PyTorch's rule)."""

from .. import backend
from .optimizer import Optimizer, check_non_negative, required


class SGD(Optimizer):
    """Stochastic gradient descent:  p <- p - lr * d.

    g = -grad if maximize else grad;  g += weight_decay * p;
    with momentum:  b = g on the first step, else b = momentum * b + (1 - dampening) * g;
                    d = g + momentum * b (Nesterov) or d = b;   without momentum:  d = g.

    Plain (full-batch) gradient descent is this optimizer with the whole training set as one batch, so one step per
    epoch: compute the loss over every example, ``backward()``, ``step()``. Mini-batch SGD takes one step per batch.

    Args: lr (learning rate), momentum, dampening, weight_decay (L2 penalty added to the gradient), nesterov,
    maximize (ascend the objective), foreach (False: update parameter by parameter instead of the flat path).
    """

    saves_step = False

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False,
                 foreach=None):
        if lr is not required:
            check_non_negative("learning rate", lr)
        check_non_negative("momentum value", momentum)
        check_non_negative("weight_decay value", weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(f"Nesterov momentum requires a momentum and zero dampening, got momentum={momentum}, "
                             f"dampening={dampening}")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize, foreach=foreach))

    def _check_group(self, group):
        if group["lr"] is required:
            raise ValueError("SGD: lr is required")
        check_non_negative("learning rate", group["lr"])
        check_non_negative("momentum value", group["momentum"])
        check_non_negative("weight_decay value", group["weight_decay"])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(f"Nesterov momentum requires a momentum and zero dampening, got "
                             f"momentum={group['momentum']}, dampening={group['dampening']}")

    def state_names(self, group):
        return ("momentum_buffer",) if group["momentum"] != 0 else ()

    def update(self, group, p, g, state):
        momentum = group["momentum"]
        g = self.grad_of(group, p, g, state)
        if momentum != 0:
            buf = state.momentum_buffer
            if "momentum_buffer" in state.new:  # PyTorch starts the buffer at the first gradient, not at zero
                buf[...] = g
            else:
                buf *= momentum
                dampening = group["dampening"]
                if dampening == 0:
                    buf += g
                else:
                    buf += (1 - dampening) * g
            if group["nesterov"]:
                tmp = state.tmp
                tmp[...] = buf
                tmp *= momentum
                tmp += g
                g = tmp
            else:
                g = buf
        tmp = state.tmp
        backend.get_array_module(p).multiply(g, group["lr"], out=tmp)
        p -= tmp
