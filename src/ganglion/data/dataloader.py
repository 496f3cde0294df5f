"""``DataLoader``: iterate a dataset in batches, optionally shuffled, optionally built by parallel workers.

Each epoch draws one base seed (from ``generator``, or ganglion's default generator); batch ``k`` is built while the
random transforms draw from a stream seeded by ``(base_seed, k)``. So the batches, augmentation included, are the
same with 0, 1 or 8 workers, threads or processes, and ``ganglion.manual_seed`` (or ``seed=``) reproduces an epoch.
"""

import multiprocessing
import numbers
import sys
import warnings

import numpy as np

from .. import backend
from ..tensor import Tensor
from . import _random
from ._worker import Exhausted, Fetcher, ProcessPool, ThreadPool, WorkerFailure
from .collate import default_collate, default_convert
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler

# Processes by default, as measured with benchmarks/data_throughput.py: on 28 x 28 images most of a sample's ~40 us is
# Python that holds the GIL (the NumPy calls on 784 pixels are short), so thread workers leave all of that work in the
# training process (its CPU per epoch stays at the inline cost), while process workers take ~88% of it elsewhere (the
# main process only unpickles batches: 0.14 s of CPU for 20,000 images, against 1.0 s inline or with threads).
# Threads stay available (worker_type="thread") for loaders that wait on I/O or decode in C (Pillow releases the GIL).
DEFAULT_WORKER_TYPE = "process"
WORKER_TYPES = ("process", "thread")


def _is_positive_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value > 0


def _num_batches(dataset, index_sampler, batch_size, drop_last):
    """``len(loader)``: the length of the (batch) sampler, or for an IterableDataset (``index_sampler=None``) its
    length in batches."""
    if index_sampler is not None:
        return len(index_sampler)
    try:
        n = len(dataset)
    except TypeError:
        raise TypeError(f"DataLoader: the IterableDataset {type(dataset).__name__} has no __len__") from None
    if batch_size is None:
        return n
    return n // batch_size if drop_last else -(-n // batch_size)


def _pin(batch):
    """Copy the arrays of a batch into page-locked host memory (faster, asynchronous copies to the GPU)."""
    if isinstance(batch, Tensor):
        import cupyx  # only reached when a GPU is visible, so CuPy is installed

        pinned = cupyx.empty_pinned(batch.shape, batch.array.dtype)
        pinned[...] = batch.array
        return Tensor._wrap(pinned)
    if isinstance(batch, dict):
        return {k: _pin(v) for k, v in batch.items()}
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):
        return type(batch)(*(_pin(v) for v in batch))
    if isinstance(batch, (list, tuple)):
        return type(batch)(_pin(v) for v in batch)
    return batch


