"""Recurrent modules: PyTorch's parameter names, shapes and state_dict layout, the U(-1/sqrt(H), 1/sqrt(H)) init,
dropout between layers (train only, reproducible), the cells against PyTorch, unbatched inputs, repr."""

import math

import numpy as np
import pytest
import torch

import ganglion as g
from ganglion import nn

LAYOUTS = [
    ("LSTM", dict(num_layers=2, bidirectional=True)),
    ("LSTM", dict(num_layers=2, proj_size=3)),
    ("LSTM", dict(bias=False, bidirectional=True, proj_size=2)),
    ("GRU", dict(num_layers=3, bidirectional=True)),
    ("GRU", dict(bias=False)),
    ("RNN", dict(num_layers=2, nonlinearity="relu", bidirectional=True)),
]


@pytest.mark.parametrize("cls,kw", LAYOUTS)
def test_state_dict_layout_is_torchs(cls, kw):
    ours = getattr(nn, cls)(5, 6, **kw)
    theirs = getattr(torch.nn, cls)(5, 6, **kw)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in theirs.state_dict().items()
    ]
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert ours._flat_weights_names == theirs._flat_weights_names
    assert [[tuple(p.shape) for p in ws] for ws in ours.all_weights] == [
        [tuple(p.shape) for p in ws] for ws in theirs.all_weights
    ]
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("cls", ["RNNCell", "LSTMCell", "GRUCell"])
@pytest.mark.parametrize("bias", [True, False])
def test_cell_layout_is_torchs(cls, bias):
    ours, theirs = getattr(nn, cls)(5, 6, bias=bias), getattr(torch.nn, cls)(5, 6, bias=bias)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in theirs.state_dict().items()
    ]
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("make", [lambda: nn.LSTM(4, 100, num_layers=2), lambda: nn.GRUCell(7, 100)])
def test_init_is_uniform_in_one_over_sqrt_hidden(make):
    g.manual_seed(0)
    layer = make()
    bound = 1 / math.sqrt(100)
    values = np.concatenate([p.detach().numpy().ravel() for p in layer.parameters()])
    assert np.abs(values).max() <= bound and np.abs(values).max() > 0.99 * bound
    np.testing.assert_allclose(values.std(), bound / math.sqrt(3), rtol=0.02)
    g.manual_seed(0)
    again = make()
    for a, b in zip(layer.parameters(), again.parameters()):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def _copy_to_torch(ours, theirs):
    theirs.load_state_dict({k: torch.from_numpy(v.detach().numpy().copy()) for k, v in ours.state_dict().items()})
    return theirs


def test_dropout_only_between_layers_and_only_in_training(rng):
    x = rng.standard_normal((6, 3, 4)).astype(np.float32)
    ours = nn.LSTM(4, 5, num_layers=3, dropout=0.4)
    theirs = _copy_to_torch(ours, torch.nn.LSTM(4, 5, num_layers=3, dropout=0.4))
    theirs.eval()
    ours.eval()
    expected = theirs(torch.from_numpy(x))[0].detach().numpy()
    np.testing.assert_allclose(ours(g.from_numpy(x))[0].detach().numpy(), expected, atol=1e-6)
    ours.train()
    g.manual_seed(3)
    a = ours(g.from_numpy(x))[0].detach().numpy()
    g.manual_seed(3)
    b = ours(g.from_numpy(x))[0].detach().numpy()
    c = ours(g.from_numpy(x))[0].detach().numpy()
    np.testing.assert_array_equal(a, b)  # reproducible under manual_seed
    assert not np.allclose(a, c)  # and random otherwise
    assert not np.allclose(a, theirs(torch.from_numpy(x))[0].detach().numpy(), atol=1e-3)


def test_dropout_one_zeroes_every_layer_input_but_not_the_last_output(rng):
    """p = 1 is deterministic in both frameworks: layers 2 and 3 see zeros; the final output is not dropped."""
    x = rng.standard_normal((4, 2, 3))
    ours = nn.GRU(3, 4, num_layers=3, dropout=1.0, bidirectional=True).double()
    theirs = _copy_to_torch(ours, torch.nn.GRU(3, 4, num_layers=3, dropout=1.0, bidirectional=True).double())
    gx, tx = g.tensor(x, dtype=g.float64, requires_grad=True), torch.tensor(x, requires_grad=True)
    (go, gh), (to, th) = ours(gx), theirs(tx)
    np.testing.assert_allclose(go.detach().numpy(), to.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(gh.detach().numpy(), th.detach().numpy(), atol=1e-12)
    assert np.abs(go.detach().numpy()).min() > 0
    (go.sum() + gh.sum()).backward()
    (to.sum() + th.sum()).backward()
    np.testing.assert_allclose(ours.weight_ih_l0.grad.numpy(), theirs.weight_ih_l0.grad.numpy(), atol=1e-12)


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_unbatched_equals_batch_of_one(cls, rng):
    layer = getattr(nn, cls)(3, 4, num_layers=2, bidirectional=True).double()
    x = rng.standard_normal((5, 3))
    out, state = layer(g.tensor(x, dtype=g.float64))
    out_b, state_b = layer(g.tensor(x[:, None], dtype=g.float64))
    assert tuple(out.shape) == (5, 8)
    np.testing.assert_allclose(out.detach().numpy(), out_b.detach().numpy()[:, 0])
    states, states_b = (state, state_b) if cls == "LSTM" else ((state,), (state_b,))
    for s, sb in zip(states, states_b):
        assert tuple(s.shape) == (4, 4)
        np.testing.assert_allclose(s.detach().numpy(), sb.detach().numpy()[:, 0])


CELLS = [("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu"}), ("RNNCell", {"bias": False}),
         ("LSTMCell", {}), ("LSTMCell", {"bias": False}), ("GRUCell", {}), ("GRUCell", {"bias": False})]


