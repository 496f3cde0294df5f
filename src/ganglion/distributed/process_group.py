"""The process group: which processes train together, this one's rank among them, and how long a collective may wait.

``init_process_group()`` joins the MPI job this process was started in (``mpiexec -n 4 python train.py``, ``srun``):
every process of the job is one rank, ``get_rank()`` in 0 .. ``get_world_size()`` - 1. Started alone (``python
train.py``), or without mpi4py installed, the group is this one process: every collective returns its input, so the
same script runs on a laptop and on a cluster.

A rank that fails must not leave the others waiting forever. ganglion does three things:
- an uncaught exception on any rank aborts the whole job (``MPI_Abort``, from ``sys.excepthook``, as ``python -m
  mpi4py`` does), so the other ranks exit with an error at once;
- a rank that is killed or exits is noticed by the MPI launcher, which ends the others (MPICH's and Open MPI's
  ``mpiexec`` do; with ``srun`` use ``--kill-on-bad-exit``);
- a rank that is alive but never joins a collective (stuck, or calling a different one) makes the others raise
  ``DistributedTimeoutError`` after ``timeout`` seconds (every ganglion collective is a non-blocking MPI call waited
  on with a deadline), which then aborts the job as any uncaught exception does.
"""

import datetime
import os
import sys
import time

DEFAULT_TIMEOUT = 1800.0  # seconds, PyTorch's default for its CPU backends (30 minutes)
SPIN_SECONDS = 0.1  # a collective's wait polls without pausing this long (sleeping peers slow MPI's progress)


_yield = getattr(os, "sched_yield", lambda: time.sleep(0))  # sched_yield is POSIX-only


class DistributedTimeoutError(RuntimeError):
    """A collective did not complete within the process group's timeout: another rank died, hangs, or called a
    different collective."""


class ProcessGroup:
    """The ranks training together. ``comm``: an mpi4py communicator, or None for the single-process group.
    ``timeout``: seconds a collective may wait for the other ranks."""

    def __init__(self, comm, timeout):
        self.comm = comm
        self.timeout = timeout
        self.rank = 0 if comm is None else comm.Get_rank()
        self.size = 1 if comm is None else comm.Get_size()
        self.previous_excepthook = None  # what sys.excepthook was before this group made it abort the job

    @property
    def backend(self):
        return "single" if self.comm is None else "mpi"

    def wait(self, request, what):
        """Wait for the MPI ``request`` of the collective ``what``; DistributedTimeoutError after ``self.timeout``.

        Polling with ``Test`` (not a blocking ``Wait``) is what makes the deadline possible; each call also drives
        MPI's progress, which a large message needs many rounds of (MPI's own ``Wait`` spins the same way). For the
        first ``SPIN_SECONDS`` the loop polls without sleeping, yielding the core between polls (``sched_yield``: free
        when the core is ours, and on a machine with more processes than cores it lets the rank we wait for run); a
        wait that lasts longer is waiting on a slower rank, and pauses between polls, up to 1 ms, so that it does
        not burn a core meanwhile.
        """
        if request.Test():
            return
        start = time.monotonic()
        deadline = start + self.timeout
        pause = 0.0
        while not request.Test():
            now = time.monotonic()
            if now > deadline:
                raise DistributedTimeoutError(
                    f"{what} on rank {self.rank} of {self.size} did not complete within the process group's timeout "
                    f"of {self.timeout:g} s: another rank died, hangs, or called a different collective"
                )
            if now - start > SPIN_SECONDS:
                pause = min(max(pause * 2, 1e-5), 1e-3)
                time.sleep(pause)
            else:
                _yield()

    def abort(self, code=1):
        """End every rank of the job (MPI_Abort); a single process just exits."""
        if self.comm is None:
            os._exit(code)
        self.comm.Abort(code)


_group = None  # the default group, set by init_process_group: one per process, as in torch.distributed


