"""DataLoader workers: what a worker does (fetch samples, collate them) and the two pools that run workers, one
on threads and one on processes.

Every task carries the epoch, its batch number and the seed of its random stream; the main side puts results back
in batch order, so the order (and every random draw) is the same for any number of workers of either kind.
"""

import importlib
import pickle
import queue
import random
import threading
import traceback
from multiprocessing import connection

import numpy as np

from .. import backend
from . import _random

_local = threading.local()


class WorkerInfo:
    """What a worker knows about itself: ``id`` (0..num_workers-1), ``num_workers``, ``seed`` and its ``dataset``
    copy. ``get_worker_info()`` returns it inside a worker and ``None`` in the main process."""

    def __init__(self, id, num_workers, seed, dataset):
        self.id, self.num_workers, self.seed, self.dataset = id, num_workers, seed, dataset

    def __repr__(self):
        return f"WorkerInfo(id={self.id}, num_workers={self.num_workers}, seed={self.seed})"


def get_worker_info():
    """This worker's ``WorkerInfo`` (use it in ``IterableDataset.__iter__`` to shard a stream), or ``None``."""
    return getattr(_local, "info", None)


class Exhausted:
    """A worker's answer when its copy of an IterableDataset has no batch left."""


class WorkerFailure:
    """An exception raised in a worker, carried to the main side (by name, so any exception type can travel)."""

    def __init__(self, worker_id, error):
        cls = type(error)
        self.worker_id, self.module, self.name = worker_id, cls.__module__, cls.__qualname__
        self.text = "".join(traceback.format_exception(cls, error, error.__traceback__))

    def reraise(self):
        message = f"Caught {self.name} in DataLoader worker {self.worker_id}. Original traceback:\n{self.text}"
        try:
            cls = getattr(importlib.import_module(self.module), self.name)
            error = cls(message)
        except Exception:
            error = RuntimeError(message)
        raise error


def worker_seed(base_seed, worker_id):
    """The seed a worker process gives ganglion's, Python's and NumPy's global generators."""
    return int(np.random.SeedSequence([base_seed, worker_id]).generate_state(1, np.uint64)[0] >> 1)


class Fetcher:
    """Turns a task into a batch: ``dataset[i]`` for the task's indices (map-style) or the next ``batch_size``
    items of the stream (iterable), then ``collate_fn``."""

    def __init__(self, dataset, iterable, auto_collation, collate_fn, batch_size, drop_last):
        self.dataset, self.iterable, self.auto_collation = dataset, iterable, auto_collation
        self.collate_fn, self.batch_size, self.drop_last = collate_fn, batch_size, drop_last
        self._iterator, self._ended = None, False

    def restart(self):
        self._iterator, self._ended = None, False

    def fetch(self, indices):
        if not self.iterable:
            if not self.auto_collation:
                return self.collate_fn(self.dataset[indices])
            getitems = getattr(self.dataset, "__getitems__", None)
            samples = getitems(indices) if getitems is not None else [self.dataset[i] for i in indices]
            return self.collate_fn(samples)
        if self._ended:
            return Exhausted()
        if self._iterator is None:
            self._iterator = iter(self.dataset)
        if not self.auto_collation:
            try:
                return self.collate_fn(next(self._iterator))
            except StopIteration:
                self._ended = True
                return Exhausted()
        samples = []
        for item in self._iterator:
            samples.append(item)
            if len(samples) == self.batch_size:
                break
        if len(samples) < self.batch_size:
            self._ended = True
            if not samples or self.drop_last:
                return Exhausted()
        return self.collate_fn(samples)


