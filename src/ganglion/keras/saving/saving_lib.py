"""The ``.keras`` file: one zip holding

- ``metadata.json``: the format name and version, when and by what it was saved;
- ``config.json``: the architecture (layer classes and configs, the functional graph), the compile settings
  (optimizer, losses, metrics) and the optimizer's counters;
- ``model.weights.safetensors``: the weights; ``optimizer.safetensors``: the optimizer's state, once trained.

Written to a temporary file and renamed over the target (a crash leaves the old file or the new one). Read without
executing anything from the file: classes are looked up by name among the built-in layers, the registered ones
(``register_keras_serializable``) and ``custom_objects``.

Weights are named by the model's structure, not by the layers' automatic names (which differ between two instances
of the same model): a layer inside a Sequential or functional model is named after its class and its rank among the
layers of that class (dense, dense_1, ...), a layer held by a subclassed model by its attribute name.
"""

import datetime
import io
import json
import os
import zipfile
import zlib

import numpy as np

from ...io.atomic import atomic_write_bytes
from ...io.weights import load_with_metadata_bytes, to_bytes
from ..naming import to_snake_case
from .serialization import deserialize_layer, registered_name_of, serialize_layer

FORMAT, VERSION = "ganglion.keras", 1
WEIGHTS_FORMAT = "ganglion.keras.weights"
_CONFIG, _METADATA, _WEIGHTS, _OPTIMIZER = "config.json", "metadata.json", "model.weights.safetensors", \
    "optimizer.safetensors"


# -------------------------------------------------------------------------------------------- weight names
def _child_names(module):
    """Path components for ``module``'s children: class-based names inside a model that keys its layers by their
    (automatic) names, the attribute name otherwise."""
    from ..layers.base import Layer

    keyed_by_name = getattr(module, "_functional", False) or hasattr(module, "_stack")
    names, used = {}, {}
    for key, child in module._modules.items():
        if keyed_by_name and isinstance(child, Layer) and key == child.name:
            base = to_snake_case(type(child).__name__)
            count = used.get(base, 0)
            used[base] = count + 1
            names[key] = base if count == 0 else f"{base}_{count}"
        else:
            names[key] = key
    return names


def weight_items(model):
    """{structural name: Tensor} of every parameter and persistent buffer (each shared tensor once)."""
    out, seen = {}, set()

    def walk(module, prefix):
        for name, p in module._parameters.items():
            if p is not None and id(p) not in seen:
                seen.add(id(p))
                out[prefix + name] = p
        for name, b in module._buffers.items():
            if b is not None and name not in module._non_persistent and id(b) not in seen:
                seen.add(id(b))
                out[prefix + name] = b
        names = _child_names(module)
        for key, child in module._modules.items():
            if child is not None:
                walk(child, prefix + names[key] + ".")

    walk(model, "")
    return out


def _assign_weights(model, tensors, where, skip_mismatch=False):
    own = weight_items(model)
    missing = [k for k in own if k not in tensors]
    unexpected = [k for k in tensors if k not in own]
    problems = []
    if (missing or unexpected) and not skip_mismatch:
        if missing:
            problems.append(f"the model has weights the file lacks: {missing}")
        if unexpected:
            problems.append(f"the file has weights the model lacks: {unexpected}")
    for key, target in own.items():
        if key in tensors and tuple(tensors[key].shape) != tuple(target.shape):
            if not skip_mismatch:
                problems.append(f"{key}: shape {tuple(tensors[key].shape)} in the file, {tuple(target.shape)} in "
                                "the model")
    if problems:
        raise ValueError(f"{where} does not match the model {model.name!r} (is it the same architecture?): "
                         + "; ".join(problems))
    from ... import backend

    for key, target in own.items():
        value = tensors.get(key)
        if value is not None and tuple(value.shape) == tuple(target.shape):
            target.array[...] = backend.to_device(value.array.astype(target.dtype, copy=False), target.device)


