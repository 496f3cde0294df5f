"""What ``fit``, ``evaluate`` and ``predict`` accept as data, turned into batches of Tensors: NumPy arrays, ganglion
Tensors, lists or dicts of them (several inputs or outputs), a ``Dataset``, a ``DataLoader`` or any iterable of
``(x, y[, sample_weight])`` batches, or a ``keras.utils.PyDataset`` read batch by batch.

In-memory arrays are converted once (float64 to the default float, as everywhere in ganglion; integer labels kept)
and each batch is a view or a gathered copy of them wrapped as a Tensor, so a step costs no conversion.
"""

import itertools
import math
import warnings

import numpy as np

from ... import backend
from ...tensor import Tensor
from ..layers.strings import as_text_array, is_text


def _is_nested_numbers(x):
    """A (nested) list of plain numbers: one array written as lists, not several inputs."""
    while isinstance(x, (list, tuple)):
        if not x:
            return True
        x = x[0]
    return isinstance(x, (int, float, bool, np.number, str, bytes))  # a list of strings is one array of text


def _map(fn, x):
    if isinstance(x, (list, tuple)) and not _is_nested_numbers(x):
        return [_map(fn, v) for v in x]
    if isinstance(x, dict):
        return {k: _map(fn, v) for k, v in x.items()}
    return fn(x)


def _leaves(x):
    if isinstance(x, (list, tuple)) and not _is_nested_numbers(x):
        return [leaf for v in x for leaf in _leaves(v)]
    if isinstance(x, dict):
        return [leaf for v in x.values() for leaf in _leaves(v)]
    return [x]


def as_array(x, what):
    """One leaf of user data as a backend array in the dtype the engine computes in; text as a NumPy array of
    strings, for the layers that take it (layers/_strings.py)."""
    if is_text(x):
        if np.ndim(x) == 0:
            raise ValueError(f"{what}: expected an array of strings with a batch dimension, got one string")
        return as_text_array(x)
    if isinstance(x, Tensor):
        array = x.array
    else:
        _check_array_like(x, what)
        try:
            array = backend.to_numpy(x)  # NumPy data, nested lists, PyTorch tensors
        except ValueError:
            raise ValueError(f"{what}: could not read the data as an array (ragged nested lists?)") from None
    if array.dtype == object or array.dtype.kind in "USV":
        raise ValueError(f"{what}: expected numbers, got an array of dtype {array.dtype} (ragged or mixed data?)")
    if array.dtype.kind == "c":
        raise ValueError(f"{what}: complex numbers are not supported")
    if array.dtype == np.float64 and backend.get_default_dtype() != np.float64:
        array = array.astype(backend.get_default_dtype())
    if array.ndim == 0:
        raise ValueError(f"{what}: expected an array with a batch dimension, got a scalar")
    return array


def _check_array_like(x, what):
    """Refuse, before NumPy reads it, an object that is neither an array, a (nested) list or a number: NumPy would
    call its ``__getitem__`` for every index and materialize the whole thing (a Sequence-like of batches runs out of
    memory). Keras 3 raises the same ValueError for data it does not recognize."""
    if isinstance(x, (np.ndarray, np.generic, list, tuple, int, float, bool)) or hasattr(x, "__array__"):
        return
    raise ValueError(
        f"Unrecognized data type: {what}=<{type(x).__name__} object> (of type {type(x)}). fit/evaluate/predict "
        f"accept NumPy arrays, Tensors, (nested) lists of numbers, lists or dicts of these, a ganglion Dataset or "
        f"DataLoader, or a generator / iterable of (x, y) batches. An object with only __len__ and __getitem__ is not "
        f"read (Keras 3 reads one only as a keras.utils.PyDataset): subclass ganglion.data.Dataset or give it "
        f"__iter__ yielding batches.")


