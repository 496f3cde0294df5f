"""Float64 gradcheck of the recurrent ops: every cell and every layer kind (with initial states, projections, two
bidirectional layers, packed batches), differentiating w.r.t. input, states and every parameter."""

import numpy as np
import pytest

import ganglion as g
from ganglion import nn
from ganglion.autograd import gradcheck
from ganglion.nn import functional as F
from ganglion.nn.utils import rnn


def _t(rng, *shape):
    return g.tensor(rng.uniform(-1.0, 1.0, shape), dtype=g.float64, requires_grad=True)


CELLS = [
    ("rnn_tanh_cell", F.rnn_tanh_cell, 1, False),
    ("rnn_relu_cell", F.rnn_relu_cell, 1, False),
    ("lstm_cell", F.lstm_cell, 4, True),
    ("gru_cell", F.gru_cell, 3, False),
]


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("name,cell,gates,two_states", CELLS, ids=[c[0] for c in CELLS])
def test_cell_functions(name, cell, gates, two_states, bias, rng):
    n, i, h = 2, 3, 2
    x, w_ih, w_hh = _t(rng, n, i), _t(rng, gates * h, i), _t(rng, gates * h, h)
    b_ih, b_hh = (_t(rng, gates * h), _t(rng, gates * h)) if bias else (None, None)
    states = (_t(rng, n, h), _t(rng, n, h)) if two_states else (_t(rng, n, h),)
    if name == "rnn_relu_cell":  # positive inputs and weights: pre-activations away from relu's kink
        for t in (x, w_ih, w_hh, b_ih, b_hh, *states):
            if t is not None:
                t.array[...] = np.abs(t.array) + 0.05

    def fn(x, *args):
        hx = args[:2] if two_states else args[0]
        rest = args[len(states):]
        return cell(x, hx, *rest)

    assert gradcheck(fn, (x, *states, w_ih, w_hh, b_ih, b_hh))


@pytest.mark.parametrize("cls", [nn.RNNCell, nn.LSTMCell, nn.GRUCell])
@pytest.mark.parametrize("batched", [True, False])
def test_cell_modules(cls, batched, rng):
    cell = cls(3, 2).double()
    x = _t(rng, 2, 3) if batched else _t(rng, 3)
    h = _t(rng, *((2, 2) if batched else (2,)))
    hx = (h, _t(rng, *h.shape)) if cls is nn.LSTMCell else (h,)

    def fn(x, *args):
        states = args[: len(hx)]
        return cell(x, tuple(states) if cls is nn.LSTMCell else states[0])

    assert gradcheck(fn, (x, *hx, *cell.parameters()))


LAYERS = [
    ("RNN tanh", lambda: nn.RNN(2, 3), None),
    ("RNN relu 2 bidirectional", lambda: nn.RNN(2, 3, num_layers=2, nonlinearity="relu", bidirectional=True), None),
    ("LSTM", lambda: nn.LSTM(2, 3, batch_first=True), None),
    ("LSTM proj", lambda: nn.LSTM(2, 3, proj_size=2), None),
    ("LSTM 2 bidirectional", lambda: nn.LSTM(2, 2, num_layers=2, bidirectional=True), None),
    ("GRU", lambda: nn.GRU(2, 3), None),
    ("GRU 2 bidirectional", lambda: nn.GRU(2, 2, num_layers=2, bidirectional=True), None),
    ("LSTM packed bidirectional", lambda: nn.LSTM(2, 2, bidirectional=True), [3, 1]),
    ("GRU packed", lambda: nn.GRU(2, 3, bidirectional=True), [1, 3]),
]


@pytest.mark.parametrize("name,make,lengths", LAYERS, ids=[r[0] for r in LAYERS])
def test_layers(name, make, lengths, rng):
    g.manual_seed(0)
    layer = make().double()
    d = 2 if layer.bidirectional else 1
    states = [_t(rng, d * layer.num_layers, 2, layer.proj_size or layer.hidden_size)]
    if isinstance(layer, nn.LSTM):
        states.append(_t(rng, d * layer.num_layers, 2, layer.hidden_size))
    x = _t(rng, 2, 3, 2) if layer.batch_first else _t(rng, 3, 2, 2)
    if isinstance(layer, nn.RNN) and layer.nonlinearity == "relu":
        x.array[...] = np.abs(x.array) + 0.5  # positive inputs and weights: away from relu's kink
        for p in layer.parameters():
            p.array[...] = np.abs(p.array) + 0.05
        for s in states:
            s.array[...] = np.abs(s.array)
    n_states = len(states)

    def fn(x, *args):
        hx = tuple(args[:n_states]) if n_states == 2 else args[0]
        inp = x if lengths is None else rnn.pack_padded_sequence(x, lengths, enforce_sorted=False)
        out, final = layer(inp, hx)
        if lengths is not None:
            out = rnn.pad_packed_sequence(out)[0]
        return (out, *final) if n_states == 2 else (out, final)

    assert gradcheck(fn, (x, *states, *layer.parameters()))
