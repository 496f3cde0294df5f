"""The safetensors format, read by hand and trusting nothing.

A file is an 8-byte little-endian header length n, n bytes of JSON, then the tensors' raw little-endian bytes::

    {"__metadata__": {str: str}, "<name>": {"dtype": "F32", "shape": [3, 4], "data_offsets": [begin, end]}, ...}

Offsets count from the first byte after the header. Before any tensor is allocated the header is checked whole:
its length against the file's size and ``MAX_HEADER_BYTES``; each tensor's dtype known, shape a list of
non-negative ints, ``end - begin = prod(shape) * itemsize``; the tensors tiling the data exactly (no overlap, no
hole, nothing after the last, as the format requires). The tensor list is the header's own; ganglion's
``ganglion.keys`` metadata only orders it, and must name exactly the same tensors.

Reading is bounded: at most ``n`` bytes for the header, then each tensor's bytes in chunks into its own array, so
memory never exceeds the size the header (already checked against the file) declares.
"""

import math
from collections import OrderedDict

import numpy as np

from . import json_fields
from .limits import MAX_HEADER_BYTES, MAX_TENSOR_DIMS, READ_CHUNK_BYTES

DTYPES = OrderedDict([
    ("BOOL", np.dtype("bool")), ("U8", np.dtype("uint8")), ("I8", np.dtype("int8")), ("U16", np.dtype("<u2")),
    ("I16", np.dtype("<i2")), ("F16", np.dtype("<f2")), ("U32", np.dtype("<u4")), ("I32", np.dtype("<i4")),
    ("F32", np.dtype("<f4")), ("U64", np.dtype("<u8")), ("I64", np.dtype("<i8")), ("F64", np.dtype("<f8")),
])
ORDER_KEY = "ganglion.keys"  # metadata: the names in the order they were given to save (a JSON list)
METADATA_KEY = "ganglion"    # metadata: ganglion's JSON payload (a model's architecture, a format name, ...)


class TensorEntry:
    """One tensor of the header: its dtype (NumPy), shape, and byte range [begin, end) in the data section."""

    __slots__ = ("name", "dtype", "shape", "begin", "end")

    def __init__(self, name, dtype, shape, begin, end):
        self.name, self.dtype, self.shape, self.begin, self.end = name, dtype, shape, begin, end


class Header:
    """A checked safetensors header: ``tensors`` (name -> TensorEntry, in the saver's order), ``metadata`` (the
    string-to-string ``__metadata__``), ``payload`` (ganglion's JSON metadata, parsed; None if absent), and the
    sizes: the header's ``length`` n and the data section's ``data_length``."""

    def __init__(self, where, length, data_length, tensors, metadata, payload):
        self.where, self.length, self.data_length = where, length, data_length
        self.tensors, self.metadata, self.payload = tensors, metadata, payload

    @property
    def total_length(self):
        return 8 + self.length + self.data_length

    def shapes(self):
        """{name: shape} of every tensor, in order."""
        return OrderedDict((name, entry.shape) for name, entry in self.tensors.items())


def invalid(where, detail):
    return ValueError(f"load: {where!r} is not a valid safetensors file ({detail})")


def read_exactly(stream, count, where, what):
    """``count`` bytes from ``stream``, read in bounded chunks; a ValueError if the stream ends first."""
    parts, left = [], count
    while left:
        chunk = stream.read(min(left, READ_CHUNK_BYTES))
        if not chunk:
            raise invalid(where, f"it ends {left} bytes short of its {what}")
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


def read_header(stream, size, where):
    """Read and check the header at the start of ``stream``, whose whole length is ``size`` bytes; the stream is left
    at the first byte of the data."""
    if size < 8:
        raise invalid(where, f"{size} bytes, fewer than the 8 that give the header's length")
    length = int.from_bytes(read_exactly(stream, 8, where, "header length"), "little")
    if length > size - 8:
        raise invalid(where, f"the header claims {length} bytes but only {size - 8} follow the length")
    if length > MAX_HEADER_BYTES:
        raise invalid(where, f"the header claims {length} bytes, more than the {MAX_HEADER_BYTES} ganglion reads")
    raw = read_exactly(stream, length, where, "header")
    if not raw.startswith(b"{"):
        raise invalid(where, "the header is not a JSON object")
    try:
        document = json_fields.loads(raw, "its header", max_depth=3)
    except ValueError as e:
        raise invalid(where, str(e)) from None
    return check_header(document, length, size - 8 - length, where)


def check_header(document, length, data_length, where):
    """A Header from the parsed JSON ``document``, every tensor checked against the ``data_length`` bytes of data."""
    if not isinstance(document, dict):
        raise invalid(where, "the header is not a JSON object")
    declared = document.get("__metadata__")  # optional; null counts as absent, as in the reference reader
    metadata = _metadata({} if declared is None else declared, where)
    entries = [_entry(name, spec, data_length, where) for name, spec in document.items() if name != "__metadata__"]
    _check_tiling(entries, data_length, where)
    by_name = {entry.name: entry for entry in entries}
    order = _order(metadata, by_name, where)
    payload = None
    if METADATA_KEY in metadata:
        try:
            payload = json_fields.loads(metadata[METADATA_KEY], f"metadata field {METADATA_KEY!r}")
        except ValueError as e:
            raise invalid(where, str(e)) from None
    return Header(where, length, data_length, OrderedDict((name, by_name[name]) for name in order), metadata,
                  payload)


