"""The ``.keras`` file: one zip holding

- ``metadata.json``: the format name and version, when and by what it was saved;
- ``config.json``: the architecture (layer classes and configs, the functional graph), the compile settings
  (optimizer, losses, metrics) and the optimizer's counters;
- ``model.weights.safetensors``: the weights; ``optimizer.safetensors``: the optimizer's state, once trained;
- ``assets/`` and ``layer_variables.safetensors``: what layers keep beside their weights (layer_assets.py).

Written to a temporary file and renamed over the target (a crash leaves the old file or the new one). Read without
executing anything from the file: classes are looked up by name among the built-in layers, the registered ones
(``register_keras_serializable``) and ``custom_objects``.

Loading trusts nothing in the file. Only the members above are read, each bounded by its declared size, a cap and a
compression-ratio limit (archive.py); the JSON is checked field by field before use (config_checks.py); the weights'
header is read and checked before the model is built, and each built-in layer is compared with it before it
allocates its weights (weight_check.py); the tensors are read last. Weights are named by the model's structure
(weight_names.py).
"""

import datetime
import io
import json
import os
import zipfile

import numpy as np

from ...io.atomic import atomic_write_bytes
from ...io.json_fields import loads as json_loads
from ...io.pickled import refuse_pytorch_file
from ...io.limits import MAX_CONFIG_BYTES, MAX_METADATA_BYTES, OPTIMIZER_STATE_FACTOR, OPTIMIZER_STATE_SLACK
from ...io.weights import read_file, read_stream, to_bytes
from .._registry import REGISTRY
from .archive import Archive
from .config_checks import check_config, check_metadata
from .h5_weights import SUFFIX as H5_SUFFIX, is_hdf5, load_h5, save_h5
from .layer_assets import load_layer_state, save_layer_state
from .serialization import deserialize_layer, registered_name_of, serialize_layer
from .weight_check import checking
from .weight_names import assign_weights, check_weights, weight_items

FORMAT, VERSION = "ganglion.keras", 1
WEIGHTS_FORMAT = "ganglion.keras.weights"
_CONFIG, _METADATA, _WEIGHTS, _OPTIMIZER = "config.json", "metadata.json", "model.weights.safetensors", \
    "optimizer.safetensors"


# --------------------------------------------------------------------------------------------- compile config
def _map_entries(x, leaf):
    """``leaf`` applied to every loss or metric in a compile argument: lists and per-output dicts are walked; a
    ``{"class_name", "config"}`` dict is one entry."""
    if isinstance(x, (list, tuple)):
        return [_map_entries(v, leaf) for v in x]
    if isinstance(x, dict) and "class_name" not in x:
        return {k: _map_entries(v, leaf) for k, v in x.items()}
    return leaf(x)


def _serialize_compile(model):
    if not model.compiled:
        return None
    from .. import losses, metrics

    spec = model._compile_spec

    def loss_entry(x):
        return x if x is None or isinstance(x, (str, dict)) else losses.serialize(x)

    def metric_entry(x):
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
            "loss": _map_entries(spec["loss"], loss_entry), "loss_weights": spec["loss_weights"],
            "metrics": _map_entries(spec["metrics"], metric_entry),
            "weighted_metrics": _map_entries(spec["weighted_metrics"], metric_entry)}


def _deserialize_compile(model, config, custom_objects):
    from .. import losses, metrics, optimizers

    def loss_entry(x):
        return None if x is None else losses.deserialize(x, custom_objects)

    def metric_entry(x):
        return metrics.deserialize(x, custom_objects) if isinstance(x, dict) else x

    opt_cfg = config["optimizer"]
    name = opt_cfg["class_name"]
    cls = (custom_objects or {}).get(name) or REGISTRY.get(name)
    if cls is None:
        cls = type(optimizers.get(name))
    optimizer = cls.from_config(opt_cfg["config"], custom_objects=custom_objects)
    model.compile(optimizer=optimizer, loss=_map_entries(config.get("loss"), loss_entry),
                  loss_weights=config.get("loss_weights"), metrics=_map_entries(config.get("metrics"), metric_entry),
                  weighted_metrics=_map_entries(config.get("weighted_metrics"), metric_entry))


def _optimizer_state(model):
    if not model.compiled or not model.optimizer.built:
        return None, {}
    state = model.optimizer._engine.state_dict()
    tensors = {f"{index}/{key}": value for index, entry in state["state"].items() for key, value in entry.items()}
    meta = {"iterations": model.optimizer.iterations, "param_groups": state["param_groups"]}
    return meta, tensors


def _restore_optimizer(model, meta, tensors, where):
    state = {}
    for key, value in tensors.items():
        index, _, name = key.partition("/")
        if not (index.isdigit() and name):
            raise ValueError(f"load_model: tensor {key!r} in {where!r} is not named <parameter index>/<state name>")
        state.setdefault(int(index), {})[name] = value
    model._build_optimizer()
    try:
        model.optimizer._engine.load_state_dict({"state": state, "param_groups": meta["param_groups"]})
    except (ValueError, KeyError, TypeError, IndexError) as e:
        raise ValueError(f"load_model: the optimizer state in {where!r} does not fit the model: {e}") from e
    model.optimizer.iterations = meta["iterations"]


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
        save_layer_state(model, z)
    atomic_write_bytes(filepath, buffer.getvalue())


