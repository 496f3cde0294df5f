"""The recurrences composed of differentiable ops, one step at a time: what ``create_graph=True`` differentiates,
and the step path of the Keras recurrent layers (settings the fused ops do not cover).

``recurrent_rnn``, ``recurrent_lstm`` and ``recurrent_gru`` run the layers on raw arrays with fused, gate-major
products. For higher-order gradients each Sequence recomputes its outputs here from ops that are differentiable to
any order, with PyTorch's gate order and formulas, and the engine differentiates that. Packed batches
(``batch_sizes``) are handled as in the fast path: a step updates its first ``n`` rows, the others keep their state,
and their outputs are zero.

The steps (``lstm_step``, ``gru_step``, ``rnn_step``) are the one written copy of each cell's formula. They take
the input half of the pre-activations, ``x W_ih^T + b_ih``, already computed (for every step at once, or with
per-gate dropout), and generalise the cell as Keras does: any ``activation`` / ``recurrent_activation``
(callables on Tensors; tanh and sigmoid by default), GRU's ``reset_after=False`` (the reset gate scales h before
its product), and ``h_masks``, one (B, P) multiplier of h per gate (recurrent dropout).
"""

from ...ops.shape import cat, stack


def _steps(T, reverse):
    return range(T - 1, -1, -1) if reverse else range(T)


def _affine(x, w, b):
    y = x @ w.transpose(0, 1)
    return y if b is None else y + b


def _tanh(z):
    return z.tanh()


def _sigmoid(z):
    return z.sigmoid()


def _relu(z):
    return z.relu()


def _gate(w, k, gates):
    """Rows of gate k of a weight (G H, *) or bias (G H,); None stays None."""
    if w is None:
        return None
    rows = w.shape[0] // gates
    return w[k * rows:(k + 1) * rows]


def recurrent_term(h, w_hh, b_hh, gates, h_masks=None):
    """h W_hh^T + b_hh, (B, G H). With ``h_masks`` (one multiplier of h per gate), gate k reads h * h_masks[k]."""
    if h_masks is None:
        return _affine(h, w_hh, b_hh)
    return cat([_affine(h * m, _gate(w_hh, k, gates), _gate(b_hh, k, gates)) for k, m in enumerate(h_masks)], 1)


def lstm_step(x_proj, h, c, w_hh, b_hh, w_hr=None, activation=_tanh, recurrent_activation=_sigmoid, h_masks=None):
    """One LSTM step. x_proj = x W_ih^T + b_ih (B, 4H), gates i, f, g, o; h (B, P), c (B, H) -> (h', c').

        z = x_proj + h W_hh^T + b_hh;  i, f, o = recurrent_activation(z_i, z_f, z_o);  g = activation(z_g)
        c' = f c + i g,   h' = o activation(c')   (then h' W_hr^T with a projection)
    """
    z = x_proj + recurrent_term(h, w_hh, b_hh, 4, h_masks)
    i, f, g, o = z.chunk(4, 1)
    c_new = recurrent_activation(f) * c + recurrent_activation(i) * activation(g)
    h_new = recurrent_activation(o) * activation(c_new)
    if w_hr is not None:
        h_new = h_new @ w_hr.transpose(0, 1)
    return h_new, c_new


def gru_step(x_proj, h, w_hh, b_hh, activation=_tanh, recurrent_activation=_sigmoid, reset_after=True,
             h_masks=None):
    """One GRU step. x_proj = x W_ih^T + b_ih (B, 3H), gates r, z, n; h (B, H) -> (h',).

        r, z = recurrent_activation(x_r + h W_hr^T + b_hr, x_z + h W_hz^T + b_hz)
        n = activation(x_n + r (h W_hn^T + b_hn))     (reset_after=False: activation(x_n + (r h) W_hn^T + b_hn))
        h' = (1 - z) n + z h
    """
    x_r, x_z, x_n = x_proj.chunk(3, 1)
    if reset_after:
        h_r, h_z, h_n = recurrent_term(h, w_hh, b_hh, 3, h_masks).chunk(3, 1)
        r, z = recurrent_activation(x_r + h_r), recurrent_activation(x_z + h_z)
        n = activation(x_n + r * h_n)
    else:
        H = h.shape[1]
        rz_masks = None if h_masks is None else h_masks[:2]
        h_r, h_z = recurrent_term(h, w_hh[:2 * H], None if b_hh is None else b_hh[:2 * H], 2, rz_masks).chunk(2, 1)
        r, z = recurrent_activation(x_r + h_r), recurrent_activation(x_z + h_z)
        h_reset = (h if h_masks is None else h * h_masks[2]) * r
        n = activation(x_n + _affine(h_reset, w_hh[2 * H:], None if b_hh is None else b_hh[2 * H:]))
    return ((1 - z) * n + z * h,)


def rnn_step(x_proj, h, w_hh, b_hh, activation=_tanh, h_masks=None):
    """One Elman step. x_proj = x W_ih^T + b_ih (B, H); h (B, H) -> (h',), h' = activation(x_proj + h W_hh^T + b_hh)."""
    return (activation(x_proj + recurrent_term(h, w_hh, b_hh, 1, h_masks)),)


def _run(x, states, step, sizes, reverse):
    """Apply ``step(x_t, *states) -> new states`` over time; returns (outputs (T, B, H), final states). The first
    state is the output."""
    if x.ndim == 2:  # one step (a cell)
        x = x[None]
    T, B = x.shape[0], x.shape[1]
    sizes = (B,) * T if sizes is None else tuple(sizes)
    outputs = [None] * T
    for t in _steps(T, reverse):
        n = sizes[t]
        new = step(x[t, :n], *[s[:n] for s in states])
        if n < B:  # rows past the batch size keep their state; their output is zero
            outputs[t] = cat([new[0], states[0][n:] * 0], 0)
            states = [cat([a, s[n:]], 0) for a, s in zip(new, states)]
        else:
            outputs[t] = new[0]
            states = list(new)
    return stack(outputs, 0), states


def lstm_graph(x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, batch_sizes=None, reverse=False):
    """``lstm_step`` over a sequence. Returns (out, h_n, c_n) as LSTMSequence."""

    def step(x_t, h, c):
        return lstm_step(_affine(x_t, w_ih, b_ih), h, c, w_hh, b_hh, w_hr)

    out, (h_n, c_n) = _run(x, [h0, c0], step, batch_sizes, reverse)
    return out, h_n, c_n


def gru_graph(x, h0, w_ih, w_hh, b_ih, b_hh, batch_sizes=None, reverse=False):
    """``gru_step`` over a sequence. Returns (out, h_n) as GRUSequence."""

    def step(x_t, h):
        return gru_step(_affine(x_t, w_ih, b_ih), h, w_hh, b_hh)

    out, (h_n,) = _run(x, [h0], step, batch_sizes, reverse)
    return out, h_n


def rnn_graph(x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh", batch_sizes=None, reverse=False):
    """``rnn_step`` over a sequence, activation tanh or relu. Returns (out, h_n) as RNNSequence."""

    def step(x_t, h):
        return rnn_step(_affine(x_t, w_ih, b_ih), h, w_hh, b_hh, _tanh if nonlinearity == "tanh" else _relu)

    out, (h_n,) = _run(x, [h0], step, batch_sizes, reverse)
    return out, h_n
