"""DataLoader failures: a worker's exception comes back as PyTorch raises it (same type, the worker's traceback on
many lines), KeyboardInterrupt / SystemExit come back as themselves, a dead worker process or a timeout is a
RuntimeError in PyTorch's words, and no way of failing or abandoning a loader leaves anything waiting.

Every test that iterates a loader runs it under ``bounded``: a regression fails the test instead of hanging CI."""

import gc
import os
import pickle
import random
import re
import signal
import sys
import threading
import time

import numpy as np
import pytest

import ganglion
from ganglion.data import DataLoader, Dataset, get_worker_info
from ganglion.data import _worker

KINDS = ["thread", "process"]
MAIN_PID = os.getpid()


def bounded(fn, seconds=20):
    """``(value, None)`` or ``(None, exception)`` from ``fn()`` run in a thread; fails the test if ``fn`` has not
    returned within ``seconds`` (a hang)."""
    box = {}

    def run():
        try:
            box["value"] = fn()
        except BaseException as error:  # KeyboardInterrupt and SystemExit too: they are what some tests expect
            box["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds} s: the DataLoader hangs"
    return box.get("value"), box.get("error")


def workers_of(iterator):
    """The threads or processes of a multi-worker iterator's pool."""
    pool = iterator._pool
    return list(pool._threads) if pool.kind == "thread" else list(pool._procs)


def all_stopped(workers, seconds=10):
    deadline = time.monotonic() + seconds
    while any(w.is_alive() for w in workers) and time.monotonic() < deadline:
        time.sleep(0.01)
    return not any(w.is_alive() for w in workers)


class Raises(Dataset):
    """0..7; sample 5 raises ``error``."""

    def __init__(self, error):
        self.error = error

    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == 5:
            raise self.error
        return i


class Pids(Dataset):
    """Samples are the pid of the process that built them."""

    def __len__(self):
        return 8

    def __getitem__(self, i):
        return os.getpid()


class KillsItself(Dataset):
    """Sample 2 ends its worker process: ``os._exit(code)``, or the signal ``-code``. Never the test process."""

    def __init__(self, code):
        self.code = code

    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == 2 and os.getpid() != MAIN_PID:
            if self.code < 0:
                os.kill(os.getpid(), -self.code)
            os._exit(self.code)
        return i


class Numbers(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        return i


class Who(Dataset):
    """Samples are (pid, thread id) of the worker that built them."""

    def __len__(self):
        return 8

    def __getitem__(self, i):
        return os.getpid(), threading.get_ident()


class Hangs(Dataset):
    """Each sample takes ``seconds``."""

    def __init__(self, seconds):
        self.seconds = seconds

    def __len__(self):
        return 4

    def __getitem__(self, i):
        time.sleep(self.seconds)
        return i


def batches(loader):
    return [b.tolist() for b in loader]


# ------------------------------------------------------------------------------------ exceptions raised in workers
class NeedsTwoArguments(Exception):
    def __init__(self, a, b):
        super().__init__(a, b)


class KeywordMessage(Exception):
    message = "keyword only"

    def __init__(self, *, message):
        super().__init__(message)


def failure_of(error, where="in DataLoader worker process 0"):
    try:
        raise error
    except BaseException as caught:
        return _worker.WorkerFailure(caught, where)


@pytest.mark.parametrize("error", [ValueError("bad sample 3"), KeyError("no sample 5")])
def test_reraise_gives_pytorchs_type_and_message(error):
    torch_utils = pytest.importorskip("torch._utils")
    try:
        raise error
    except Exception:
        ours = _worker.WorkerFailure(sys.exc_info()[1], "in DataLoader worker process 2")
        theirs = torch_utils.ExceptionWrapper(sys.exc_info(), where="in DataLoader worker process 2")
    with pytest.raises(type(error)) as got:
        ours.reraise()
    with pytest.raises(type(error)) as expected:
        theirs.reraise()
    assert str(got.value) == str(expected.value)
    lines = str(got.value).splitlines()
    assert lines[0] == f"Caught {type(error).__name__} in DataLoader worker process 2."
    assert lines[1] == "Original Traceback (most recent call last):" and "raise error" in map(str.strip, lines)
    assert len(lines) > 4 and lines[-1] == f"{type(error).__name__}: {error}"  # KeyError's too: not one escaped line


def test_reraise_of_awkward_exception_types():
    with pytest.raises(KeywordMessage, match="Caught KeywordMessage in DataLoader worker process 0"):
        failure_of(KeywordMessage(message="x")).reraise()
    with pytest.raises(RuntimeError, match="Caught NeedsTwoArguments in DataLoader worker process 0") as info:
        failure_of(NeedsTwoArguments(1, 2)).reraise()
    assert "NeedsTwoArguments: (1, 2)" in str(info.value)


def test_an_exception_class_another_process_cannot_import_comes_back_as_runtime_error():
    class Local(Exception):
        pass

    travelled = pickle.loads(pickle.dumps(failure_of(Local("only here"))))
    with pytest.raises(RuntimeError, match="Caught Local in DataLoader worker process 0") as info:
        travelled.reraise()
    assert "Local: only here" in str(info.value)
    with pytest.raises(ValueError, match="Caught ValueError"):  # an importable class travels as itself
        pickle.loads(pickle.dumps(failure_of(ValueError("v")))).reraise()


@pytest.mark.parametrize("kind", KINDS)
def test_worker_exception_has_the_multi_line_traceback_and_the_epoch_goes_on(kind):
    def run():
        it, got = iter(DataLoader(Raises(KeyError("no sample 5")), batch_size=2, num_workers=2, worker_type=kind)), []
        while True:
            try:
                got.append(next(it).tolist())
            except StopIteration:
                return got
            except KeyError as error:
                got.append(str(error))

    got, error = bounded(run)
    assert error is None
    assert got[:2] == [[0, 1], [2, 3]] and got[3:] == [[6, 7]]  # as in PyTorch, the failed batch is skipped
    lines = got[2].splitlines()
    assert lines[0] == f"Caught KeyError in DataLoader worker {kind} 0."
    assert lines[1] == "Original Traceback (most recent call last):" and lines[-1] == "KeyError: 'no sample 5'"
    assert any("raise self.error" in line for line in lines)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("error", [SystemExit(3), KeyboardInterrupt()], ids=["SystemExit", "KeyboardInterrupt"])
def test_keyboard_interrupt_and_system_exit_in_a_worker_come_back_as_themselves(kind, error):
    loader = DataLoader(Raises(error), batch_size=2, num_workers=2, worker_type=kind)
    it = iter(loader)
    workers = workers_of(it)
    _, got = bounded(lambda: list(it))
    assert type(got) is type(error) and got.args == error.args  # SystemExit keeps its exit code
    cause = str(got.__cause__)
    assert cause.startswith(f"Caught {type(error).__name__} in DataLoader worker {kind} 0.\nOriginal Traceback")
    assert "raise self.error" in cause
    assert all_stopped(workers)  # the caller asked everything to stop: the pool is shut down
    assert bounded(lambda: next(it, "ended"))[0] == "ended"


@pytest.mark.parametrize("kind", KINDS)
def test_worker_init_fn_raising_system_exit_does_not_hang(kind):
    def init(worker_id):
        sys.exit(f"worker {worker_id} cannot start")

    _, got = bounded(lambda: list(DataLoader(Numbers(), batch_size=2, num_workers=2, worker_type=kind,
                                             worker_init_fn=init)))
    assert isinstance(got, SystemExit) and got.code == "worker 0 cannot start"


def test_a_thread_worker_that_breaks_is_reported(monkeypatch):
    def broken_loop(*args):
        raise RuntimeError("the worker loop itself broke")

    monkeypatch.setattr(_worker, "worker_loop", broken_loop)
    _, got = bounded(lambda: list(DataLoader(Numbers(), batch_size=2, num_workers=2, worker_type="thread")))
    assert isinstance(got, RuntimeError)
    assert re.match(r"DataLoader worker thread\(s\) (0|1|0, 1) exited unexpectedly", str(got))
    assert "the worker loop itself broke" in str(got)


# -------------------------------------------------------------------------------------------- dead worker processes
@pytest.mark.parametrize("code,how", [(3, "exited with exit code 3"),
                                      (-signal.SIGKILL, r"was killed by signal SIGKILL \(Killed\)")])
def test_a_worker_process_that_dies_mid_epoch_is_a_runtime_error(code, how):
    loader = DataLoader(KillsItself(code), batch_size=1, num_workers=2, worker_type="process")
    _, got = bounded(lambda: list(loader))
    assert isinstance(got, RuntimeError)
    assert re.match(rf"DataLoader worker \(pid\(s\) \d+\) exited unexpectedly: worker 0 \(pid \d+\) {how}", str(got))


def test_a_worker_process_killed_between_epochs_is_a_runtime_error_not_a_broken_pipe():
    loader = DataLoader(Pids(), batch_size=2, num_workers=2, worker_type="process", persistent_workers=True)
    pids, _ = bounded(lambda: {p for b in loader for p in b.tolist()})
    procs = workers_of(loader._iterator)
    victim = procs[1]
    os.kill(victim.pid, signal.SIGKILL)
    victim.join(10)
    _, got = bounded(lambda: list(loader))  # the next epoch sends batch 1 to the dead worker
    assert victim.pid in pids and isinstance(got, RuntimeError)
    assert f"DataLoader worker (pid(s) {victim.pid}) exited unexpectedly" in str(got) and "SIGKILL" in str(got)
    assert all_stopped(procs)
    again, error = bounded(lambda: {p for b in loader for p in b.tolist()})  # a fresh pool for the next epoch
    assert error is None and len(again) == 2 and not again & pids


def test_a_worker_process_killed_while_the_loader_waits_is_a_runtime_error():
    loader = DataLoader(Hangs(60), batch_size=1, num_workers=1, worker_type="process")
    it = iter(loader)
    victim = it._pool._procs[0]
    threading.Timer(0.2, os.kill, (victim.pid, signal.SIGKILL)).start()
    _, got = bounded(lambda: next(it))
    assert isinstance(got, RuntimeError) and f"(pid(s) {victim.pid}) exited unexpectedly" in str(got)


@pytest.mark.parametrize("kind", KINDS)
def test_timeout_is_a_runtime_error_and_stuck_workers_are_stopped(kind, monkeypatch):
    monkeypatch.setattr(_worker, "_SHUTDOWN_SECONDS", 0.2)
    it = iter(DataLoader(Hangs(60 if kind == "process" else 1), batch_size=1, num_workers=1, worker_type=kind,
                         timeout=0.3))
    workers = workers_of(it)
    _, got = bounded(lambda: next(it))
    assert isinstance(got, RuntimeError) and str(got) == "DataLoader timed out after 0.3 seconds"
    if kind == "process":  # a thread cannot be stopped; a process is terminated
        assert all_stopped(workers)


# ---------------------------------------------------------------------------------------------------- no hangs
@pytest.mark.parametrize("kind", KINDS)
def test_a_loader_abandoned_after_a_worker_exception_stops_its_workers(kind):
    loader = DataLoader(Raises(ValueError("bad")), batch_size=2, num_workers=2, worker_type=kind)
    it = iter(loader)
    workers = workers_of(it)
    _, got = bounded(lambda: list(it))
    assert isinstance(got, ValueError)
    del loader, it, got
    gc.collect()
    assert all_stopped(workers)


@pytest.mark.parametrize("kind", KINDS)
def test_breaking_out_early_stops_the_workers(kind):
    def first_then_break():
        for pid, thread in DataLoader(Who(), batch_size=1, num_workers=2, worker_type=kind, prefetch_factor=4):
            break
        return int(pid[0]), int(thread[0])

    (pid, thread), error = bounded(first_then_break)
    assert error is None and (pid != os.getpid() if kind == "process" else thread != threading.get_ident())
    if kind == "thread":
        assert thread not in {t.ident for t in threading.enumerate()}
    else:
        with pytest.raises(ProcessLookupError):  # stopped and reaped, not a zombie
            os.kill(pid, 0)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("persistent", [False, True])
def test_iterating_twice_and_interleaved(kind, persistent):
    loader = DataLoader(Numbers(), batch_size=2, sampler=[0, 1, 2, 3, 4, 6, 7], num_workers=2, worker_type=kind,
                        persistent_workers=persistent)
    expected = [[0, 1], [2, 3], [4, 6], [7]]
    (first, second), _ = bounded(lambda: (batches(loader), batches(loader)))
    assert first == second == expected

    def interleaved():
        a = iter(loader)
        head = next(a).tolist()
        b = iter(loader)  # with persistent workers b is a restarted (PyTorch); otherwise a second pool
        return a is b, head, batches(b), batches(a)

    (same, head, from_b, from_a), error = bounded(interleaved)
    assert error is None and same == persistent and head == [0, 1] and from_b == expected
    assert from_a == ([] if persistent else expected[1:])


def test_persistent_workers_go_on_after_a_worker_exception():
    loader = DataLoader(Raises(ValueError("bad")), batch_size=2, num_workers=2, worker_type="process",
                        persistent_workers=True)
    _, got = bounded(lambda: list(loader))
    pool = loader._iterator._pool
    assert isinstance(got, ValueError)
    it = iter(loader)
    got, error = bounded(lambda: [next(it).tolist() for _ in range(2)])
    assert error is None and got == [[0, 1], [2, 3]] and loader._iterator._pool is pool


@pytest.mark.parametrize("kind", KINDS)
def test_a_garbage_collected_loader_stops_its_persistent_workers(kind):
    loader = DataLoader(Pids(), batch_size=1, num_workers=2, worker_type=kind, persistent_workers=True)
    it = iter(loader)
    bounded(lambda: next(it))  # mid-epoch: batches in flight
    workers = workers_of(it)
    del loader, it  # no gc.collect(): the loader and its iterator form no cycle, so this alone stops the workers
    assert all_stopped(workers)


def test_big_tasks_with_deep_prefetch_do_not_deadlock_the_pipes():
    # Each task (50,000 indices) and each batch (1 MiB) is bigger than a pipe's buffer: a worker process sending a
    # batch must not wait on the main side while the main side waits on the worker to take a task.
    index_batches = [list(range(k * 50_000, (k + 1) * 50_000)) for k in range(8)]
    loader = DataLoader(Pids(), batch_sampler=index_batches, collate_fn=lambda samples: bytes(1 << 20),
                        num_workers=1, worker_type="process", prefetch_factor=8)
    sizes, error = bounded(lambda: [len(b) for b in loader])
    assert error is None and sizes == [1 << 20] * 8


# ----------------------------------------------------------------------------------------------------- global state
def test_thread_workers_leave_the_callers_global_state_alone():
    def state():
        return random.getstate(), np.random.get_state()[1].tolist(), ganglion.is_grad_enabled()

    random.seed(1)
    np.random.seed(1)
    before = state()
    got, error = bounded(lambda: batches(DataLoader(Numbers(), batch_size=4, num_workers=2, worker_type="thread",
                                                    seed=0)))
    assert error is None and got == [[0, 1, 2, 3], [4, 5, 6, 7]] and state() == before
