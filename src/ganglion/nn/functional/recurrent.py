"""Recurrent layers as fused ops, and the functional cells (PyTorch's ``lstm_cell``, ``gru_cell``, ``rnn_*_cell``).

One Function runs a whole sequence through one layer in one direction, on raw arrays; one file per cell:

- ``recurrent_rnn.RNNSequence``: Elman RNN, tanh or relu
- ``recurrent_lstm.LSTMSequence``: LSTM, with or without a projection
- ``recurrent_gru.GRUSequence``: GRU (PyTorch's form: the reset gate scales h W_hn^T + b_hn)

What they share (step order, gate-major weights, packed batches, who owns which work array) is
``recurrent_sequence``; the same recurrences composed of differentiable ops, for double backward and the Keras
layers' general settings, are ``recurrent_graph``. ``nn.LSTM`` and friends (``nn/modules/recurrent.py``) stack these
ops over layers and directions.
"""

from .recurrent_gru import GRUSequence
from .recurrent_lstm import LSTMSequence
from .recurrent_rnn import RNNSequence

__all__ = ["LSTMSequence", "GRUSequence", "RNNSequence", "lstm_cell", "gru_cell", "rnn_tanh_cell", "rnn_relu_cell"]


# ---------------------------------------------------------------------------------------------- functional API
def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step (PyTorch's ``lstm_cell``).  input (B, I), hx = (h, c) each (B, H) -> (h', c') each (B, H)."""
    _, h, c = LSTMSequence.apply(input, hx[0], hx[1], w_ih, w_hh, b_ih, b_hh, None)
    return h, c


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU step (PyTorch's ``gru_cell``).  input (B, I), hx (B, H) -> h' (B, H)."""
    return GRUSequence.apply(input, hx, w_ih, w_hh, b_ih, b_hh)[1]


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One Elman step, h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh).  input (B, I), hx (B, H) -> (B, H)."""
    return RNNSequence.apply(input, hx, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh")[1]


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One Elman step, h' = relu(x W_ih^T + b_ih + h W_hh^T + b_hh).  input (B, I), hx (B, H) -> (B, H)."""
    return RNNSequence.apply(input, hx, w_ih, w_hh, b_ih, b_hh, nonlinearity="relu")[1]
