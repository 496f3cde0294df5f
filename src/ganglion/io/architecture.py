"""A module's architecture as JSON-ready data, and back: ``module_to_config`` / ``module_from_config``.

Each describable module type registers how to read its constructor arguments and, from those arguments, the shapes
of the weights it will create; a model file stores the description beside the weights, so loading needs no code
from the file, and ``expected_weights`` lets a loader compare the description with the file's tensors before any
parameter is allocated. A description read from a file is checked field by field: a malformed one is a ValueError
naming the file (``where``) and the field (``architecture.layers[0][1].args.in_features``).
"""

from collections import OrderedDict

from .. import nn
from .json_fields import check, describe, field

_INT, _OPT_INT, _BOOL = ("int", False), ("int", True), ("bool", False)


class _Type:
    """How one module type is described: its class, its constructor arguments read from a module, those arguments'
    JSON kinds (None: not checked, for registered types), and its weights' shapes from the arguments (None: unknown
    until the module is built)."""

    def __init__(self, cls, describe, arg_kinds=None, weights=None):
        self.cls, self.describe, self.arg_kinds, self.weights = cls, describe, arg_kinds, weights


def _linear_weights(args):
    shapes = OrderedDict(weight=(args["out_features"], args["in_features"]))
    if args.get("bias", True):
        shapes["bias"] = (args["out_features"],)
    return shapes


def _no_weights(args):
    return OrderedDict()


_TYPES = {
    "Linear": _Type(nn.Linear, lambda m: {"in_features": m.in_features, "out_features": m.out_features,
                                          "bias": m.bias is not None},
                    {"in_features": _INT, "out_features": _INT, "bias": _BOOL}, _linear_weights),
    "ReLU": _Type(nn.ReLU, lambda m: {}, {}, _no_weights),
    "Sigmoid": _Type(nn.Sigmoid, lambda m: {}, {}, _no_weights),
    "Tanh": _Type(nn.Tanh, lambda m: {}, {}, _no_weights),
    "Identity": _Type(nn.Identity, lambda m: {}, {}, _no_weights),
    "Softmax": _Type(nn.Softmax, lambda m: {"dim": m.dim}, {"dim": _OPT_INT}, _no_weights),
    "LogSoftmax": _Type(nn.LogSoftmax, lambda m: {"dim": m.dim}, {"dim": _OPT_INT}, _no_weights),
}
_REQUIRED = {"Linear": ("in_features", "out_features")}


def register(name, cls, describe, weights=None):
    """Make ``cls`` describable: ``describe(module)`` returns the keyword arguments that rebuild it.

    ``weights(args)``, optional, returns {parameter or buffer name: shape} that ``cls(**args)`` will create; with it,
    loading checks a file's tensors against the description before building the module. Without it the module is
    built first and checked after.
    """
    _TYPES[name] = _Type(cls, describe, None, weights)


def _known():
    return f"Sequential, {', '.join(sorted(_TYPES))}"


def module_to_config(module):
    """{'type': ..., 'args': {...}} for a layer; Sequential nests its layers under 'layers'."""
    if type(module) is nn.Sequential:
        return {"type": "Sequential", "layers": [[name, module_to_config(m)] for name, m in module._modules.items()]}
    for name, kind in _TYPES.items():
        if type(module) is kind.cls:
            return {"type": name, "args": kind.describe(module)}
    raise ValueError(
        f"cannot describe a {type(module).__name__} as a model file; describable types are {_known()}. Save its "
        "weights with ganglion.save(model.state_dict(), path) instead"
    )


def _children(config, where, path):
    """[(name, child config, child path)] of a checked Sequential description."""
    layers = field(config, "layers", "list", where, path)
    out, seen = [], set()
    for i, pair in enumerate(layers):
        at = f"{path}.layers[{i}]"
        if not (isinstance(pair, list) and len(pair) == 2):
            raise ValueError(f"{where}: field {at} must be a [name, layer] pair, got {describe(pair)}")
        name = check(pair[0], "str", where, f"{at}[0]")
        if not name or "." in name or name in seen:
            raise ValueError(f"{where}: field {at}[0] must be a new, non-empty layer name without '.', got {name!r}")
        seen.add(name)
        out.append((name, pair[1], f"{at}[1]"))
    return out


def _kind_and_args(config, where, path):
    """(the _Type, its checked args) of a non-Sequential description."""
    name = field(config, "type", "str", where, path)
    if name not in _TYPES:
        raise ValueError(f"{where}: field {path}.type is {name!r}, not a module type ganglion knows ({_known()})")
    kind = _TYPES[name]
    args = field(config, "args", "dict", where, path, default={})
    if kind.arg_kinds is not None:
        for arg in args:
            if arg not in kind.arg_kinds:
                raise ValueError(f"{where}: field {path}.args.{arg} is not an argument of {name} (it takes: "
                                 f"{', '.join(kind.arg_kinds) or 'none'})")
        for arg in _REQUIRED.get(name, ()):
            field(args, arg, "int", where, f"{path}.args")
        for arg, (json_kind, nullable) in kind.arg_kinds.items():
            field(args, arg, json_kind, where, f"{path}.args", default=None, allow_none=nullable)
        for arg, value in args.items():
            if kind.arg_kinds[arg][0] == "int" and value is not None and value < 0 and arg != "dim":
                raise ValueError(f"{where}: field {path}.args.{arg} must be non-negative, got {value}")
    return kind, args


def _is_sequential(config, where, path):
    return field(config, "type", "str", where, path) == "Sequential"


def expected_weights(config, where, path="architecture"):
    """{state_dict name: (shape, layer path, layer type)} of the weights the description ``config`` will build, or
    None if some layer's weights are unknown until it is built (a type registered without ``weights``). Checks the
    whole description on the way."""
    out, unknown = OrderedDict(), False
    stack = [(config, path, "")]
    while stack:
        node, at, prefix = stack.pop()
        if _is_sequential(node, where, at):
            stack.extend((child, child_at, f"{prefix}{name}.")
                         for name, child, child_at in reversed(_children(node, where, at)))
            continue
        kind, args = _kind_and_args(node, where, at)
        if kind.weights is None:
            unknown = True
            continue
        for name, shape in kind.weights(args).items():
            out[prefix + name] = (tuple(shape), prefix.rstrip(".") or "(model)", node["type"])
    return None if unknown else out


def module_from_config(config, where="model file", path="architecture"):
    """Rebuild a module (with fresh weights) from ``module_to_config``'s description."""
    if _is_sequential(config, where, path):
        return nn.Sequential(OrderedDict((name, module_from_config(child, where, child_at))
                                         for name, child, child_at in _children(config, where, path)))
    kind, args = _kind_and_args(config, where, path)
    try:
        return kind.cls(**args)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{where}: field {path}.args cannot build a {config['type']}: {e}") from e