@pytest.mark.parametrize("cls,kw", CELLS)
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("with_state", [True, False])
def test_cells_match_torch(cls, kw, batched, with_state, rng):
    ours = getattr(nn, cls)(3, 4, **kw).double()
    theirs = _copy_to_torch(ours, getattr(torch.nn, cls)(3, 4, **kw).double())
    batch = (2,) if batched else ()
    x = rng.standard_normal(batch + (3,))
    states = [rng.standard_normal(batch + (4,)) for _ in range(2 if cls == "LSTMCell" else 1)] if with_state else []
    gx, tx = g.tensor(x, dtype=g.float64, requires_grad=True), torch.tensor(x, requires_grad=True)
    gs = [g.tensor(s, dtype=g.float64, requires_grad=True) for s in states]
    ts = [torch.tensor(s, requires_grad=True) for s in states]
    ghx = (tuple(gs) if cls == "LSTMCell" else gs[0]) if states else None
    thx = (tuple(ts) if cls == "LSTMCell" else ts[0]) if states else None
    gout, tout = ours(gx, ghx), theirs(tx, thx)
    gout, tout = (gout, tout) if cls == "LSTMCell" else ((gout,), (tout,))
    w = [rng.standard_normal(tuple(t.shape)) for t in tout]
    for a, b in zip(gout, tout):
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=1e-12)
    loss = g.tensor(0.0, dtype=g.float64)
    for a, wi in zip(gout, w):
        loss = loss + (a * g.tensor(wi, dtype=g.float64)).sum()
    loss.backward()
    sum((b * torch.from_numpy(wi)).sum() for b, wi in zip(tout, w)).backward()
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), atol=1e-12)
    for a, b in zip(gs, ts):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=1e-12)
    tp = dict(theirs.named_parameters())
    for n, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tp[n].grad.numpy(), atol=1e-12, err_msg=n)


def test_cell_loop_equals_layer(rng):
    """Stepping an LSTMCell over a sequence gives the LSTM layer's output (same weights)."""
    layer, cell = nn.LSTM(3, 4).double(), nn.LSTMCell(3, 4).double()
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        getattr(cell, name).array[...] = getattr(layer, name + "_l0").array
    x = g.tensor(rng.standard_normal((5, 2, 3)), dtype=g.float64)
    out, (h, c) = layer(x)
    hc = None
    for t in range(5):
        hc = cell(x[t], hc)
        np.testing.assert_allclose(hc[0].detach().numpy(), out.detach().numpy()[t], atol=1e-12)
    np.testing.assert_allclose(hc[1].detach().numpy(), c.detach().numpy()[0], atol=1e-12)


def test_extreme_inputs_stay_finite():
    layer = nn.LSTM(2, 3, bidirectional=True)
    x = g.tensor([[[1e30, -1e30]], [[-3e38, 3e38]]])
    out, (h, c) = layer(x)
    (out.sum() + c.sum()).backward()
    assert np.isfinite(out.detach().numpy()).all() and np.isfinite(layer.weight_hh_l0.grad.numpy()).all()
    assert np.abs(out.detach().numpy()).max() <= 1.0


def test_loads_torch_weights_and_matches(rng):
    theirs = torch.nn.GRU(3, 5, num_layers=2, bidirectional=True, batch_first=True).double()
    ours = nn.GRU(3, 5, num_layers=2, bidirectional=True, batch_first=True).double()
    ours.load_state_dict(theirs.state_dict())
    x = rng.standard_normal((2, 4, 3))
    np.testing.assert_allclose(ours(g.tensor(x, dtype=g.float64))[0].detach().numpy(),
                               theirs(torch.from_numpy(x))[0].detach().numpy(), atol=1e-12)


def test_results_survive_later_calls(rng):
    """Work arrays are reused between calls: what a call returned must not change when later calls run."""
    layer = nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    x1, x2 = (g.from_numpy(rng.standard_normal((5, 2, 3)).astype(np.float32)) for _ in range(2))
    out1, (h1, c1) = layer(x1)
    kept = [t.detach().numpy().copy() for t in (out1, h1, c1)]
    (out1.sum() + c1.sum()).backward()
    grads = [p.grad.numpy().copy() for p in layer.parameters()]
    for _ in range(2):
        out2, (h2, c2) = layer(x2)
        (out2.sum() + c2.sum()).backward()
        with g.no_grad():
            layer(x2)
    for t, before in zip((out1, h1, c1), kept):
        np.testing.assert_array_equal(t.detach().numpy(), before)
    layer.zero_grad()
    out1, (h1, c1) = layer(x1)
    (out1.sum() + c1.sum()).backward()
    for p, before in zip(layer.parameters(), grads):
        np.testing.assert_allclose(p.grad.numpy(), before, rtol=1e-6)


def test_retain_graph_allows_a_second_backward(rng):
    layer = nn.GRU(3, 4)
    out, h = layer(g.from_numpy(rng.standard_normal((5, 2, 3)).astype(np.float32)))
    loss = out.sum() + h.sum()
    loss.backward(retain_graph=True)
    first = layer.weight_hh_l0.grad.numpy().copy()
    layer(g.from_numpy(rng.standard_normal((5, 2, 3)).astype(np.float32)))[0].sum().backward()  # reuses work arrays
    layer.zero_grad()
    loss.backward()
    np.testing.assert_allclose(layer.weight_hh_l0.grad.numpy(), first, rtol=1e-6)
