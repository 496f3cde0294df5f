"""``Scratch``: large work arrays reused across calls of the recurrent ops.

A fresh multi-megabyte NumPy array is new memory: the allocator maps it from the OS, and its first touch page-faults
once per 4 KB page, on every call of a training loop. Arrays that never leave an op (gate activations kept for its
backward, gradient buffers) are handed back here when the op is done with them and taken again by the next call of
the same shape. CuPy has its own memory pool, so GPU arrays are neither kept nor taken.
"""

from collections import OrderedDict

from ... import backend


class Scratch:
    """Large NumPy work arrays reused across calls, keyed by shape and dtype, at most ``limit`` bytes kept."""

    def __init__(self, limit=128 << 20):
        self.limit, self.kept, self.free = limit, 0, OrderedDict()

    def take(self, xp, shape, dtype):
        if xp is backend.np:
            stack = self.free.get((shape, dtype))
            if stack:
                a = stack.pop()
                self.kept -= a.nbytes
                return a
        return xp.empty(shape, dtype=dtype)

    def give(self, *arrays):
        for a in arrays:
            if a is None or type(a) is not backend.np.ndarray or a.base is not None or a.nbytes > self.limit:
                continue
            key = (a.shape, a.dtype)
            self.free.setdefault(key, []).append(a)
            self.free.move_to_end(key)
            self.kept += a.nbytes
            while self.kept > self.limit:  # drop the least recently returned shapes first
                old_key, stack = next(iter(self.free.items()))
                self.kept -= stack.pop(0).nbytes
                if not stack:
                    del self.free[old_key]


SCRATCH = Scratch()