def _read_json(archive, name, cap):
    return json_loads(archive.read(name, cap), f"{archive.what}: {archive.filepath!r} ({name})")


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Rebuild a model saved by ``model.save``: architecture, weights and, when it was compiled, the compile
    settings and the optimizer's state (so ``fit`` continues where it stopped)."""
    what = "load_model"
    filepath = os.fspath(filepath)
    if not os.path.isfile(filepath):
        raise FileNotFoundError(f"{what}: no such file: {filepath!r}")
    refuse_pytorch_file(filepath, what)
    with Archive(filepath, what) as archive:
        if _CONFIG not in archive.names or _WEIGHTS not in archive.names:
            raise ValueError(f"{what}: {filepath!r} is a zip file but not a ganglion .keras model (it has no "
                             f"{_CONFIG} and {_WEIGHTS})")
        if _METADATA not in archive.names:
            raise ValueError(f"{what}: {filepath!r} has no {_METADATA}: it was not written by ganglion (a Keras "
                             ".keras file holds HDF5 weights, which ganglion does not read)")
        check_metadata(_read_json(archive, _METADATA, MAX_METADATA_BYTES), f"{what}: {filepath!r} ({_METADATA})",
                       FORMAT, VERSION)
        where = f"{what}: {filepath!r} ({_CONFIG})"
        config = _read_json(archive, _CONFIG, MAX_CONFIG_BYTES)
        plan = check_config(config, where, custom_objects)
        built = {}

        def build_model(header):  # runs once the weights' header is checked, before any tensor is read
            with checking(header, plan):
                try:
                    built["model"] = deserialize_layer(config["model"], custom_objects)
                except ValueError as e:
                    raise ValueError(f"{where}: cannot rebuild the model: {e}") from e
                except (TypeError, KeyError, AttributeError, IndexError, RecursionError) as e:
                    # a layer given shapes or arguments it cannot take (from the file), failing inside its own code
                    raise ValueError(f"{where}: cannot rebuild the model: {type(e).__name__}: {e}") from e

        stream, size = archive.stream(_WEIGHTS)
        header, weights = read_stream(stream, size, archive.where(_WEIGHTS), build_model)
        stream.expect_end()
        model = built["model"]
        assign_weights(model, weights, f"the weights in {filepath!r}")
        load_layer_state(model, archive)
        if compile and config.get("compile") is not None:
            try:
                _deserialize_compile(model, config["compile"], custom_objects)
            except (ValueError, TypeError, KeyError, AttributeError) as e:
                raise ValueError(f"{where}: field compile cannot be restored: {type(e).__name__}: {e}") from e
            opt_meta = config.get("optimizer_state")
            if opt_meta is not None and _OPTIMIZER in archive.names:
                cap = OPTIMIZER_STATE_FACTOR * header.total_length + OPTIMIZER_STATE_SLACK
                stream, size = archive.stream(_OPTIMIZER, cap)
                _, tensors = read_stream(stream, size, archive.where(_OPTIMIZER))
                stream.expect_end()
                _restore_optimizer(model, opt_meta, tensors, archive.where(_OPTIMIZER))
    model.eval()
    return model


def save_weights(model, filepath, overwrite=True):
    """Only the weights. A name ending in ``.weights.h5`` gets HDF5 in Keras 3's own layout, which Keras itself reads
    (needs h5py, see h5_weights.py); any other name a safetensors file."""
    filepath = os.fspath(filepath)
    if os.path.exists(filepath) and not overwrite:
        raise FileExistsError(f"save_weights: {filepath!r} exists and overwrite=False")
    if filepath.endswith(H5_SUFFIX):
        save_h5(model, filepath)
        return
    atomic_write_bytes(filepath, to_bytes(weight_items(model), {"format": WEIGHTS_FORMAT}))


def load_weights(model, filepath, skip_mismatch=False):
    """Load weights written by ``save_weights`` (or the weights of a ``.keras`` file) into ``model``: the format is
    told by the file's first bytes, not its name: a zip (``.keras``), HDF5 (Keras 3's ``.weights.h5``, also those
    Keras wrote) or safetensors (also what older ganglion versions wrote under ``.weights.h5`` names). The file's
    header is compared with the model's weights before any tensor is read."""
    filepath = os.fspath(filepath)
    what = "load_weights"
    if not os.path.isfile(filepath):
        raise FileNotFoundError(f"{what}: no such file: {filepath!r}")
    refuse_pytorch_file(filepath, what)

    def check(header):
        metadata = header.payload
        if isinstance(metadata, dict) and metadata.get("format") not in (None, WEIGHTS_FORMAT):
            raise ValueError(f"{what}: {filepath!r} holds {metadata.get('format')!r} data, not Keras weights")
        if not skip_mismatch:
            check_weights(model, header.shapes(), f"the weights in {filepath!r}")

    if zipfile.is_zipfile(filepath):
        with Archive(filepath, what) as archive:
            if _WEIGHTS not in archive.names:
                raise ValueError(f"{what}: {filepath!r} is a zip file but not a ganglion .keras model (it has no "
                                 f"{_WEIGHTS})")
            stream, size = archive.stream(_WEIGHTS)
            _, tensors = read_stream(stream, size, archive.where(_WEIGHTS), check)
            stream.expect_end()
    elif is_hdf5(filepath):
        load_h5(model, filepath, skip_mismatch)
        return
    else:
        _, tensors = read_file(filepath, check, what)
    assign_weights(model, tensors, f"the weights in {filepath!r}", skip_mismatch)
