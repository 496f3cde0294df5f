"""The checks a ``.keras`` file's JSON passes before anything is built from it: every field the loader reads is
present and of the right type, the format and version are ones this ganglion reads, layer classes resolve, the
functional graph's references point at layers that exist, and recorded input shapes are of a size one can run.
A failure is a ValueError naming the file and the field (``model.config.layers[2].class_name``), never a KeyError
or TypeError from deep inside a loader.

The same walk over the model's layers gives each layer entry its weights' path (``dense_1.``, see weight_names), so
that the weights file can be compared with each layer before it is built (weight_check)."""

import math

from ...io.json_fields import check, describe, field
from ...io.limits import MAX_INPUT_ELEMENTS
from .._registry import BUILTIN_LAYERS
from .serialization import find_class
from .weight_names import ranked_name


def check_metadata(metadata, where, format_name, version):
    """``metadata.json``: {"format": format_name, "version": an int from 1 to ``version``}."""
    found_format = field(metadata, "format", "str", where, "")
    found_version = field(metadata, "version", "int", where, "")
    if found_format != format_name or not 1 <= found_version <= version:
        raise ValueError(f"{where}: has format {found_format!r} version {found_version!r}; this ganglion reads "
                         f"{format_name!r} up to version {version}")


def check_config(config, where, custom_objects=None):
    """Check ``config.json`` as a whole; returns {id(layer entry): weights path prefix} for every layer entry of the
    model (see module docstring)."""
    check(config, "dict", where, "(top level)")
    plan = {}
    _layer_entry(field(config, "model", "dict", where, ""), where, "model", "", custom_objects, plan)
    compile_config = field(config, "compile", "dict", where, "", default=None, allow_none=True)
    if compile_config is not None:
        optimizer = field(compile_config, "optimizer", "dict", where, "compile")
        field(optimizer, "class_name", "str", where, "compile.optimizer")
        field(optimizer, "config", "dict", where, "compile.optimizer")
        weights = compile_config.get("loss_weights")
        if weights is not None and not isinstance(weights, (list, dict)):
            raise ValueError(f"{where}: field compile.loss_weights must be a list, an object or null, got "
                             f"{describe(weights)}")
    state = field(config, "optimizer_state", "dict", where, "", default=None, allow_none=True)
    if state is not None:
        if field(state, "iterations", "int", where, "optimizer_state") < 0:
            raise ValueError(f"{where}: field optimizer_state.iterations must be >= 0, got {state['iterations']}")
        for i, group in enumerate(field(state, "param_groups", "list", where, "optimizer_state")):
            check(group, "dict", where, f"optimizer_state.param_groups[{i}]")
    return plan


def _layer_entry(entry, where, path, prefix, custom_objects, plan):
    cls = _named_class(entry, where, path, custom_objects)
    config = field(entry, "config", "dict", where, path, default=None, allow_none=True) or {}
    build = field(entry, "build_config", "dict", where, path, default=None, allow_none=True)
    if build is not None:
        _shape_tree(field(build, "input_shape", "list", where, f"{path}.build_config"), where,
                    f"{path}.build_config.input_shape")
    for key in ("input_shape", "batch_input_shape", "batch_shape", "shape"):
        if config.get(key) is not None:
            _shape_tree(config[key], where, f"{path}.config.{key}")
    plan[id(entry)] = prefix
    Model, Sequential = BUILTIN_LAYERS["Model"], BUILTIN_LAYERS["Sequential"]  # keras.models builds on saving
    if isinstance(cls, type) and issubclass(cls, Sequential):
        children = field(config, "layers", "list", where, f"{path}.config")
        used = {}
        for i, child in enumerate(children):
            at = f"{path}.config.layers[{i}]"
            child_cls = _class_of(child, where, at, custom_objects)
            _layer_entry(child, where, at, f"{prefix}{ranked_name(child_cls.__name__, used)}.", custom_objects, plan)
        field(config, "input_dtype", "str", where, f"{path}.config", default=None, allow_none=True)
    elif isinstance(cls, type) and issubclass(cls, Model) and "layers" in config and "input_layers" in config:
        _functional(config, where, f"{path}.config", prefix, custom_objects, plan)


