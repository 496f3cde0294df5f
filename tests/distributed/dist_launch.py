"""How the multi-rank tests start ``mpiexec -n 2``: the mpiexec beside this Python (the mpich wheel puts it in the
virtual environment's bin/) or on PATH, only when mpi4py imports; a skip mark naming what to install otherwise."""

import os
import pathlib
import shutil
import subprocess
import sys

import pytest

HERE = pathlib.Path(__file__).resolve().parent
LAUNCH_TIMEOUT = 120  # seconds for one mpiexec run: a hang fails the test instead of blocking the suite


def _mpiexec():
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return None
    beside_python = pathlib.Path(sys.executable).parent / "mpiexec"
    return str(beside_python) if beside_python.exists() else shutil.which("mpiexec")


MPIEXEC = _mpiexec()
needs_mpi = pytest.mark.skipif(
    MPIEXEC is None, reason='MPI is absent: pip install "ganglion[distributed]" (mpi4py and mpiexec) to run 2 ranks')


def launch_script(script, arguments, worker_timeout=60):
    """``mpiexec -n 2 python script *arguments``, output captured; the workers' collectives time out after
    ``worker_timeout`` seconds (WORKER_TIMEOUT)."""
    env = dict(os.environ, WORKER_TIMEOUT=str(worker_timeout))
    return subprocess.run([MPIEXEC, "-n", "2", sys.executable, str(script), *arguments],
                          capture_output=True, text=True, timeout=LAUNCH_TIMEOUT, env=env)