def _metadata(value, where):
    if not isinstance(value, dict):
        raise invalid(where, f"__metadata__ must be an object of strings, got {json_fields.describe(value)}")
    for key, text in value.items():
        if not isinstance(text, str):
            raise invalid(where, f"__metadata__ field {key!r} must be a string, got {json_fields.describe(text)}")
    return value


def _entry(name, spec, data_length, where):
    def bad(detail):
        return invalid(where, f"tensor {name!r}: {detail}")

    if not isinstance(spec, dict):
        raise bad(f"expected an object with dtype, shape and data_offsets, got {json_fields.describe(spec)}")
    for key in ("dtype", "shape", "data_offsets"):
        if key not in spec:
            raise bad(f"field {key!r} is missing")
    dtype = DTYPES.get(spec["dtype"]) if isinstance(spec["dtype"], str) else None
    if dtype is None:
        raise bad(f"dtype {spec['dtype']!r} is not one ganglion reads ({', '.join(DTYPES)})")
    shape = spec["shape"]
    if not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0
                                              for d in shape):
        raise bad(f"shape must be a list of non-negative integers, got {json_fields.describe(shape)}")
    if len(shape) > MAX_TENSOR_DIMS:
        raise bad(f"shape has {len(shape)} dimensions, more than {MAX_TENSOR_DIMS}")
    offsets = spec["data_offsets"]
    if not (isinstance(offsets, list) and len(offsets) == 2
            and all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)):
        raise bad(f"data_offsets must be [begin, end], got {json_fields.describe(offsets)}")
    begin, end = offsets
    if not 0 <= begin <= end <= data_length:
        raise bad(f"data_offsets [{begin}, {end}] lie outside the {data_length} bytes of data")
    if math.prod(max(d, 1) for d in shape) * dtype.itemsize >= 2**62:
        raise bad(f"shape {shape} is too large for any array")
    size = math.prod(shape) * dtype.itemsize
    if end - begin != size:
        raise bad(f"shape {shape} of {spec['dtype']} needs {size} bytes, data_offsets [{begin}, {end}] hold "
                  f"{end - begin}")
    return TensorEntry(name, dtype, tuple(shape), begin, end)


def _check_tiling(entries, data_length, where):
    """The tensors cover [0, data_length) exactly, one after another."""
    position, previous = 0, None
    for entry in sorted(entries, key=lambda e: (e.begin, e.end)):
        if entry.begin < position:
            raise invalid(where, f"tensors {previous.name!r} and {entry.name!r} overlap (bytes [{entry.begin}, "
                                 f"{position}))")
        if entry.begin > position:
            raise invalid(where, f"bytes [{position}, {entry.begin}) of the data belong to no tensor")
        position, previous = entry.end, entry
    if position != data_length:
        raise invalid(where, f"bytes [{position}, {data_length}) of the data belong to no tensor")


def _order(metadata, by_name, where):
    if ORDER_KEY not in metadata:
        return sorted(by_name)
    try:
        order = json_fields.loads(metadata[ORDER_KEY], f"metadata field {ORDER_KEY!r}", max_depth=1)
    except ValueError as e:
        raise invalid(where, str(e)) from None
    if not isinstance(order, list) or not all(isinstance(k, str) for k in order):
        raise invalid(where, f"metadata field {ORDER_KEY!r} must be a list of tensor names")
    if len(order) != len(by_name) or set(order) != set(by_name):
        missing = sorted(set(by_name) - set(order))
        extra = sorted(set(order) - set(by_name))
        raise invalid(where, f"metadata field {ORDER_KEY!r} does not list the header's tensors exactly (not listed: "
                             f"{missing}; listed but absent: {extra}; {len(order)} names for {len(by_name)} tensors)")
    return order


def read_tensors(header, stream):
    """{name: NumPy array} for every tensor of ``header``, read from ``stream`` (positioned at the data's first byte),
    in the header's order."""
    arrays = {}
    for entry in sorted(header.tensors.values(), key=lambda e: (e.begin, e.end)):
        array = np.empty(entry.shape, dtype=entry.dtype)
        view = memoryview(array.reshape(-1).view(np.uint8))
        filled = 0
        while filled < array.nbytes:
            got = stream.readinto(view[filled:filled + READ_CHUNK_BYTES])
            if not got:
                raise invalid(header.where, f"it ends inside tensor {entry.name!r}")
            filled += got
        arrays[entry.name] = array
    return OrderedDict((name, arrays[name]) for name in header.tensors)
