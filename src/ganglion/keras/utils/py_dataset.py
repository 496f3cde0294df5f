"""``keras.utils.PyDataset`` (alias ``Sequence``): a dataset written in Python as a list of batches.

A subclass gives ``__len__`` (the number of batches) and ``__getitem__(index)`` (one whole batch: ``x``, ``(x,)``,
``(x, y)`` or ``(x, y, sample_weight)``), and may override ``on_epoch_begin`` / ``on_epoch_end``. ``fit``,
``evaluate`` and ``predict`` read it one batch at a time (``models/data_adapter.py``), never all at once.
"""

import collections
import concurrent.futures
import itertools
import warnings


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
        missing = [name for name in ("_workers", "_use_multiprocessing", "_max_queue_size")
                   if name not in self.__dict__]
        if missing:
            self._workers = self.__dict__.get("_workers", 1)
            self._use_multiprocessing = self.__dict__.get("_use_multiprocessing", False)
            self._max_queue_size = self.__dict__.get("_max_queue_size", 10)
            warnings.warn("Your `PyDataset` class should call `super().__init__(**kwargs)` in its constructor. "
                          "`**kwargs` can include `workers`, `use_multiprocessing`, `max_queue_size`. Do not pass "
                          "these arguments to `fit()`, as they will be ignored.", stacklevel=3)

    @property
    def workers(self):
        self._defaults_if_super_not_called()
        return self._workers

    @workers.setter
    def workers(self, value):
        self._workers = value

    @property
    def use_multiprocessing(self):
        self._defaults_if_super_not_called()
        return self._use_multiprocessing

    @use_multiprocessing.setter
    def use_multiprocessing(self, value):
        self._use_multiprocessing = value

    @property
    def max_queue_size(self):
        self._defaults_if_super_not_called()
        return self._max_queue_size

    @max_queue_size.setter
    def max_queue_size(self, value):
        self._max_queue_size = value

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
