"""``select(mask, a, b)``: ``where(mask, a, b)`` for floating arrays, without branches.

NumPy's ``where`` (and ``putmask``, boolean indexing) branches per element: on a mask as random as an activation's
``x > 0`` it mispredicts about half the time and runs ~7x slower than a multiply. Picking the bits instead,
(a & m) | (b & ~m) with m all ones where the mask holds, is exact for every value (inf, nan and -0 included) and
costs a few integer passes. It works on CuPy arrays unchanged.
"""


def _bits(value, dtype, itype, xp):
    """An array (or Python number) of floating ``dtype`` seen as the signed integers of the same width."""
    if not hasattr(value, "dtype"):
        value = xp.asarray(value, dtype=dtype)
    return value.view(itype)


def select(mask, a, b, xp):
    """``a`` where ``mask`` holds, else ``b``. ``a``/``b``: arrays of one floating dtype or Python numbers (at least
    one an array); shapes broadcast. Returns a new array of that dtype."""
    dtype = a.dtype if hasattr(a, "dtype") else b.dtype
    if mask.ndim == 0 or dtype.kind != "f" or any(hasattr(v, "dtype") and v.dtype != dtype for v in (a, b)):
        return xp.where(mask, a, b)  # a scalar, or mixed dtypes that promote: where does it
    itype = xp.dtype(f"i{dtype.itemsize}")
    m = mask.astype(itype)
    xp.negative(m, out=m)  # True -> -1 (all bits set), False -> 0
    picked = _bits(a, dtype, itype, xp) & m
    xp.invert(m, out=m)
    picked |= _bits(b, dtype, itype, xp) & m
    return picked.view(dtype)


def keep(mask, a, xp):
    """``a`` where ``mask`` holds, else 0 (= ``where(mask, a, 0)``). ``mask`` has ``a``'s shape."""
    if mask.ndim == 0 or a.dtype.kind != "f":
        return xp.where(mask, a, 0)
    itype = xp.dtype(f"i{a.dtype.itemsize}")
    m = mask.astype(itype)
    xp.negative(m, out=m)
    m &= a.view(itype)
    return m.view(a.dtype)
