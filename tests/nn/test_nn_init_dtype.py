"""Initializers draw in the parameter's own precision: a float32 weight costs no float64 scratch copy, and the draws
keep their distributions (moments, bounds, orthogonality) in float32."""

import math
import tracemalloc

import numpy as np
import pytest

import ganglion
from ganglion.keras import initializers
from ganglion.nn import init

N = 1024  # a (1024, 1024) float32 weight is 4 MiB; a float64 scratch copy of it would add 8 MiB


def _peak(fn):
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


FILLS = [
    ("uniform_", lambda t: init.uniform_(t, -1, 1)),
    ("normal_", lambda t: init.normal_(t, 0, 1)),
    ("trunc_normal_", lambda t: init.trunc_normal_(t, 0, 1, -2, 2)),
    ("xavier_uniform_", init.xavier_uniform_),
    ("kaiming_normal_", init.kaiming_normal_),
    ("kaiming_normal_ truncated", lambda t: init.kaiming_normal_(t, truncated=True)),
    ("sparse_", lambda t: init.sparse_(t, 0.5)),
    ("eye_", init.eye_),
]


@pytest.mark.parametrize("name, fill", FILLS, ids=[f[0] for f in FILLS])
def test_float32_fills_need_no_float64_scratch(name, fill):
    t = ganglion.empty(N, N, dtype=ganglion.float32)
    fill(t)  # warm up (first-call imports and caches)
    peak = _peak(lambda: fill(t))
    weight = N * N * 4
    assert t.dtype == np.float32
    # the float32 draw plus small temporaries; a float64 scratch copy alone would be 2 x weight (orthogonal_ is
    # not listed: NumPy's QR computes in float64 whatever the input)
    assert peak < 1.7 * weight, f"{name}: peak {peak} bytes for a {weight}-byte weight"


@pytest.mark.parametrize("dtype", [ganglion.float32, ganglion.float64])
def test_float32_draws_keep_their_distributions(dtype):
    ganglion.manual_seed(0)
    t = ganglion.empty(400, 500, dtype=dtype)
    x = init.uniform_(t, -0.5, 1.5).numpy().astype(np.float64)
    assert x.min() >= -0.5 and x.max() <= 1.5
    assert abs(x.mean() - 0.5) < 0.01 and abs(x.var() - 4 / 12) < 0.01
    x = init.normal_(t, 2.0, 3.0).numpy().astype(np.float64)
    assert abs(x.mean() - 2.0) < 0.03 and abs(x.std() - 3.0) < 0.03
    x = init.kaiming_normal_(t, truncated=True).numpy().astype(np.float64)
    std = math.sqrt(2 / 500)
    assert abs(x.std() - std) / std < 0.01 and np.abs(x).max() <= 2 * std / 0.8796 + 1e-6
    x = init.trunc_normal_(t, 0.0, 1.0, 5.0, 6.0).numpy().astype(np.float64)  # far tail: the inverse-CDF path
    assert x.min() >= 5.0 and x.max() <= 6.0 and abs(x.mean() - 5.1865) < 0.01
    q = init.orthogonal_(ganglion.empty(64, 128, dtype=dtype)).numpy().astype(np.float64)
    np.testing.assert_allclose(q @ q.T, np.eye(64), atol=1e-5)
    assert t.dtype == dtype


def test_keras_initializers_draw_in_the_requested_dtype():
    for initializer in (initializers.GlorotUniform(seed=1), initializers.HeNormal(seed=1),
                        initializers.RandomNormal(seed=1), initializers.Orthogonal(seed=1), initializers.Ones(),
                        initializers.Constant(0.5), initializers.Identity()):
        assert initializer.sample((8, 8), dtype="float32").dtype == np.float32
        assert initializer.sample((8, 8), dtype="float64").dtype == np.float64
        assert initializer.sample((8, 8)).dtype == ganglion.get_default_dtype()
        assert initializer((8, 8), dtype="float64").dtype == np.float64
    values = initializers.GlorotUniform(seed=3).sample((300, 200), dtype="float32")
    limit = math.sqrt(6 / 500)
    assert np.abs(values).max() <= limit and abs(values.astype(np.float64).var() - limit**2 / 3) < 0.05 * limit**2


def test_keras_fill_draws_the_parameter_dtype_without_float64_scratch():
    weight = ganglion.nn.Parameter(ganglion.empty(N, N, dtype=ganglion.float32))
    initializer = initializers.GlorotUniform(seed=0)
    initializer.fill(weight, (N, N), transpose=True)
    peak = _peak(lambda: initializer.fill(weight, (N, N), transpose=True))
    assert peak < 2.2 * N * N * 4  # the draw and its contiguous transposed copy, both float32
    assert abs(weight.detach().numpy().std() - math.sqrt(2 / (2 * N))) < 0.002