class DataLoader:
    """Batches from ``dataset``: ``for x, y in DataLoader(dataset, batch_size=64, shuffle=True)``.

    A map-style dataset is read through ``sampler`` (``RandomSampler`` when ``shuffle``, else ``SequentialSampler``)
    grouped by ``batch_sampler`` (``BatchSampler(sampler, batch_size, drop_last)``); an ``IterableDataset`` is read
    in order. ``collate_fn`` (``default_collate``) stacks each batch into Tensors of shape (batch_size, ...);
    ``batch_size=None`` yields single samples (arrays converted to Tensors). ``len(loader)`` is the number of
    batches: ``ceil(n / batch_size)``, or ``floor`` with ``drop_last``.

    ``num_workers > 0`` builds batches in parallel on ``worker_type`` workers (``"process"``, the default, or
    ``"thread"``), ``prefetch_factor`` batches ahead per worker, and yields them in order (``in_order=False`` yields
    them as they finish). ``seed`` is a shorthand for ``generator=ganglion.Generator().manual_seed(seed)``.

    Failures come back as PyTorch's do: a worker's exception is raised in the loop with its type and the worker's
    traceback (``KeyboardInterrupt`` and ``SystemExit`` as themselves), a worker that dies is a ``RuntimeError``
    naming its pid and exit code or signal, and ``timeout`` (seconds, 0: none) bounds the wait for each batch.
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device="", in_order=True, seed=None, worker_type=None):
        if not (hasattr(dataset, "__getitem__") or hasattr(dataset, "__iter__")):
            raise TypeError(f"DataLoader: dataset must define __getitem__ or __iter__, got {type(dataset).__name__}")
        if batch_size is not None and not _is_positive_int(batch_size):
            raise ValueError(f"DataLoader: batch_size must be a positive integer or None, got {batch_size!r}")
        if not isinstance(num_workers, numbers.Integral) or isinstance(num_workers, bool) or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers must be a non-negative integer, got {num_workers!r}")
        if not isinstance(timeout, numbers.Real) or timeout < 0:
            raise ValueError(f"DataLoader: timeout must be a non-negative number, got {timeout!r}")
        if prefetch_factor is not None and (num_workers == 0 or not _is_positive_int(prefetch_factor)):
            raise ValueError(
                f"DataLoader: prefetch_factor must be a positive integer and needs num_workers > 0, got "
                f"prefetch_factor={prefetch_factor!r} with num_workers={num_workers}"
            )
        if persistent_workers and num_workers == 0:
            raise ValueError("DataLoader: persistent_workers=True needs num_workers > 0")
        if worker_type is not None and worker_type not in WORKER_TYPES:
            raise ValueError(f"DataLoader: unknown worker_type {worker_type!r}; accepted: {', '.join(WORKER_TYPES)}")
        if seed is not None:
            if generator is not None:
                raise ValueError("DataLoader: give either generator or seed, not both")
            generator = backend.Generator().manual_seed(seed)
        if not isinstance(drop_last, bool):
            raise TypeError(f"DataLoader: drop_last must be a bool, got {drop_last!r}")

        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            if shuffle not in (None, False):
                raise ValueError(f"DataLoader: an IterableDataset cannot be shuffled (shuffle={shuffle!r})")
            if sampler is not None or batch_sampler is not None:
                raise ValueError("DataLoader: an IterableDataset takes no sampler or batch_sampler")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "DataLoader: batch_sampler is mutually exclusive with batch_size, shuffle, sampler and drop_last"
                )
            batch_size = None
        elif batch_size is None and drop_last:
            raise ValueError("DataLoader: drop_last=True needs a batch_size (batch_size=None yields single samples)")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler is mutually exclusive with shuffle")
        if not self._iterable and sampler is None:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if not self._iterable and batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.dataset, self.batch_size, self.drop_last = dataset, batch_size, drop_last
        self.sampler, self.batch_sampler, self.generator = sampler, batch_sampler, generator
        self.num_workers, self.timeout, self.worker_init_fn = int(num_workers), timeout, worker_init_fn
        self.prefetch_factor = (prefetch_factor or 2) if num_workers else None
        self.persistent_workers, self.in_order = bool(persistent_workers), bool(in_order)
        self.worker_type = worker_type or DEFAULT_WORKER_TYPE
        self.multiprocessing_context = multiprocessing_context
        self.collate_fn = collate_fn or (default_collate if self._auto_collation else default_convert)
        self.pin_memory, self.pin_memory_device = bool(pin_memory), pin_memory_device
        if self.pin_memory and not backend.cuda_is_available():
            warnings.warn("DataLoader: pin_memory=True, but no GPU is visible, so batches stay in ordinary memory")
        self._pins = self.pin_memory and backend.cuda_is_available()
        self._iterator, self._epoch = None, 0  # the iterator that persistent workers serve

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None or (self._iterable and self.batch_size is not None)

    @property
    def _index_sampler(self):
        return self.batch_sampler if self.batch_sampler is not None else self.sampler

    def _make_fetcher(self):
        return Fetcher(self.dataset, self._iterable, self._auto_collation, self.collate_fn, self.batch_size,
                       self.drop_last)

    def __len__(self):
        return _num_batches(self.dataset, None if self._iterable else self._index_sampler, self.batch_size,
                            self.drop_last)

    def __iter__(self):
        """A new epoch. With ``persistent_workers`` it is the same iterator each time, restarted (as in PyTorch),
        so one pool of workers serves every epoch and an abandoned epoch cannot steal the next one's batches."""
        self._epoch += 1
        base_seed = _random.draw_seed(self.generator)
        if self.num_workers == 0:
            return _SingleWorkerIter(self, base_seed)
        if not self.persistent_workers:
            return _MultiWorkerIter(self, base_seed)
        if self._iterator is None:
            self._iterator = _MultiWorkerIter(self, base_seed)
        else:
            self._iterator._reset(self, base_seed)
        return self._iterator

    def _start_pool(self, base_seed):
        if self.worker_type == "thread":
            return ThreadPool(self._make_fetcher, self.num_workers, base_seed, self.worker_init_fn)
        context = self.multiprocessing_context
        if context is None and sys.platform.startswith("linux"):
            context = "fork"  # starts in milliseconds and needs nothing picklable (newer Pythons default otherwise)
        if context is None or isinstance(context, str):
            context = multiprocessing.get_context(context)
        return ProcessPool(self._make_fetcher, self.num_workers, base_seed, self.worker_init_fn, context)


