"""The issue-12 ops outside the op table: integer/bool result dtypes, unique, in-place masked_fill_, and one
bad-input test per argument, each raising PyTorch's error type (checked against PyTorch itself)."""

import numpy as np
import pytest
import torch

import ganglion as G


def _pair(values, dtype=None):
    return G.tensor(values, dtype=dtype), torch.tensor(values, dtype=getattr(torch, str(dtype)) if dtype else None)


@pytest.mark.parametrize("fn", [
    lambda m, x: m.all(x), lambda m, x: m.any(x), lambda m, x: x.all(dim=1), lambda m, x: x.any(1, keepdim=True),
    lambda m, x: m.all(x, dim=(0, 1), keepdim=True), lambda m, x: x.any(dim=None, keepdim=True),
    lambda m, x: m.cumsum(x, 1), lambda m, x: x.cumprod(0), lambda m, x: x.argsort(dim=0),
    lambda m, x: x.sort(1)[1], lambda m, x: x.topk(1)[1], lambda m, x: x.flip(0), lambda m, x: x.tril(),
    lambda m, x: x.repeat_interleave(2, dim=1), lambda m, x: x.roll(1),
])
@pytest.mark.parametrize("dtype", ["int32", "int64", "uint8", "bool", "float32"])
def test_result_dtypes_and_values_match_torch(fn, dtype):
    values = [[1, 0, 2], [0, 3, 1]]
    g, t = _pair(values, dtype)
    try:
        expected = fn(torch, t)
    except RuntimeError:  # PyTorch has no kernel for this dtype: nothing to match
        pytest.skip("PyTorch does not support this dtype here")
    got = fn(G, g)
    assert str(got.dtype) == str(expected.dtype).replace("torch.", "")
    np.testing.assert_array_equal(got.numpy(), expected.numpy())


@pytest.mark.parametrize("kw", [{}, {"return_inverse": True}, {"return_counts": True},
                                {"return_inverse": True, "return_counts": True}, {"dim": 0}, {"dim": 1, "return_inverse": True}])
def test_unique_matches_torch(kw):
    values = [[3, 1, 3], [3, 1, 3], [0, 2, 0]]
    g, t = _pair(values)
    got, expected = G.unique(g, **kw), torch.unique(t, **kw)
    got = got if isinstance(got, tuple) else (got,)
    expected = expected if isinstance(expected, tuple) else (expected,)
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        assert str(a.dtype) == str(b.dtype).replace("torch.", "")
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert np.array_equal(g.unique(sorted=False).numpy(), np.array([0, 1, 2, 3]))


def test_masked_fill_in_place_bumps_version_and_matches_torch():
    g, t = _pair([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    mask = [True, False, True]
    out = g.masked_fill_(G.tensor(mask), G.tensor(-1.0))
    t.masked_fill_(torch.tensor(mask), torch.tensor(-1.0))
    assert out is g and g._version == 1
    np.testing.assert_array_equal(g.numpy(), t.numpy())


def test_masked_fill_value_tensor_gets_gradient():
    x = G.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    v = G.tensor(0.5, requires_grad=True)
    (x.masked_fill(G.tensor([[True, False], [True, True]]), v) * 2).sum().backward()
    assert v.grad.item() == 6.0
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 2.0], [0.0, 0.0]])


def test_topk_sorted_false_returns_the_same_set():
    x = G.tensor([0.3, 2.0, -1.0, 5.0, 1.0])
    values, indices = x.topk(3, sorted=False)
    assert sorted(values.tolist()) == [1.0, 2.0, 5.0] and sorted(indices.tolist()) == [1, 3, 4]


def test_sort_puts_nan_where_torch_does():
    values = [1.0, float("nan"), -2.0, 0.5]
    g, t = _pair(values)
    for descending in (False, True):
        a, b = g.sort(descending=descending), t.sort(descending=descending)
        np.testing.assert_array_equal(a.values.numpy(), b.values.numpy())
        np.testing.assert_array_equal(a.indices.numpy(), b.indices.numpy())


def test_repeat_interleave_of_counts_alone():
    np.testing.assert_array_equal(G.repeat_interleave(G.tensor([2, 0, 3])).numpy(),
                                  torch.repeat_interleave(torch.tensor([2, 0, 3])).numpy())


X = np.arange(12.0).reshape(3, 4)

