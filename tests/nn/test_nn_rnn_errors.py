"""Bad input to the recurrent layers: a ValueError (TypeError for wrong types) naming the layer, what it expected and
what it got; bad constructor arguments name the argument and the accepted values."""

import pytest

import ganglion as g
from ganglion import nn
from ganglion.nn.utils import rnn

# (layer, input shape, expected-shape text): feature size, rank and empty sequences
BAD_INPUTS = [
    (lambda: nn.LSTM(32, 128), (50, 64, 16), "(L, N, 32)"),
    (lambda: nn.LSTM(32, 128), (50, 16), "(L, 32)"),
    (lambda: nn.LSTM(32, 128), (2, 3, 4, 32), "(L, N, 32)"),
    (lambda: nn.LSTM(32, 128), (32,), "(L, N, 32)"),
    (lambda: nn.LSTM(32, 128), (0, 4, 32), "(L, N, 32)"),
    (lambda: nn.LSTM(8, 4, batch_first=True), (2, 5, 7), "(N, L, 8)"),
    (lambda: nn.GRU(8, 4, num_layers=2), (5, 2, 4), "(L, N, 8)"),
    (lambda: nn.RNN(8, 4, bidirectional=True), (5, 2, 9), "(L, N, 8)"),
    (lambda: nn.LSTMCell(8, 4), (2, 7), "(N, 8)"),
    (lambda: nn.GRUCell(8, 4), (2, 3, 8), "(N, 8)"),
    (lambda: nn.RNNCell(8, 4), (9,), "(8,)"),
]


@pytest.mark.parametrize("make,shape,expected", BAD_INPUTS)
def test_wrong_input_shape_names_layer_expected_and_received(make, shape, expected):
    layer = make()
    with pytest.raises(ValueError) as info:
        layer(g.zeros(*shape))
    message = str(info.value)
    assert repr(layer).split("\n")[0] in message
    assert expected in message and str(tuple(shape)) in message


# (layer, input shape, hx (shapes), name of the bad state, its expected shape)
BAD_STATES = [
    (lambda: nn.LSTM(3, 4), (5, 2, 3), ((1, 3, 4), (1, 2, 4)), "h0", (1, 2, 4)),
    (lambda: nn.LSTM(3, 4), (5, 2, 3), ((1, 2, 4), (1, 2, 5)), "c0", (1, 2, 4)),
    (lambda: nn.LSTM(3, 4, num_layers=2, bidirectional=True), (5, 2, 3), ((2, 2, 4), (4, 2, 4)), "h0", (4, 2, 4)),
    (lambda: nn.LSTM(3, 4, proj_size=2), (5, 2, 3), ((1, 2, 4), (1, 2, 4)), "h0", (1, 2, 2)),
    (lambda: nn.GRU(3, 4), (5, 2, 3), (1, 2, 3), "h0", (1, 2, 4)),
    (lambda: nn.GRU(3, 4), (5, 3), (1, 2, 4), "h0", (1, 4)),  # unbatched input, batched state
    (lambda: nn.RNN(3, 4, batch_first=True), (2, 5, 3), (1, 5, 4), "h0", (1, 2, 4)),
    (lambda: nn.GRUCell(3, 4), (5, 3), (4, 4), "hx", (5, 4)),
    (lambda: nn.LSTMCell(3, 4), (3,), ((4,), (2, 4)), "c0", (4,)),
]


@pytest.mark.parametrize("make,x_shape,hx,name,expected", BAD_STATES)
def test_wrong_state_shape_names_layer_expected_and_received(make, x_shape, hx, name, expected):
    layer = make()
    states = tuple(g.zeros(*s) for s in hx) if isinstance(hx[0], tuple) else g.zeros(*hx)
    with pytest.raises(ValueError) as info:
        layer(g.zeros(*x_shape), states)
    message = str(info.value)
    assert repr(layer) in message and f"{name} of shape {expected}" in message


def test_packed_data_with_wrong_feature_size():
    packed = rnn.pack_sequence([g.zeros(3, 5), g.zeros(2, 5)])
    with pytest.raises(ValueError, match=r"LSTM\(4, 2\).*\(sum\(lengths\), 4\).*\(5, 5\)"):
        nn.LSTM(4, 2)(packed)


def test_type_errors():
    lstm = nn.LSTM(3, 4)
    with pytest.raises(TypeError, match="LSTM"):
        lstm([[1.0, 2.0, 3.0]])
    with pytest.raises(TypeError, match="float64 does not match the weights' float32"):
        lstm(g.zeros(5, 2, 3, dtype=g.float64))
    with pytest.raises(TypeError, match=r"hx must be a tuple \(h0, c0\)"):
        lstm(g.zeros(5, 2, 3), g.zeros(1, 2, 4))
    with pytest.raises(TypeError, match="h0 must be a Tensor"):
        nn.GRU(3, 4)(g.zeros(5, 2, 3), [[0.0]])


BAD_ARGS = [
    (lambda: nn.RNN(3, 4, nonlinearity="sigmoid"), "'tanh', 'relu'"),
    (lambda: nn.RNNCell(3, 4, nonlinearity="gelu"), "'tanh', 'relu'"),
    (lambda: nn.LSTM(3, 0), "hidden_size"),
    (lambda: nn.GRU(3, 4, num_layers=0), "num_layers"),
    (lambda: nn.LSTM(-1, 4), "input_size"),
    (lambda: nn.LSTM(3, 4, dropout=1.5), "dropout"),
    (lambda: nn.RNNBase("GRU", 3, 4, proj_size=2), "proj_size is only supported by LSTM"),
    (lambda: nn.LSTM(3, 4, proj_size=4), "proj_size"),
    (lambda: nn.LSTMCell(3, 0), "hidden_size"),
]


@pytest.mark.parametrize("make,text", BAD_ARGS)
def test_bad_constructor_arguments(make, text):
    with pytest.raises(ValueError, match=text):
        make()


def test_dropout_with_one_layer_warns():
    with pytest.warns(UserWarning, match="num_layers=1"):
        nn.LSTM(3, 4, dropout=0.5)


PACK_ERRORS = [
    (lambda: rnn.pack_padded_sequence(g.zeros(5, 3, 2), [2, 5, 3]), "sorted in decreasing order"),
    (lambda: rnn.pack_padded_sequence(g.zeros(5, 3, 2), [6, 5, 3]), "exceeds the 5 steps"),
    (lambda: rnn.pack_padded_sequence(g.zeros(5, 3, 2), [5, 0, 3], enforce_sorted=False), "positive"),
    (lambda: rnn.pack_padded_sequence(g.zeros(5, 3, 2), [5, 3]), "2 lengths for a batch of 3"),
    (lambda: rnn.pad_packed_sequence(rnn.pack_sequence([g.zeros(4, 2)]), total_length=3), "total_length=3"),
    (lambda: rnn.pad_sequence([g.zeros(3, 2), g.zeros(2, 3)]), r"sequence 1 is \(2, 3\)"),
    (lambda: rnn.pad_sequence([]), "empty"),
    (lambda: rnn.pad_sequence([g.zeros(2)], padding_side="middle"), "'left' or 'right'"),
]


@pytest.mark.parametrize("call,text", PACK_ERRORS)
def test_packing_errors(call, text):
    with pytest.raises(ValueError, match=text):
        call()