class ArrayData:
    """In-memory data: every leaf array has the same first dimension (the samples)."""

    def __init__(self, x, y=None, sample_weight=None, batch_size=32, shuffle=False):
        if x is None:
            raise ValueError("x is required: pass the input data as an array (or a list/dict of arrays)")
        if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer))
                                       or batch_size <= 0):
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        self.x = _map(lambda a: as_array(a, "x"), x)
        self.y = None if y is None else _map(lambda a: as_array(a, "y"), y)
        self.sample_weight = None if sample_weight is None else as_array(sample_weight, "sample_weight")
        if self.sample_weight is not None and self.sample_weight.ndim > 1 and self.sample_weight.shape[1:] != (1,):
            raise ValueError(f"sample_weight must hold one weight per sample, shape (n,), got shape "
                             f"{self.sample_weight.shape}")
        self.batch_size = int(batch_size or 32)
        self.shuffle = shuffle
        counts = {f"x{_suffix(i)}": len(a) for i, a in enumerate(_leaves(self.x))}
        if self.y is not None:
            counts.update({f"y{_suffix(i)}": len(a) for i, a in enumerate(_leaves(self.y))})
        if self.sample_weight is not None:
            counts["sample_weight"] = len(self.sample_weight)
        if len(set(counts.values())) > 1:
            detail = ", ".join(f"{k} sizes: {v}" for k, v in counts.items())
            raise ValueError(f"Data cardinality is ambiguous: x and y (and sample_weight) must have the same number "
                             f"of samples; got {detail}")
        self.n = next(iter(counts.values()))
        if self.n == 0:
            raise ValueError("the data is empty: x has 0 samples")

    def take(self, index):
        data = object.__new__(ArrayData)
        data.__dict__.update(self.__dict__)
        pick = lambda a: a[index]  # noqa: E731
        data.x = _map(pick, self.x)
        data.y = None if self.y is None else _map(pick, self.y)
        data.sample_weight = None if self.sample_weight is None else self.sample_weight[index]
        data.n = len(_leaves(data.x)[0])
        return data

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

    def to_device(self, device):
        """Move the arrays to ``device`` once (a GPU model then gets batches already there)."""
        if device is None or device.type == "cpu":
            return self
        move = lambda a: a if a.dtype == object else backend.to_device(a, device)  # noqa: E731  (text stays)
        self.x = _map(move, self.x)
        self.y = None if self.y is None else _map(move, self.y)
        if self.sample_weight is not None:
            self.sample_weight = move(self.sample_weight)
        return self

    def batches(self, rng=None):
        """Yield (x, y, sample_weight) batches of Tensors (y and sample_weight may be None)."""
        order = rng.permutation(self.n) if (self.shuffle and rng is not None) else None
        wrap = _wrap_batch
        single_x = type(self.x) is not list and type(self.x) is not dict
        single_y = self.y is not None and type(self.y) is not list and type(self.y) is not dict
        x, y, sw = self.x, self.y, self.sample_weight
        if order is not None and backend.gpu_in_use:
            numeric = [a for a in _leaves(x) + ([] if y is None else _leaves(y)) if a.dtype != object]
            order = backend.to_device(order, backend.device_of(numeric[0])) if numeric else order
        for start in range(0, self.n, self.batch_size):
            if order is None:
                idx = slice(start, start + self.batch_size)
                pick = lambda a: wrap(a[idx])  # noqa: E731
            else:
                idx = order[start:start + self.batch_size]
                pick = lambda a: wrap(a.take(_on_device_of(idx, a), axis=0))  # noqa: E731
            xb = pick(x) if single_x else _map(pick, x)
            yb = None if y is None else (pick(y) if single_y else _map(pick, y))
            yield xb, yb, None if sw is None else pick(sw)


def _wrap_batch(array):
    """A batch of an in-memory array as a Tensor; text stays a NumPy array of strings."""
    return array if array.dtype == object else Tensor._wrap(array)


def _on_device_of(index, array):
    return backend.to_numpy(index) if array.dtype == object else index


def _suffix(i):
    return "" if i == 0 else f"[{i}]"


class LoaderData:
    """Batches from a ``DataLoader`` (or any iterable of ``(x, y[, sample_weight])`` batches or of x alone)."""

    def __init__(self, loader):
        self.loader = loader
        try:
            self.steps = len(loader)
        except TypeError:
            self.steps = None

    def to_device(self, device):
        self.device = device
        return self

    def batches(self, rng=None):
        device = getattr(self, "device", None)
        convert = lambda v: _ensure_tensor(v, device)  # noqa: E731
        for batch in self.loader:
            if isinstance(batch, (list, tuple)) and not _is_leaf(batch):
                if len(batch) == 1:
                    yield _map(convert, batch[0]), None, None
                elif len(batch) == 2:
                    yield _map(convert, batch[0]), _map(convert, batch[1]), None
                elif len(batch) == 3:
                    x, y, sw = batch
                    yield _map(convert, x), _map(convert, y), None if sw is None else convert(sw)
                else:
                    raise ValueError(f"a data batch must be (x,), (x, y) or (x, y, sample_weight); got a sequence of "
                                     f"{len(batch)} items")
            else:
                yield _map(convert, batch), None, None


