"""A ``.keras`` zip, read member by member and never further than its declared sizes allow.

Only the members a loader asks for are read. Each is first judged by its central-directory entry: its declared
(uncompressed) size must stay under the cap the caller gives and within ``MAX_COMPRESSION_RATIO`` of its compressed
size (any ratio is accepted up to ``RATIO_FREE_BYTES``). Then it is read through ``BoundedReader``, which hands out
at most the declared size and refuses a stream that goes on beyond it, so a lying header cannot make the loader
allocate more than it was allowed. Zip and deflate errors become ValueErrors naming the file and the member.
"""

import zipfile
import zlib

from ...io.limits import MAX_COMPRESSION_RATIO, RATIO_FREE_BYTES, READ_CHUNK_BYTES

_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError)


def _broken(filepath, what, e):
    return ValueError(f"{what}: {filepath!r} is not a valid .keras file: it is truncated, corrupt or not a zip "
                      f"archive ({e})")


class BoundedReader:
    """A read-only stream over one zip member that yields at most ``limit`` bytes: asking for more than the member
    holds, or finding that it decompresses to more, is a ValueError naming the member."""

    def __init__(self, stream, limit, where, on_error):
        self._stream, self._left, self.where, self._on_error = stream, limit, where, on_error

    def read(self, size):
        size = min(size, self._left, READ_CHUNK_BYTES)
        try:
            data = self._stream.read(size) if size > 0 else b""
        except _ZIP_ERRORS as e:
            raise self._on_error(e) from None
        self._left -= len(data)
        return data

    def readinto(self, buffer):
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def expect_end(self):
        """ValueError unless the member ends exactly where its declared size says."""
        if self._left:
            raise ValueError(f"{self.where} ends {self._left} bytes before its declared size")
        try:
            extra = self._stream.read(1)
        except _ZIP_ERRORS as e:
            raise self._on_error(e) from None
        if extra:
            raise ValueError(f"{self.where} decompresses to more than its declared size")


class Archive:
    """An open ``.keras`` zip: ``names``, ``size(name)``, ``read(name, cap)`` for small members and
    ``stream(name, cap)`` for the safetensors ones. A context manager."""

    def __init__(self, filepath, what):
        self.filepath, self.what = filepath, what
        try:
            self._zip = zipfile.ZipFile(filepath)
        except (*_ZIP_ERRORS, ValueError) as e:
            raise _broken(filepath, what, e) from None
        self.names = set(self._zip.namelist())

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._zip.close()

    def where(self, name):
        return f"{self.filepath}/{name}"

    def _info(self, name, cap):
        """The member's entry after checking its declared size against ``cap`` and the compression ratio bound."""
        info = self._zip.getinfo(name)
        declared, packed = info.file_size, info.compress_size
        if cap is not None and declared > cap:
            raise ValueError(f"{self.what}: member {name!r} of {self.filepath!r} declares {declared} bytes, more than "
                             f"the {cap} ganglion allows for it")
        if declared > max(RATIO_FREE_BYTES, MAX_COMPRESSION_RATIO * packed):
            raise ValueError(f"{self.what}: member {name!r} of {self.filepath!r} declares {declared} bytes from "
                             f"{packed} compressed (ratio {declared / max(packed, 1):.0f}:1); above "
                             f"{RATIO_FREE_BYTES} bytes ganglion accepts at most {MAX_COMPRESSION_RATIO}:1 (a zip "
                             "bomb?)")
        return info

    def size(self, name):
        """The declared uncompressed size of member ``name``."""
        return self._zip.getinfo(name).file_size

    def stream(self, name, cap=None):
        """(BoundedReader, declared size) for member ``name``."""
        info = self._info(name, cap)
        try:
            raw = self._zip.open(info)
        except _ZIP_ERRORS as e:
            raise self._member_broken(name, e) from None
        return BoundedReader(raw, info.file_size, self.where(name), lambda e: self._member_broken(name, e)), \
            info.file_size

    def read(self, name, cap):
        """The bytes of member ``name`` (at most ``cap``), read in bounded chunks."""
        reader, size = self.stream(name, cap)
        parts, left = [], size
        while left:
            chunk = reader.read(left)
            if not chunk:
                break
            parts.append(chunk)
            left -= len(chunk)
        reader.expect_end()
        return b"".join(parts)

    def _member_broken(self, name, e):
        return ValueError(f"{self.what}: {self.filepath!r} is not a valid .keras file: member {name!r} is "
                          f"truncated or corrupt ({e})")
