"""``keras.utils.PyDataset`` (alias ``Sequence``): a dataset written in Python as a list of batches.

A subclass gives ``__len__`` (the number of batches) and ``__getitem__(index)`` (one whole batch: ``x``, ``(x,)``,
``(x, y)`` or ``(x, y, sample_weight)``), and may override ``on_epoch_begin`` / ``on_epoch_end``. ``fit``,
``evaluate`` and ``predict`` read it one batch at a time (``models/data_adapter.py``), never all at once.
"""

import collections
import concurrent.futures
import itertools
import warnings


#: PyDataset's loading settings and their defaults (Keras')
_LOADER_DEFAULTS = {"workers": 1, "use_multiprocessing": False, "max_queue_size": 10}


def _loader_setting(name):
    """The property ``name`` of a PyDataset over its ``_name`` (defaulted when a subclass skipped ``__init__``)."""

    def get(self):
        self._defaults_if_super_not_called()
        return self.__dict__[f"_{name}"]

    def set(self, value):
        self.__dict__[f"_{name}"] = value

    return property(get, set)


class PyDataset:
    """Base class for datasets that build each batch in Python.

    ``workers > 1`` (or ``use_multiprocessing=True``) builds up to ``max_queue_size`` batches ahead on a pool of
    ``workers`` threads and hands them over in index order. Threads, not processes, even with
    ``use_multiprocessing=True``: the dataset need not be picklable, and NumPy / I/O work releases the GIL.
    """

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size

    def _defaults_if_super_not_called(self):
        """A subclass that forgot ``super().__init__()`` still works, with a warning, as in Keras."""
        missing = [name for name in _LOADER_DEFAULTS if f"_{name}" not in self.__dict__]
        if missing:
            for name in missing:
                self.__dict__[f"_{name}"] = _LOADER_DEFAULTS[name]
            warnings.warn("Your `PyDataset` class should call `super().__init__(**kwargs)` in its constructor. "
                          "`**kwargs` can include `workers`, `use_multiprocessing`, `max_queue_size`. Do not pass "
                          "these arguments to `fit()`, as they will be ignored.", stacklevel=3)

    workers = _loader_setting("workers")
    use_multiprocessing = _loader_setting("use_multiprocessing")
    max_queue_size = _loader_setting("max_queue_size")

    def __getitem__(self, index):
        """The batch at position ``index``."""
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__(index) returning one batch")

    @property
    def num_batches(self):
        """Batches in the dataset, or None for an endless one (``__len__`` by default)."""
        if hasattr(self, "__len__"):
            return len(self)
        raise NotImplementedError("You need to implement the `num_batches` property:\n\n"
                                  "@property\ndef num_batches(self):\n  return ...")

    def __iter__(self):
        count = self.num_batches
        for index in itertools.count() if count is None else range(count):
            yield self[index]

    def on_epoch_begin(self):
        """Called at the start of every epoch."""

    def on_epoch_end(self):
        """Called at the end of every epoch."""


Sequence = PyDataset


def read_batches(dataset, indices):
    """``dataset[i]`` for each i of ``indices`` in order: inline, or built ahead by threads when the dataset asks for
    workers (at most ``max_queue_size`` batches waiting, so an endless index stream stays bounded)."""
    workers = dataset.workers
    if not (workers > 1 or (workers > 0 and dataset.use_multiprocessing)):
        for index in indices:
            yield dataset[index]
        return
    ahead = max(int(dataset.max_queue_size), 1)
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(int(workers), 1)) as pool:
        pending = collections.deque()
        indices = iter(indices)
        for index in itertools.islice(indices, ahead):
            pending.append(pool.submit(dataset.__getitem__, index))
        while pending:
            batch = pending.popleft().result()
            for index in itertools.islice(indices, 1):
                pending.append(pool.submit(dataset.__getitem__, index))
            yield batch