def _named_class(entry, where, path, custom_objects):
    """What the ``class_name`` of the ``{"class_name", "config"}`` entry at ``path`` names (ValueError naming the
    field when nothing does)."""
    check(entry, "dict", where, path)
    name = field(entry, "class_name", "str", where, path)
    try:
        return find_class(name, custom_objects)
    except ValueError as e:
        raise ValueError(f"{where}: field {path}.class_name: {e}") from None


def _class_of(entry, where, path, custom_objects):
    cls = _named_class(entry, where, path, custom_objects)
    if not isinstance(cls, type):
        raise ValueError(f"{where}: field {path}.class_name names {cls!r}, which is not a layer class")
    return cls


def _functional(config, where, path, prefix, custom_objects, plan):
    """A functional model's layers (with their calls) and its input and output references."""
    entries = field(config, "layers", "list", where, path)
    calls_of, used = {}, {}
    for i, entry in enumerate(entries):
        at = f"{path}.layers[{i}]"
        cls = _class_of(entry, where, at, custom_objects)
        name = field(entry, "name", "str", where, at)
        if name in calls_of:
            raise ValueError(f"{where}: field {at}.name: layer name {name!r} appears twice")
        calls = field(entry, "calls", "list", where, at)
        for j, call in enumerate(calls):
            check(call, "dict", where, f"{at}.calls[{j}]")
            if "inputs" not in call:
                raise ValueError(f"{where}: field {at}.calls[{j}].inputs is missing")
            field(call, "args", "list", where, f"{at}.calls[{j}]", default=None)
            field(call, "kwargs", "dict", where, f"{at}.calls[{j}]", default=None)
        calls_of[name] = max(len(calls), 1)  # an input layer has no call but one output (call 0)
        _layer_entry(entry, where, at, f"{prefix}{ranked_name(cls.__name__, used)}.", custom_objects, plan)
    for i, entry in enumerate(entries):
        for j, call in enumerate(entry["calls"]):
            _refs(call, where, f"{path}.layers[{i}].calls[{j}]", calls_of)
    for key in ("input_layers", "output_layers"):
        if config.get(key) is None:
            raise ValueError(f"{where}: field {path}.{key} is missing")
        _refs(config[key], where, f"{path}.{key}", calls_of)
    field(config, "name", "str", where, path, default=None, allow_none=True)


def _refs(value, where, path, calls_of):
    """Every {"ref": [layer name, call index, tensor index]} inside ``value`` names a layer call that exists."""
    stack = [(value, path)]
    while stack:
        item, at = stack.pop()
        if isinstance(item, dict) and set(item) == {"ref"}:
            ref = item["ref"]
            ok = (isinstance(ref, list) and len(ref) == 3 and isinstance(ref[0], str)
                  and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in ref[1:]))
            if not ok:
                raise ValueError(f"{where}: field {at}.ref must be [layer name, call index, tensor index], got "
                                 f"{describe(ref)}")
            if ref[0] not in calls_of or ref[1] >= calls_of[ref[0]]:
                raise ValueError(f"{where}: field {at}.ref points at call {ref[1]} of layer {ref[0]!r}, which the "
                                 "model does not have")
        elif isinstance(item, dict):
            stack.extend((v, f"{at}.{k}") for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((v, f"{at}[{i}]") for i, v in enumerate(item))


def _shape_tree(value, where, path):
    """A shape (a list of non-negative ints and nulls) or a list of them, each of at most ``MAX_INPUT_ELEMENTS``."""
    check(value, "list", where, path)
    if value and all(isinstance(v, list) for v in value):
        for i, shape in enumerate(value):
            _shape_tree(shape, where, f"{path}[{i}]")
        return
    for i, d in enumerate(value):
        if d is not None and not (isinstance(d, int) and not isinstance(d, bool) and d >= 0):
            raise ValueError(f"{where}: field {path}[{i}] must be a non-negative integer or null, got {describe(d)}")
    elements = math.prod(1 if d is None else d for d in value)
    if elements > MAX_INPUT_ELEMENTS:
        raise ValueError(f"{where}: field {path} is {value}: {elements} values per sample, more than the "
                         f"{MAX_INPUT_ELEMENTS} ganglion runs a layer on while loading")