def _seconds(timeout):
    if timeout is None:
        return DEFAULT_TIMEOUT
    if isinstance(timeout, datetime.timedelta):
        timeout = timeout.total_seconds()
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        raise ValueError(f"init_process_group: timeout must be a positive number of seconds or a timedelta, "
                         f"got {timeout!r}")
    return float(timeout)


def is_available():
    """True when mpi4py (and an MPI library) can be imported: ``pip install "ganglion[distributed]"``."""
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return True


#: set by MPI launchers in the processes they start: MPICH / Intel MPI (hydra) and srun with PMI-1/2, PMIx, Open MPI
LAUNCHER_VARIABLES = ("PMI_RANK", "PMI_SIZE", "PMIX_RANK", "OMPI_COMM_WORLD_SIZE")


def launched_by_mpi():
    """True when an MPI launcher (mpiexec, mpirun, srun) started this process, or the program already runs MPI."""
    return any(name in os.environ for name in LAUNCHER_VARIABLES) or "mpi4py.MPI" in sys.modules


def _mpi_world():
    try:
        from mpi4py import MPI
    except ImportError as error:
        raise ImportError('init_process_group(backend="mpi") needs mpi4py and an MPI library: '
                          'pip install "ganglion[distributed]" (or mpi4py built against your cluster\'s MPI)') from error
    return MPI.COMM_WORLD


def init_process_group(backend=None, timeout=None, world_size=-1, rank=-1):
    """Join the job's ranks. ``backend``: "mpi" (needs mpi4py), "single" (this process alone) or None (MPI when an
    MPI launcher started this process, else this process alone: ``python train.py`` does not start MPI). ``timeout``: seconds (or a timedelta) any collective may wait,
    30 minutes by default. ``world_size`` / ``rank``: optional checks against what MPI says (the launcher decides).

    Returns the group. Calling it twice raises, as in PyTorch."""
    global _group
    if _group is not None:
        raise RuntimeError("trying to initialize the default process group twice: call destroy_process_group() first")
    if backend not in (None, "mpi", "single"):
        raise ValueError(f"init_process_group: unknown backend {backend!r}; expected 'mpi', 'single' or None")
    seconds = _seconds(timeout)
    if backend == "single" or (backend is None and not launched_by_mpi()):
        comm = None
    else:
        comm = _mpi_world().Dup()  # our own communicator: a user's MPI traffic cannot match ours
    group = ProcessGroup(comm, seconds)
    for name, given, actual in (("world_size", world_size, group.size), ("rank", rank, group.rank)):
        if given not in (-1, None) and given != actual:
            raise ValueError(f"init_process_group: {name}={given} but the MPI launcher started this process with "
                             f"{name} {actual}")
    if group.size > 1:
        _abort_on_uncaught_exception(group)
    _group = group
    return group


def _abort_on_uncaught_exception(group):
    """An uncaught exception prints its traceback, then aborts every rank (otherwise the others would wait in their
    next collective until the timeout)."""
    previous = sys.excepthook

    def hook(kind, value, traceback):
        previous(kind, value, traceback)
        sys.stderr.flush()
        group.abort(1)

    sys.excepthook = hook
    group.previous_excepthook = previous


def destroy_process_group():
    """Leave the default group (a later init_process_group may start a new one)."""
    global _group
    if _group is not None and _group.comm is not None:
        if _group.previous_excepthook is not None:
            sys.excepthook = _group.previous_excepthook
        _group.comm.Free()
    _group = None


def is_initialized():
    return _group is not None


def default_group(group=None):
    """``group`` if given, else the default group; RuntimeError if init_process_group was not called."""
    if group is not None:
        return group
    if _group is None:
        raise RuntimeError("Default process group has not been initialized, please make sure to call "
                           "ganglion.distributed.init_process_group()")
    return _group


def get_rank(group=None):
    """This process's rank, 0 .. world size - 1."""
    return default_group(group).rank


def get_world_size(group=None):
    """How many ranks the group has."""
    return default_group(group).size


def get_backend(group=None):
    return default_group(group).backend
