"""Seeds: ``manual_seed`` makes every random draw reproducible; a ``Generator`` is an independent stream."""

import numpy as np
import pytest

import ganglion as g


def _draws(generator=None):
    """One of each random factory, as plain lists."""
    kw = {} if generator is None else {"generator": generator}
    return [
        g.rand(3, 2, **kw).tolist(),
        g.randn(4, **kw).tolist(),
        g.randint(0, 100, (5,), **kw).tolist(),
        g.randperm(8, **kw).tolist(),
        g.rand_like(g.zeros(2), **kw).tolist(),
        g.randn_like(g.zeros(2), **kw).tolist(),
    ]


def test_manual_seed_makes_every_random_factory_reproducible():
    g.manual_seed(1234)
    first = _draws()
    g.manual_seed(1234)
    assert _draws() == first
    g.manual_seed(1235)
    assert _draws() != first


def test_draws_after_a_seed_differ_from_each_other():
    g.manual_seed(0)
    assert g.rand(5).tolist() != g.rand(5).tolist()


def test_manual_seed_returns_the_default_generator():
    gen = g.manual_seed(7)
    assert gen is g.default_generator and gen.initial_seed() == 7


def test_cuda_manual_seed_seeds_the_shared_stream():
    g.cuda.manual_seed(11)
    a = g.randn(3).tolist()
    g.manual_seed(11)
    assert g.randn(3).tolist() == a


def test_in_place_random_fills_are_reproducible():
    g.manual_seed(5)
    u = g.empty(4).uniform_(-2.0, 3.0)
    n = g.empty(4).normal_(10.0, 0.1)
    g.manual_seed(5)
    assert g.empty(4).uniform_(-2.0, 3.0).tolist() == u.tolist()
    assert g.empty(4).normal_(10.0, 0.1).tolist() == n.tolist()
    assert all(-2.0 <= v < 3.0 for v in u.tolist()) and all(9.0 < v < 11.0 for v in n.tolist())


def test_nn_linear_init_is_reproducible():
    g.manual_seed(42)
    a = g.nn.Linear(5, 3)
    g.manual_seed(42)
    b = g.nn.Linear(5, 3)
    g.manual_seed(43)
    c = g.nn.Linear(5, 3)
    assert np.array_equal(a.weight.detach().numpy(), b.weight.detach().numpy())
    assert np.array_equal(a.bias.detach().numpy(), b.bias.detach().numpy())
    assert not np.array_equal(a.weight.detach().numpy(), c.weight.detach().numpy())
    bound = 1 / np.sqrt(5)  # PyTorch's default Linear init: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    assert np.abs(a.weight.detach().numpy()).max() <= bound


def test_generator_is_reproducible_and_independent_of_the_default_stream():
    gen = g.Generator().manual_seed(99)
    first = _draws(gen)

    g.manual_seed(0)
    g.rand(100)  # draws from the default stream must not move the generator
    gen.manual_seed(99)
    assert _draws(gen) == first

    g.manual_seed(0)
    expected = g.randn(6).tolist()
    g.manual_seed(0)
    _draws(gen)  # draws from the generator must not move the default stream
    assert g.randn(6).tolist() == expected


def test_two_generators_with_one_seed_give_one_stream():
    a, b = g.Generator(), g.Generator()
    a.manual_seed(3)
    b.manual_seed(3)
    assert _draws(a) == _draws(b)
    assert _draws(a) != _draws(g.Generator().manual_seed(4))


def test_unseeded_generators_differ():
    assert g.rand(8, generator=g.Generator()).tolist() != g.rand(8, generator=g.Generator()).tolist()


def test_generator_state_can_be_saved_and_restored():
    gen = g.Generator().manual_seed(8)
    state = gen.get_state()
    a = g.randn(5, generator=gen).tolist()
    gen.set_state(state)
    assert g.randn(5, generator=gen).tolist() == a
    assert gen.initial_seed() == 8


def test_generator_seed_from_entropy_reproduces_its_stream():
    gen = g.Generator()
    s = gen.seed()
    a = g.rand(3, generator=gen).tolist()
    gen.manual_seed(s)
    assert g.rand(3, generator=gen).tolist() == a


@pytest.mark.parametrize("bad", [1.5, "7", True, None])
def test_manual_seed_rejects_non_ints(bad):
    with pytest.raises(TypeError, match="int"):
        g.manual_seed(bad)
    with pytest.raises(TypeError, match="int"):
        g.Generator().manual_seed(bad)


def test_generator_accepts_numpy_ints_and_large_seeds():
    a = g.rand(2, generator=g.Generator().manual_seed(np.int64(5))).tolist()
    assert a == g.rand(2, generator=g.Generator().manual_seed(5)).tolist()
    g.manual_seed(2**64 + 5)  # wrapped modulo 2**64, no OverflowError
    assert g.default_generator.initial_seed() == 5
