"""``GRUSequence``: one GRU layer over a whole sequence, one direction, as one fused op.

Forward: the input projection of every step (bias included, as a column of ones appended to x) is one large product;
each step then costs one product h W_hh^T for all three gates and a few elementwise array calls writing into
preallocated arrays. Backward walks the steps in reverse with closed-form derivatives; the weight gradients are one
product each over all steps stacked. The layout, packed batches and who owns which array: ``recurrent_sequence``.

Speed notes (measured, see benchmarks/README.md). Gate activations are stored gate-major, (3, T, B, H), so every
elementwise call runs on contiguous (B, H) blocks (a strided slice of a (B, 3H) row costs about 2.5 times more). The
recurrent product is one flat (B, H) x (H, 3H) product per step, forward and backward: 25% faster than one per gate.
Sigmoids are (1 + tanh(a / 2)) / 2, exact for inputs of any magnitude, with the 1/2 folded into the weights.
Backward computes, before its loop, every factor that does not depend on the recurrence, for all steps at once.
"""

from ...memory import Workspace
from .recurrent_graph import gru_graph
from .recurrent_sequence import SequenceFunction, is_unused_gradient, keep_skipped_rows, new_outputs, step_order, \
    summed_bias

_GATE_ORDER = (0, 1, 2)  # r, z, n: PyTorch's


