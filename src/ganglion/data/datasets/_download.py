"""Downloads into the cache: streamed to a temporary file beside the target, checked against an MD5 checksum, then
renamed into place, so the cache only ever holds complete, verified files. An interrupted download (an error,
Ctrl-C, or a killed process, cleaned up by the next attempt) leaves nothing behind.

The cache is ``$GANGLION_HOME`` or ``~/.cache/ganglion``; datasets go under its ``datasets`` folder.
"""

import glob
import hashlib
import os
import tarfile
import tempfile
import urllib.error
import urllib.request
import zlib
from pathlib import Path

_CHUNK = 1 << 20


class DownloadError(OSError):
    """No mirror could deliver a file (offline, or every server failed)."""


class ChecksumError(ValueError):
    """A file's MD5 checksum is not the published one."""


def cache_dir():
    """The cache folder: ``$GANGLION_HOME`` or ``~/.cache/ganglion``."""
    home = os.environ.get("GANGLION_HOME")
    return Path(home).expanduser() if home else Path.home() / ".cache" / "ganglion"


def default_root():
    """Where datasets are kept when no ``root`` is given: ``<cache>/datasets``."""
    return cache_dir() / "datasets"


def md5_file(path):
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_integrity(path, md5=None):
    """True when ``path`` exists and (if ``md5`` is given) has that checksum."""
    return os.path.isfile(path) and (md5 is None or md5_file(path) == md5)


def _temp_beside(path, suffix):
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    return tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=suffix, dir=folder)


def _remove_stale_parts(path):
    """Temporary files of an earlier download of ``path`` that was killed before it could clean up."""
    pattern = os.path.join(os.path.dirname(os.path.abspath(path)), f".{glob.escape(os.path.basename(path))}.*.part")
    for stale in glob.glob(pattern):
        try:
            os.unlink(stale)
        except OSError:
            pass


def _fetch(url, tmp_fd, timeout):
    """Stream ``url`` into the open temporary file; returns the MD5 of what was written."""
    digest = hashlib.md5(usedforsecurity=False)
    request = urllib.request.Request(url, headers={"User-Agent": "ganglion"})
    with os.fdopen(tmp_fd, "wb") as out, urllib.request.urlopen(request, timeout=timeout) as response:
        for chunk in iter(lambda: response.read(_CHUNK), b""):
            out.write(chunk)
            digest.update(chunk)
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest()


def download_url(urls, path, md5=None, timeout=60):
    """Download the first of ``urls`` (mirrors of one file) that works to ``path``, verified against ``md5``.

    Raises ``ChecksumError`` (a ValueError) when every mirror served a file with the wrong checksum, and
    ``DownloadError`` (an OSError) naming each URL, its error and the cache path when none could be reached.
    """
    urls = [urls] if isinstance(urls, str) else list(urls)
    path = os.fspath(path)
    _remove_stale_parts(path)
    failures, mismatches = [], []
    for url in urls:
        fd, tmp = _temp_beside(path, ".part")
        try:
            got = _fetch(url, fd, timeout)
            if md5 is not None and got != md5:
                mismatches.append(f"{url} gave a file with MD5 {got}")
                continue
            os.replace(tmp, path)
            return path
        except (urllib.error.URLError, OSError, ValueError) as error:  # ValueError: a malformed URL
            failures.append(f"{url} ({getattr(error, 'reason', error)})")
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    if mismatches and not failures:
        raise ChecksumError(
            f"checksum mismatch for {os.path.basename(path)}: expected MD5 {md5}, but {'; '.join(mismatches)}. "
            f"Nothing was written to {path}"
        )
    tried = "; ".join(failures + mismatches)
    raise DownloadError(
        f"could not download {os.path.basename(path)} (tried {tried}). It belongs at {path}: check the network "
        f"connection, or put the file there yourself{f' (MD5 {md5})' if md5 else ''}"
    )


def extract_members(archive, members):
    """Copy the regular files ``members`` ({name in the tar.gz: destination path}) out of ``archive``, each written
    atomically. Only the named files are read, so a hostile archive cannot write anywhere else."""
    try:
        with tarfile.open(archive, "r:*") as tar:
            for name, dest in members.items():
                try:
                    info = tar.getmember(name)
                except KeyError:
                    raise ValueError(f"{archive}: corrupt or unexpected archive, it has no member {name!r}") from None
                if not info.isfile():
                    raise ValueError(f"{archive}: corrupt or unexpected archive, {name!r} is not a regular file")
                fd, tmp = _temp_beside(dest, ".part")
                try:
                    with os.fdopen(fd, "wb") as out, tar.extractfile(info) as src:
                        for chunk in iter(lambda: src.read(_CHUNK), b""):
                            out.write(chunk)
                        out.flush()
                        os.fsync(out.fileno())
                    os.replace(tmp, dest)
                finally:
                    if os.path.exists(tmp):
                        os.unlink(tmp)
    except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
        if isinstance(error, (FileNotFoundError, PermissionError)):
            raise
        raise ValueError(f"{archive}: corrupt or truncated archive ({error})") from None
