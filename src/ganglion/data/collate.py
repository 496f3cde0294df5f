"""Collation: turning a list of samples into one batch.

``default_collate`` stacks like with like, recursively: Tensors and NumPy arrays become one Tensor with a new first
dimension (N, ...); Python ints become an int64 Tensor, floats a float64 Tensor, bools a bool Tensor; strings stay a
list; dicts collate key by key; tuples and lists collate position by position (a list, as PyTorch returns);
namedtuples keep their type. ``default_convert`` (used with ``batch_size=None``) only turns arrays into Tensors.
"""

import collections.abc
import numbers

import numpy as np

from .. import backend
from ..tensor import Tensor

_NUMERIC_KINDS = "biuf"


def _describe(x):
    return f"{type(x).__name__} of shape {tuple(x.shape)}" if hasattr(x, "shape") else type(x).__name__


def _stack(arrays):
    shape = arrays[0].shape
    for i, a in enumerate(arrays):
        if a.shape != shape:
            raise ValueError(
                f"default_collate: cannot stack samples of different shapes: sample 0 has {tuple(shape)}, "
                f"sample {i} has {tuple(a.shape)} (resize them or pass a collate_fn)"
            )
    xp = backend.get_array_module(*arrays)
    return Tensor._wrap(xp.stack(arrays))


def _check_numeric(array, owner):
    if array.dtype.kind not in _NUMERIC_KINDS:
        raise TypeError(
            f"{owner}: arrays of dtype {array.dtype} cannot become a Tensor; samples must hold tensors, numeric "
            "arrays, numbers, strings, dicts or sequences of these"
        )


def default_collate(batch):
    """Stack a list of samples into a batch (see the module docstring for the rules per type)."""
    if not isinstance(batch, collections.abc.Sequence) or isinstance(batch, (str, bytes)):
        raise TypeError(f"default_collate: expected a list of samples, got {type(batch).__name__}")
    if len(batch) == 0:
        raise ValueError("default_collate: cannot collate an empty batch")
    elem = batch[0]
    if isinstance(elem, Tensor):
        for x in batch:
            if not isinstance(x, Tensor):
                raise TypeError(f"default_collate: sample 0 is a Tensor but another sample is {_describe(x)}")
        return _stack([x.array for x in batch])
    if isinstance(elem, np.ndarray):
        arrays = [np.asarray(x) for x in batch]
        _check_numeric(arrays[0], "default_collate")
        return _stack(arrays)
    if isinstance(elem, np.generic):
        array = np.asarray(batch)
        _check_numeric(array, "default_collate")
        return Tensor._wrap(array)
    if isinstance(elem, bool) and all(isinstance(x, bool) for x in batch):
        return Tensor._wrap(np.asarray(batch, dtype=np.bool_))
    if isinstance(elem, numbers.Real):
        if not all(isinstance(x, numbers.Real) for x in batch):
            bad = next(x for x in batch if not isinstance(x, numbers.Real))
            raise TypeError(f"default_collate: sample 0 is a number but another sample is {_describe(bad)}")
        ints = all(isinstance(x, numbers.Integral) for x in batch)
        return Tensor._wrap(np.asarray(batch, dtype=np.int64 if ints else np.float64))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, collections.abc.Mapping):
        keys = list(elem.keys())
        for i, x in enumerate(batch):
            if not isinstance(x, collections.abc.Mapping) or set(x.keys()) != set(keys):
                got = sorted(map(str, x.keys())) if isinstance(x, collections.abc.Mapping) else _describe(x)
                raise ValueError(f"default_collate: sample 0 has keys {sorted(map(str, keys))}, sample {i} has {got}")
        collated = {k: default_collate([x[k] for x in batch]) for k in keys}
        try:
            return type(elem)(collated)
        except TypeError:
            return collated
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(field)) for field in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        for i, x in enumerate(batch):
            if not isinstance(x, collections.abc.Sequence) or len(x) != size:
                got = len(x) if isinstance(x, collections.abc.Sequence) else _describe(x)
                raise ValueError(
                    f"default_collate: every sample must have the same number of fields: sample 0 has {size}, "
                    f"sample {i} has {got}"
                )
        return [default_collate(list(field)) for field in zip(*batch)]
    raise TypeError(
        f"default_collate: cannot collate samples of type {type(elem).__name__}; samples must hold tensors, numeric "
        "arrays, numbers, strings, dicts or sequences of these (or pass a collate_fn)"
    )


def default_convert(data):
    """Turn NumPy arrays (also inside dicts and sequences) into Tensors; leave everything else as it is."""
    if isinstance(data, np.ndarray):
        if data.dtype.kind not in _NUMERIC_KINDS:
            return data
        return Tensor._wrap(data)
    if isinstance(data, collections.abc.Mapping):
        converted = {k: default_convert(v) for k, v in data.items()}
        try:
            return type(data)(converted)
        except TypeError:
            return converted
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        try:
            return type(data)([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data
