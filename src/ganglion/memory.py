"""Reusable work arrays for the large temporaries of a few fused ops (convolution, recurrent layers).

Why: a fresh multi-megabyte NumPy array is new memory that the allocator maps from the OS and whose first touch
page-faults once per 4 KB page, on every call of a training loop. An op that needs such an array each call can take
it from a pool and hand it back afterwards.

Ownership is explicit and checked:

- A ``Workspace`` is what one owner (a forward pass, a backward pass, or a graph node keeping arrays for its
  backward) took from the pool. Only arrays a workspace allocated itself can go back, all together, when its owner
  calls ``release()``. There is no way to hand the pool an array from anywhere else.
- An array returned to a caller, or saved for backward by a node that does not own it, is never taken from a
  workspace (``Workspace.check_not_holding`` verifies an op's outputs).
- Each thread has its own pool (a workspace released from another thread goes back to the pool it came from, under
  that pool's lock), bounded by ``POOL_LIMIT_BYTES``.
- ``set_buffer_reuse(False)`` (or ``GANGLION_BUFFER_REUSE=0`` in the environment) turns reuse off: workspaces then
  allocate fresh arrays and drop them. ``empty_cache()`` drops every cached array of every thread.

CuPy has its own memory pool, so GPU workspaces just allocate.
"""

import os
import threading
import weakref
from collections import OrderedDict

from . import backend

POOL_LIMIT_BYTES = 128 << 20
"""The most bytes one thread's pool keeps between calls; the least recently returned shapes go first."""

_reuse = {"enabled": os.environ.get("GANGLION_BUFFER_REUSE", "1").strip().lower() not in ("0", "false", "no", "off")}
_pools = weakref.WeakSet()  # every thread's pool, for empty_cache
_local = threading.local()


def set_buffer_reuse(enabled):
    """Turn the reuse of work arrays on or off for the whole process (an off switch for debugging and measuring).

    Arrays already cached are dropped when turning it off.
    """
    _reuse["enabled"] = bool(enabled)
    if not enabled:
        empty_cache()


def buffer_reuse_enabled():
    """Whether fused ops reuse their large work arrays across calls."""
    return _reuse["enabled"]


def empty_cache():
    """Drop every cached work array of every thread (arrays in use stay with their owners)."""
    for pool in list(_pools):
        pool.clear()


def cached_bytes():
    """Bytes currently cached for reuse, over all threads."""
    return sum(pool.kept for pool in list(_pools))


class _Pool:
    """Free NumPy arrays of one thread, keyed by (shape, dtype), at most ``limit`` bytes."""

    __slots__ = ("limit", "kept", "_free", "_lock", "__weakref__")

    def __init__(self, limit):
        self.limit, self.kept, self._free, self._lock = limit, 0, OrderedDict(), threading.Lock()

    def take(self, key):
        """A cached array for ``key``, or None."""
        with self._lock:
            stack = self._free.get(key)
            if not stack:
                return None
            array = stack.pop()
            if not stack:
                del self._free[key]
            self.kept -= array.nbytes
            return array

    def give(self, arrays):
        """Cache ``arrays`` (each allocated by a workspace of this pool), then trim to the limit."""
        with self._lock:
            for array in arrays:
                if array.nbytes > self.limit:
                    continue
                key = (array.shape, array.dtype)
                self._free.setdefault(key, []).append(array)
                self._free.move_to_end(key)
                self.kept += array.nbytes
            while self.kept > self.limit:  # the least recently returned shapes go first
                key, stack = next(iter(self._free.items()))
                self.kept -= stack.pop(0).nbytes
                if not stack:
                    del self._free[key]

    def clear(self):
        with self._lock:
            self._free.clear()
            self.kept = 0


def _thread_pool():
    pool = getattr(_local, "pool", None)
    if pool is None:
        pool = _local.pool = _Pool(POOL_LIMIT_BYTES)
        _pools.add(pool)
    return pool


class Workspace:
    """The work arrays one owner took; ``release()`` hands them all back to the pool of the thread that took them.

    ``empty``/``zeros`` give C-contiguous arrays of the array module ``xp``. After ``release()`` the owner must not
    read them again: the next call of any op in that thread may get them.
    """

    __slots__ = ("xp", "_pool", "_arrays")

    def __init__(self, xp):
        self.xp = xp
        self._pool = _thread_pool() if xp is backend.np and _reuse["enabled"] else None
        self._arrays = []

    def empty(self, shape, dtype):
        """An uninitialized C-contiguous array of ``shape`` and ``dtype``, owned by this workspace."""
        shape = tuple(int(s) for s in shape)
        dtype = backend.np.dtype(dtype)
        array = self._pool.take((shape, dtype)) if self._pool is not None else None
        if array is None:
            array = self.xp.empty(shape, dtype=dtype)
        self._arrays.append(array)
        return array

    def zeros(self, shape, dtype):
        """A zero-filled array owned by this workspace."""
        array = self.empty(shape, dtype)
        array.fill(0)
        return array

    def release(self):
        """Hand every array back (a no-op for a workspace already released)."""
        arrays, self._arrays = self._arrays, []
        if self._pool is not None and arrays and _reuse["enabled"]:
            self._pool.give(arrays)

    def holds(self, array):
        """True when ``array`` may share memory with one of this workspace's arrays (a cheap bounds check)."""
        may_share = backend.get_array_module(array).may_share_memory
        return any(may_share(array, mine) for mine in self._arrays)

    def check_not_holding(self, op, arrays):
        """Raise if an output of ``op`` shares memory with an array of this workspace: that output would change
        under the caller when the array is reused. A bug in ``op``, never the user's."""
        for array in arrays:
            if array is not None and hasattr(array, "shape") and self.holds(array):
                raise RuntimeError(
                    f"ganglion internal error: {op} returned an array that shares memory with a reusable work array "
                    f"(shape {tuple(array.shape)}); please report it. set_buffer_reuse(False) avoids it meanwhile."
                )