# --------------------------------------------------------------------------------------------- compile config
def _serialize_compile(model):
    if not model.compiled:
        return None
    from .. import losses, metrics

    spec = model._compile_spec

    def loss_entry(x):
        if isinstance(x, (list, tuple)):
            return [loss_entry(v) for v in x]
        if isinstance(x, dict) and "class_name" not in x:
            return {k: loss_entry(v) for k, v in x.items()}
        if x is None or isinstance(x, (str, dict)):
            return x
        return losses.serialize(x)

    def metric_entry(x):
        if isinstance(x, (list, tuple)):
            return [metric_entry(v) for v in x]
        if isinstance(x, dict) and "class_name" not in x:
            return {k: metric_entry(v) for k, v in x.items()}
        if x is None or isinstance(x, (str, dict)):
            return x
        if isinstance(x, metrics.Metric):
            return metrics.serialize(x)
        name = getattr(x, "__name__", None)
        if name is not None and metrics.get(name) is not None:
            return name
        raise ValueError(f"model.save: cannot save the metric {x!r}; use a name or a keras.metrics class")

    opt = model.optimizer
    return {"optimizer": {"class_name": registered_name_of(type(opt)),
                          "config": opt.get_config()},
            "loss": loss_entry(spec["loss"]), "loss_weights": spec["loss_weights"],
            "metrics": metric_entry(spec["metrics"]), "weighted_metrics": metric_entry(spec["weighted_metrics"])}


def _deserialize_compile(model, config, custom_objects):
    from .. import losses, metrics, optimizers
    from .serialization import _REGISTRY

    def loss_entry(x):
        if isinstance(x, list):
            return [loss_entry(v) for v in x]
        if isinstance(x, dict) and "class_name" not in x:
            return {k: loss_entry(v) for k, v in x.items()}
        return None if x is None else losses.deserialize(x, custom_objects)

    def metric_entry(x):
        if isinstance(x, list):
            return [metric_entry(v) for v in x]
        if isinstance(x, dict) and "class_name" not in x:
            return {k: metric_entry(v) for k, v in x.items()}
        if isinstance(x, dict):
            return metrics.deserialize(x, custom_objects)
        return x

    opt_cfg = config["optimizer"]
    name = opt_cfg["class_name"]
    cls = (custom_objects or {}).get(name) or _REGISTRY.get(name)
    if cls is None:
        cls = type(optimizers.get(name))
    optimizer = cls.from_config(opt_cfg["config"], custom_objects=custom_objects)
    model.compile(optimizer=optimizer, loss=loss_entry(config["loss"]), loss_weights=config.get("loss_weights"),
                  metrics=metric_entry(config.get("metrics")),
                  weighted_metrics=metric_entry(config.get("weighted_metrics")))


def _optimizer_state(model):
    if not model.compiled or not model.optimizer.built:
        return None, {}
    state = model.optimizer._engine.state_dict()
    tensors = {f"{index}/{key}": value for index, entry in state["state"].items() for key, value in entry.items()}
    meta = {"iterations": model.optimizer.iterations, "param_groups": state["param_groups"]}
    return meta, tensors


def _restore_optimizer(model, meta, raw, where):
    tensors, _ = load_with_metadata_bytes(raw, where)
    state = {}
    for key, value in tensors.items():
        index, name = key.split("/", 1)
        state.setdefault(int(index), {})[name] = value
    model._build_optimizer()
    try:
        model.optimizer._engine.load_state_dict({"state": state, "param_groups": meta["param_groups"]})
    except (ValueError, KeyError) as e:
        raise ValueError(f"load_model: the optimizer state in {where!r} does not fit the model: {e}") from e
    model.optimizer.iterations = int(meta["iterations"])


# --------------------------------------------------------------------------------------------- save / load
def _json_default(value):
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    if isinstance(value, np.dtype):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"model.save: cannot store {type(value).__name__} {value!r} in the model's config; layers' "
                    "get_config must return JSON-compatible values")


