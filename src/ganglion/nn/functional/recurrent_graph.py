"""The recurrences composed of differentiable ops, one step at a time: what ``create_graph=True`` differentiates.

``recurrent.py`` runs RNN, LSTM and GRU layers on raw arrays with fused, gate-major products. For higher-order
gradients each Sequence recomputes its outputs here from ops that are differentiable to any order, with PyTorch's
gate order and formulas, and the engine differentiates that. Packed batches (``batch_sizes``) are handled as in
the fast path: a step updates its first ``n`` rows, the others keep their state, and their outputs are zero.
"""

from ...ops.shape import cat, stack


def _steps(T, reverse):
    return range(T - 1, -1, -1) if reverse else range(T)


def _affine(x, w, b):
    y = x @ w.transpose(0, 1)
    return y if b is None else y + b


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
    """i, f, g, o = sigma, sigma, tanh, sigma of x W_ih^T + b_ih + h W_hh^T + b_hh;  c' = f c + i g;
    h' = o tanh(c') (times W_hr^T with a projection). Returns (out, h_n, c_n) as LSTMSequence."""

    def step(x_t, h, c):
        z = _affine(x_t, w_ih, b_ih) + _affine(h, w_hh, b_hh)
        i, f, g, o = z.chunk(4, 1)
        c_new = f.sigmoid() * c + i.sigmoid() * g.tanh()
        h_new = o.sigmoid() * c_new.tanh()
        if w_hr is not None:
            h_new = h_new @ w_hr.transpose(0, 1)
        return h_new, c_new

    out, (h_n, c_n) = _run(x, [h0, c0], step, batch_sizes, reverse)
    return out, h_n, c_n


def gru_graph(x, h0, w_ih, w_hh, b_ih, b_hh, batch_sizes=None, reverse=False):
    """r, z = sigma(x W_i^T + b_i + h W_h^T + b_h) parts;  n = tanh(x W_in^T + b_in + r (h W_hn^T + b_hn));
    h' = (1 - z) n + z h. Returns (out, h_n) as GRUSequence."""

    def step(x_t, h):
        xr, xz, xn = _affine(x_t, w_ih, b_ih).chunk(3, 1)
        hr, hz, hn = _affine(h, w_hh, b_hh).chunk(3, 1)
        r, z = (xr + hr).sigmoid(), (xz + hz).sigmoid()
        n = (xn + r * hn).tanh()
        return ((1 - z) * n + z * h,)

    out, (h_n,) = _run(x, [h0], step, batch_sizes, reverse)
    return out, h_n


def rnn_graph(x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh", batch_sizes=None, reverse=False):
    """h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh). Returns (out, h_n) as RNNSequence."""

    def step(x_t, h):
        z = _affine(x_t, w_ih, b_ih) + _affine(h, w_hh, b_hh)
        return (z.tanh() if nonlinearity == "tanh" else z.relu(),)

    out, (h_n,) = _run(x, [h0], step, batch_sizes, reverse)
    return out, h_n
