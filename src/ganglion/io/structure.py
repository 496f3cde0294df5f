"""Nested Python containers of tensors as JSON plus a flat dict of named arrays, and back, checked node by node.

``ganglion.save`` stores what tutorials ``torch.save``: a Tensor, a state dict, a checkpoint such as
``{"epoch": 3, "model_state_dict": ..., "optimizer_state_dict": ..., "loss": 0.12}``. The arrays become safetensors
entries; the shape of the object around them becomes one JSON tree in the file's ``__metadata__``. Each node is

- ``null``, ``true``/``false``, a number or a string: that plain value (JSON keeps ``1`` and ``1.0`` apart);
  ``{"float": "inf"}`` (or ``"-inf"``, ``"nan"``), which JSON cannot write as a number;
- ``{"list": [...]}`` or ``{"tuple": [...]}``: the items, so tuples come back as tuples;
- ``{"dict": [[key, value], ...]}`` or ``{"odict": ...}``: the pairs in order, each key a string or an integer (an
  optimizer's ``state`` is keyed by parameter index), so key types survive;
- ``{"tensor": name}`` (with ``"requires_grad": true`` and ``"device": "cuda:0"`` when they apply) or
  ``{"array": name}`` (a NumPy array): the safetensors entry ``name``, used exactly once.

Entries are named after their path in the object (``model_state_dict.fc.weight``), so other safetensors readers
show readable names. A tensor that appears twice is stored twice and loads as two tensors (no sharing).
"""

import math
from collections import OrderedDict

import numpy as np

from .. import backend
from ..tensor import Tensor
from .json_fields import describe
from .limits import MAX_JSON_DEPTH
from .safetensors_format import DTYPES

STRUCTURE_KEY = "ganglion.structure"  # __metadata__ field holding the JSON tree
_CONTAINERS = {list: "list", tuple: "tuple", dict: "dict", OrderedDict: "odict"}
_LEAVES = ("tensor", "array")
_KINDS = tuple(_CONTAINERS.values()) + _LEAVES + ("float",)
_READABLE = set(DTYPES.values())


def encode(obj):
    """(JSON tree, OrderedDict of entry name -> NumPy array) for ``obj``. TypeError for anything ganglion cannot
    store without pickle (a module, a function, a set, a key that is not a str or int); ValueError when ``obj``
    nests deeper than loading allows or contains itself."""
    arrays = OrderedDict()
    return _encode(obj, (), arrays, set()), arrays


def _encode(obj, path, arrays, open_ids):
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, np.generic) and obj.dtype.kind in "biuf":
        obj = obj.item()  # a NumPy scalar (a loss from .item() on an array) saves as the Python number
    if type(obj) in (int, float, bool):
        if isinstance(obj, float) and not math.isfinite(obj):
            return {"float": repr(obj)}  # JSON has no inf/nan
        return obj
    if isinstance(obj, Tensor):
        node = {"tensor": _add(arrays, path, obj.array)}
        if obj.requires_grad:
            node["requires_grad"] = True
        if obj.device.type != "cpu":
            node["device"] = str(obj.device)
        return node
    if isinstance(obj, np.ndarray):
        return {"array": _add(arrays, path, obj)}
    kind = _CONTAINERS.get(type(obj))
    if kind is None:
        raise TypeError(f"save: {_where(path)} is a {type(obj).__module__}.{type(obj).__qualname__}; ganglion saves "
                        "tensors, NumPy arrays, None, bool, int, float, str and lists, tuples and dicts of these "
                        "(never pickle)")
    if id(obj) in open_ids:
        raise ValueError(f"save: {_where(path)} contains itself")
    if len(path) * 3 + 3 > MAX_JSON_DEPTH:  # a dict takes 3 JSON levels: {"dict": [[key, value]]}
        raise ValueError(f"save: {_where(path)} nests containers more than {MAX_JSON_DEPTH // 3} deep, more than "
                         "loading allows")
    open_ids.add(id(obj))
    if kind in ("list", "tuple"):
        node = {kind: [_encode(item, path + (i,), arrays, open_ids) for i, item in enumerate(obj)]}
    else:
        pairs = []
        for key, value in obj.items():
            if type(key) not in (str, int):
                raise TypeError(f"save: {_where(path)} has the key {key!r}; dict keys must be str or int")
            pairs.append([key, _encode(value, path + (key,), arrays, open_ids)])
        node = {kind: pairs}
    open_ids.discard(id(obj))
    return node