class PyDatasetData:
    """Batches from a ``keras.utils.PyDataset``, read by index one at a time (``shuffle`` shuffles the order of the
    batches, not their contents, as Keras does); its ``on_epoch_begin`` / ``on_epoch_end`` run around each epoch."""

    PERMUTE_LIMIT = 1 << 22  # above this many batches a shuffled order is computed per index, not held in a list

    def __init__(self, dataset, shuffle=False):
        self.dataset, self.shuffle = dataset, shuffle
        if shuffle and dataset.num_batches is None:
            warnings.warn("`shuffle=True` was passed, but will be ignored since the data `x` was provided as an "
                          "infinite PyDataset. The PyDataset is expected to already be shuffled.", stacklevel=3)

    @property
    def steps(self):
        return self.dataset.num_batches

    def to_device(self, device):
        self.device = device
        return self

    def on_epoch_begin(self):
        self.dataset.on_epoch_begin()

    def on_epoch_end(self):
        self.dataset.on_epoch_end()

    def batches(self, rng=None):
        from ..utils.py_dataset import read_batches

        device = getattr(self, "device", None)
        convert = lambda v: _ensure_tensor(v, device)  # noqa: E731
        for batch in read_batches(self.dataset, self._order(rng)):
            x, y, sw = _standardize_py_batch(batch)
            yield (_map(convert, x), None if y is None else _map(convert, y), None if sw is None else convert(sw))

    def _order(self, rng):
        n = self.dataset.num_batches
        if n is None:
            return itertools.count()
        if not self.shuffle or rng is None:
            return range(n)
        if n <= self.PERMUTE_LIMIT:
            return rng.permutation(n).tolist()
        # i -> (a i + b) mod n visits every index once when a is coprime with n, without holding n indices
        a = int(rng.integers(1, n))
        while math.gcd(a, n) != 1:
            a = int(rng.integers(1, n))
        b = int(rng.integers(n))
        return ((a * i + b) % n for i in range(n))


def _standardize_py_batch(batch):
    """(x, y, sample_weight) from what ``PyDataset.__getitem__`` returned: a dict or array (x alone), or a tuple or
    list (x,), (x, y), (x, y, sample_weight)."""
    if isinstance(batch, (dict, np.ndarray, Tensor)):
        return batch, None, None
    if isinstance(batch, list):
        batch = tuple(batch)
    if not isinstance(batch, tuple) or len(batch) not in (1, 2, 3):
        raise ValueError(f"PyDataset.__getitem__() must return a tuple or a dict. If a tuple, it must be ordered "
                         f"either (input,) or (inputs, targets) or (inputs, targets, sample_weights). Received: "
                         f"{str(batch)[:100]}... of type {type(batch)}")
    return tuple(batch) + (None,) * (3 - len(batch))


def _is_leaf(batch):
    """A list of numbers (one sample) rather than an (x, y) pair."""
    return bool(batch) and all(isinstance(v, (int, float)) for v in batch)


def _ensure_tensor(x, device=None):
    if isinstance(x, Tensor):
        array = x.array
        if array.dtype == np.float64 and backend.get_default_dtype() != np.float64:
            return Tensor._wrap(array.astype(backend.get_default_dtype()))
        if device is not None and device.type != "cpu":
            return Tensor._wrap(backend.to_device(array, device))
        return x
    array = as_array(x, "batch")
    if array.dtype == object:  # text: handed to the model as it is
        return array
    if device is not None and device.type != "cpu":
        array = backend.to_device(array, device)
    return Tensor._wrap(array)


def pack(x, y=None, sample_weight=None):
    """A batch as Keras hands it to ``train_step``: (x,), (x, y) or (x, y, sample_weight)."""
    if sample_weight is not None:
        return (x, y, sample_weight)
    return (x,) if y is None else (x, y)


def unpack(data):
    """(x, y, sample_weight) from what ``pack`` made (or a bare x)."""
    if not isinstance(data, tuple):
        return data, None, None
    if not 1 <= len(data) <= 3:
        raise ValueError(f"a batch must be (x,), (x, y) or (x, y, sample_weight); got a tuple of {len(data)}")
    return tuple(data) + (None,) * (3 - len(data))


