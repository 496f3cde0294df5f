"""Random initializers: the empirical mean, std and limits of large draws against the formulas, and reproducibility.

One table: (name, shape, initializer call, expected mean, expected std, bound or None). Adding an initializer is
adding a row. A bound (lo, hi) must hold and be approached by the extremes ((lo, hi, "hi"): only hi is approached).
Draws have >= 120,000 values, so the sample std is within ~0.5% of the true one; tolerances are ~6 sigma.
"""

import math

import numpy as np
import pytest

import ganglion as g
from ganglion.nn import init

DENSE = (300, 400)  # fan_in 400, fan_out 300
CONV = (64, 30, 8, 8)  # fan_in 30 * 64 = 1920, fan_out 64 * 64 = 4096
TRUNC2 = 0.8796256610342398  # std of N(0, 1) truncated to [-2, 2]


def _phi(x):
    return math.exp(-0.5 * x * x) / math.sqrt(2 * math.pi) if math.isfinite(x) else 0.0


def _Phi(x):
    return 0.5 * math.erfc(-x / math.sqrt(2))


def truncated_moments(mean, std, a, b):
    """Mean and std of N(mean, std^2) conditioned on [a, b]."""
    al, be = (a - mean) / std, (b - mean) / std
    # mass of [al, be]; in the upper tail through the mirror image, where Phi keeps its precision
    z = _Phi(-al) - _Phi(-be) if al >= 0 else _Phi(be) - _Phi(al)
    d = (_phi(al) - _phi(be)) / z
    var = 1 + (al * _phi(al) - be * _phi(be)) / z - d * d
    return mean + std * d, std * math.sqrt(var)


G_LEAKY = math.sqrt(2 / (1 + 0.2**2))
ROWS = [
    ("uniform", DENSE, lambda t: init.uniform_(t, -0.3, 0.7), 0.2, 1 / math.sqrt(12), (-0.3, 0.7)),
    ("random_uniform", DENSE, lambda t: init.random_uniform_(t), 0.5, 1 / math.sqrt(12), (0.0, 1.0)),
    ("normal", DENSE, lambda t: init.normal_(t, 0.5, 2.0), 0.5, 2.0, None),
    ("random_normal", DENSE, lambda t: init.random_normal_(t, std=0.05), 0.0, 0.05, None),
    ("standard_dense", DENSE, lambda t: init.standard_uniform_(t), 0.0, 1 / math.sqrt(3 * 400), (-1 / 20, 1 / 20)),
    ("standard_conv", CONV, lambda t: init.standard_(t), 0.0, 1 / math.sqrt(3 * 1920), (-1920**-0.5, 1920**-0.5)),
    ("standard_given_fan_in", (400_000,), lambda t: init.standard_uniform_(t, 25), 0.0, 0.2 / math.sqrt(3),
     (-0.2, 0.2)),
    ("xavier_uniform_gain2", DENSE, lambda t: init.xavier_uniform_(t, gain=2.0), 0.0, 2 * math.sqrt(2 / 700),
     (-2 * math.sqrt(6 / 700), 2 * math.sqrt(6 / 700))),
    ("glorot_uniform_conv", CONV, lambda t: init.glorot_uniform_(t), 0.0, math.sqrt(2 / 6016),
     (-math.sqrt(6 / 6016), math.sqrt(6 / 6016))),
    ("xavier_normal", DENSE, lambda t: init.xavier_normal_(t), 0.0, math.sqrt(2 / 700), None),
    ("glorot_normal_truncated", DENSE, lambda t: init.glorot_normal_(t, truncated=True), 0.0, math.sqrt(2 / 700),
     (-2 * math.sqrt(2 / 700) / TRUNC2, 2 * math.sqrt(2 / 700) / TRUNC2)),
    ("kaiming_uniform", DENSE, lambda t: init.kaiming_uniform_(t), 0.0, math.sqrt(2 / 400),
     (-math.sqrt(6 / 400), math.sqrt(6 / 400))),
    ("he_uniform_leaky_fan_out", DENSE, lambda t: init.he_uniform_(t, a=0.2, mode="fan_out"), 0.0,
     G_LEAKY / math.sqrt(300), (-G_LEAKY * math.sqrt(3 / 300), G_LEAKY * math.sqrt(3 / 300))),
    ("kaiming_normal_relu_fan_out", DENSE, lambda t: init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"),
     0.0, math.sqrt(2 / 300), None),
    ("kaiming_normal_tanh", DENSE, lambda t: init.kaiming_normal_(t, nonlinearity="tanh"), 0.0, 5 / 3 / 20, None),
    ("he_normal_conv", CONV, lambda t: init.he_normal_(t), 0.0, math.sqrt(2 / 1920), None),
    ("he_normal_conv_truncated", CONV, lambda t: init.kaiming_normal_(t, truncated=True), 0.0, math.sqrt(2 / 1920),
     (-2 * math.sqrt(2 / 1920) / TRUNC2, 2 * math.sqrt(2 / 1920) / TRUNC2)),
    ("lecun_uniform", DENSE, lambda t: init.lecun_uniform_(t), 0.0, 1 / 20, (-math.sqrt(3 / 400), math.sqrt(3 / 400))),
    ("lecun_normal", DENSE, lambda t: init.lecun_normal_(t), 0.0, 1 / 20, None),
    ("lecun_normal_truncated", CONV, lambda t: init.lecun_normal_(t, truncated=True), 0.0, 1920**-0.5,
     (-2 * 1920**-0.5 / TRUNC2, 2 * 1920**-0.5 / TRUNC2)),
    ("trunc_normal_default", DENSE, lambda t: init.trunc_normal_(t), 0.0, TRUNC2, (-2.0, 2.0)),
    ("trunc_normal_shifted", DENSE, lambda t: init.truncated_normal_(t, 1.0, 2.0, 5.0, 7.0),
     *truncated_moments(1.0, 2.0, 5.0, 7.0), (5.0, 7.0)),
    ("trunc_normal_far_tail", DENSE, lambda t: init.trunc_normal_(t, 0.0, 1.0, -10.0, -8.0),
     *truncated_moments(0.0, 1.0, -10.0, -8.0), (-10.0, -8.0, "hi")),  # the density at -10 is e^-18 that at -8
    ("trunc_normal_one_sided", DENSE, lambda t: init.trunc_normal_(t, 0.0, 0.5, 0.0, math.inf),
     0.5 * math.sqrt(2 / math.pi), 0.5 * math.sqrt(1 - 2 / math.pi), (0.0, math.inf)),
    ("orthogonal_gain", DENSE, lambda t: init.orthogonal_(t, gain=1.5), 0.0, 1.5 / 20, None),
]
IDS = [r[0] for r in ROWS]


