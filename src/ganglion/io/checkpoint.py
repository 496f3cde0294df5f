"""``ganglion.save`` / ``ganglion.load``: what tutorials do with ``torch.save`` / ``torch.load``, without pickle.

A flat dict of name -> Tensor (a ``state_dict``) is written as a plain safetensors file that any safetensors reader
opens. Anything else (a Tensor, a checkpoint dict holding a model's and an optimizer's state, lists, tuples, plain
values) is written the same way with its shape as JSON in the file's metadata (see ``structure.py``). The target may
be a path, a path-like object or a binary file object (``io.BytesIO``, ``open(p, "wb")``); a path is written
atomically.

Loading reads the file with the bounded reader of ``safetensors_format`` and refuses pickled PyTorch files with an
explanation rather than unpickling them.
"""

import io
import json
import os

from .. import backend
from ..tensor import Tensor
from .atomic import atomic_write_bytes
from .json_fields import loads
from .pickled import refuse_pickled
from .structure import STRUCTURE_KEY, decode, encode
from .weights import read_stream, to_bytes


def _is_state_dict(obj):
    return (isinstance(obj, dict) and bool(obj) and all(isinstance(k, str) for k in obj)
            and all(type(v) is Tensor and not v.requires_grad and v.device.type == "cpu" for v in obj.values()))


def to_checkpoint_bytes(obj, metadata=None):
    """The bytes of the safetensors file that ``save`` writes for ``obj``."""
    if _is_state_dict(obj):
        return to_bytes(obj, metadata)
    tree, arrays = encode(obj)
    return to_bytes(arrays, metadata, extra={STRUCTURE_KEY: json.dumps(tree, allow_nan=False)})


def save(obj, f, metadata=None):
    """Write ``obj`` (a Tensor, a state dict, or lists / tuples / dicts of tensors and plain values) to ``f``: a
    path (written atomically), a path-like object or a binary file object. ``metadata``: an optional dict of JSON
    values stored beside it (for a state dict; read back with ``load_with_metadata``)."""
    data = to_checkpoint_bytes(obj, metadata)
    if isinstance(f, (str, bytes, os.PathLike)):
        atomic_write_bytes(f, data)
        return
    if isinstance(f, io.TextIOBase) or not hasattr(f, "write"):
        raise TypeError(f"save: expected a path or a binary file object (opened with 'wb'), got {type(f).__name__}")
    f.write(data)
    if hasattr(f, "flush"):
        f.flush()


def load(f, map_location=None, weights_only=True):
    """Read what ``save`` wrote (or any safetensors file) from a path, a path-like object or a binary file object.

    ``map_location``: None keeps each tensor on the device it was saved from; a device (``"cpu"``, ``"cuda:0"``,
    ``ganglion.device(...)``) puts every tensor there; a dict maps saved devices to new ones (``{"cuda:0":
    "cpu"}``). ``weights_only``: accepted as in ``torch.load``; ganglion files hold no code, so loading is always
    what ``weights_only=True`` means there.

    A file without structure metadata (a state dict, or a safetensors file from elsewhere) loads as an OrderedDict
    of name -> Tensor in file order.
    """
    if weights_only not in (True, False, None):
        raise TypeError(f"load: weights_only must be True, False or None, got {weights_only!r}")
    place = _placer(map_location)
    if isinstance(f, (str, bytes, os.PathLike)):
        path = os.fsdecode(f)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"load: no such file: {path!r}")
        with open(path, "rb") as stream:
            return _load_stream(stream, os.fstat(stream.fileno()).st_size, path, place)
    if isinstance(f, io.TextIOBase) or not hasattr(f, "read"):
        raise TypeError(f"load: expected a path or a binary file object (opened with 'rb'), got {type(f).__name__}")
    if not (hasattr(f, "seek") and hasattr(f, "tell")) or (hasattr(f, "seekable") and not f.seekable()):
        raise TypeError("load: the file object must be seekable (its size is checked before anything is read)")
    start = f.tell()
    size = f.seek(0, io.SEEK_END) - start
    f.seek(start)
    return _load_stream(f, size, getattr(f, "name", None) or f"<{type(f).__name__}>", place)


def _load_stream(stream, size, where, place):
    start = stream.tell()
    refuse_pickled(stream, where)
    stream.seek(start)
    header, tensors = read_stream(stream, size, where)
    if STRUCTURE_KEY not in header.metadata:
        for name, t in tensors.items():
            tensors[name] = Tensor._wrap(place(t.array, backend.CPU))
        return tensors
    try:
        tree = loads(header.metadata[STRUCTURE_KEY], f"metadata field {STRUCTURE_KEY}")
    except ValueError as e:
        raise ValueError(f"load: {where!r}: {e}") from None
    return decode(tree, {name: t.array for name, t in tensors.items()}, where, place)


def _placer(map_location):
    """``place(array, saved_device)`` -> the array on the device ``map_location`` chooses."""
    if callable(map_location) and not isinstance(map_location, backend.Device):
        raise TypeError("load: map_location as a function is not supported; pass a device or a dict of devices")
    if isinstance(map_location, dict):
        table = {backend.Device(k): backend.Device(v) for k, v in map_location.items()}
        return lambda array, saved: backend.to_device(array, table.get(saved, saved))
    if map_location is not None:
        target = backend.Device(str(map_location))
        return lambda array, saved: backend.to_device(array, target)
    return _restore


def _restore(array, saved):
    if saved.type == "cuda" and not backend.cuda_is_available():
        raise RuntimeError(f"load: a tensor was saved on {saved}, but no GPU is available here; pass "
                           "map_location='cpu' to load it on the CPU")
    return backend.to_device(array, saved)
