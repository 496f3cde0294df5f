"""``model.save`` / ``keras.models.load_model``: one ``.keras`` file, a zip holding ``config.json`` (architecture and
compile settings), ``model.weights.safetensors`` and, once trained, the optimizer's state. Written atomically; read
without executing anything from the file."""

import io
import json
import os
import zipfile

import numpy as np

from ...io.atomic import atomic_write_bytes
from ...io.weights import load_with_metadata, load_with_metadata_bytes, to_bytes
from .serialization import deserialize_layer, register_keras_serializable, serialize_layer

FORMAT = "ganglion.keras/1"


def _compile_config(model):
    if not model.compiled:
        return None

    def name(x):
        if x is None or isinstance(x, (str, int, float)):
            return x
        if isinstance(x, (list, tuple)):
            return [name(v) for v in x]
        if isinstance(x, dict):
            return {k: name(v) for k, v in x.items()}
        if hasattr(x, "get_config") and hasattr(type(x), "fn"):
            return {"class_name": type(x).__name__, "config": x.get_config()}
        return getattr(x, "__name__", None) or getattr(x, "name", None)

    opt = model.optimizer
    return {"optimizer": {"class_name": type(opt).__name__, "config": opt.get_config()},
            "loss": name(model._loss_spec), "metrics": name(model._metric_spec),
            "loss_weights": model._loss_weights}


def _optimizer_state(model):
    if not model.compiled or not model.optimizer.built:
        return None, {}
    state = model.optimizer._engine.state_dict()
    tensors = {}
    for index, entry in state["state"].items():
        for key, value in entry.items():
            tensors[f"{index}/{key}"] = value
    meta = {"iterations": model.optimizer.iterations, "param_groups": state["param_groups"]}
    return meta, tensors


def save_model(model, filepath, overwrite=True):
    """Save architecture, weights, compile settings and optimizer state to ``filepath`` (a .keras zip)."""
    filepath = os.fspath(filepath)
    if not filepath.endswith(".keras"):
        raise ValueError(f"model.save: the file name must end in .keras, got {filepath!r} "
                         "(use save_weights for weights only)")
    if os.path.exists(filepath) and not overwrite:
        raise FileExistsError(f"model.save: {filepath!r} exists and overwrite=False")
    config = {"format": FORMAT, "model": serialize_layer(model), "compile": _compile_config(model)}
    opt_meta, opt_tensors = _optimizer_state(model)
    config["optimizer_state"] = opt_meta
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("config.json", json.dumps(config, indent=1, default=_json_default))
        z.writestr("model.weights.safetensors", to_bytes(model.state_dict()))
        if opt_meta is not None:
            z.writestr("optimizer.safetensors", to_bytes(opt_tensors))
    atomic_write_bytes(filepath, buffer.getvalue())


def _json_default(value):
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    if isinstance(value, np.dtype):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"cannot save {type(value).__name__} {value!r} in a model config")


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Rebuild a model saved by ``model.save``: architecture, weights, and (if compiled) optimizer state."""
    filepath = os.fspath(filepath)
    if not os.path.isfile(filepath):
        raise FileNotFoundError(f"load_model: no such file: {filepath!r}")
    try:
        with zipfile.ZipFile(filepath) as z:
            names = set(z.namelist())
            if "config.json" not in names or "model.weights.safetensors" not in names:
                raise ValueError(f"load_model: {filepath!r} is not a ganglion .keras file (config.json or weights "
                                 "missing)")
            config = json.loads(z.read("config.json"))
            weights_raw = z.read("model.weights.safetensors")
            optimizer_raw = z.read("optimizer.safetensors") if "optimizer.safetensors" in names else None
    except zipfile.BadZipFile:
        raise ValueError(f"load_model: {filepath!r} is truncated or not a .keras zip file") from None
    if config.get("format") != FORMAT:
        raise ValueError(f"load_model: {filepath!r} has format {config.get('format')!r}, expected {FORMAT!r}")
    model = deserialize_layer(config["model"], custom_objects)
    weights, _ = load_with_metadata_bytes(weights_raw, filepath)
    model.load_state_dict(weights)
    compile_config = config.get("compile")
    if compile and compile_config is not None:
        from .. import losses, optimizers

        opt_cfg = compile_config["optimizer"]
        optimizer = optimizers.get(opt_cfg["class_name"]).__class__.from_config(opt_cfg["config"])
        loss = _revive_losses(compile_config["loss"], losses)
        model.compile(optimizer=optimizer, loss=loss, metrics=compile_config.get("metrics"),
                      loss_weights=compile_config.get("loss_weights"))
        opt_meta = config.get("optimizer_state")
        if opt_meta is not None and optimizer_raw is not None:
            tensors, _ = load_with_metadata_bytes(optimizer_raw, filepath)
            state = {}
            for key, value in tensors.items():
                index, name = key.split("/", 1)
                state.setdefault(int(index), {})[name] = value
            model._ensure_optimizer()
            model.optimizer._engine.load_state_dict({"state": state, "param_groups": opt_meta["param_groups"]})
            model.optimizer.iterations = int(opt_meta["iterations"])
    model.eval()
    return model


def _revive_losses(spec, losses):
    if isinstance(spec, dict) and "class_name" in spec:
        return losses.get(spec)
    if isinstance(spec, list):
        return [_revive_losses(s, losses) for s in spec]
    if isinstance(spec, dict):
        return {k: _revive_losses(v, losses) for k, v in spec.items()}
    return spec


def save_weights(model, filepath, overwrite=True):
    """Only the weights, as a safetensors file (any name; Keras' ``.weights.h5`` suffix is accepted too)."""
    filepath = os.fspath(filepath)
    if os.path.exists(filepath) and not overwrite:
        raise FileExistsError(f"save_weights: {filepath!r} exists and overwrite=False")
    atomic_write_bytes(filepath, to_bytes(model.state_dict(), {"format": "ganglion.keras.weights/1"}))


def load_weights(model, filepath):
    tensors, _ = load_with_metadata(filepath)
    model.load_state_dict(tensors)


__all__ = ["save_model", "load_model", "save_weights", "load_weights", "register_keras_serializable"]