class GRUSequence(SequenceFunction):
    """One GRU layer over a sequence, one direction.  x: (T, B, I), h0: (B, H) -> out (T, B, H), h_n (B, H).

        r, z = sigma(x W_ir^T + b_ir + h W_hr^T + b_hr), sigma(x W_iz^T + b_iz + h W_hz^T + b_hz)
        n = tanh(x W_in^T + b_in + r (h W_hn^T + b_hn)),   h' = (1 - z) n + z h

    Backward per step: dn = dh (1 - z) (1 - n^2);  dz = dh (h - n) z (1 - z);  dr = dn (h W_hn^T + b_hn) r (1 - r);
    the h-side pre-activation gradient is (dr, dz, dn r), the x-side one (dr, dz, dn);
    dh_prev = dh z + (dr, dz, dn r) W_hh.
    """

    forward_graph = staticmethod(gru_graph)  # what double backward differentiates (recurrent_graph.py)

    def forward(self, x, h0, w_ih, w_hh, b_ih, b_hh, batch_sizes=None, reverse=False):
        xp = self.xp
        kept, temporary = Workspace(xp), Workspace(xp)  # kept: what backward reads, owned by this node
        steps, batch, sizes, x_ones, states = self.begin(x, h0, batch_sizes, reverse, kept)
        hidden, dtype = w_ih.shape[0] // 3, w_ih.dtype
        sigmoid_halves = xp.asarray([0.5, 0.5, 1.0], dtype=dtype)[:, None, None]  # r, z rows halved: sigma via tanh
        bias = summed_bias(b_ih, None, 3 * hidden, dtype, xp)
        if b_hh is not None:  # b_hr and b_hz join the x side; b_hn is scaled by r, so it stays on the h side
            bias[: 2 * hidden] += b_hh[: 2 * hidden]
        b_hn = b_hh[2 * hidden :] if b_hh is not None else None
        input_part = self.input_projection(x_ones, w_ih, bias, 3, _GATE_ORDER, sigmoid_halves, steps, batch,
                                           temporary)
        w_hh_rows = w_hh.reshape(3 * hidden, -1)  # (3H, H), rows r, z, n
        w_hh_scaled_t = xp.ascontiguousarray((w_hh_rows.reshape(3, hidden, -1) * sigmoid_halves)
                                             .reshape(3 * hidden, -1).T)  # (H, 3H)
        gate_terms = kept.empty((3, steps, batch, hidden), dtype)  # per step: r, z, h W_hn^T + b_hn
        candidates = kept.empty((steps, batch, hidden), dtype)  # per step: n
        if sizes[-1] < batch:  # rows a step skips: backward's all-steps passes read them
            gate_terms.fill(0)
            candidates.fill(0)
        h_product = xp.empty((batch, 3 * hidden), dtype=dtype)  # h W_hh^T of one step, (B, 3H)
        h_product_gates = h_product.reshape(batch, 3, hidden).transpose(1, 0, 2)  # the same, gate-major (3, B, H)
        for t, read, write in step_order(steps, reverse):
            n = sizes[t]
            terms = gate_terms[:, t, :n]
            xp.matmul(states[read, :n], w_hh_scaled_t, out=h_product[:n])
            reset_update = terms[:2]
            xp.add(h_product_gates[:2, :n], input_part[:2, t, :n], out=reset_update)
            xp.tanh(reset_update, out=reset_update)
            reset_update *= 0.5
            reset_update += 0.5
            if b_hn is not None:
                xp.add(h_product_gates[2, :n], b_hn, out=terms[2])
            else:
                terms[2] = h_product_gates[2, :n]
            candidate = candidates[t, :n]
            xp.multiply(terms[0], terms[2], out=candidate)
            candidate += input_part[2, t, :n]
            xp.tanh(candidate, out=candidate)
            h_new = states[write, :n]  # h' = z (h - n) + n
            xp.subtract(states[read, :n], candidate, out=h_new)
            h_new *= terms[1]
            h_new += candidate
            keep_skipped_rows((states,), n, batch, read, write)
        temporary.release()
        out, h_n = new_outputs(states, sizes, reverse)
        self.keep_for_backward(kept, (out, h_n), x_ones, x.shape, states, gate_terms, candidates, w_ih, w_hh_rows,
                               sizes, reverse)
        return out, h_n

    def _step_factors(self, gate_terms, candidates, states, reverse, work):
        """What backward multiplies each step's gradients by, for all steps at once (it does not depend on the
        recurrence): (3, T, B, H) = ((1-r) r (h W_hn^T + b_hn), (h - n) z (1-z), (1 - n^2) (1-z)), in ``work``."""
        xp = self.xp
        steps = candidates.shape[0]
        factors = work.empty(gate_terms.shape, gate_terms.dtype)
        tanh_slope = work.empty(candidates.shape, candidates.dtype)
        reset, update, h_term = gate_terms
        xp.subtract(1, reset, out=factors[0])
        factors[0] *= reset
        factors[0] *= h_term
        xp.subtract(1, update, out=factors[2])
        xp.subtract(states[1:] if reverse else states[:steps], candidates, out=factors[1])
        factors[1] *= update
        factors[1] *= factors[2]
        xp.multiply(candidates, candidates, out=tanh_slope)
        xp.subtract(1, tanh_slope, out=tanh_slope)
        factors[2] *= tanh_slope
        return factors

    def backward(self, dout, dh_n):
        x_ones, x_shape, states, gate_terms, candidates, w_ih, w_hh_rows, sizes, reverse = self.saved
        xp = self.xp
        _, steps, batch, hidden = gate_terms.shape
        temporary = Workspace(xp)  # this backward's own arrays, back to the pool when it returns
        factors = self._step_factors(gate_terms, candidates, states, reverse, temporary)
        dz_h_side = temporary.empty((steps, batch, 3 * hidden), gate_terms.dtype)  # (dr, dz, dn r) per step
        dn_x_side = temporary.empty((steps, batch, hidden), gate_terms.dtype)  # dn per step (the x side's n gate)
        if sizes[-1] < batch:
            dz_h_side.fill(0)
            dn_x_side.fill(0)
        dh = dh_n.copy()  # returned as dh0: a new array
        dh_through_product = xp.empty((batch, hidden), dtype=gate_terms.dtype)
        first = steps - 1 if reverse else 0
        outputs_used = not is_unused_gradient(dout)
        for t, read, write in reversed(step_order(steps, reverse)):
            n = sizes[t]
            dz_gates = dz_h_side[t, :n].reshape(n, 3, hidden).transpose(1, 0, 2)  # (3, n, H) view
            dn, dh_rows = dn_x_side[t, :n], dh[:n]
            if outputs_used:
                dh_rows += dout[t, :n]
            xp.multiply(dh_rows, factors[1, t, :n], out=dz_gates[1])
            xp.multiply(dh_rows, factors[2, t, :n], out=dn)
            xp.multiply(dn, factors[0, t, :n], out=dz_gates[0])
            xp.multiply(dn, gate_terms[0, t, :n], out=dz_gates[2])
            if t == first and not self.needs_input_grad[1]:
                break  # dh0 is not wanted: skip the last product
            dh_rows *= gate_terms[1, t, :n]
            xp.matmul(dz_h_side[t, :n], w_hh_rows, out=dh_through_product[:n])
            dh_rows += dh_through_product[:n]
        needs = self.needs_input_grad
        dz_h_flat = dz_h_side.reshape(steps * batch, 3 * hidden)
        dz_reset_update = dz_h_flat[:, : 2 * hidden]  # the x side shares dr, dz; its n gradient is dn_x_side
        dn_flat = dn_x_side.reshape(steps * batch, hidden)
        w_ih_rows = w_ih.reshape(3 * hidden, -1)
        dx = dw_ih = db_ih = dw_hh = db_hh = None
        if needs[0]:
            dx = dz_reset_update @ w_ih_rows[: 2 * hidden]
            dx += dn_flat @ w_ih_rows[2 * hidden :]
            dx = dx.reshape(x_shape)
        if needs[2] or needs[4]:
            dw_ih_bias = xp.concatenate((dz_reset_update.T @ x_ones, dn_flat.T @ x_ones))
            dw_ih, db_ih = dw_ih_bias[:, :-1], dw_ih_bias[:, -1]
        if needs[3]:
            dw_hh = dz_h_flat.T @ (states[1:] if reverse else states[:steps]).reshape(steps * batch, hidden)
        if needs[5]:
            db_hh = dz_h_flat.sum(axis=0)
        grads = (dx, dh if needs[1] else None, dw_ih, dw_hh, db_ih, db_hh)
        temporary.check_not_holding("gru backward", grads)
        temporary.release()
        return grads
