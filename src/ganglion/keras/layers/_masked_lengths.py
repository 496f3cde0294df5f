"""Masked recurrences on the fused engine op, when the mask is right padding (each row: kept steps, then masked ones).

Keras' rule for a masked step (see ``_recurrent_steps``): the states stay, the output repeats the previous output
(zeros with ``zero_output_for_mask``, and zeros before the first kept step). For right padding that is a sequence of
``length`` steps followed by nothing, which the engine runs as a PackedSequence (``pack_padded_sequence``, any
order of lengths) at the speed of the unmasked op; the outputs are then put where Keras has them:

    forward:       out[b, t] = h[b, min(t, length_b - 1)]     (zero_output_for_mask: h padded with zeros)
    go_backwards:  Keras reverses the padded row, so the masked steps come first (outputs 0) and the kept ones
                   follow in reverse: the engine runs each row's kept steps reversed, and out[b, t] is
                   h[b, (t + length_b) mod T], the zeros after length_b rotated to the front.

Any other mask (a gap in the middle, a row with nothing kept) runs the step loop, which handles every mask.
"""

import numpy as np

from ... import backend
from ...nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


def right_padded(mask):
    """The lengths (batch,) of a right-padded mask (batch, T) with at least one kept step per row, else None."""
    kept = backend.to_numpy(mask.array)
    lengths = kept.sum(axis=1)
    if lengths.size == 0 or lengths.min() == 0:
        return None
    if not np.array_equal(kept, np.arange(kept.shape[1])[None, :] < lengths[:, None]):
        return None
    return lengths.astype(np.int64)


def run_packed(layer, x, states, lengths):
    """x (batch, T, features) in input order, states or None, lengths from ``right_padded`` -> (outputs (batch, T,
    units) in Keras' order, i.e. reversed in time for go_backwards, final states), with the layer's fused op."""
    batch, steps = x.shape[0], x.shape[1]
    xp = backend.get_array_module(x.array)
    rows = xp.asarray(np.arange(batch)[:, None])
    time = np.arange(steps)[None, :]
    length = lengths[:, None]
    if layer.go_backwards:  # each row's kept steps, last first; the padding stays where it is
        x = x[rows, xp.asarray(np.where(time < length, length - 1 - time, time))]
    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    out, finals = layer._run_fused(packed, states)
    out, _ = pad_packed_sequence(out, batch_first=True, total_length=steps)  # zeros after each row's end
    if layer.go_backwards:
        index = (time + length) % steps
    elif layer.zero_output_for_mask:
        return out, finals
    else:
        index = np.minimum(time, length - 1)
    return out[rows, xp.asarray(index)], finals
