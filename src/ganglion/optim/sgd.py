"""Stochastic gradient descent, with momentum, dampening, Nesterov momentum and weight decay (PyTorch's rule)."""

from .. import backend
from ..kernels import optim as compiled_rules
from .optimizer import Optimizer, required


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
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize, foreach=foreach))

    def _check_group(self, group):
        if group["lr"] is required:
            raise ValueError("SGD: lr is required")
        super()._check_group(group)
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

    def has_compiled_update(self, group):
        return True

    def compiled_update(self, group, p, grads, state):
        """``update`` as one parallel loop (``kernels.optim.sgd_``), each constant rounded to p's dtype as NumPy
        rounds it in ``update``."""
        f = p.dtype.type
        momentum, wd = group["momentum"], group["weight_decay"]
        buf = state.momentum_buffer if momentum != 0 else p[:0]
        compiled_rules.sgd_(p, grads, buf, bool(group["maximize"]), wd != 0, f(wd), f(momentum),
                            "momentum_buffer" in state.new, f(1 - group["dampening"]), bool(group["nesterov"]),
                            f(group["lr"]))
