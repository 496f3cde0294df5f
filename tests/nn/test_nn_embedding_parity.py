"""nn.Embedding and F.embedding against PyTorch: lookup, gradient (repeated indices, padding_idx,
scale_grad_by_freq), max_norm renormalization in place, init, from_pretrained, gradcheck, and bad input."""

import numpy as np
import pytest
import torch

import ganglion as g
from ganglion import nn
from ganglion.autograd import gradcheck
from ganglion.nn import functional as F

CASES = [
    dict(),
    dict(padding_idx=0),
    dict(padding_idx=-2),
    dict(scale_grad_by_freq=True),
    dict(scale_grad_by_freq=True, padding_idx=3),
    dict(max_norm=1.0),
    dict(max_norm=0.5, norm_type=1.0),
    dict(max_norm=2.0, padding_idx=1, scale_grad_by_freq=True),
]


@pytest.mark.parametrize("kw", CASES, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()) or "plain")
@pytest.mark.parametrize("idx_shape", [(7,), (3, 4), ()])
def test_matches_torch(kw, idx_shape, rng):
    ours = nn.Embedding(6, 3, **kw).double()
    theirs = torch.nn.Embedding(6, 3, **kw).double()
    theirs.load_state_dict({"weight": torch.from_numpy(ours.weight.detach().numpy().copy())})
    idx = rng.integers(0, 6, idx_shape)
    y, yt = ours(g.tensor(idx)), theirs(torch.from_numpy(idx))
    assert tuple(y.shape) == tuple(yt.shape) == idx_shape + (3,)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), atol=1e-12)
    # max_norm rescales the looked-up rows of the weight itself
    np.testing.assert_allclose(ours.weight.detach().numpy(), theirs.weight.detach().numpy(), atol=1e-12)
    w = rng.standard_normal(y.shape)
    (y * g.tensor(w, dtype=g.float64)).sum().backward()
    (yt * torch.from_numpy(w)).sum().backward()
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), atol=1e-12)


def test_functional_matches_module(rng):
    weight = g.tensor(rng.standard_normal((5, 2)), dtype=g.float64, requires_grad=True)
    idx = g.tensor([[0, 4], [4, 4]])
    y = F.embedding(idx, weight, padding_idx=4)
    np.testing.assert_array_equal(y.detach().numpy(), weight.detach().numpy()[idx.numpy()])
    y.sum().backward()
    np.testing.assert_array_equal(weight.grad.numpy(), [[1, 1], [0, 0], [0, 0], [0, 0], [0, 0]])


def test_init_normal_with_zero_padding_row():
    g.manual_seed(0)
    emb = nn.Embedding(2000, 50, padding_idx=7)
    w = emb.weight.detach().numpy()
    assert (w[7] == 0).all()
    assert abs(w.mean()) < 0.01 and abs(w.std() - 1) < 0.01
    assert list(emb.state_dict()) == ["weight"] and emb.weight.requires_grad
    assert repr(emb) == repr(torch.nn.Embedding(2000, 50, padding_idx=7))


def test_from_pretrained_shares_and_freezes():
    table = g.tensor([[1.0, 2.0], [3.0, 4.0]])
    frozen = nn.Embedding.from_pretrained(table)
    assert not frozen.weight.requires_grad and frozen.weight.array is table.array
    np.testing.assert_array_equal(frozen(g.tensor([1])).numpy(), [[3.0, 4.0]])
    trainable = nn.Embedding.from_pretrained(table, freeze=False, padding_idx=0)
    assert trainable.weight.requires_grad and trainable.padding_idx == 0
    np.testing.assert_array_equal(trainable.weight.detach().numpy()[0], [1.0, 2.0])  # not zeroed


def test_gradcheck(rng):
    """The true derivative (padding_idx and scale_grad_by_freq change it on purpose, so they are checked against
    PyTorch above instead)."""
    weight = g.tensor(rng.standard_normal((4, 3)), dtype=g.float64, requires_grad=True)
    idx = g.tensor([[1, 3, 1], [0, 1, 2]])
    assert gradcheck(lambda w: F.embedding(idx, w), (weight,))


BAD = [
    (lambda e: e(g.tensor([0.0, 1.0])), TypeError, "integer"),
    (lambda e: e([1, 2]), TypeError, "integer Tensor"),
    (lambda e: e(g.tensor([1, 10])), IndexError, r"Embedding\(10, 3\): index 10 is out of range for 10 embeddings"),
    (lambda e: e(g.tensor([-1])), IndexError, "index -1 is out of range"),
    (lambda e: nn.Embedding(10, 3, padding_idx=10), ValueError, r"padding_idx=10 must be within \[-10, 10\)"),
    (lambda e: nn.Embedding(10, 3, sparse=True), ValueError, "sparse"),
    (lambda e: nn.Embedding(10, 3, _weight=g.zeros(3, 10)), ValueError, r"\(10, 3\)"),
    (lambda e: F.embedding(g.tensor([0]), g.zeros(3)), ValueError, "2-D"),
]


@pytest.mark.parametrize("call,error,text", BAD)
def test_bad_input(call, error, text):
    with pytest.raises(error, match=text):
        call(nn.Embedding(10, 3))
