"""Double backward of the recurrent layers (``create_graph=True``): float64 ``gradgradcheck`` over the layer forms
(inputs and weights), packed batches and cells, and a Hessian-vector product against PyTorch. The Sequences
differentiate a step-by-step recomputation (``nn/functional/recurrent_graph.py``), so these rows also check that
it computes what the fused fast path does."""

import numpy as np
import pytest
import torch

import ganglion as G
from ganglion import nn
from ganglion.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

LAYERS = [
    ("lstm", lambda: nn.LSTM(2, 3)),
    ("lstm_bidirectional_two_layers", lambda: nn.LSTM(2, 2, num_layers=2, bidirectional=True)),
    ("lstm_projection", lambda: nn.LSTM(2, 3, proj_size=2)),
    ("gru_batch_first", lambda: nn.GRU(2, 3, batch_first=True)),
    ("rnn_tanh_no_bias", lambda: nn.RNN(2, 3, bias=False)),
    ("rnn_relu", lambda: nn.RNN(2, 3, nonlinearity="relu")),
]


@pytest.mark.parametrize("name, build", LAYERS, ids=[n for n, _ in LAYERS])
def test_recurrent_layer_gradgradcheck(name, build):
    """Second derivatives with respect to the input, the initial state and one weight matrix."""
    G.manual_seed(0)
    layer = build().double()
    rng = np.random.default_rng(1)
    x = G.tensor(rng.standard_normal((3, 2, 2)), dtype=G.float64, requires_grad=True)
    batch = x.shape[0] if layer.batch_first else x.shape[1]
    h_shape = (layer.num_layers * (2 if layer.bidirectional else 1), batch, layer.proj_size or layer.hidden_size)
    h0 = G.tensor(rng.standard_normal(h_shape) * 0.5, dtype=G.float64, requires_grad=True)
    c_shape = h_shape[:2] + (layer.hidden_size,)
    c0 = G.tensor(rng.standard_normal(c_shape) * 0.5, dtype=G.float64)

    def run(x, h0, w_hh):  # w_hh is the layer's own parameter: gradgradcheck perturbs it in place
        return layer(x, (h0, c0) if isinstance(layer, nn.LSTM) else h0)[0]

    assert G.autograd.gradgradcheck(run, (x, h0, layer.weight_hh_l0))


def test_packed_gru_and_cell_gradgradcheck():
    G.manual_seed(0)
    rng = np.random.default_rng(2)
    gru = nn.GRU(2, 3).double()
    x = G.tensor(rng.standard_normal((4, 3, 2)), dtype=G.float64, requires_grad=True)

    def packed(x):
        out, h = gru(pack_padded_sequence(x, [4, 2, 1]))
        return pad_packed_sequence(out)[0], h

    assert G.autograd.gradgradcheck(packed, (x,))
    cell = nn.LSTMCell(2, 3).double()
    assert G.autograd.gradgradcheck(lambda x: cell(x)[1], (x[0],))


def test_lstm_hessian_vector_product_matches_torch():
    torch.manual_seed(0)
    reference = torch.nn.LSTM(3, 4, batch_first=True).double()
    ours = nn.LSTM(3, 4, batch_first=True).double()
    ours.load_state_dict({k: G.tensor(v.detach().numpy(), dtype=G.float64) for k, v in reference.state_dict().items()})
    rng = np.random.default_rng(3)
    x_np = rng.standard_normal((2, 5, 3))
    v = {name: rng.standard_normal(tuple(p.shape)) for name, p in reference.named_parameters()}
    results = []
    for lib, model in ((G, ours), (torch, reference)):
        names, params = zip(*model.named_parameters())
        out, _ = model(lib.tensor(x_np, dtype=lib.float64))
        loss = (out[:, -1] ** 2).sum()
        grads = lib.autograd.grad(loss, list(params), create_graph=True)
        dot = sum((g * lib.tensor(v[n], dtype=lib.float64)).sum() for n, g in zip(names, grads))
        results.append([h.detach().numpy() for h in lib.autograd.grad(dot, list(params))])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9)
