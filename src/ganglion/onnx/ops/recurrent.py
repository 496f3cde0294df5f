"""Recurrent layers -> ONNX LSTM, GRU and RNN nodes, one per layer and direction (as the engine runs them; a
bidirectional layer's two directions are joined by the Concat the engine recorded).

Gate order. The engine (PyTorch's layout) stacks the gate rows of W_ih, W_hh and the biases as LSTM (i, f, g, o)
and GRU (r, z, n); ONNX wants LSTM (i, o, f, c) and GRU (z, r, h). The GRU's n = tanh(W_in x + b_in + r (W_hn h +
b_hn)) applies the reset gate after the recurrent product, which is ONNX's ``linear_before_reset=1``.
"""

import numpy as np

from ...tensor import Tensor

LSTM_GATES = (0, 3, 1, 2)  # ONNX (i, o, f, c) from PyTorch rows (i, f, g, o)
GRU_GATES = (1, 0, 2)  # ONNX (z, r, h) from PyTorch rows (r, z, n)
_PACKED = "a PackedSequence (variable lengths) has no ONNX form; export the padded sequence instead"


def _blocks(array, order):
    """Rows (gates * H, ...) regrouped in ``order``."""
    blocks = np.split(array, len(order), axis=0)
    return np.concatenate([blocks[i] for i in order], axis=0)


def _weights(g, order, w_ih, w_hh, b_ih, b_hh, dtype):
    """W (1, G H, I), R (1, G H, H), B (1, 2 G H) initializers in ONNX's gate order (missing biases are zeros)."""
    w = _blocks(g.array_of(w_ih), order)[None].astype(dtype)
    r = _blocks(g.array_of(w_hh), order)[None].astype(dtype)
    rows = w.shape[1]
    biases = [np.zeros(rows, dtype) if b is None else _blocks(g.array_of(b), order).astype(dtype) for b in (b_ih, b_hh)]
    return [g.const(w, g.name_of(w_ih, "W")), g.const(r, g.name_of(w_hh, "R")),
            g.const(np.concatenate(biases)[None], g.name_of(b_ih, "B") if b_ih is not None else "rnn_B")]


def _sequence(g, x):
    """x as ONNX's (T, B, I): a cell's (B, I) gets a time axis of 1."""
    v = g.value(x)
    return g.unsqueeze(v, [0]) if x.ndim == 2 else v


def _state(g, h):
    """The initial state as (1, B, H), or None (omitted: zeros) for the engine's own zero state."""
    if not isinstance(h, Tensor) and id(h) not in g.input_names and not np.any(g.array_of(h)):
        return None
    return g.unsqueeze(g.value(h), [0])


def _check(g, batch_sizes, w_hr=None):
    if batch_sizes is not None:
        raise g.unsupported(_PACKED)
    if w_hr is not None:
        raise g.unsupported("an LSTM with proj_size > 0 (ONNX LSTM has no projection)")


def _outputs(g, names, x):
    """ONNX's Y (T, 1, B, H) and final states (1, B, H) as the engine's (T, B, H) and (B, H)."""
    y, *finals = names
    return [g.squeeze(y, [1])] + [g.squeeze(f, [0]) for f in finals]


def lstm(g, node, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, batch_sizes=None, reverse=False):
    _check(g, batch_sizes, w_hr)
    hidden = w_hh.shape[1]
    inputs = [_sequence(g, x), *_weights(g, LSTM_GATES, w_ih, w_hh, b_ih, b_hh, x.dtype), None, _state(g, h0),
              _state(g, c0)]
    names = g.add("LSTM", inputs, outputs=3, hidden_size=hidden, direction="reverse" if reverse else "forward")
    return _outputs(g, names, x)


def gru(g, node, x, h0, w_ih, w_hh, b_ih, b_hh, batch_sizes=None, reverse=False):
    _check(g, batch_sizes)
    hidden = w_hh.shape[1]
    inputs = [_sequence(g, x), *_weights(g, GRU_GATES, w_ih, w_hh, b_ih, b_hh, x.dtype), None, _state(g, h0)]
    names = g.add("GRU", inputs, outputs=2, hidden_size=hidden, linear_before_reset=1,
                  direction="reverse" if reverse else "forward")
    return _outputs(g, names, x)


def rnn(g, node, x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh", batch_sizes=None, reverse=False):
    _check(g, batch_sizes)
    hidden = w_hh.shape[1]
    inputs = [_sequence(g, x), *_weights(g, (0,), w_ih, w_hh, b_ih, b_hh, x.dtype), None, _state(g, h0)]
    names = g.add("RNN", inputs, outputs=2, hidden_size=hidden, activations=[nonlinearity.capitalize()],
                  direction="reverse" if reverse else "forward")
    return _outputs(g, names, x)


MAPPINGS = {"LSTMSequence": lstm, "GRUSequence": gru, "RNNSequence": rnn}

REFUSALS = {"PaddedToPacked": _PACKED, "PackedToPadded": _PACKED}
