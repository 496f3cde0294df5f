"""The values layers receive: Tensors from NumPy data, nested list / tuple / dict structures of them, and masks
(None, or a structure of Nones, is no mask)."""

import numpy as np

from ...tensor import Tensor


def as_tensor(x, dtype=None):
    """NumPy arrays, lists and numbers become Tensors (float64 data becomes float32, as everywhere in ganglion)."""
    if isinstance(x, Tensor):
        return x
    from ...factories import tensor

    return tensor(np.asarray(x), dtype=dtype)


def no_mask(mask):
    """True for None or a structure of Nones (Keras treats both as no mask)."""
    return mask is None or (
        isinstance(mask, (list, tuple, dict)) and all(m is None for m in flatten_structure(mask))
    )


def as_mask(mask):
    """A mask given by the user (arrays, Tensors, or a structure of them with Nones) as Tensors; None for no mask."""
    return None if no_mask(mask) else map_structure(lambda m: None if m is None else as_tensor(m), mask)


def flatten_structure(x):
    """The leaves of a nested list / tuple / dict structure, in order, as one list."""
    if isinstance(x, (list, tuple)):
        out = []
        for item in x:
            out.extend(flatten_structure(item))
        return out
    if isinstance(x, dict):
        return flatten_structure(list(x.values()))
    return [x]


def map_structure(fn, x):
    """The same nested list / tuple / dict structure with ``fn`` applied to each leaf."""
    if isinstance(x, (list, tuple)):
        return type(x)(map_structure(fn, item) for item in x)
    if isinstance(x, dict):
        return {k: map_structure(fn, v) for k, v in x.items()}
    return fn(x)
