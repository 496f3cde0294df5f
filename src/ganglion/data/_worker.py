"""DataLoader workers: what a worker does (fetch samples, collate them) and the two pools that run workers, one
on threads and one on processes.

Every task carries the epoch, its batch number and the seed of its random stream; the main side puts results back
in batch order, so the order (and every random draw) is the same for any number of workers of either kind.

A pool never leaves its caller waiting on a worker that is gone: ``get`` wakes every ``_POLL_SECONDS`` to check that
the workers are alive, a dead one is a ``RuntimeError`` in PyTorch's words, and ``shutdown`` is bounded in time.
"""

import os
import pickle
import queue
import random
import signal
import threading
import time
import traceback
import weakref
from multiprocessing import connection

import numpy as np

from .. import backend
from . import _random

_POLL_SECONDS = 0.5  # how often a waiting main side checks that its workers are still alive
_SHUTDOWN_SECONDS = 5.0  # how long shutdown waits for busy workers to finish their task (PyTorch waits 5 s too)

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


class KeyErrorMessage(str):
    """A message that prints as itself: ``str(KeyError(m))`` is ``repr(m)``, which would fold a worker's traceback
    onto one line of ``\\n`` escapes (PyTorch works around it the same way)."""

    def __repr__(self):
        return self


class WorkerFailure:
    """An exception raised in a worker, carried to the main side and raised there as PyTorch's ``ExceptionWrapper``
    does: the same type, with the message ``Caught X in DataLoader worker process N.\\nOriginal Traceback (most
    recent call last): ...`` holding the worker's whole traceback.

    ``KeyboardInterrupt``, ``SystemExit`` and other exceptions that are not ``Exception``s are raised as themselves
    (same arguments, so ``SystemExit`` keeps its exit code), as they would be without workers; the worker's
    traceback is their ``__cause__``.
    """

    def __init__(self, error, where):
        self.exc_type, self.exc_name, self.where = type(error), type(error).__name__, where
        self.text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        self.args = () if isinstance(error, Exception) else error.args

    @property
    def stops_the_loop(self):
        """True for ``KeyboardInterrupt``, ``SystemExit`` and the like: the caller asked everything to stop."""
        return self.exc_type is not None and not issubclass(self.exc_type, Exception)

    def __getstate__(self):
        state = dict(self.__dict__)
        try:
            pickle.dumps(self.exc_type)
        except Exception:  # a class defined inside a function cannot be named in another process
            state["exc_type"] = None
        return state

    def reraise(self):
        message = f"Caught {self.exc_name} {self.where}.\nOriginal {self.text}"
        cls = self.exc_type
        if cls is None:
            raise RuntimeError(message)
        if self.stops_the_loop:
            try:
                error = cls(*self.args)
            except Exception:
                raise RuntimeError(message) from None
            raise error from RuntimeError(message)
        if issubclass(cls, KeyError):
            message = KeyErrorMessage(message)
        try:
            # some exceptions take their message only as a keyword (PyTorch's ExceptionWrapper does the same)
            error = cls(message=message) if getattr(cls, "message", None) else cls(message)
        except Exception:  # a constructor that wants other arguments: keep the message, lose the type
            raise RuntimeError(message) from None
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
    """The body of one worker: set up, then answer tasks ``(epoch, task_id, indices, seed)`` until ``None``.

    Every task gets an answer, a failure included (any ``BaseException``: a worker that died of ``SystemExit``
    would leave the main side waiting for its batch). The process-wide generators are seeded only in a worker
    process: a thread worker must not touch state that the training thread shares.
    """
    where = f"in DataLoader worker {'process' if in_process else 'thread'} {worker_id}"
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
        except BaseException as error:
            init_failure = WorkerFailure(error, where)
    epoch, stream = None, None
    while True:
        task = recv()
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
        except BaseException as error:
            payload = WorkerFailure(error, where)
        send((task_epoch, task_id, payload))