def _add(arrays, path, array):
    """Register ``array`` under a name made from ``path``, made unique; returns the name."""
    array = backend.to_numpy(array)
    if array.dtype not in _READABLE:
        raise TypeError(f"save: {_where(path)} has dtype {array.dtype}, which safetensors files do not hold "
                        f"(ganglion reads {', '.join(str(d) for d in DTYPES.values())})")
    base = ".".join(str(p) for p in path) or "tensor"
    name, n = base, 1
    while name in arrays:
        name, n = f"{base}#{n}", n + 1
    arrays[name] = array if array.flags.c_contiguous else array.copy()
    return name


def _where(path):
    return "the object" + "".join(f"[{p!r}]" for p in path)


def decode(tree, arrays, where, place):
    """The object that ``encode`` described by ``tree``, its leaves taken from ``arrays`` (name -> NumPy array).

    ``place(array, saved_device)`` puts each tensor's array where it should live (``map_location``). Every node is
    checked; a ValueError names the file ``where`` and the path of the bad field. Every array must be used exactly
    once.
    """
    used = set()
    out = _decode(tree, (), arrays, used, where, place)
    unused = [name for name in arrays if name not in used]
    if unused:
        raise _bad(where, (), f"tensors {unused[:5]} are stored but not referenced by the structure")
    return out


def _bad(where, path, detail):
    field = STRUCTURE_KEY + "".join(f"[{p!r}]" for p in path)
    return ValueError(f"load: {where!r}: metadata field {field}: {detail}")


def _decode(node, path, arrays, used, where, place):
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if isinstance(node, list):
        raise _bad(where, path, "a bare list; containers are written {\"list\": [...]}")
    if not isinstance(node, dict) or not node:
        raise _bad(where, path, f"expected a value or a tagged object, got {describe(node)}")
    kinds = [k for k in node if k in _KINDS]
    if len(kinds) != 1:
        raise _bad(where, path, f"expected exactly one of {', '.join(_KINDS)} as a key, got {sorted(node)}")
    kind = kinds[0]
    extra = set(node) - ({"tensor", "requires_grad", "device"} if kind == "tensor" else {kind})
    if extra:
        raise _bad(where, path, f"unexpected keys {sorted(extra)} in a {kind!r} node")
    body = node[kind]
    if kind == "float":
        if body not in ("inf", "-inf", "nan"):
            raise _bad(where, path + ("float",), f"must be 'inf', '-inf' or 'nan', got {describe(body)}")
        return float(body)
    if kind in _LEAVES:
        return _leaf(node, kind, path, arrays, used, where, place)
    if not isinstance(body, list):
        raise _bad(where, path + (kind,), f"must be a list, got {describe(body)}")
    if kind in ("list", "tuple"):
        items = [_decode(item, path + (i,), arrays, used, where, place) for i, item in enumerate(body)]
        return items if kind == "list" else tuple(items)
    out = OrderedDict() if kind == "odict" else {}
    for i, pair in enumerate(body):
        if not (isinstance(pair, list) and len(pair) == 2):
            raise _bad(where, path + (kind, i), f"must be a [key, value] pair, got {describe(pair)}")
        key = pair[0]
        if not (isinstance(key, str) or (isinstance(key, int) and not isinstance(key, bool))):
            raise _bad(where, path + (kind, i), f"key must be a string or an integer, got {describe(key)}")
        if key in out:
            raise _bad(where, path + (kind, i), f"key {key!r} appears twice")
        out[key] = _decode(pair[1], path + (key,), arrays, used, where, place)
    return out


def _leaf(node, kind, path, arrays, used, where, place):
    name = node[kind]
    if not isinstance(name, str):
        raise _bad(where, path + (kind,), f"must name a stored tensor, got {describe(name)}")
    if name not in arrays:
        raise _bad(where, path + (kind,), f"names the tensor {name!r}, which the file does not hold")
    if name in used:
        raise _bad(where, path + (kind,), f"uses the tensor {name!r} a second time")
    used.add(name)
    if kind == "array":
        return arrays[name]
    requires_grad = node.get("requires_grad", False)
    if not isinstance(requires_grad, bool):
        raise _bad(where, path + ("requires_grad",), f"must be true or false, got {describe(requires_grad)}")
    if requires_grad and arrays[name].dtype.kind != "f":
        raise _bad(where, path + ("requires_grad",), f"set on {name!r} of dtype {arrays[name].dtype}")
    device = node.get("device", "cpu")
    try:
        device = backend.Device(device)
    except (TypeError, ValueError) as e:
        raise _bad(where, path + ("device",), str(e)) from None
    return Tensor._wrap(place(arrays[name], device), requires_grad=requires_grad)
