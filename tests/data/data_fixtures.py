"""Helpers for the data tests: IDX and CIFAR-binary bytes and tar.gz archives, built here byte by byte
(independently of ganglion's readers)."""

import hashlib
import io
import struct
import tarfile

import numpy as np


def idx_bytes(array, code=0x08):
    """An IDX file's bytes, written independently of ganglion's reader/writer."""
    array = np.asarray(array)
    big = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}[code]
    return bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) + array.astype(big).tobytes()


def md5(data):
    return hashlib.md5(data).hexdigest()


def cifar_records(images, labels):
    """CIFAR binary records: label bytes, then the R, G and B planes of each (32, 32, 3) image."""
    out = bytearray()
    for image, label in zip(images, labels):
        out += bytes(np.atleast_1d(label).astype(np.uint8).tolist())
        out += np.ascontiguousarray(image.transpose(2, 0, 1)).tobytes()
    return bytes(out)


def make_tar(path, members):
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path.read_bytes()
