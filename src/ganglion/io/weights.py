"""Tensors to and from safetensors files: a JSON header and raw little-endian arrays, nothing that can run code."""

import json
import os
from collections import OrderedDict

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load as _st_load
from safetensors.numpy import save as _st_save

from .. import backend
from ..tensor import Tensor
from .atomic import atomic_write_bytes


def to_bytes(tensors, metadata=None):
    """The bytes of a safetensors file holding a dict of name -> Tensor (or array), keys kept in order.

    ``metadata``: an optional dict of JSON-serializable values, stored in the file's header.
    """
    if not isinstance(tensors, dict):
        raise TypeError(f"save: expected a dict of name -> Tensor (such as a state_dict), got {type(tensors).__name__}")
    arrays = {}
    for name, value in tensors.items():
        if not isinstance(name, str):
            raise TypeError(f"save: keys must be strings, got {name!r}")
        array = value.array if isinstance(value, Tensor) else value
        if not hasattr(array, "shape"):
            raise TypeError(f"save: value for {name!r} is a {type(value).__name__}, not a Tensor or array")
        array = backend.to_numpy(array)
        arrays[name] = array if array.flags.c_contiguous else array.copy()  # (ascontiguousarray makes 0-d 1-d)
    header = {"ganglion.keys": json.dumps(list(arrays))}  # safetensors itself does not keep the dict's order
    if metadata is not None:
        header["ganglion"] = json.dumps(metadata)
    return _st_save(arrays, metadata=header)


def save(tensors, path, metadata=None):
    """Write a dict of name -> Tensor (e.g. ``model.state_dict()``) to a safetensors file, atomically."""
    atomic_write_bytes(path, to_bytes(tensors, metadata))


def load_with_metadata(path):
    """Read a safetensors file: (OrderedDict of name -> Tensor in file order, metadata dict or None)."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"load: no such file: {path!r}")
    with open(path, "rb") as f:
        raw = f.read()
    return load_with_metadata_bytes(raw, path)


def load_with_metadata_bytes(raw, where="<bytes>"):
    """``load_with_metadata`` for the bytes of a safetensors file (e.g. read from inside a zip)."""
    try:
        arrays = _st_load(raw)
    except (SafetensorError, ValueError, OSError) as e:
        raise ValueError(f"load: {where!r} is not a valid safetensors file ({e})") from None
    header_len = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + header_len])
    meta = header.get("__metadata__") or {}
    order = json.loads(meta["ganglion.keys"]) if "ganglion.keys" in meta else sorted(arrays)
    metadata = json.loads(meta["ganglion"]) if "ganglion" in meta else None
    return OrderedDict((k, Tensor._wrap(arrays[k])) for k in order), metadata


def load(path):
    """Read the tensors of a safetensors file as an OrderedDict of name -> Tensor (what ``save`` wrote)."""
    return load_with_metadata(path)[0]
