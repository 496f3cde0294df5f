"""Atomic file writes: write to a temporary file beside the target, flush it to disk, then rename it over the
target. A crash leaves either the old file or the new one, never half of one.

The temporary file ``.{name}.{16 hex digits}.tmp`` is created with mode 0o666 and the process's umask applied by
the kernel, as ``open(path, "wb")`` would, so the saved file gets the same permissions a plain write gives it
(``tempfile.mkstemp`` would make it 0o600).

A save that is killed leaves its temporary file behind. The next save of the same name removes such leftovers:
only files named like its own temporaries (``.{name}.{8 to 16 letters, digits or _}.tmp``, which also covers the
names older versions made with mkstemp), only those untouched for ``STALE_TEMP_SECONDS``, and only those on which no
live save holds its lock: every save keeps an exclusive ``flock`` on its temporary file until it is renamed, and
the sweep skips any file it cannot lock. (Where ``fcntl`` does not exist, the age alone decides.)
"""

import os
import re
import secrets
import time

from .limits import STALE_TEMP_SECONDS

try:
    import fcntl
except ImportError:  # Windows: no flock; stale temporaries are told by their age alone
    fcntl = None


def _temp_pattern(name):
    return re.compile(r"\." + re.escape(name) + r"\.[A-Za-z0-9_]{8,16}\.tmp\Z")


def _create_temp(folder, name):
    """(fd, path) of a new, exclusively created and locked temporary file for target ``name`` in ``folder``."""
    while True:
        tmp = os.path.join(folder, f".{name}.{secrets.token_hex(8)}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        except FileExistsError:
            continue
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        return fd, tmp


def remove_stale_temps(path, older_than=STALE_TEMP_SECONDS):
    """Delete the temporary files that killed saves of ``path`` left behind (see the module docstring); returns the
    paths removed. Best effort: a file that vanishes or cannot be opened meanwhile is left to the next sweep."""
    path = os.fspath(path)
    folder, name = os.path.split(os.path.abspath(path))
    pattern = _temp_pattern(name)
    removed = []
    try:
        candidates = [entry for entry in os.scandir(folder) if pattern.match(entry.name)]
    except FileNotFoundError:
        return removed
    now = time.time()
    for entry in candidates:
        try:
            if not entry.is_file(follow_symlinks=False) or now - entry.stat().st_mtime < older_than:
                continue
            if _unlocked(entry.path):
                os.unlink(entry.path)
                removed.append(entry.path)
        except OSError:  # gone (another sweep took it) or not ours to open: leave it
            continue
    return removed


def _unlocked(path):
    """True if no live save holds the lock on ``path``."""
    if fcntl is None:
        return True
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def atomic_write_bytes(path, data):
    """Write ``data`` (bytes) to ``path`` atomically, creating the parent folder if needed. The file's mode is
    0o666 minus the umask, as for a plain write."""
    path = os.fspath(path)
    folder, name = os.path.split(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    remove_stale_temps(path)
    fd, tmp = _create_temp(folder, name)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
            os.replace(tmp, path)  # while the lock is held, so no sweep can take the file for a leftover
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