def adapt(x, y=None, sample_weight=None, batch_size=None, shuffle=False):
    """Pick the adapter for ``x``: a DataLoader, Dataset or other iterable of batches is read as it is; arrays are
    sliced."""
    from ...data import DataLoader, Dataset
    from ..utils.py_dataset import PyDataset

    if isinstance(x, PyDataset):  # batch_size is ignored: the dataset makes the batches (Keras ignores it too)
        for name, value, what in (("y", y, "the targets"), ("sample_weights", sample_weight, "the sample weights")):
            if value is not None:
                raise ValueError(f"When providing `x` as a PyDataset, `{name}` should not be passed. Instead, {what} "
                                 f"should be included as part of the PyDataset.")
        return PyDatasetData(x, shuffle)
    if isinstance(x, DataLoader):
        _no_targets(y, sample_weight, "a DataLoader")
        return LoaderData(x)
    if isinstance(x, Dataset):
        _no_targets(y, sample_weight, "a Dataset")
        return LoaderData(DataLoader(x, batch_size=batch_size or 32, shuffle=shuffle))
    if _is_batch_iterable(x):
        _no_targets(y, sample_weight, "an iterable of batches")
        return LoaderData(x)
    return ArrayData(x, y, sample_weight, batch_size, shuffle)


def _no_targets(y, sample_weight, what):
    if y is not None or sample_weight is not None:
        raise ValueError(f"y and sample_weight must not be given when x is {what} (its batches hold the targets)")


def _is_batch_iterable(x):
    """A generator or other iterable that is not array-like (arrays, lists, tuples and dicts are data)."""
    if isinstance(x, (np.ndarray, Tensor, list, tuple, dict, str, bytes)) or hasattr(x, "__array__"):
        return False
    return hasattr(x, "__iter__") or hasattr(x, "__next__")


class EpochIterator:
    """The batches of one epoch after another, as Keras runs them.

    Without ``steps_per_epoch`` every epoch is one pass over the data (reshuffled). With it, an epoch is the next
    ``steps_per_epoch`` batches of a pass that carries on across epochs; when the pass ends early the epoch ends
    there (Keras warns that the input ran out of data) and the next epoch starts a new pass.
    """

    def __init__(self, data, steps_per_epoch=None, rng=None, reset=True):
        if steps_per_epoch is not None and (isinstance(steps_per_epoch, bool) or
                                            not isinstance(steps_per_epoch, (int, np.integer)) or steps_per_epoch <= 0):
            raise ValueError(f"steps_per_epoch must be a positive int or None, got {steps_per_epoch!r}")
        self.data, self.steps_per_epoch, self.rng = data, steps_per_epoch, rng
        self._current = None
        self.ran_out = False  # the latest epoch ended before steps_per_epoch batches
        if reset:
            self._hook("on_epoch_end")  # Keras' EpochIterator.reset(), run by fit and evaluate before the first epoch

    def _hook(self, name):
        """The data's epoch hook (a PyDataset's on_epoch_begin / on_epoch_end), when it has one."""
        hook = getattr(self.data, name, None)
        if hook is not None:
            hook()

    @property
    def steps(self):
        """Batches per epoch (None when unknown)."""
        known = self.data.steps
        if self.steps_per_epoch is None:
            return known
        return self.steps_per_epoch if known is None else min(self.steps_per_epoch, known)

    def epoch(self):
        """Yield (step, (x, y, sample_weight)) for one epoch, between the data's epoch hooks (the end hook does not
        run when the caller stops early)."""
        self._hook("on_epoch_begin")
        yield from self._epoch_batches()
        self._hook("on_epoch_end")

    def _epoch_batches(self):
        if self.steps_per_epoch is None:
            yield from enumerate(self.data.batches(self.rng))
            return
        known = self.data.steps
        if self._current is None:
            self._current, self._seen = iter(self.data.batches(self.rng)), 0
        self.ran_out = False
        for step in range(self.steps_per_epoch):
            if known is not None and self._seen >= known:
                self.ran_out = True
                break
            try:
                batch = next(self._current)
            except StopIteration:
                self.ran_out, self._current = True, None
                return
            self._seen += 1
            yield step, batch
        if known is not None and self._seen >= known:
            self._current = None
