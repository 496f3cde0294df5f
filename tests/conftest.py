"""Fixtures for every test: the process-wide state a test may change (default dtype, grad mode, random streams,
thread counts, cached work arrays; ganglion's, NumPy's and PyTorch's) is put back after each one, so tests pass or
fail the same in any order and on any xdist worker (what is kept: ``global_state.py``); and ``rng``, the seeded
NumPy generator that tests build their data from; and ``device``, which runs a CPU parity table on the GPU too."""

import numpy as np
import pytest
from global_state import keep_global_state

import ganglion


@pytest.fixture(autouse=True)
def _keep_global_state():
    yield from keep_global_state()


@pytest.fixture
def rng():
    """A fresh NumPy generator seeded with 0, so each test's data does not depend on the others."""
    return np.random.default_rng(0)


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=[
    pytest.mark.gpu, pytest.mark.skipif(not ganglion.cuda.is_available(), reason="needs CuPy and a visible GPU"),
])])
def device(request):
    """Where ganglion's side of a parity test runs: "cpu", then "cuda" (marked ``gpu``; skipped without CuPy or a
    GPU). The PyTorch reference stays on the CPU, so a GPU case compares CuPy's results with PyTorch's directly."""
    return request.param


@pytest.fixture
def call_spy(monkeypatch):
    """``call_spy(module, *names)``: each named function of ``module`` is replaced (for this test) by a wrapper that
    records its name, then calls it; returns the list of recorded names. Tells which route an op took."""
    def install(module, *names):
        calls = []
        for name in names:
            original = getattr(module, name)
            monkeypatch.setattr(module, name, lambda *a, _f=original, _n=name, **k: calls.append(_n) or _f(*a, **k))
        return calls

    return install
