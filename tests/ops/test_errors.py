"""Errors a person can act on (the message names both shapes, or the bad dim), and inputs at the edge of float32."""

import re

import numpy as np
import pytest
import torch

import ganglion as G


def _shape_text(shape):
    return re.escape(str(tuple(shape)))


def _zeros(*shape):
    return G.zeros(*shape)


@pytest.mark.parametrize(
    "a, b",
    [((2, 3), (4, 5)), ((3,), (4,)), ((2, 3), (2,)), ((5,), (4, 5)), ((2, 3, 4), (3, 4, 5)), ((2, 2, 3), (3, 3, 4))],
)
def test_matmul_mismatch_names_both_shapes(a, b):
    with pytest.raises(ValueError) as info:
        _zeros(*a) @ _zeros(*b)
    message = str(info.value)
    assert re.search(_shape_text(a), message) and re.search(_shape_text(b), message), message


@pytest.mark.parametrize("name, fn", [
    ("add", lambda a, b: a + b), ("sub", lambda a, b: a - b), ("mul", lambda a, b: a * b),
    ("div", lambda a, b: a / b), ("maximum", G.maximum), ("pow", lambda a, b: a ** b),
])
@pytest.mark.parametrize("a, b", [((2, 3), (4,)), ((2, 3), (3, 2)), ((4, 1, 3), (2, 2))])
def test_broadcast_mismatch_names_both_shapes(name, fn, a, b):
    with pytest.raises(ValueError) as info:
        fn(_zeros(*a), _zeros(*b))
    message = str(info.value)
    assert re.search(_shape_text(a), message) and re.search(_shape_text(b), message), message


@pytest.mark.parametrize("dim, a, b", [(0, (2, 3), (2, 4)), (1, (2, 3), (3, 3)), (0, (2, 3), (2, 3, 1))])
def test_cat_mismatch_names_both_shapes(dim, a, b):
    with pytest.raises(ValueError) as info:
        G.cat([_zeros(*a), _zeros(*b)], dim=dim)
    message = str(info.value)
    assert re.search(_shape_text(a), message) and re.search(_shape_text(b), message), message


# (name, fn(x, dim), how many dims the op's dim argument ranges over for a 2-D x)
BAD_DIMS = [
    ("sum", lambda x, d: x.sum(d), 2), ("mean", lambda x, d: x.mean(dim=d), 2), ("max", lambda x, d: x.max(d), 2),
    ("amin", lambda x, d: x.amin(d), 2), ("var", lambda x, d: x.var(dim=d), 2), ("prod", lambda x, d: x.prod(d), 2),
    ("logsumexp", lambda x, d: x.logsumexp(d), 2), ("argmax", lambda x, d: x.argmax(d), 2),
    ("softmax", lambda x, d: x.softmax(d), 2), ("log_softmax", lambda x, d: x.log_softmax(d), 2),
    ("transpose", lambda x, d: x.transpose(0, d), 2), ("squeeze", lambda x, d: x.squeeze(d), 2),
    ("flatten", lambda x, d: x.flatten(d), 2), ("cat", lambda x, d: G.cat([x, x], dim=d), 2),
    ("split", lambda x, d: x.split(1, dim=d), 2), ("chunk", lambda x, d: x.chunk(2, dim=d), 2),
    ("gather", lambda x, d: x.gather(d, G.zeros(2, 3, dtype=G.int64)), 2),
    ("index_select", lambda x, d: x.index_select(d, G.tensor([0])), 2), ("size", lambda x, d: x.size(d), 2),
    ("unsqueeze", lambda x, d: x.unsqueeze(d), 3), ("stack", lambda x, d: G.stack([x, x], dim=d), 3),
]


@pytest.mark.parametrize("name, fn, n", BAD_DIMS, ids=[name for name, _, _ in BAD_DIMS])
@pytest.mark.parametrize("side", ["above", "below"])
def test_bad_dim_raises_index_error_naming_it(name, fn, n, side):
    dim = n if side == "above" else -n - 1
    with pytest.raises(IndexError) as info:
        fn(_zeros(2, 3), dim)
    assert re.search(rf"(?<![\d-]){dim}(?!\d)", str(info.value)), str(info.value)


def test_permute_with_a_bad_dim_is_rejected():
    with pytest.raises((IndexError, ValueError), match="5"):
        _zeros(2, 3).permute(0, 5)


# ----------------------------------------------------------------------------------- extreme float32 inputs
EXTREME = np.array([[1e4, -1e4, 0.0, 5e3], [-1e4, -1e4, -1e4, -1e4], [1e4, 1e4, -3.0, 2.0]], dtype=np.float32)

STABLE = [
    ("sigmoid", lambda x: x.sigmoid(), lambda x: torch.sigmoid(x)),
    ("softmax", lambda x: x.softmax(-1), lambda x: torch.softmax(x, -1)),
    ("softmax_dim0", lambda x: G.softmax(x, 0), lambda x: torch.softmax(x, 0)),
    ("log_softmax", lambda x: x.log_softmax(-1), lambda x: torch.log_softmax(x, -1)),
    ("log_softmax_dim0", lambda x: G.log_softmax(x, 0), lambda x: torch.log_softmax(x, 0)),
    ("logsumexp", lambda x: x.logsumexp(-1), lambda x: torch.logsumexp(x, -1)),
    ("logsumexp_all", lambda x: G.logsumexp(x), lambda x: torch.logsumexp(x, (0, 1))),
]


@pytest.mark.parametrize("name, fn, ref", STABLE, ids=[s[0] for s in STABLE])
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_large_magnitudes_are_finite_and_match_torch(name, fn, ref, sign):
    values = EXTREME * np.float32(sign)
    x = G.tensor(values, requires_grad=True)
    tx = torch.tensor(values, requires_grad=True)
    y, ty = fn(x), ref(tx)
    assert np.isfinite(y.array).all(), f"{name} overflowed: {y.array}"
    np.testing.assert_allclose(y.array, ty.detach().numpy(), rtol=1e-6, atol=1e-7)

    upstream = np.linspace(-1.0, 1.0, ty.numel(), dtype=np.float32).reshape(ty.shape)
    y.backward(G.tensor(upstream))
    ty.backward(torch.from_numpy(upstream))
    assert np.isfinite(x.grad.array).all(), f"{name} gradient overflowed: {x.grad.array}"
    np.testing.assert_allclose(x.grad.array, tx.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_extreme_values_give_exact_limits():
    x = G.tensor(np.array([1e4, -1e4], dtype=np.float32))
    np.testing.assert_array_equal(x.sigmoid().array, [1.0, 0.0])
    np.testing.assert_array_equal(x.softmax(0).array, [1.0, 0.0])
    np.testing.assert_array_equal(x.log_softmax(0).array, [0.0, -2e4])
    assert x.logsumexp(0).item() == 1e4
    same = G.tensor(np.array([1e4, 1e4], dtype=np.float32))
    assert same.logsumexp(0).item() == pytest.approx(1e4 + np.log(2.0), abs=1e-3)
