"""What ``fit``, ``evaluate`` and ``predict`` accept as data, turned into batches of Tensors: NumPy arrays, ganglion
Tensors, lists or dicts of them (several inputs or outputs), a ``Dataset`` or a ``DataLoader``."""

import math

import numpy as np

from ... import backend
from ...factories import tensor
from ...tensor import Tensor


def _to_numpy(x, what):
    if isinstance(x, Tensor):
        return backend.to_numpy(x.array)
    if hasattr(x, "detach") and hasattr(x, "numpy"):  # a torch.Tensor
        return x.detach().cpu().numpy()
    array = np.asarray(x)
    if array.dtype == object:
        raise ValueError(f"{what}: could not read the data as a numeric array (ragged or mixed types)")
    return array


def _map(fn, x):
    if isinstance(x, (list, tuple)):
        return [_map(fn, v) for v in x]
    if isinstance(x, dict):
        return {k: _map(fn, v) for k, v in x.items()}
    return fn(x)


def _leaves(x):
    if isinstance(x, (list, tuple)):
        return [leaf for v in x for leaf in _leaves(v)]
    if isinstance(x, dict):
        return [leaf for v in x.values() for leaf in _leaves(v)]
    return [x]


def _as_batch_tensor(array):
    return tensor(array)


class ArrayData:
    """In-memory data: every leaf array has the same first dimension (the samples)."""

    def __init__(self, x, y=None, sample_weight=None, batch_size=32, shuffle=False):
        if x is None:
            raise ValueError("x is required: pass the input data as an array (or a list/dict of arrays)")
        self.x = _map(lambda a: _to_numpy(a, "x"), x)
        self.y = None if y is None else _map(lambda a: _to_numpy(a, "y"), y)
        self.sample_weight = None if sample_weight is None else _to_numpy(sample_weight, "sample_weight")
        if batch_size is not None and (not isinstance(batch_size, (int, np.integer)) or batch_size <= 0):
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        self.batch_size = int(batch_size or 32)
        self.shuffle = shuffle
        counts = {("x", i): len(a) for i, a in enumerate(_leaves(self.x))}
        if self.y is not None:
            counts.update({("y", i): len(a) for i, a in enumerate(_leaves(self.y))})
        if self.sample_weight is not None:
            counts[("sample_weight", 0)] = len(self.sample_weight)
        sizes = sorted(set(counts.values()))
        if len(sizes) > 1:
            detail = ", ".join(f"{k[0]}{'' if k[1] == 0 else f'[{k[1]}]'}: {v}" for k, v in counts.items())
            raise ValueError(f"Data cardinality is ambiguous: x and y must have the same number of samples ({detail})")
        self.n = sizes[0]
        if self.n == 0:
            raise ValueError("the data is empty: x has 0 samples")

    def take(self, index):
        pick = lambda a: a[index]  # noqa: E731
        return ArrayData(_map(pick, self.x), None if self.y is None else _map(pick, self.y),
                         None if self.sample_weight is None else self.sample_weight[index], self.batch_size,
                         self.shuffle)

    def split(self, fraction):
        """(train, validation): the last ``fraction`` of the samples, before any shuffling, as Keras does."""
        if not 0 < fraction < 1:
            raise ValueError(f"validation_split must be in (0, 1), got {fraction}")
        n_val = int(math.floor(self.n * fraction))
        if n_val == 0 or n_val == self.n:
            raise ValueError(f"validation_split={fraction} leaves no samples for training or for validation "
                             f"(of {self.n})")
        cut = self.n - n_val
        return self.take(slice(0, cut)), self.take(slice(cut, None))

    @property
    def steps(self):
        return math.ceil(self.n / self.batch_size)

    def batches(self, rng=None):
        """Yield (x, y, sample_weight) batches of Tensors (y and sample_weight may be None)."""
        order = rng.permutation(self.n) if (self.shuffle and rng is not None) else None
        for start in range(0, self.n, self.batch_size):
            idx = slice(start, start + self.batch_size) if order is None else order[start:start + self.batch_size]
            xb = _map(lambda a: _as_batch_tensor(a[idx]), self.x)
            yb = None if self.y is None else _map(lambda a: _as_batch_tensor(a[idx]), self.y)
            sw = None if self.sample_weight is None else _as_batch_tensor(self.sample_weight[idx])
            yield xb, yb, sw


class LoaderData:
    """Batches from a ``DataLoader`` (or any iterable of (x, y[, sample_weight]) batches)."""

    def __init__(self, loader):
        self.loader = loader
        try:
            self.steps = len(loader)
        except TypeError:
            self.steps = None

    def batches(self, rng=None):
        for batch in self.loader:
            if isinstance(batch, (list, tuple)):
                if len(batch) == 1:
                    yield _map(_ensure_tensor, batch[0]), None, None
                elif len(batch) == 2:
                    yield _map(_ensure_tensor, batch[0]), _map(_ensure_tensor, batch[1]), None
                elif len(batch) == 3:
                    yield tuple(_map(_ensure_tensor, b) for b in batch)
                else:
                    raise ValueError(f"a data batch must be (x,), (x, y) or (x, y, sample_weight); got {len(batch)} items")
            else:
                yield _map(_ensure_tensor, batch), None, None


def _ensure_tensor(x):
    return x if isinstance(x, Tensor) else tensor(np.asarray(x))


def adapt(x, y=None, sample_weight=None, batch_size=None, shuffle=False):
    """Pick the adapter for ``x``: a DataLoader or Dataset is batched as it is; arrays are sliced."""
    from ...data import DataLoader, Dataset

    if isinstance(x, DataLoader):
        if y is not None:
            raise ValueError("y must not be given when x is a DataLoader (its batches hold the targets)")
        return LoaderData(x)
    if isinstance(x, Dataset):
        if y is not None:
            raise ValueError("y must not be given when x is a Dataset (its items hold the targets)")
        return LoaderData(DataLoader(x, batch_size=batch_size or 32, shuffle=shuffle))
    return ArrayData(x, y, sample_weight, batch_size, shuffle)