def save_model(model, filepath, overwrite=True):
    """Save architecture, weights, compile settings and optimizer state to ``filepath`` (a .keras zip)."""
    filepath = os.fspath(filepath)
    if not filepath.endswith(".keras"):
        raise ValueError(f"model.save: the file name must end in .keras, got {filepath!r} (use save_weights for the "
                         "weights alone)")
    if os.path.exists(filepath) and not overwrite:
        raise FileExistsError(f"model.save: {filepath!r} exists and overwrite=False")
    opt_meta, opt_tensors = _optimizer_state(model)
    config = {"model": serialize_layer(model), "compile": _serialize_compile(model), "optimizer_state": opt_meta}
    metadata = {"format": FORMAT, "version": VERSION,
                "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(_METADATA, json.dumps(metadata))
        z.writestr(_CONFIG, json.dumps(config, indent=1, default=_json_default))
        z.writestr(_WEIGHTS, to_bytes(weight_items(model), {"format": WEIGHTS_FORMAT}))
        if opt_meta is not None:
            z.writestr(_OPTIMIZER, to_bytes(opt_tensors))
    atomic_write_bytes(filepath, buffer.getvalue())


def _read_archive(filepath, what):
    """{member name: bytes} of a .keras file, with a clear ValueError for anything that is not one."""
    filepath = os.fspath(filepath)
    if not os.path.isfile(filepath):
        raise FileNotFoundError(f"{what}: no such file: {filepath!r}")
    try:
        with zipfile.ZipFile(filepath) as z:
            names = set(z.namelist())
            if _CONFIG not in names or _WEIGHTS not in names:
                raise ValueError(f"{what}: {filepath!r} is a zip file but not a ganglion .keras model (it has no "
                                 f"{_CONFIG} and {_WEIGHTS})")
            return {name: z.read(name) for name in names}
    except (zipfile.BadZipFile, zlib.error, EOFError) as e:
        raise ValueError(f"{what}: {filepath!r} is not a valid .keras file: it is truncated, corrupt or not a zip "
                         f"archive ({e})") from None


def _read_json(raw, name, filepath, what):
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{what}: {name} in {filepath!r} is corrupt ({e})") from None


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Rebuild a model saved by ``model.save``: architecture, weights and, when it was compiled, the compile
    settings and the optimizer's state (so ``fit`` continues where it stopped)."""
    what = "load_model"
    filepath = os.fspath(filepath)
    members = _read_archive(filepath, what)
    if _METADATA in members:
        metadata = _read_json(members[_METADATA], _METADATA, filepath, what)
        if metadata.get("format") != FORMAT or int(metadata.get("version", 0)) > VERSION:
            raise ValueError(f"{what}: {filepath!r} has format {metadata.get('format')!r} version "
                             f"{metadata.get('version')!r}; this ganglion reads {FORMAT!r} up to version {VERSION}")
    else:
        raise ValueError(f"{what}: {filepath!r} has no {_METADATA}: it was not written by ganglion (a Keras .keras "
                         "file holds HDF5 weights, which ganglion does not read)")
    config = _read_json(members[_CONFIG], _CONFIG, filepath, what)
    if not isinstance(config, dict) or "model" not in config:
        raise ValueError(f"{what}: {_CONFIG} in {filepath!r} does not describe a model")
    model = deserialize_layer(config["model"], custom_objects)
    weights, _ = load_with_metadata_bytes(members[_WEIGHTS], f"{filepath}/{_WEIGHTS}")
    _assign_weights(model, weights, f"the weights in {filepath!r}")
    if compile and config.get("compile") is not None:
        _deserialize_compile(model, config["compile"], custom_objects)
        opt_meta = config.get("optimizer_state")
        if opt_meta is not None and _OPTIMIZER in members:
            _restore_optimizer(model, opt_meta, members[_OPTIMIZER], f"{filepath}/{_OPTIMIZER}")
    model.eval()
    return model


def save_weights(model, filepath, overwrite=True):
    """Only the weights, in a safetensors file (Keras' ``.weights.h5`` names are accepted; the content is
    safetensors, not HDF5)."""
    filepath = os.fspath(filepath)
    if os.path.exists(filepath) and not overwrite:
        raise FileExistsError(f"save_weights: {filepath!r} exists and overwrite=False")
    atomic_write_bytes(filepath, to_bytes(weight_items(model), {"format": WEIGHTS_FORMAT}))


def load_weights(model, filepath, skip_mismatch=False):
    """Load weights written by ``save_weights`` (or the weights of a ``.keras`` file) into ``model``."""
    filepath = os.fspath(filepath)
    if not os.path.isfile(filepath):
        raise FileNotFoundError(f"load_weights: no such file: {filepath!r}")
    if zipfile.is_zipfile(filepath):
        raw = _read_archive(filepath, "load_weights")[_WEIGHTS]
    else:
        with open(filepath, "rb") as f:
            raw = f.read()
    tensors, metadata = load_with_metadata_bytes(raw, filepath)
    if metadata is not None and isinstance(metadata, dict) and metadata.get("format") not in (None, WEIGHTS_FORMAT):
        raise ValueError(f"load_weights: {filepath!r} holds {metadata.get('format')!r} data, not Keras weights")
    _assign_weights(model, tensors, f"the weights in {filepath!r}", skip_mismatch)
