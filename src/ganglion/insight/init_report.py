"""``init_report``: the notes' comparison of initializations. For each scheme the model's weights are drawn afresh,
one batch of standard-normal inputs runs forward and a random projection of the output runs backward; per
weighted layer (Linear, Conv) the report gives the variance of its activation (the output of the activation module
that follows it, or its own output when none follows) and of its weight gradient. With a good scheme both stay
roughly level with depth; with too large weights they grow (or saturate), with too small ones they shrink.

Schemes (biases are set to zero): "random" N(0, 1); "standard" N(0, 0.01^2); "xavier" N(0, 2 / (fan_in +
fan_out)) (Glorot); "he" N(0, 2 / fan_in) (Kaiming, for ReLU).
"""

import copy

import numpy as np

from .. import backend
from ..factories import randn
from ..nn import init
from ..nn.modules import activation as _activation
from ..nn.module import Module
from ..tensor import Tensor

SCHEMES = {
    "random": lambda w: init.normal_(w, 0.0, 1.0),
    "standard": lambda w: init.normal_(w, 0.0, 0.01),
    "xavier": lambda w: init.xavier_normal_(w),
    "he": lambda w: init.kaiming_normal_(w, nonlinearity="relu"),
}


def _weighted(module):
    w = getattr(module, "weight", None)
    return w is not None and not any(True for _ in module.children()) and w.ndim >= 2


class InitReport:
    """``layers`` (names of the weighted layers in forward order) and ``results``: {scheme: {"activation_var":
    [...], "gradient_var": [...]}}; ``str()`` is the table."""

    def __init__(self, layers, results):
        self.layers, self.results = layers, results

    def __str__(self):
        lines = []
        for what in ("activation_var", "gradient_var"):
            title = "activation variance" if what == "activation_var" else "weight-gradient variance"
            header = ["layer"] + list(self.results)
            rows = [[name] + [f"{self.results[s][what][i]:.3g}" for s in self.results]
                    for i, name in enumerate(self.layers)]
            widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
            lines.append(f"{title} by layer and initialization")
            for r in [header] + rows:
                lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
            lines.append("")
        return "\n".join(lines).rstrip()

    __repr__ = __str__


def _one_scheme(model, scheme, input_size, seed):
    backend.manual_seed(seed)
    for module in model.modules():
        if _weighted(module):
            SCHEMES[scheme](module.weight)
            if getattr(module, "bias", None) is not None:
                init.zeros_(module.bias)
    calls, handles = [], []
    for name, module in model.named_modules():
        if not any(True for _ in module.children()):
            handles.append(module.register_forward_hook(
                lambda m, args, out, name=name: calls.append((name, m, out))))
    try:
        model.zero_grad()
        out = model(randn(*input_size))
        if not isinstance(out, Tensor):
            raise ValueError(f"init_report: the model must return one Tensor, got {type(out).__name__}")
        (out * randn(*out.shape)).sum().backward()
    finally:
        for h in handles:
            h.remove()
    names, act_var, grad_var = [], [], []
    for i, (name, module, output) in enumerate(calls):
        if not _weighted(module):
            continue
        follows = calls[i + 1] if i + 1 < len(calls) else None
        is_act = follows is not None and type(follows[1]).__module__ == _activation.__name__
        shown = follows[2] if is_act else output
        names.append(name)
        act_var.append(float(np.var(np.asarray(shown.array, dtype=np.float64))))
        grad = module.weight.grad
        grad_var.append(float(np.var(np.asarray(grad.array, dtype=np.float64))) if grad is not None else 0.0)
    return names, {"activation_var": act_var, "gradient_var": grad_var}


def init_report(model, input_size, initializers=("random", "standard", "xavier", "he"), seed=0):
    """Compare ``initializers`` on ``model`` (an ``nn.Module``, copied per scheme, or a function returning a new
    one) for inputs of ``input_size`` (batch included); returns an ``InitReport``."""
    unknown = [s for s in initializers if s not in SCHEMES]
    if unknown:
        raise ValueError(f"init_report: unknown initializers {unknown}; the accepted ones are {list(SCHEMES)}")
    if not isinstance(model, Module) and not callable(model):
        raise TypeError(f"init_report: model must be an nn.Module or a function returning one, got "
                        f"{type(model).__name__}")
    results, layers = {}, None
    for scheme in initializers:
        instance = copy.deepcopy(model) if isinstance(model, Module) else model()
        layers, results[scheme] = _one_scheme(instance, scheme, tuple(input_size), seed)
    return InitReport(layers, results)
