"""Layers and models to JSON-ready configs and back. Classes are found by name in a registry (the built-in layers,
classes registered with ``register_keras_serializable``, or ``custom_objects``); nothing from a file is executed.

A layer's entry is ``{"class_name", "config"}`` plus, for a layer built from data (a subclassed model),
``"build_config": {"input_shape": ...}`` so that loading can create its weights before they are filled in."""

import inspect

from .._registry import BUILTIN_LAYERS, REGISTRY, custom_object_scope, registered_name_of
from .weight_check import guard_layer


def register_keras_serializable(package="Custom", name=None):
    """Decorator: make a custom layer, model, loss, metric, activation... loadable by ``load_model`` (and usable by
    name in configs) under ``package>name`` and its bare name."""
    if not isinstance(package, str) or ">" in package:
        raise ValueError(f"register_keras_serializable: package must be a string without '>', got {package!r}")

    def decorate(obj):
        if not (inspect.isclass(obj) or callable(obj)):
            raise TypeError(f"register_keras_serializable: expected a class or a function, got {obj!r}")
        if inspect.isclass(obj) and not hasattr(obj, "get_config"):
            raise ValueError(f"register_keras_serializable: class {obj.__name__} needs a get_config method")
        bare = name or obj.__name__
        key = f"{package}>{bare}"
        REGISTRY[key] = obj
        REGISTRY[bare] = obj
        obj._registered_name = key
        return obj

    return decorate


def get_registered_object(name, custom_objects=None, module_objects=None):
    """The class or function registered (or given in ``custom_objects``) under ``name``, or None."""
    for table in (custom_objects or {}, REGISTRY, module_objects or {}):
        if name in table:
            return table[name]
    return None


def get_registered_name(obj):
    """``package>name`` for a registered object, its plain name otherwise."""
    return registered_name_of(obj if inspect.isclass(obj) or inspect.isfunction(obj) else type(obj))


_REGISTRY = REGISTRY  # the name keras.losses and keras.optimizers still import (issue 18, part 1 moves them)


def find_class(class_name, custom_objects=None):
    for table in (custom_objects or {}, REGISTRY, BUILTIN_LAYERS):
        if class_name in table:
            return table[class_name]
    raise ValueError(
        f"unknown layer class {class_name!r} in the saved config: pass it in custom_objects={{'{class_name}': cls}} or "
        "decorate it with @keras.saving.register_keras_serializable()"
    )


def serialize_layer(layer):
    """{"class_name", "config"} (and "build_config" for a layer built from data)."""
    entry = {"class_name": registered_name_of(type(layer)),
             "config": layer.get_config()}
    shape = layer.__dict__.get("_build_input_shape")
    if shape is not None and not getattr(layer, "_functional", False) and not hasattr(layer, "_stack"):
        entry["build_config"] = {"input_shape": _plain(shape)}
    return entry


def _plain(shape):
    if isinstance(shape, (list, tuple)) and shape and all(isinstance(s, (list, tuple)) for s in shape):
        return [_plain(s) for s in shape]
    return None if shape is None else list(shape)


def deserialize_layer(config, custom_objects=None):
    """A layer (or model) from ``serialize_layer``'s entry; names in ``custom_objects`` resolve anywhere inside.

    A config the class rejects (an unknown argument, a missing or mistyped one) is a ValueError naming the class and
    the layer, whatever the class raised. While ``load_model`` checks a model against its weights file, each layer
    is handed to ``weight_check.guard_layer`` before it is built."""
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        raise ValueError(f"a layer entry must be {{'class_name': ..., 'config': ...}}, got {config!r:.200}")
    class_name = config["class_name"]
    cls = find_class(class_name, custom_objects)
    inner = config.get("config") or {}
    if not isinstance(inner, dict):
        raise ValueError(f"the config of a {class_name} layer must be an object, got {type(inner).__name__}")
    with custom_object_scope(custom_objects or {}):
        try:
            if hasattr(cls, "from_config"):
                takes_objects = "custom_objects" in inspect.signature(cls.from_config).parameters
                layer = (cls.from_config(inner, custom_objects=custom_objects) if takes_objects
                         else cls.from_config(inner))
            else:
                layer = cls(**inner)
        except (TypeError, KeyError, AttributeError, IndexError) as e:
            raise ValueError(f"cannot rebuild layer {inner.get('name', '?')!r} of class {class_name} from its saved "
                             f"config: {type(e).__name__}: {e}") from e
        guard_layer(config, layer)
        build = config.get("build_config")
        if build and not layer.built:
            if not isinstance(build, dict) or not isinstance(build.get("input_shape"), list):
                raise ValueError(f"the build_config of layer {getattr(layer, 'name', '?')!r} must be "
                                 f"{{'input_shape': [...]}}, got {build!r:.200}")
            _build_from_shape(layer, build["input_shape"])
    return layer


