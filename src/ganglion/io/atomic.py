"""Atomic file writes: write to a temporary file beside the target, flush it to disk, then rename it over the
target. A crash leaves either the old file or the new one, never half of one."""

import os
import tempfile


def atomic_write_bytes(path, data):
    """Write ``data`` (bytes) to ``path`` atomically, creating the parent folder if needed."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
