"""The optimizers under test and their references: ganglion class -> PyTorch class, by the name that prefixes a
table row's id ("adam-amsgrad" is Adam). PyTorch has no Lion, so its reference is written here from the paper."""

import torch

from ganglion import optim


class TorchLion(torch.optim.Optimizer):
    """Reference Lion for the parity tests (PyTorch has none), written from the paper's update:
    c = b1 m + (1 - b1) g;  p = p (1 - lr wd) - lr sign(c);  m = b2 m + (1 - b2) g."""

    def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0, *, maximize=False):
        super().__init__(params, dict(lr=lr, betas=betas, weight_decay=weight_decay, maximize=maximize, foreach=None))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = -p.grad if group["maximize"] else p.grad
                state = self.state[p]
                if not state:
                    state["exp_avg"] = torch.zeros_like(p)
                m = state["exp_avg"]
                direction = (m * beta1 + grad * (1 - beta1)).sign()
                p.mul_(1 - group["lr"] * group["weight_decay"])
                p.sub_(direction * group["lr"])
                m.mul_(beta2).add_(grad * (1 - beta2))


#: optimizer name -> (ganglion class, PyTorch class)
OPTIMIZER_PAIRS = {
    "sgd": (optim.SGD, torch.optim.SGD),
    "adam": (optim.Adam, torch.optim.Adam),
    "adamw": (optim.AdamW, torch.optim.AdamW),
    "adagrad": (optim.Adagrad, torch.optim.Adagrad),
    "rmsprop": (optim.RMSprop, torch.optim.RMSprop),
    "adadelta": (optim.Adadelta, torch.optim.Adadelta),
    "adamax": (optim.Adamax, torch.optim.Adamax),
    "nadam": (optim.NAdam, torch.optim.NAdam),
    "radam": (optim.RAdam, torch.optim.RAdam),
    "lion": (optim.Lion, TorchLion),
}


def optimizer_pair(name, kwargs, pair):
    """(ganglion optimizer, PyTorch optimizer) for the row ``name`` ("kind-variant") over ``pair``'s two models."""
    ours_cls, theirs_cls = OPTIMIZER_PAIRS[name.split("-")[0]]
    return ours_cls(pair.ours.parameters(), **kwargs), theirs_cls(pair.theirs.parameters(), **kwargs)