class _SingleWorkerIter:
    """Batches built in the calling thread."""

    def __init__(self, loader, base_seed):
        self._loader, self._base_seed, self._batch = loader, base_seed, 0
        self._fetcher = loader._make_fetcher()
        self._indices = None if loader._iterable else iter(loader._index_sampler)
        self._stream = np.random.default_rng([base_seed, 0]) if loader._iterable else None

    def __iter__(self):
        return self

    def __len__(self):
        return len(self._loader)

    def __next__(self):
        if self._indices is None:
            with _random.use(self._stream):
                batch = self._fetcher.fetch(None)
            if isinstance(batch, Exhausted):
                raise StopIteration
        else:
            indices = next(self._indices)
            with _random.seeded((self._base_seed, self._batch)):
                batch = self._fetcher.fetch(indices)
        self._batch += 1
        return _pin(batch) if self._loader._pins else batch


class _MultiWorkerIter:
    """Batches built by a pool of workers: batch ``k`` goes to worker ``k % num_workers`` (for streams, the next
    worker that still has data), at most ``prefetch_factor`` per worker are in flight, and results come back in
    order.

    It holds what it needs of the loader, not the loader (which holds a persistent iterator): dropping the last of
    them drops the pool, whose finalizer stops the workers at once. It never waits on nothing: a worker's exception is raised here (the
    iterator goes on with the next batch, as PyTorch's does), while a dead worker, a timeout, or a worker's
    ``KeyboardInterrupt`` / ``SystemExit`` shuts the pool down and ends the iterator.
    """

    def __init__(self, loader, base_seed):
        self._pool = None
        self._persistent, self._prefetch = loader.persistent_workers, loader.prefetch_factor
        self._reset(loader, base_seed)

    def _reset(self, loader, base_seed):
        """Start an epoch on this iterator's pool (a new one if it has none: the first epoch, or the last pool
        failed). Batches of an abandoned epoch that are still in flight carry an older epoch number; ``_receive``
        drops them."""
        if self._pool is None:
            self._pool = loader._start_pool(base_seed)
        self._epoch, self._base_seed, self._timeout = loader._epoch, base_seed, loader.timeout
        self._in_order, self._pins = loader.in_order, loader._pins
        self._length_of = (loader.dataset, None if loader._iterable else loader._index_sampler, loader.batch_size,
                           loader.drop_last)
        self._indices = None if loader._iterable else iter(loader._index_sampler)
        self._active = list(range(self._pool.num_workers))  # workers whose stream is not exhausted
        self._next_task = self._next_yield = 0
        self._in_flight, self._buffer, self._done, self._finished = {}, {}, False, False
        for _ in range(self._prefetch * self._pool.num_workers):
            self._dispatch()

    def __iter__(self):
        return self

    def __len__(self):
        return _num_batches(*self._length_of)

    def _dispatch(self):
        if self._done:
            return
        if self._indices is not None:
            indices = next(self._indices, None)
            if indices is None:
                self._done = True
                return
            worker, seed = self._next_task % self._pool.num_workers, (self._base_seed, self._next_task)
        else:
            if not self._active:
                self._done = True
                return
            worker, indices, seed = self._active[self._next_task % len(self._active)], None, self._base_seed
        try:
            self._pool.submit(worker, (self._epoch, self._next_task, indices, seed))
        except RuntimeError:  # the worker died
            self._shutdown()
            raise
        self._in_flight[self._next_task] = worker
        self._next_task += 1

    def _receive(self):
        while True:
            try:
                epoch, task_id, payload = self._pool.get(self._timeout or None)
            except TimeoutError:
                self._shutdown()
                raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds") from None
            except RuntimeError:  # a worker died
                self._shutdown()
                raise
            if epoch == self._epoch:
                return task_id, payload

    def __next__(self):
        while not self._finished:
            if self._in_order and self._next_yield in self._buffer:
                task_id, payload = self._next_yield, self._buffer.pop(self._next_yield)
            elif not self._in_order and self._buffer:
                task_id = next(iter(self._buffer))
                payload = self._buffer.pop(task_id)
            elif not self._in_flight:
                break
            else:
                task_id, payload = self._receive()
                self._buffer[task_id] = payload
                continue
            self._next_yield += 1
            worker = self._in_flight.pop(task_id)
            if isinstance(payload, Exhausted):
                if worker in self._active:
                    self._active.remove(worker)
                self._dispatch()
                continue
            if isinstance(payload, WorkerFailure):
                if payload.stops_the_loop:
                    self._shutdown()
                else:
                    self._dispatch()
                payload.reraise()
            self._dispatch()
            return _pin(payload) if self._pins else payload
        self._finished = True
        if not self._persistent:
            self._shutdown()
        raise StopIteration

    def _shutdown(self):
        """Stop the workers and end the iterator; a persistent loader starts a new pool at its next epoch."""
        self._finished = True
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown()
