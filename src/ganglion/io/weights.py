"""Tensors to and from safetensors files: a JSON header and raw little-endian arrays, nothing that can run code.

Writing uses the ``safetensors`` package; reading is ganglion's own (``safetensors_format``), bounded and checked
against the file's size before any tensor is allocated.
"""

import io
import json
import os
from collections import OrderedDict

from safetensors.numpy import save as _st_save

from .. import backend
from ..tensor import Tensor
from .atomic import atomic_write_bytes
from .safetensors_format import METADATA_KEY, ORDER_KEY, read_header, read_tensors


def to_bytes(tensors, metadata=None, extra=None):
    """The bytes of a safetensors file holding a dict of name -> Tensor (or array), keys kept in order.

    ``metadata``: an optional dict of JSON-serializable values, stored in the file's header. ``extra``: more
    ``__metadata__`` fields, str -> str, written as given.
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
    header = {ORDER_KEY: json.dumps(list(arrays))}  # safetensors itself does not keep the dict's order
    if metadata is not None:
        header[METADATA_KEY] = json.dumps(metadata)
    header.update(extra or {})
    return _st_save(arrays, metadata=header)


def save(tensors, path, metadata=None):
    """Write a dict of name -> Tensor (e.g. ``model.state_dict()``) to a safetensors file, atomically."""
    atomic_write_bytes(path, to_bytes(tensors, metadata))


def read_stream(stream, size, where, check=None):
    """(Header, OrderedDict of name -> Tensor) from a safetensors ``stream`` of ``size`` bytes.

    ``check(header)``, if given, runs after the header is read and checked and before any tensor is allocated: the
    place to compare the tensors' names and shapes with what the caller expects.
    """
    header = read_header(stream, size, where)
    if check is not None:
        check(header)
    arrays = read_tensors(header, stream)
    return header, OrderedDict((name, Tensor._wrap(array)) for name, array in arrays.items())


def read_file(path, check=None, what="load"):
    """``read_stream`` for the file at ``path``."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{what}: no such file: {path!r}")
    with open(path, "rb") as f:
        return read_stream(f, os.fstat(f.fileno()).st_size, path, check)


def load_with_metadata(path):
    """Read a safetensors file: (OrderedDict of name -> Tensor in file order, metadata dict or None)."""
    header, tensors = read_file(path)
    return tensors, header.payload


def load_with_metadata_bytes(raw, where="<bytes>"):
    """``load_with_metadata`` for the bytes of a safetensors file (e.g. read from inside a zip)."""
    header, tensors = read_stream(io.BytesIO(raw), len(raw), where)
    return tensors, header.payload


def load(path):
    """Read the tensors of a safetensors file as an OrderedDict of name -> Tensor (what ``save`` wrote)."""
    return load_with_metadata(path)[0]
