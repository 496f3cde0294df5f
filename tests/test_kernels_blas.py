"""``ganglion.kernels.blas``: NumPy's own cblas gemm, found and checked, multiplies as ``numpy.matmul`` in every
transposition, on views of wider rows and accumulating (beta 1), from Python and from a compiled kernel; the switch
turns it off; and a kernel that calls kernels carries a checksum of their source in its cache name."""

import inspect
import zlib

import numpy as np
import pytest

from ganglion import kernels
from ganglion.kernels import blas, compiled
from ganglion.kernels.blas import product

pytestmark = pytest.mark.skipif(not kernels.available(), reason="numba is not installed (or GANGLION_COMPILED=0)")

TOLERANCE = {np.float32: 2e-5, np.float64: 1e-12}


def _numpy_ships_openblas():
    try:
        config = np.show_config(mode="dicts")
    except TypeError:  # NumPy before 1.26 prints its configuration only
        return False
    return "openblas" in config["Build Dependencies"]["blas"]["name"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_numpy_wheels_blas_is_found(dtype):
    if not _numpy_ships_openblas():
        pytest.skip("NumPy here is not built with OpenBLAS: callers keep their Python loops")
    assert blas.gemm(dtype) is not None
    assert blas.gemm(dtype) is blas.gemm(np.dtype(dtype))  # looked up once


def test_other_dtypes_and_the_switch_give_none(monkeypatch):
    assert blas.gemm(np.int32) is None and blas.gemm(np.complex64) is None
    monkeypatch.setattr(blas, "ENABLED", False)
    assert blas.gemm(np.float32) is None


@compiled(parallel=False)
def _product_in_a_kernel(gemm, a, a_order, b, b_order, out, beta):
    product(gemm, a, a_order, b, b_order, out, beta)  # a kernel calls a kernel by its global name


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("a_order", [blas.NO_TRANS, blas.TRANS])
@pytest.mark.parametrize("b_order", [blas.NO_TRANS, blas.TRANS])
@pytest.mark.parametrize("beta", [0.0, 1.0])
@pytest.mark.parametrize("call", ["python", "kernel"])
def test_product_equals_numpy_matmul(dtype, a_order, b_order, beta, call):
    gemm = blas.gemm(dtype)
    if gemm is None:
        pytest.skip("no cblas gemm in NumPy's BLAS here")
    rng = np.random.default_rng(0)
    m, k, n = 5, 7, 3
    a_shape = (m, k) if a_order == blas.NO_TRANS else (k, m)
    b_shape = (k, n) if b_order == blas.NO_TRANS else (n, k)
    a = rng.standard_normal((a_shape[0], a_shape[1] + 4)).astype(dtype)[:, :a_shape[1]]  # views of wider rows
    b = rng.standard_normal((b_shape[0], b_shape[1] + 2)).astype(dtype)[:, 1:b_shape[1] + 1]
    out_rows = rng.standard_normal((m, n + 3)).astype(dtype)
    out = out_rows[:, :n]
    before, beside = out.copy(), out_rows[:, n:].copy()
    want = (a if a_order == blas.NO_TRANS else a.T) @ (b if b_order == blas.NO_TRANS else b.T) + beta * before
    (product if call == "python" else _product_in_a_kernel)(gemm, a, a_order, b, b_order, out, beta)
    np.testing.assert_allclose(out, want, rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype])
    np.testing.assert_array_equal(out_rows[:, n:], beside)  # past the view: untouched
    assert out.dtype == dtype


@compiled(parallel=False)
def _twice(x):
    for i in range(x.size):
        x[i] *= 2


@compiled(parallel=False)
def _twice_then_one_more(x):
    _twice(x)
    for i in range(x.size):
        x[i] += 1


def test_a_kernel_calls_a_kernel_and_names_its_source_in_its_cache_name():
    x = np.arange(4.0)
    _twice_then_one_more(x)
    np.testing.assert_array_equal(x, [1.0, 3.0, 5.0, 7.0])
    y = np.arange(4.0)
    _twice_then_one_more.py_func(y)  # the reference run calls the callee as a Python object
    np.testing.assert_array_equal(x, y)
    assert _twice.callees == 0
    expected = zlib.crc32((inspect.getsource(_twice.py_func) + "0").encode(), 0)
    assert _twice_then_one_more.callees == expected
    assert f"__calls_{expected:08x}" in _twice_then_one_more._compiled.py_func.__qualname__