@pytest.mark.parametrize("name, shape, fill, mean, std, bound", ROWS, ids=IDS)
def test_large_draws_have_the_formulas_mean_std_and_limits(name, shape, fill, mean, std, bound):
    g.manual_seed(0)
    t = g.empty(*shape, dtype=g.float64)
    assert fill(t) is t
    x = t.numpy()
    n = x.size
    assert abs(x.mean() - mean) < 6 * std / math.sqrt(n) + 1e-12
    assert x.std() == pytest.approx(std, rel=0.02)
    if bound is not None:
        lo, hi, reached = (*bound, "both")[:3]
        assert x.min() >= lo and x.max() <= hi
        # the whole range is used: the extremes come close to finite limits
        span = min(hi, x.max() + 10 * std) - max(lo, x.min() - 10 * std)
        if math.isfinite(lo) and reached == "both":
            assert x.min() - lo < 0.01 * span
        if math.isfinite(hi):
            assert hi - x.max() < 0.01 * span


# [-0.5, 6] holds 77% of N(1, 4) (drawn by rejection); [3, 4] holds 9% (drawn by inverting the CDF)
@pytest.mark.parametrize("a, b", [(-0.5, 6.0), (3.0, 4.0)])
def test_trunc_normal_follows_the_truncated_cdf(a, b):
    g.manual_seed(1)
    t = init.trunc_normal_(g.empty(20_000, dtype=g.float64), mean=1.0, std=2.0, a=a, b=b)
    x = np.sort(t.numpy())
    al, be = (a - 1.0) / 2.0, (b - 1.0) / 2.0
    cdf = np.array([(_Phi((v - 1.0) / 2.0) - _Phi(al)) / (_Phi(be) - _Phi(al)) for v in x])
    ks = np.max(np.abs(cdf - np.arange(1, x.size + 1) / x.size))
    assert ks < 1.63 / math.sqrt(x.size)  # Kolmogorov-Smirnov at the 1% level


def test_float32_weights_stay_float32_and_inside_their_bounds():
    t = g.empty(200, 300)
    init.trunc_normal_(t, 0.0, 1.0, -0.1, 0.1)
    assert t.dtype == g.float32 and t.numpy().min() >= np.float32(-0.1) and t.numpy().max() <= np.float32(0.1)


RANDOM = {
    "uniform_": lambda t, gen: init.uniform_(t, generator=gen),
    "normal_": lambda t, gen: init.normal_(t, generator=gen),
    "trunc_normal_": lambda t, gen: init.trunc_normal_(t, generator=gen),
    "xavier_uniform_": lambda t, gen: init.xavier_uniform_(t, generator=gen),
    "xavier_normal_": lambda t, gen: init.xavier_normal_(t, generator=gen),
    "kaiming_uniform_": lambda t, gen: init.kaiming_uniform_(t, generator=gen),
    "kaiming_normal_truncated": lambda t, gen: init.kaiming_normal_(t, generator=gen, truncated=True),
    "lecun_uniform_": lambda t, gen: init.lecun_uniform_(t, generator=gen),
    "lecun_normal_": lambda t, gen: init.lecun_normal_(t, generator=gen),
    "standard_uniform_": lambda t, gen: init.standard_uniform_(t, generator=gen),
    "orthogonal_": lambda t, gen: init.orthogonal_(t, generator=gen),
    "sparse_": lambda t, gen: init.sparse_(t, 0.5, generator=gen),
}


@pytest.mark.parametrize("fill", RANDOM.values(), ids=RANDOM.keys())
def test_draws_are_reproducible_under_manual_seed_and_with_a_generator(fill):
    def draw(seed=None, gen=None):
        if seed is not None:
            g.manual_seed(seed)
        return fill(g.empty(6, 5), gen).numpy().copy()

    a, b, c = draw(3), draw(3), draw(4)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    gen_a, gen_b = draw(gen=g.Generator().manual_seed(7)), draw(gen=g.Generator().manual_seed(7))
    np.testing.assert_array_equal(gen_a, gen_b)
    # a private generator does not consume the default stream
    g.manual_seed(3)
    fill(g.empty(6, 5), g.Generator().manual_seed(7))
    np.testing.assert_array_equal(fill(g.empty(6, 5), None).numpy(), a)