def _build_from_shape(layer, shape):
    """Create a data-built layer's weights by calling it once on zeros of the recorded input shape."""
    import numpy as np

    from ...autograd.grad_mode import no_grad
    from ...factories import tensor

    def zeros(s):
        if isinstance(s, list) and s and all(isinstance(v, list) for v in s):
            return [zeros(v) for v in s]
        return tensor(np.zeros(tuple(1 if d is None else d for d in s), dtype=np.float32))

    was_training = layer.training
    layer.eval()
    try:
        with no_grad():
            layer(zeros(shape))
    finally:
        layer.train(was_training)


def functional_config(model):
    """A functional model's graph: its layers (with configs) and, for each layer call, where its inputs came from."""
    from ..layers.input_layer import KerasTensor

    def ref(t):
        layer, node_index, tensor_index = t._keras_history
        return [layer.name, _node_position(model, layer, node_index), tensor_index]

    layers = []
    for layer in model.layers:
        calls = []
        for node in layer._inbound_nodes:
            if not any(node is n for n in model._nodes):
                continue
            calls.append({"inputs": _nest(node.inputs, ref, KerasTensor), "args": _nest(list(node.args), ref, KerasTensor),
                          "kwargs": _nest(dict(node.kwargs), ref, KerasTensor)})
        layers.append({**serialize_layer(layer), "name": layer.name, "calls": calls})
    return {"name": model.name, "trainable": model.trainable, "layers": layers,
            "input_layers": _nest(model._inputs_struct, ref, KerasTensor),
            "output_layers": _nest(model._outputs_struct, ref, KerasTensor)}


def _node_position(model, layer, node_index):
    node = layer._inbound_nodes[node_index]
    own = [n for n in layer._inbound_nodes if any(n is m for m in model._nodes)]
    return next(i for i, n in enumerate(own) if n is node)


def _nest(x, fn, kind):
    if isinstance(x, kind):
        return {"ref": fn(x)}
    if isinstance(x, (list, tuple)):
        return [_nest(v, fn, kind) for v in x]
    if isinstance(x, dict):
        return {k: _nest(v, fn, kind) for k, v in x.items()}
    return x


def functional_from_config(cls, config, custom_objects=None):
    """Rebuild a functional model: recreate each layer, then replay its calls in the saved order."""
    from ..layers.input_layer import InputLayer

    created = {}
    outputs = {}  # (layer name, call index) -> symbolic outputs
    for entry in config["layers"]:
        layer = deserialize_layer(entry, custom_objects)
        created[entry["name"]] = (layer, entry["calls"])
        if isinstance(layer, InputLayer):
            outputs[(entry["name"], 0)] = [layer.output]

    def resolve(x):
        if isinstance(x, dict) and set(x) == {"ref"}:
            name, call_index, tensor_index = x["ref"]
            produced = outputs[(name, call_index)]  # a KeyError: not produced yet
            if not 0 <= tensor_index < len(produced):
                raise ValueError(f"the saved model graph refers to output {tensor_index} of call {call_index} of "
                                 f"layer {name!r}, which has {len(produced)} output(s)")
            return produced[tensor_index]
        if isinstance(x, list):
            return [resolve(v) for v in x]
        if isinstance(x, dict):
            return {k: resolve(v) for k, v in x.items()}
        return x

    pending = [(name, i, call) for name, (layer, calls) in created.items() for i, call in enumerate(calls)
               if not isinstance(layer, InputLayer)]
    while pending:
        progressed = False
        for item in list(pending):
            name, i, call = item
            try:
                inputs = resolve(call["inputs"])
                resolve([call.get("args", []), call.get("kwargs", {})])
            except KeyError:
                continue
            out = created[name][0](inputs, *resolve(call.get("args", [])), **resolve(call.get("kwargs", {})))
            outputs[(name, i)] = out if isinstance(out, (list, tuple)) else [out]
            pending.remove(item)
            progressed = True
        if not progressed:
            raise ValueError("the saved model graph is inconsistent: some layer inputs are never produced")
    inputs = resolve(config["input_layers"])
    outs = resolve(config["output_layers"])
    return cls(inputs=inputs, outputs=outs, name=config.get("name"), trainable=config.get("trainable", True))