def worker_loop(fetcher, recv, send, worker_id, num_workers, base_seed, worker_init_fn, in_process):
    """The body of one worker: set up, then answer tasks ``(epoch, task_id, indices, seed)`` until ``None``."""
    if in_process:
        seed = worker_seed(base_seed, worker_id)
        backend.manual_seed(seed)
        random.seed(seed)
        np.random.seed(seed % 2**32)
    _local.info = WorkerInfo(worker_id, num_workers, base_seed + worker_id, fetcher.dataset)
    init_failure = None
    if worker_init_fn is not None:
        try:
            worker_init_fn(worker_id)
        except Exception as error:
            init_failure = WorkerFailure(worker_id, error)
    epoch, stream = None, None
    while True:
        try:
            task = recv()
        except (EOFError, OSError):  # the main side went away
            return
        if task is None:
            return
        task_epoch, task_id, indices, seed = task
        if task_epoch != epoch:  # a new pass: streams start again
            epoch = task_epoch
            fetcher.restart()
            stream = np.random.default_rng([seed, worker_id]) if fetcher.iterable else None
        if init_failure is not None:
            send((task_epoch, task_id, init_failure))
            continue
        try:
            if fetcher.iterable:
                with _random.use(stream):
                    payload = fetcher.fetch(None)
            else:
                with _random.seeded(seed):
                    payload = fetcher.fetch(indices)
        except Exception as error:
            payload = WorkerFailure(worker_id, error)
        send((task_epoch, task_id, payload))


class ThreadPool:
    """Workers as threads of this process: tasks and batches pass as Python objects, nothing is copied."""

    kind = "thread"

    def __init__(self, make_fetcher, num_workers, base_seed, worker_init_fn):
        self.num_workers = num_workers
        self._tasks = [queue.Queue() for _ in range(num_workers)]
        self._results = queue.Queue()
        self._threads = []
        for w in range(num_workers):
            args = (make_fetcher(), self._tasks[w].get, self._results.put, w, num_workers, base_seed,
                    worker_init_fn, False)
            t = threading.Thread(target=worker_loop, args=args, name=f"ganglion-data-worker-{w}", daemon=True)
            t.start()
            self._threads.append(t)

    def submit(self, worker_id, task):
        self._tasks[worker_id].put(task)

    def get(self, timeout):
        """The next finished ``(epoch, task_id, payload)``; ``TimeoutError`` after ``timeout`` seconds."""
        try:
            return self._results.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError from None

    def shutdown(self):
        for q in self._tasks:  # drop the prefetched tasks not started yet, then ask each thread to stop
            while True:
                try:
                    q.get_nowait()
                except queue.Empty:
                    break
            q.put(None)
        for t in self._threads:
            t.join(timeout=10)
        self._threads = []


def _process_main(conn, fetcher, worker_id, num_workers, base_seed, worker_init_fn):
    def send(message):
        try:
            data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as error:  # an unpicklable batch: report it instead of dying silently
            data = pickle.dumps((message[0], message[1], WorkerFailure(worker_id, error)))
        conn.send_bytes(data)

    try:
        worker_loop(fetcher, conn.recv, send, worker_id, num_workers, base_seed, worker_init_fn, True)
    except (OSError, KeyboardInterrupt):  # the main side closed the pipe (shutdown) or the user interrupted
        pass
    finally:
        conn.close()


class ProcessPool:
    """Workers as processes (``multiprocessing``): each has a pipe; batches come back pickled."""

    kind = "process"

    def __init__(self, make_fetcher, num_workers, base_seed, worker_init_fn, context):
        self.num_workers = num_workers
        self._conns, self._procs = [], []
        for w in range(num_workers):
            parent, child = context.Pipe(duplex=True)
            p = context.Process(target=_process_main, daemon=True, name=f"ganglion-data-worker-{w}",
                                args=(child, make_fetcher(), w, num_workers, base_seed, worker_init_fn))
            p.start()
            child.close()
            self._conns.append(parent)
            self._procs.append(p)

    def submit(self, worker_id, task):
        self._conns[worker_id].send(task)

    def get(self, timeout):
        ready = connection.wait(self._conns, timeout=timeout)
        if not ready:
            raise TimeoutError
        conn = ready[0]
        w = self._conns.index(conn)
        try:
            data = conn.recv_bytes()
        except (EOFError, OSError):
            self._procs[w].join(timeout=1)
            raise RuntimeError(
                f"DataLoader worker {w} (pid {self._procs[w].pid}) exited unexpectedly with exit code "
                f"{self._procs[w].exitcode}"
            ) from None
        return pickle.loads(data)

    def shutdown(self):
        for conn in self._conns:
            try:
                conn.send(None)
            except (BrokenPipeError, OSError):
                pass
            conn.close()  # a worker blocked sending a batch nobody will read gets a broken pipe and exits
        for p in self._procs:
            p.join(timeout=5)
            if p.is_alive():
                p.terminate()
                p.join(timeout=5)
        self._conns, self._procs = [], []
