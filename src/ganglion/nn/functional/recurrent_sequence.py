"""What the fused recurrent ops (``recurrent_rnn``, ``recurrent_lstm``, ``recurrent_gru``) share: the step order,
the gate-major weight layout, the inputs with a ones column, the rows a packed step skips, and new output arrays.

Layout (PyTorch's): x is (T, B, I) time-major; the gates are stacked along the rows of the weights, LSTM (i, f, g, o),
GRU (r, z, n). States are stored by time: ``states[s]`` is the state before step s of a forward pass, so step t
reads slot t and writes slot t + 1 (in reverse, reads t + 1 and writes t; ``step_order``).

Variable-length batches come as ``batch_sizes``: with the batch sorted by decreasing length, step t updates only its
first ``batch_sizes[t]`` rows; the other rows keep their state (finished sequences keep their last state; in
reverse, unstarted ones keep h0) and output 0, so padded steps never change the result.

Ownership. A forward takes its large arrays from ``memory.Workspace``s (fresh multi-megabyte arrays page-fault on
every call): what the step loop fills and backward reads belongs to the node's workspace, passed to
``keep_for_backward``, until the graph is spent; what only one forward or backward needs goes back when it returns.
The arrays a forward or backward returns are always new arrays (``new_outputs`` copies them out), and
``Workspace.check_not_holding`` verifies it.
"""

from ._buffered import BufferedFunction


def step_order(steps, reverse):
    """The time steps in processing order, each as (t, slot it reads, slot it writes) of the states stored by time.

    >>> step_order(3, False)
    [(0, 0, 1), (1, 1, 2), (2, 2, 3)]
    >>> step_order(3, True)
    [(2, 3, 2), (1, 2, 1), (0, 1, 0)]
    """
    r = int(reverse)
    times = range(steps - 1, -1, -1) if reverse else range(steps)
    return [(t, t + r, t + 1 - r) for t in times]


def gate_major(rows, gates, order):
    """Weight rows (gates * H, K) in PyTorch's gate order -> (gates, H, K) with the gates in ``order``."""
    return rows.reshape(gates, rows.shape[0] // gates, -1)[list(order)]


def gate_rows(blocks, order):
    """Undo ``gate_major``: (gates, H, K) in ``order`` -> (gates * H, K) rows in PyTorch's gate order."""
    back = [order.index(k) for k in range(len(order))]
    return blocks[back].reshape(-1, blocks.shape[-1])


def is_unused_gradient(grad):
    """True for the engine's stand-in gradient of an output nobody used: a zero-strided view of a single zero."""
    return grad.size > 0 and not any(grad.strides) and not bool(grad[(0,) * grad.ndim])


def summed_bias(b_ih, b_hh, rows, dtype, xp):
    """b_ih + b_hh as one (rows,) array; a missing bias counts as zeros."""
    total = xp.zeros(rows, dtype=dtype)
    for b in (b_ih, b_hh):
        if b is not None:
            total += b
    return total


def keep_skipped_rows(arrays, n, batch, read_slot, write_slot):
    """Rows n.. that a packed step skips keep their state: copy them from the slot it read to the slot it wrote."""
    if n < batch:
        for states in arrays:
            states[write_slot, n:] = states[read_slot, n:]


def new_outputs(states, batch_sizes, reverse):
    """The per-step outputs (T, B, H), zero where a step skipped a row, and the final state (B, H), both new arrays
    copied out of ``states`` (T + 1, B, H), never views of it (``states`` is a work array)."""
    steps, batch = states.shape[0] - 1, states.shape[1]
    out = (states[:steps] if reverse else states[1:]).copy()
    if batch_sizes[-1] < batch:  # sizes only shrink, so this is the packed case
        for t, n in enumerate(batch_sizes):
            out[t, n:] = 0
    return out, (states[0] if reverse else states[steps]).copy()


class SequenceFunction(BufferedFunction):
    """Base of the fused recurrent ops: one layer, one direction, a whole sequence per call."""

    def begin(self, x, h0, batch_sizes, reverse, kept):
        """Set up a GRU or RNN forward. Returns (T, B, batch sizes per step, x_ones, states):

        x_ones (T B, I + 1) = [x 1], so the bias rides along in the input projection, and states (T + 1, B, H), h0 in
        its first slot (the last in reverse), both arrays of the workspace ``kept`` (backward reads them). A 2-d x is
        one step (a cell)."""
        if x.ndim == 2:
            x = x[None]
        steps, batch, features = x.shape
        sizes = (batch,) * steps if batch_sizes is None else tuple(batch_sizes)
        x_ones = kept.empty((steps * batch, features + 1), h0.dtype)
        x_ones.reshape(steps, batch, features + 1)[:, :, :features] = x
        x_ones[:, features] = 1
        states = kept.empty((steps + 1, batch, h0.shape[-1]), h0.dtype)
        states[steps if reverse else 0] = h0
        return steps, batch, sizes, x_ones, states

    def input_projection(self, x_ones, w_ih, bias, gates, order, scale, steps, batch, work):
        """The input's part of every step's pre-activations, for all steps in one product:
        (gates, T, B, H) = [x 1] [W_ih b]^T, gate-major in ``order``, each gate's rows times ``scale`` (gates, 1, 1).
        An array of the workspace ``work``."""
        xp = self.xp
        hidden = w_ih.shape[0] // gates
        weights_bias = xp.concatenate((w_ih, bias[:, None]), axis=1)
        weights_bias = gate_major(weights_bias, gates, order) * scale
        projection = work.empty((gates, steps * batch, hidden), w_ih.dtype)
        xp.matmul(x_ones, weights_bias.transpose(0, 2, 1), out=projection)
        return projection.reshape(gates, steps, batch, hidden)
