"""Raw dataset file formats, parsed directly (never unpickled).

IDX (the MNIST family): two zero bytes, a type code, the number of dimensions n, then n big-endian uint32 sizes
and the values in row-major order, big-endian. Files may be gzip-compressed (recognised by their first bytes).

CIFAR binary: fixed-length records, each ``label_bytes`` label bytes then 3072 pixel bytes: the 1024 red values of
the 32 x 32 image row by row, then the green, then the blue.
"""

import gzip
import os
import struct
import zlib

import numpy as np

IDX_TYPES = {0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
             0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
_GZIP_MAGIC = b"\x1f\x8b"
CIFAR_IMAGE_BYTES = 3 * 32 * 32


def _read_bytes(path):
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] != _GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as error:
        raise ValueError(f"{path}: corrupt or truncated gzip data ({error})") from None


def read_idx(path):
    """The array stored in an IDX file (gzip or raw), in native byte order."""
    path = os.fspath(path)
    raw = _read_bytes(path)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in IDX_TYPES:
        raise ValueError(f"{path}: not an IDX file (it starts with bytes {raw[:4].hex() or 'nothing'}; expected "
                         f"00 00, a type code in {sorted(hex(k) for k in IDX_TYPES)}, and the number of dimensions)")
    dtype, ndim = IDX_TYPES[raw[2]], raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: truncated IDX file: the header needs {header} bytes, the file has {len(raw)}")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != expected:
        raise ValueError(
            f"{path}: truncated or corrupt IDX file: the header declares shape {shape} of {dtype.name} "
            f"({expected} bytes of data), but the file holds {len(raw) - header} bytes after the header"
        )
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def write_idx(path, array):
    """Write ``array`` (of a dtype IDX can hold) as an uncompressed IDX file."""
    array = np.asarray(array)
    codes = {(v.kind, v.itemsize): k for k, v in IDX_TYPES.items()}
    code = codes.get((array.dtype.kind, array.dtype.itemsize))
    if code is None:
        raise TypeError(f"write_idx: IDX cannot store dtype {array.dtype}")
    big = array.astype(IDX_TYPES[code], copy=False)
    with open(path, "wb") as f:
        f.write(bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) + big.tobytes())


def read_cifar_records(path, label_bytes, label_limits):
    """Images (N, 32, 32, 3) uint8 and labels (N, label_bytes) from a CIFAR binary file; ``label_limits[k]`` is
    the number of classes of label byte k (a larger value means the file is corrupt)."""
    path = os.fspath(path)
    raw = np.fromfile(path, dtype=np.uint8)
    record = label_bytes + CIFAR_IMAGE_BYTES
    if raw.size == 0 or raw.size % record:
        raise ValueError(f"{path}: corrupt or truncated CIFAR binary file: {raw.size} bytes is not a whole number of "
                         f"{record}-byte records")
    records = raw.reshape(-1, record)
    labels = records[:, :label_bytes].astype(np.int64)
    for k, limit in enumerate(label_limits):
        if labels.size and labels[:, k].max() >= limit:
            raise ValueError(f"{path}: corrupt CIFAR binary file: label byte {k} holds {labels[:, k].max()}, but "
                             f"there are only {limit} classes")
    images = records[:, label_bytes:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels
