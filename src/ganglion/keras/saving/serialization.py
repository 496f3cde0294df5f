"""Layers and models to JSON-ready configs and back. Classes are found by name in a registry (the built-in layers,
classes registered with ``register_keras_serializable``, or ``custom_objects``); nothing from a file is executed."""

_REGISTRY = {}


def register_keras_serializable(package="Custom", name=None):
    """Decorator: make a custom layer/model/loss loadable by ``load_model`` under ``package>name``."""

    def decorate(cls):
        key = f"{package}>{name or cls.__name__}"
        _REGISTRY[key] = cls
        _REGISTRY.setdefault(cls.__name__, cls)
        cls._registered_name = key
        return cls

    return decorate


def _builtin_layers():
    from .. import layers, models

    table = {name: getattr(layers, name) for name in getattr(layers, "__all__", dir(layers))
             if isinstance(getattr(layers, name, None), type)}
    table.update({"Sequential": models.Sequential, "Model": models.Model, "Functional": models.Model})
    return table


def find_class(class_name, custom_objects=None):
    for table in (custom_objects or {}, _REGISTRY, _builtin_layers()):
        if class_name in table:
            return table[class_name]
    raise ValueError(
        f"unknown layer class {class_name!r} in the saved config: pass it in custom_objects={{'{class_name}': cls}} or "
        "decorate it with @keras.saving.register_keras_serializable()"
    )


def serialize_layer(layer):
    return {"class_name": getattr(type(layer), "_registered_name", type(layer).__name__),
            "config": layer.get_config()}


def deserialize_layer(config, custom_objects=None):
    cls = find_class(config["class_name"], custom_objects)
    if hasattr(cls, "from_config"):
        try:
            return cls.from_config(config["config"], custom_objects=custom_objects)
        except TypeError:
            return cls.from_config(config["config"])
    return cls(**config["config"])


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
            calls.append({"inputs": _nest(node.inputs, ref, KerasTensor), "kwargs": dict(node.kwargs)})
        layers.append({**serialize_layer(layer), "name": layer.name, "calls": calls})
    return {"name": model.name, "layers": layers,
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
            return outputs[(name, call_index)][tensor_index]
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
            except KeyError:
                continue
            out = created[name][0](inputs, **call.get("kwargs", {}))
            outputs[(name, i)] = out if isinstance(out, (list, tuple)) else [out]
            pending.remove(item)
            progressed = True
        if not progressed:
            raise ValueError("the saved model graph is inconsistent: some layer inputs are never produced")
    inputs = resolve(config["input_layers"])
    outs = resolve(config["output_layers"])
    return cls(inputs=inputs, outputs=outs, name=config.get("name"))
