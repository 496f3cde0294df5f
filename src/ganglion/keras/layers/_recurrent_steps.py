"""The recurrences step by step, for the Keras settings the engine's fused ops do not cover: any activation and
recurrent_activation, GRU with reset_after=False, and recurrent dropout (Keras' "implementation 1": one dropout
mask per gate, reused at every step). Built from the layer's engine parameters (the engine's layout and gate
order: LSTM i, f, g, o; GRU r, z, n) with ``nn.functional.linear`` and the Keras activations, so autograd
differentiates it like any other graph. With tanh/sigmoid it computes what the fused ops compute.
"""

from ...factories import zeros
from ...nn import functional as F
from ...ops import stack, where


def _identity(x):
    return x


def _gate(w, k, units):
    """Rows of gate k from an engine weight or bias (None stays None)."""
    return None if w is None else w[k * units:(k + 1) * units]


def run(layer, x, states, training, mask=None):
    """x: (batch, timesteps, features), already reversed for go_backwards; states: initial states (batch, units)
    or None; mask: (batch, timesteps) booleans (False: skip the step), in x's order, or None. Returns out (batch,
    timesteps, units) and the final states ([h], or [h, c] for an LSTM)."""
    rnn, units, gates = layer.rnn, layer.units, layer._gates
    w_ih, w_hh = rnn.weight_ih_l0, rnn.weight_hh_l0
    b_ih, b_hh = getattr(rnn, "bias_ih_l0", None), getattr(rnn, "bias_hh_l0", None)
    act = layer.activation or _identity
    rec_act = layer.recurrent_activation or _identity
    batch, steps, features = x.shape
    per_gate = training and layer.recurrent_dropout > 0  # Keras then draws one mask per gate

    # input projections of every step at once, per gate: (batch, timesteps, units)
    if training and layer.dropout > 0:
        masks = layer.dropout_masks(gates if per_gate else 1, (batch, 1, features), layer.dropout, x)
        masks = masks * gates if len(masks) == 1 else masks
        xg = [F.linear(x * masks[k], _gate(w_ih, k, units), _gate(b_ih, k, units)) for k in range(gates)]
    else:
        projected = F.linear(x, w_ih, b_ih)
        xg = [projected[:, :, k * units:(k + 1) * units] for k in range(gates)]
    rec_masks = layer.dropout_masks(gates, (batch, units), layer.recurrent_dropout, x) if per_gate else None
    wh = [_gate(w_hh, k, units) for k in range(gates)]
    bh = [_gate(b_hh, k, units) for k in range(gates)]

    def recurrent(h, k, scale=None):
        """h W_hh_k^T + b_hh_k, with gate k's recurrent dropout mask and an optional elementwise scale of h."""
        if rec_masks is not None:
            h = h * rec_masks[k]
        if scale is not None:
            h = h * scale
        return F.linear(h, wh[k], bh[k])

    if states is None:
        h = zeros(batch, units, dtype=x.dtype, device=x.device)
        c = zeros(batch, units, dtype=x.dtype, device=x.device)
    else:
        h = states[0]
        c = states[1] if len(states) > 1 else None
    kind = layer._cell
    outputs = []
    blank = zeros(batch, units, dtype=x.dtype, device=x.device)
    previous = blank  # what a masked first step outputs
    for t in range(steps):
        new_c = None
        if kind == "lstm":
            z = [xg[k][:, t] + recurrent(h, k) for k in range(4)]
            i, f, g, o = rec_act(z[0]), rec_act(z[1]), act(z[2]), rec_act(z[3])
            new_c = f * c + i * g
            new_h = o * act(new_c)
        elif kind == "gru":
            r = rec_act(xg[0][:, t] + recurrent(h, 0))
            u = rec_act(xg[1][:, t] + recurrent(h, 1))
            if layer.reset_after:
                n = act(xg[2][:, t] + r * recurrent(h, 2))
            else:
                n = act(xg[2][:, t] + recurrent(h, 2, scale=r))
            new_h = u * h + (1 - u) * n
        else:
            new_h = act(xg[0][:, t] + recurrent(h, 0))
        if mask is None:
            h, c = new_h, (new_c if new_c is not None else c)
            outputs.append(h)
            continue
        # a masked step keeps the states and repeats the previous output (zeros with zero_output_for_mask)
        keep = mask[:, t:t + 1]
        out = where(keep, new_h, blank if layer.zero_output_for_mask else previous)
        h = where(keep, new_h, h)
        if new_c is not None:
            c = where(keep, new_c, c)
        outputs.append(out)
        previous = out

    finals = [h, c] if kind == "lstm" else [h]
    return stack(outputs, 1), finals
