"""The Keras recurrent layers step by step, for the settings the engine's fused ops do not cover: any activation and
recurrent_activation, GRU with reset_after=False, recurrent dropout (Keras' "implementation 1": one dropout mask
per gate, reused at every step) and masks that are not right padding. Each step is the engine's own cell,
``lstm_step`` / ``gru_step`` / ``rnn_step`` of ``nn.functional.recurrent_graph``, on the layer's engine parameters
(the engine's layout and gate order: LSTM i, f, g, o; GRU r, z, n); this file adds only Keras' dropout masks and
Keras' rule for a masked step.
"""

from ...factories import zeros
from ...nn import functional as F
from ...nn.functional.recurrent_graph import gru_step, lstm_step, rnn_step
from ...ops import cat, stack, where


def _identity(x):
    return x


def _input_projection(layer, x, training):
    """x W_ih^T + b_ih for every step, (batch, timesteps, G units): with input dropout, Keras' per-gate masks (one
    shared mask without recurrent dropout)."""
    rnn, gates = layer.rnn, layer._gates
    w_ih, b_ih = rnn.weight_ih_l0, getattr(rnn, "bias_ih_l0", None)
    if not (training and layer.dropout > 0):
        return F.linear(x, w_ih, b_ih)
    per_gate = layer.recurrent_dropout > 0  # Keras then draws one mask per gate
    masks = layer.dropout_masks(gates if per_gate else 1, (x.shape[0], 1, x.shape[2]), layer.dropout, x)
    if len(masks) == 1:
        return F.linear(x * masks[0], w_ih, b_ih)
    u = layer.units
    return cat([F.linear(x * m, w_ih[k * u:(k + 1) * u], None if b_ih is None else b_ih[k * u:(k + 1) * u])
                for k, m in enumerate(masks)], 2)


def _step_function(layer, batch, like, training):
    """step(x_proj_t, h, c) -> new states ([h] or [h, c]) with the layer's cell, activations and dropout masks."""
    rnn = layer.rnn
    w_hh, b_hh = rnn.weight_hh_l0, getattr(rnn, "bias_hh_l0", None)
    act = layer.activation or _identity
    rec_act = layer.recurrent_activation or _identity
    h_masks = None
    if training and layer.recurrent_dropout > 0:
        h_masks = layer.dropout_masks(layer._gates, (batch, layer.units), layer.recurrent_dropout, like)
    kind = layer._cell
    if kind == "lstm":
        return lambda x_t, h, c: lstm_step(x_t, h, c, w_hh, b_hh, None, act, rec_act, h_masks)
    if kind == "gru":
        return lambda x_t, h, c: gru_step(x_t, h, w_hh, b_hh, act, rec_act, layer.reset_after, h_masks)
    return lambda x_t, h, c: rnn_step(x_t, h, w_hh, b_hh, act, h_masks)


def run(layer, x, states, training, mask=None):
    """x: (batch, timesteps, features), already reversed for go_backwards; states: initial states (batch, units)
    or None; mask: (batch, timesteps) booleans (False: skip the step), in x's order, or None. Returns out (batch,
    timesteps, units) and the final states ([h], or [h, c] for an LSTM)."""
    batch, steps, units = x.shape[0], x.shape[1], layer.units
    projected = _input_projection(layer, x, training)
    step = _step_function(layer, batch, x, training)
    blank = zeros(batch, units, dtype=x.dtype, device=x.device)
    h, c = (blank, blank) if states is None else (states[0], states[1] if len(states) > 1 else None)
    outputs = []
    previous = blank  # what a masked first step outputs
    for t in range(steps):
        new_h, *new_c = step(projected[:, t], h, c)
        if mask is None:
            h, c = new_h, (new_c[0] if new_c else c)
            outputs.append(h)
            continue
        # a masked step keeps the states and repeats the previous output (zeros with zero_output_for_mask)
        keep = mask[:, t:t + 1]
        out = where(keep, new_h, blank if layer.zero_output_for_mask else previous)
        h = where(keep, new_h, h)
        if new_c:
            c = where(keep, new_c[0], c)
        outputs.append(out)
        previous = out
    finals = [h, c] if layer._cell == "lstm" else [h]
    return stack(outputs, 1), finals
