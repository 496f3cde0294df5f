"""A module's architecture as JSON-ready data, and back: ``module_to_config`` / ``module_from_config``.

Each describable module type registers how to read its constructor arguments; a model file stores this
description beside the weights, so loading needs no code from the file.
"""

from .. import nn

_DESCRIBERS = {
    "Linear": (nn.Linear, lambda m: {"in_features": m.in_features, "out_features": m.out_features,
                                     "bias": m.bias is not None}),
    "ReLU": (nn.ReLU, lambda m: {}),
    "Sigmoid": (nn.Sigmoid, lambda m: {}),
    "Tanh": (nn.Tanh, lambda m: {}),
    "Identity": (nn.Identity, lambda m: {}),
    "Softmax": (nn.Softmax, lambda m: {"dim": m.dim}),
    "LogSoftmax": (nn.LogSoftmax, lambda m: {"dim": m.dim}),
}


def register(name, cls, describe):
    """Make ``cls`` describable: ``describe(module)`` returns the keyword arguments that rebuild it."""
    _DESCRIBERS[name] = (cls, describe)


def module_to_config(module):
    """{'type': ..., 'args': {...}} for a layer; Sequential nests its layers under 'layers'."""
    if type(module) is nn.Sequential:
        return {"type": "Sequential", "layers": [[name, module_to_config(m)] for name, m in module._modules.items()]}
    for name, (cls, describe) in _DESCRIBERS.items():
        if type(module) is cls:
            return {"type": name, "args": describe(module)}
    raise ValueError(
        f"cannot describe a {type(module).__name__} as a model file; describable types are Sequential, "
        f"{', '.join(sorted(_DESCRIBERS))}. Save its weights with ganglion.save(model.state_dict(), path) instead"
    )


def module_from_config(config):
    """Rebuild a module (with fresh weights) from ``module_to_config``'s description."""
    from collections import OrderedDict

    kind = config.get("type") if isinstance(config, dict) else None
    if kind == "Sequential":
        return nn.Sequential(OrderedDict((name, module_from_config(c)) for name, c in config["layers"]))
    if kind not in _DESCRIBERS:
        raise ValueError(f"unknown module type {kind!r} in model file; known types: Sequential, {', '.join(sorted(_DESCRIBERS))}")
    cls, _ = _DESCRIBERS[kind]
    return cls(**config.get("args", {}))