def _poll_waits(timeout):
    """The waits (seconds) that make up a wait of ``timeout`` seconds (``None``: no limit), each at most
    ``_POLL_SECONDS`` so the caller can check its workers in between; ``TimeoutError`` once ``timeout`` is spent."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        left = _POLL_SECONDS if deadline is None else deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        yield min(left, _POLL_SECONDS)


def _shut_down_already():
    return RuntimeError("DataLoader: the workers of this iterator have been shut down")


def _run_thread_worker(crashes, worker_id, args):
    try:
        worker_loop(*args)
    except BaseException as error:  # worker_loop answers every task, so this is the worker itself breaking
        crashes[worker_id] = WorkerFailure(error, f"in DataLoader worker thread {worker_id}")


class ThreadPool:
    """Workers as threads of this process: tasks and batches pass as Python objects, nothing is copied."""

    kind = "thread"

    def __init__(self, make_fetcher, num_workers, base_seed, worker_init_fn):
        self.num_workers = num_workers
        self._tasks = [queue.Queue() for _ in range(num_workers)]
        self._results = queue.Queue()
        self._threads, self._crashes = [], {}
        for w in range(num_workers):
            args = (make_fetcher(), self._tasks[w].get, self._results.put, w, num_workers, base_seed,
                    worker_init_fn, False)
            t = threading.Thread(target=_run_thread_worker, args=(self._crashes, w, args),
                                 name=f"ganglion-data-worker-{w}", daemon=True)
            t.start()
            self._threads.append(t)
        # Dropping the pool (its iterator abandoned) stops the threads. A finalizer rather than __del__: it holds
        # what it needs, so a garbage collection cannot take any of that apart before it runs.
        self._stop = weakref.finalize(self, _stop_threads, self._tasks, self._threads, os.getpid())
        self._stop.atexit = False  # the threads are daemons

    def submit(self, worker_id, task):
        self._tasks[worker_id].put(task)

    def get(self, timeout=None):
        """The next finished ``(epoch, task_id, payload)``. ``TimeoutError`` after ``timeout`` seconds (``None``: no
        limit); ``RuntimeError`` if a worker thread has ended."""
        for wait in _poll_waits(timeout):
            if not self._threads:
                raise _shut_down_already()
            try:
                return self._results.get(timeout=wait)
            except queue.Empty:
                pass
            dead = [w for w, t in enumerate(self._threads) if not t.is_alive()]
            if dead:
                details = "".join(f"\n{self._crashes[w].text}" for w in dead if w in self._crashes)
                raise RuntimeError(f"DataLoader worker thread(s) {', '.join(map(str, dead))} exited unexpectedly"
                                   + details)

    def shutdown(self):
        """Stop the workers now (see ``_stop_threads``); later calls do nothing."""
        self._stop()


def _stop_threads(tasks, threads, owner_pid):
    """Drop the tasks not started yet and ask each thread to stop; wait at most ``_SHUTDOWN_SECONDS`` for those busy
    with a batch (threads cannot be killed: a stuck one is left behind as a daemon)."""
    if os.getpid() != owner_pid:  # a forked copy of the pool owns no threads
        return
    stopping = list(threads)
    threads.clear()
    for q in tasks:
        while True:
            try:
                q.get_nowait()
            except queue.Empty:
                break
        q.put(None)
    deadline = time.monotonic() + _SHUTDOWN_SECONDS
    for t in stopping:
        if t is not threading.current_thread():  # a garbage collection may run this inside a worker
            t.join(max(0.0, deadline - time.monotonic()))


def _read_tasks(conn, put):
    """A worker process's task reader. Tasks are read as they come, on a thread of their own, so the pipe towards
    the worker never fills up: otherwise the main side could block sending a task while the worker blocks sending
    it a batch, each waiting for the other."""
    try:
        while True:
            task = conn.recv()
            put(task)
            if task is None:
                return
    except (EOFError, OSError):  # the main side went away
        put(None)


def _process_main(conn, fetcher, worker_id, num_workers, base_seed, worker_init_fn):
    where = f"in DataLoader worker process {worker_id}"

    def send(message):
        try:
            data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as error:  # an unpicklable batch: report it instead of dying silently
            data = pickle.dumps((message[0], message[1], WorkerFailure(error, where)))
        conn.send_bytes(data)

    tasks = queue.SimpleQueue()
    threading.Thread(target=_read_tasks, args=(conn, tasks.put), daemon=True).start()
    try:
        worker_loop(fetcher, tasks.get, send, worker_id, num_workers, base_seed, worker_init_fn, True)
    except (OSError, KeyboardInterrupt):  # the main side closed the pipe (shutdown) or the user pressed Ctrl-C
        pass
    finally:
        conn.close()


def _how_it_ended(process):
    code = process.exitcode
    if code is None:
        return "closed its pipe"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"was killed by signal {name} ({signal.strsignal(-code)})"
    return f"exited with exit code {code}"


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
        # As for ThreadPool; here it matters more: a garbage collection that closed the pipes first would leave this
        # writing to and closing file descriptors that may since belong to someone else.
        self._stop = weakref.finalize(self, _stop_processes, self._conns, self._procs, os.getpid())
        self._stop.atexit = False  # at exit multiprocessing terminates daemon processes itself

    def _died(self, workers):
        """The error for dead workers, in PyTorch's words, with how each ended."""
        for w in workers:
            self._procs[w].join(timeout=1)  # a closed pipe comes a moment before the exit code
        pids = ", ".join(str(self._procs[w].pid) for w in workers)
        details = "; ".join(f"worker {w} (pid {self._procs[w].pid}) {_how_it_ended(self._procs[w])}"
                            for w in workers)
        return RuntimeError(f"DataLoader worker (pid(s) {pids}) exited unexpectedly: {details}. Details are lost "
                            f"due to multiprocessing; rerunning with num_workers=0 may give a better error trace")

    def submit(self, worker_id, task):
        if not self._conns:
            raise _shut_down_already()
        try:
            self._conns[worker_id].send(task)
        except OSError:  # BrokenPipeError, ConnectionResetError: the worker is gone
            raise self._died([worker_id]) from None

    def get(self, timeout=None):
        """The next finished ``(epoch, task_id, payload)``. ``TimeoutError`` after ``timeout`` seconds (``None``: no
        limit); ``RuntimeError`` naming the pids if a worker has died."""
        for wait in _poll_waits(timeout):
            if not self._conns:
                raise _shut_down_already()
            ready = connection.wait(self._conns, timeout=wait)
            if ready:
                w = self._conns.index(ready[0])
                try:
                    data = ready[0].recv_bytes()
                except (EOFError, OSError):
                    raise self._died([w]) from None
                return pickle.loads(data)
            dead = [w for w, p in enumerate(self._procs) if p.exitcode is not None]
            if dead:  # its pipe may still be open elsewhere (a process it started), so no end-of-file came
                raise self._died(dead)

    def shutdown(self):
        """Stop the workers now (see ``_stop_processes``); later calls do nothing."""
        self._stop()


def _stop_processes(conns, procs, owner_pid):
    """Ask each worker process to stop and close its pipe (a worker blocked sending a batch nobody will read gets a
    broken pipe and exits); terminate those still running after ``_SHUTDOWN_SECONDS``, then kill."""
    if os.getpid() != owner_pid:  # a forked copy of the pool (inside a later worker) owns no processes
        return
    closing, stopping = list(conns), list(procs)
    conns.clear()
    procs.clear()
    for conn in closing:
        try:
            os.set_blocking(conn.fileno(), False)  # a stopped worker must not block us on a full pipe
            conn.send(None)
        except OSError:
            pass
        conn.close()
    deadline = time.monotonic() + _SHUTDOWN_SECONDS
    for p in stopping:
        p.join(max(0.0, deadline - time.monotonic()))
    for p in stopping:
        if p.is_alive():
            p.terminate()
            p.join(1)
        if p.is_alive():
            p.kill()
            p.join()
