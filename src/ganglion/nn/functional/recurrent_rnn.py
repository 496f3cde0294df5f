"""``RNNSequence``: one Elman RNN layer (tanh or relu) over a whole sequence, one direction, as one fused op.

Forward: the input projection of every step, [x 1] [W_ih b]^T, is one large product; each step then adds one product
h W_hh^T and applies the activation in place, writing its state into the states array. Backward walks the steps in
reverse, storing every step's pre-activation gradient; the weight gradients are then one product each over all
steps stacked. The layout, packed batches and who owns which array: ``recurrent_sequence``.
"""

from ...memory import Workspace
from .recurrent_graph import rnn_graph
from .recurrent_sequence import SequenceFunction, is_unused_gradient, keep_skipped_rows, new_outputs, step_order, \
    summed_bias


class RNNSequence(SequenceFunction):
    """One Elman RNN layer over a sequence, one direction.  x: (T, B, I), h0: (B, H) -> out (T, B, H), h_n (B, H).

        h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh),  act = tanh or relu
        dz = dh (1 - h'^2) for tanh, dh [h' > 0] for relu;  dh_prev = dz W_hh;
        [dW_ih db] = dZ^T [X 1],  dW_hh = dZ^T H_prev,  dx = dZ W_ih   (over all steps stacked)
    """

    forward_graph = staticmethod(rnn_graph)  # what double backward differentiates (recurrent_graph.py)

    def forward(self, x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh", batch_sizes=None, reverse=False):
        xp = self.xp
        kept, temporary = Workspace(xp), Workspace(xp)  # kept: what backward reads, owned by this node
        steps, batch, sizes, x_ones, states = self.begin(x, h0, batch_sizes, reverse, kept)
        hidden, dtype = w_ih.shape[0], w_ih.dtype
        bias = summed_bias(b_ih, b_hh, hidden, dtype, xp)
        no_scale = xp.ones((1, 1, 1), dtype=dtype)
        input_part = self.input_projection(x_ones, w_ih, bias, 1, (0,), no_scale, steps, batch, temporary)[0]
        w_hh_t = w_hh.T
        for t, read, write in step_order(steps, reverse):
            n = sizes[t]
            h_new = states[write, :n]
            xp.matmul(states[read, :n], w_hh_t, out=h_new)
            h_new += input_part[t, :n]
            if nonlinearity == "tanh":
                xp.tanh(h_new, out=h_new)
            else:
                xp.maximum(h_new, 0, out=h_new)
            keep_skipped_rows((states,), n, batch, read, write)
        temporary.release()
        out, h_n = new_outputs(states, sizes, reverse)
        self.keep_for_backward(kept, (out, h_n), x_ones, x.shape, states, w_ih, w_hh, nonlinearity, sizes, reverse)
        return out, h_n

    def backward(self, dout, dh_n):
        x_ones, x_shape, states, w_ih, w_hh, nonlinearity, sizes, reverse = self.saved
        xp = self.xp
        steps, batch, hidden = states.shape[0] - 1, states.shape[1], states.shape[2]
        temporary = Workspace(xp)  # this backward's own arrays, back to the pool when it returns
        dz_steps = temporary.empty((steps, batch, hidden), states.dtype)  # pre-activation gradient of every step
        outputs = states[:steps] if reverse else states[1:]  # each step's output, in time order
        if nonlinearity == "tanh":  # the activation's slope for all steps at once: 1 - h'^2, or [h' > 0]
            xp.multiply(outputs, outputs, out=dz_steps)
            xp.subtract(1, dz_steps, out=dz_steps)
        else:
            xp.greater(outputs, 0, out=dz_steps)
        if sizes[-1] < batch:
            for t, n in enumerate(sizes):
                dz_steps[t, n:] = 0  # rows a step skips enter the weight gradients
        dh = dh_n.copy()  # returned as dh0: a new array
        first = steps - 1 if reverse else 0
        outputs_used = not is_unused_gradient(dout)
        for t, read, write in reversed(step_order(steps, reverse)):
            n = sizes[t]
            dz, dh_rows = dz_steps[t, :n], dh[:n]
            if outputs_used:
                dh_rows += dout[t, :n]
            dz *= dh_rows  # the slope becomes the gradient in place
            if t == first and not self.needs_input_grad[1]:
                break  # dh0 is not wanted: skip the last product
            xp.matmul(dz, w_hh, out=dh_rows)
        needs = self.needs_input_grad
        dz_flat = dz_steps.reshape(steps * batch, hidden)
        dx = (dz_flat @ w_ih).reshape(x_shape) if needs[0] else None
        dw_ih_bias = dz_flat.T @ x_ones if needs[2] or needs[4] or needs[5] else None
        h_prev = (states[1:] if reverse else states[:steps]).reshape(steps * batch, hidden)
        dw_hh = dz_flat.T @ h_prev if needs[3] else None
        dw_ih, db = (dw_ih_bias[:, :-1], dw_ih_bias[:, -1]) if dw_ih_bias is not None else (None, None)
        grads = (dx, dh if needs[1] else None, dw_ih, dw_hh, db, db)
        temporary.check_not_holding("rnn backward", grads)
        temporary.release()
        return grads
