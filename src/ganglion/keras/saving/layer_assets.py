"""What a layer keeps outside its weights, in the ``.keras`` zip, through Keras' hooks:

- ``save_assets(dir_path)`` / ``load_assets(dir_path)``: files the layer writes to a folder (a TextVectorization's
  vocabulary), stored as ``assets/<layer path>/<file name>``;
- ``save_own_variables(store)`` / ``load_own_variables(store)``: arrays put in a dict (its idf weights), stored in
  ``layer_variables.safetensors`` as ``<layer path>/<key>``.

A layer path is the structural name its weights have (weight_names.py), so two instances of one model match. Only
layers that define a hook take part. Loading reads only the members under a layer's own path, each bounded like the
config (archive.py), into a fresh temporary folder; a member name with a folder in it, or one that names no layer
of the model, is refused. Nothing is unpickled: assets are plain files, variables safetensors.
"""

import os
import tempfile

import numpy as np

from ...io.limits import MAX_CONFIG_BYTES
from ...io.weights import read_stream, to_bytes
from .weight_names import child_names

ASSETS, VARIABLES = "assets/", "layer_variables.safetensors"


def _layers_by_path(model):
    """{structural path: layer} of ``model`` and every layer inside it ("" for the model itself)."""
    out, stack = {}, [(model, "")]
    while stack:
        module, path = stack.pop()
        out[path] = module
        names = child_names(module)
        stack.extend((child, f"{path}{names[key]}.") for key, child in module._modules.items() if child is not None)
    return {path.rstrip("."): layer for path, layer in out.items()}


def save_layer_state(model, zf):
    """Write every layer's assets and own variables into the open ``zipfile.ZipFile`` ``zf``."""
    variables = {}
    for path, layer in _layers_by_path(model).items():
        if hasattr(layer, "save_assets"):
            with tempfile.TemporaryDirectory() as folder:
                layer.save_assets(folder)
                for name in sorted(os.listdir(folder)):
                    if not os.path.isfile(os.path.join(folder, name)):
                        raise ValueError(f"model.save: layer {layer.name!r} wrote {name!r} in save_assets, which is "
                                         "not a plain file; assets must be files in the given folder")
                    zf.write(os.path.join(folder, name), f"{ASSETS}{path}/{name}")
        if hasattr(layer, "save_own_variables"):
            store = {}
            layer.save_own_variables(store)
            variables.update({f"{path}/{key}": np.asarray(value) for key, value in store.items()})
    if variables:
        zf.writestr(VARIABLES, to_bytes(variables))


def load_layer_state(model, archive):
    """Give every layer of ``model`` the assets and own variables ``save_layer_state`` stored in ``archive``."""
    layers = _layers_by_path(model)
    assets = {}
    for member in sorted(n for n in archive.names if n.startswith(ASSETS) and not n.endswith("/")):
        path, _, name = member[len(ASSETS):].rpartition("/")
        layer = layers.get(path)
        if layer is None or not hasattr(layer, "load_assets") or name in ("", ".", ".."):
            raise ValueError(f"load_model: {archive.where(member)} belongs to no layer of the model that loads assets")
        assets.setdefault(path, []).append((name, member))
    variables = {}
    if VARIABLES in archive.names:
        stream, size = archive.stream(VARIABLES, MAX_CONFIG_BYTES)
        _, tensors = read_stream(stream, size, archive.where(VARIABLES))
        stream.expect_end()
        for key, value in tensors.items():
            path, _, name = key.rpartition("/")
            if not hasattr(layers.get(path), "load_own_variables"):
                raise ValueError(f"load_model: variable {key!r} in {archive.where(VARIABLES)} belongs to no layer of "
                                 "the model that loads variables")
            variables.setdefault(path, {})[name] = value.numpy()
    for path, files in assets.items():
        with tempfile.TemporaryDirectory() as folder:
            for name, member in files:
                with open(os.path.join(folder, name), "wb") as f:
                    f.write(archive.read(member, MAX_CONFIG_BYTES))
            layers[path].load_assets(folder)
    for path, store in variables.items():
        layers[path].load_own_variables(store)
