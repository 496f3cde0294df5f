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
_POLL_SECONDS = 5.0


def _is_positive_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value > 0


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
        self._pool, self._epoch = None, 0

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
        if not self._iterable:
            return len(self._index_sampler)
        try:
            n = len(self.dataset)
        except TypeError:
            raise TypeError(f"DataLoader: the IterableDataset {type(self.dataset).__name__} has no __len__") from None
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _finish(self, batch):
        return _pin(batch) if self.pin_memory and backend.cuda_is_available() else batch

    def __iter__(self):
        self._epoch += 1
        base_seed = _random.draw_seed(self.generator)
        if self.num_workers == 0:
            return _SingleWorkerIter(self, base_seed)
        if not self.persistent_workers:  # a pool per epoch, shut down when the epoch ends or is abandoned
            return _MultiWorkerIter(self, self._start_pool(base_seed), base_seed, owns_pool=True)
        if self._pool is None:
            self._pool = self._start_pool(base_seed)
        return _MultiWorkerIter(self, self._pool, base_seed, owns_pool=False)

    def _start_pool(self, base_seed):
        if self.worker_type == "thread":
            return ThreadPool(self._make_fetcher, self.num_workers, base_seed, self.worker_init_fn)
        context = self.multiprocessing_context
        if context is None and sys.platform.startswith("linux"):
            context = "fork"  # starts in milliseconds and needs nothing picklable (newer Pythons default otherwise)
        if context is None or isinstance(context, str):
            context = multiprocessing.get_context(context)
        return ProcessPool(self._make_fetcher, self.num_workers, base_seed, self.worker_init_fn, context)

    def __del__(self):
        pool = getattr(self, "_pool", None)
        if pool is not None:
            pool.shutdown()


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
        return self._loader._finish(batch)


class _MultiWorkerIter:
    """Batches built by a pool of workers: batch ``k`` goes to worker ``k % num_workers`` (for streams, the next
    worker that still has data), at most ``prefetch_factor`` per worker are in flight, and results come back in
    order."""

    def __init__(self, loader, pool, base_seed, owns_pool):
        self._loader, self._pool, self._owns_pool, self._base_seed = loader, pool, owns_pool, base_seed
        self._epoch = loader._epoch
        self._indices = None if loader._iterable else iter(loader._index_sampler)
        self._active = list(range(pool.num_workers))  # workers whose stream is not exhausted
        self._next_task = self._next_yield = 0
        self._in_flight, self._done, self._buffer, self._closed = {}, False, {}, False
        for _ in range(loader.prefetch_factor * pool.num_workers):
            self._dispatch()

    def __iter__(self):
        return self

    def __len__(self):
        return len(self._loader)

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
        self._pool.submit(worker, (self._epoch, self._next_task, indices, seed))
        self._in_flight[self._next_task] = worker
        self._next_task += 1

    def _receive(self):
        timeout = self._loader.timeout or _POLL_SECONDS
        while True:
            try:
                epoch, task_id, payload = self._pool.get(timeout)
            except TimeoutError:
                if self._loader.timeout:
                    self._close()
                    raise RuntimeError(f"DataLoader timed out after {self._loader.timeout} seconds") from None
                continue
            if epoch == self._epoch:  # results of an abandoned earlier epoch (persistent workers) are dropped
                return task_id, payload

    def __next__(self):
        while True:
            if self._in_order and self._next_yield in self._buffer:
                task_id, payload = self._next_yield, self._buffer.pop(self._next_yield)
            elif not self._in_order and self._buffer:
                task_id = next(iter(self._buffer))
                payload = self._buffer.pop(task_id)
            elif not self._in_flight:
                self._close()
                raise StopIteration
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
            self._dispatch()
            if isinstance(payload, WorkerFailure):
                self._close()
                payload.reraise()
            return self._loader._finish(payload)

    @property
    def _in_order(self):
        return self._loader.in_order

    def _close(self):
        if not self._closed:
            self._closed = True
            if self._owns_pool:
                self._pool.shutdown()

    def __del__(self):
        try:
            self._close()
        except Exception:
            pass
