"""Atomic saves: the saved file gets 0o666 minus the umask (as a plain write would, not mkstemp's 0o600), and a save
removes the temporary files that killed saves of the same name left behind, but never another name's, a fresh one,
or one that a live save still holds locked."""

import os
import stat
import time

import pytest

import ganglion
from ganglion.io.atomic import atomic_write_bytes, remove_stale_temps

fcntl = pytest.importorskip("fcntl")


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002, 0o027])
@pytest.mark.parametrize("overwrite", [False, True])
def test_saved_files_get_the_umask(tmp_path, umask, overwrite):
    path = tmp_path / "m.safetensors"
    if overwrite:
        path.write_bytes(b"old")
        os.chmod(path, 0o600)
    old = os.umask(umask)
    try:
        ganglion.save({"w": ganglion.ones(3)}, path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
    assert sorted(os.listdir(tmp_path)) == ["m.safetensors"]


def _age(path, seconds):
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_a_save_removes_only_stale_unlocked_temporaries_of_its_own_name(tmp_path):
    target = tmp_path / "model.keras"
    legacy = tmp_path / ".model.keras.a1b2_c3d.tmp"        # mkstemp's names, from older versions
    killed = tmp_path / ".model.keras.0123456789abcdef.tmp"
    fresh = tmp_path / ".model.keras.fedcba9876543210.tmp"  # a save that may still be running
    live = tmp_path / ".model.keras.00112233445566ff.tmp"   # old, but a live save holds its lock
    other = tmp_path / ".model.keras.bak.0123456789abcdef.tmp"  # another target's temporary
    unrelated = tmp_path / ".model.keras.notes.txt"
    for path in (legacy, killed, fresh, live, other, unrelated):
        path.write_bytes(b"partial")
    for path in (legacy, killed, live, other, unrelated):
        _age(path, 3600)
    fd = os.open(live, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        atomic_write_bytes(target, b"new")
    finally:
        os.close(fd)
    assert target.read_bytes() == b"new"
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted(p.name for p in (target, fresh, live, other, unrelated))
    # once the live save is gone, its leftover is stale too
    assert remove_stale_temps(target) == [str(live)]


def test_a_failed_write_leaves_no_temporary(tmp_path):
    with pytest.raises(TypeError):
        atomic_write_bytes(tmp_path / "x.bin", object())
    assert os.listdir(tmp_path) == []