# (what is wrong, the call on a library module m and an input x of shape (3, 4))
BAD = [
    ("narrow dim", lambda m, x: x.narrow(2, 0, 1)),
    ("narrow start", lambda m, x: x.narrow(1, 5, 0)),
    ("narrow length", lambda m, x: x.narrow(1, 1, -1)),
    ("narrow past end", lambda m, x: m.narrow(x, 1, 3, 2)),
    ("t of 3-d", lambda m, x: x.reshape(3, 2, 2).t()),
    ("new_full size int", lambda m, x: x.new_full(2, 3.0)),
    ("new_zeros size twice", lambda m, x: x.new_zeros(2, size=(2,))),
    ("type_as non-tensor", lambda m, x: x.type_as(3)),
    ("masked_fill float mask", lambda m, x: x.masked_fill(m.ones(3, 4), 1.0)),
    ("masked_fill value 1-d", lambda m, x: x.masked_fill(x > 1, m.ones(2))),
    ("masked_fill_ mask too big", lambda m, x: x[0].masked_fill_(x > 1, 0.0)),
    ("topk k too large", lambda m, x: x.topk(5)),
    ("topk k negative", lambda m, x: m.topk(x, -1)),
    ("topk dim", lambda m, x: x.topk(2, dim=3)),
    ("sort dim", lambda m, x: x.sort(dim=2)),
    ("argsort dim", lambda m, x: m.argsort(x, dim=-3)),
    ("all dim", lambda m, x: x.all(5)),
    ("any dim", lambda m, x: m.any(x, dim=-3)),
    ("cumsum no dim", lambda m, x: x.cumsum()),
    ("cumsum dim", lambda m, x: m.cumsum(x, 2)),
    ("cumprod dim", lambda m, x: x.cumprod(-3)),
    ("flip repeated dim", lambda m, x: x.flip(0, 0)),
    ("flip dim", lambda m, x: m.flip(x, [2])),
    ("flip int dims", lambda m, x: m.flip(x, 0)),
    ("roll misaligned", lambda m, x: x.roll((1, 2), 0)),
    ("roll dim", lambda m, x: m.roll(x, 1, 5)),
    ("tril 1-d", lambda m, x: x[0].tril()),
    ("triu 1-d", lambda m, x: m.triu(x[0], 1)),
    ("norm int", lambda m, x: x.long().norm()),
    ("norm nuc not offered / bad name", lambda m, x: x.norm("abc")),
    ("norm fro over 3 dims", lambda m, x: x.reshape(3, 2, 2).norm("fro", dim=(0, 1, 2))),
    ("norm dim", lambda m, x: x.norm(3, dim=5)),
    ("einsum too few operands", lambda m, x: m.einsum("ij,jk", x)),
    ("einsum too many operands", lambda m, x: m.einsum("ij", x, x)),
    ("einsum subscripts", lambda m, x: m.einsum("ijk", x)),
    ("einsum sizes", lambda m, x: m.einsum("ij,jk->ik", x, x)),
    ("einsum output letter", lambda m, x: m.einsum("ij->k", x)),
    ("einsum repeated sizes", lambda m, x: m.einsum("ii->i", x)),
    ("repeat_interleave negative", lambda m, x: x.repeat_interleave(-1)),
    ("repeat_interleave counts size", lambda m, x: x.repeat_interleave(m.tensor([1, 2]), dim=0)),
    ("repeat_interleave 2-d counts", lambda m, x: x.repeat_interleave(m.tensor([[1]]), dim=0)),
    ("repeat_interleave dim", lambda m, x: x.repeat_interleave(2, dim=2)),
    ("unique dim", lambda m, x: m.unique(x, dim=3)),
    ("format spec on a matrix", lambda m, x: f"{x:.3f}"),
    ("zeros size twice", lambda m, x: m.zeros(2, size=(2, 3))),
    ("zeros size int", lambda m, x: m.zeros(size=2)),
    ("rand size twice", lambda m, x: m.rand(1, size=(2,))),
]


@pytest.mark.parametrize("what, fn", BAD, ids=[b[0] for b in BAD])
def test_bad_input_raises_torch_error_type(what, fn):
    with pytest.raises(Exception) as expected:
        fn(torch, torch.tensor(X, dtype=torch.float32))
    with pytest.raises(Exception) as got:
        fn(G, G.tensor(X))
    assert isinstance(got.value, type(expected.value)), f"{what}: {got.value!r}, PyTorch {expected.value!r}"
