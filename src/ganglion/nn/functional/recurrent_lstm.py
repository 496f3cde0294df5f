"""``LSTMSequence``: one LSTM layer (optionally with a projection, ``proj_size``) over a whole sequence, one
direction, as one fused op.

Forward: each step is one product [h x 1] [W_hh W_ih b]^T for all four gates, the state stored next to its step's
input, then elementwise work writing the gates, cells and states into preallocated arrays. Backward walks the steps
in reverse with closed-form derivatives, storing every step's pre-activation gradient; the weight and bias gradients
are then one product, [dW_hh dW_ih db] = dZ^T [H_prev X 1], and dx one product dZ W_ih. The layout, packed batches
and who owns which array: ``recurrent_sequence``.

Speed notes (measured, see benchmarks/README.md):
- The input is part of each step's product instead of one projection for all steps: no projection to add back
  (reading it cost more than the larger product), and one product for all weight gradients (forward + backward -10%).
- The recurrent product is one flat (B, P + I + 1) x (P + I + 1, 4H) product per step, forward and backward: 25%
  faster than one per gate.
- Gate activations are stored gate-major, (4, T, B, H), in the order o, i, f, g, so every elementwise call runs on a
  contiguous (B, H) block (a strided slice of a (B, 4H) row costs about 2.5 times more) and the three sigmoids form
  one block.
- Sigmoids are (1 + tanh(a / 2)) / 2, exact for inputs of any magnitude, with the 1/2 folded into the weights so one
  tanh covers every gate of a step.
- float32 on NumPy with numba: each step's elementwise work is one compiled pass (``kernels.recurrent``), forward
  221 -> 43 us a step for the 32-128 LSTM, batch 64; its benchmark row 1.21x -> 0.76x PyTorch (one thread each).
- With those kernels and no projection, the whole step loop is one compiled call forward and one backward
  (``kernels.recurrent.lstm_forward_steps``/``lstm_backward_steps``, products through ``kernels.blas``): the
  benchmark's step 0.968x the time of the same loop in Python (paired call by call, A against A 1.000).
- The batch rows are shared over ganglion's threads, each thread running the whole sequence for its rows
  (``kernels.recurrent.over_batch_rows``), and backward's two large products after the loop too
  (``kernels.conv.matmul_rows_shared``, ``matmul_inner_shared``): 0.91x, then 0.87x for the weight gradient's rows
  summed in two shares, each measured in its own process; not while OpenBLAS's threads are spinning after a product
  of theirs (``kernels.blas.blas_threads_spinning``).
- Otherwise (float64, CuPy, ``GANGLION_COMPILED=0``: the reference path) backward computes, before its loop, every
  factor that does not depend on the recurrence (o (1 - o) tanh(c'), i (1 - i) g, ...) for all steps in a few large
  passes, leaving five elementwise calls and one product per step.
"""

import numpy as np

from ... import kernels
from ...memory import Workspace
from .recurrent_graph import lstm_graph
from .recurrent_sequence import SequenceFunction, gate_major, gate_rows, is_unused_gradient, keep_skipped_rows, \
    new_outputs, step_order, summed_bias

_GATE_ORDER = (3, 0, 1, 2)  # gate-major order o, i, f, g (PyTorch's rows are i, f, g, o): the sigmoids together


def _step_kernels(*arrays):
    """``kernels.recurrent`` when its compiled step kernels can take ``arrays`` (NumPy float32; ``GANGLION_COMPILED``
    not 0), else None: NumPy runs the steps. Imported here, not at the top, because importing it imports numba."""
    if not (kernels.usable(*arrays) and all(a.dtype.name == "float32" for a in arrays)):
        return None
    from ...kernels import recurrent

    return recurrent


def _sequence_product(step_kernels, w_hr):
    """NumPy's float32 BLAS product for the step kernels' whole-sequence loops (``kernels.blas``), or None: the
    steps then run as a Python loop (a projection, ``proj_size``, always does)."""
    if step_kernels is None or w_hr is not None:
        return None
    from ...kernels import blas

    return blas.gemm(np.float32)


class LSTMSequence(SequenceFunction):
    """One LSTM layer over a sequence, one direction.  x: (T, B, I), h0: (B, P), c0: (B, H) -> out (T, B, P),
    h_n (B, P), c_n (B, H), with P = proj_size or H.

        i, f, g, o = sigma(z_i), sigma(z_f), tanh(z_g), sigma(z_o)   with z = x W_ih^T + b_ih + h W_hh^T + b_hh
        c' = f c + i g,   h' = o tanh(c')   (then h' = h' W_hr^T with a projection)

    Backward per step, with dm = dh (or dh W_hr): dc += dm o (1 - tanh(c')^2);  dz_o = dm tanh(c') o (1 - o);
    dz_i = dc g i (1 - i);  dz_f = dc c f (1 - f);  dz_g = dc i (1 - g^2);  dc_prev = dc f;  dh_prev = dz W_hh.
    """

    forward_graph = staticmethod(lstm_graph)  # what double backward differentiates (recurrent_graph.py)

    def forward(self, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, batch_sizes=None, reverse=False):
        xp = self.xp
        if x.ndim == 2:  # one step (a cell)
            x = x[None]
        steps, batch, features = x.shape
        sizes = (batch,) * steps if batch_sizes is None else tuple(batch_sizes)
        hidden, out_size, dtype = w_ih.shape[0] // 4, h0.shape[-1], w_ih.dtype
        width = out_size + features + 1
        kept = Workspace(xp)  # everything the step loop fills is read again by backward: owned by this node
        # Slot s of step_inputs holds [h_s x 1]: the state, then the input of the step that reads that state, so that
        # each step is one product [h x 1] [W_hh W_ih b]^T (no separate input projection, no add of it).
        step_inputs = kept.empty((steps + 1, batch, width), dtype)
        read_slots = slice(1, steps + 1) if reverse else slice(0, steps)  # the slots steps read, in time order
        step_inputs[read_slots, :, out_size:-1] = x
        step_inputs[read_slots, :, -1] = 1
        step_inputs[0 if reverse else steps, :, out_size:] = 0  # the last state's slot is read by no step
        step_inputs[steps if reverse else 0, :, :out_size] = h0
        states = step_inputs[:, :, :out_size]  # (T + 1, B, P) view
        sigmoid_halves = xp.asarray([0.5, 0.5, 0.5, 1.0], dtype=dtype)[:, None, None]  # o, i, f rows halved
        bias = summed_bias(b_ih, b_hh, 4 * hidden, dtype, xp)
        w_all = gate_major(xp.concatenate((w_hh, w_ih, bias[:, None]), axis=1), 4, _GATE_ORDER)  # (4, H, width)
        w_all_scaled_t = xp.ascontiguousarray((w_all * sigmoid_halves).reshape(4 * hidden, width).T)  # (width, 4H)
        w_hh_gate_major = w_all[:, :, :out_size].reshape(4 * hidden, out_size)  # for backward's dh_prev = dz W_hh
        gates = kept.empty((4, steps, batch, hidden), dtype)  # o, i, f, g of every step
        cells = kept.empty((steps + 1, batch, hidden), dtype)  # stored by time, like the states
        tanh_cells = kept.empty((steps, batch, hidden), dtype)  # tanh(c') of every step
        unprojected = kept.empty((steps, batch, hidden), dtype) if w_hr is not None else None  # o tanh(c')
        if sizes[-1] < batch:  # rows a step skips: backward's all-steps passes read them, dW_hr sums them
            for array in (gates, tanh_cells) + ((unprojected,) if unprojected is not None else ()):
                array.fill(0)
        cells[steps if reverse else 0] = c0
        w_hr_t = w_hr.T if w_hr is not None else None
        forget_term = xp.empty((batch, hidden), dtype=dtype)  # f c of one step (NumPy path)
        preactivation = xp.empty((batch, 4 * hidden), dtype=dtype)  # one step's z, (B, 4H)
        preactivation_gates = preactivation.reshape(batch, 4, hidden).transpose(1, 0, 2)  # the same, (4, B, H)
        step_kernels = _step_kernels(x, h0, c0, w_ih)
        gemm = _sequence_product(step_kernels, w_hr)
        if gemm is not None:  # the loop below as one compiled call
            row_sizes = np.asarray(sizes, dtype=np.int64)
            step_kernels.over_batch_rows(
                lambda first, count: step_kernels.lstm_forward_steps(
                    gemm, step_inputs, w_all_scaled_t, preactivation, cells, gates, tanh_cells, row_sizes, reverse,
                    first, count),
                batch, sum(sizes) * w_all_scaled_t.size)
        for t, read, write in step_order(steps, reverse) if gemm is None else ():
            n = sizes[t]
            xp.matmul(step_inputs[read, :n], w_all_scaled_t, out=preactivation[:n])
            if step_kernels is not None:  # h' goes into the first columns of the next input rows (contiguous)
                hidden_rows = step_inputs[write, :n] if w_hr is None else unprojected[t, :n]
                step_kernels.lstm_step_forward(preactivation[:n], cells[read, :n], *gates[:, t, :n],
                                               cells[write, :n], tanh_cells[t, :n], hidden_rows)
            else:
                hidden = states[write, :n] if w_hr is None else unprojected[t, :n]
                self._step_forward_numpy(preactivation_gates[:, :n], cells[read, :n], gates[:, t, :n],
                                         cells[write, :n], tanh_cells[t, :n], hidden, forget_term[:n])
            if w_hr is not None:
                xp.matmul(unprojected[t, :n], w_hr_t, out=states[write, :n])
            keep_skipped_rows((states, cells), n, batch, read, write)
        out, h_n = new_outputs(states, sizes, reverse)
        c_n = (cells[0] if reverse else cells[steps]).copy()
        self.keep_for_backward(kept, (out, h_n, c_n), step_inputs[read_slots], x.shape, cells, gates, tanh_cells,
                               unprojected, w_ih, w_hh_gate_major, w_hr, sizes, reverse)
        return out, h_n, c_n

    def _step_forward_numpy(self, preactivation_gates, cell_prev, step_gates, cell, tanh_cell, hidden, forget_term):
        """One step after its product, on NumPy (the reference of ``kernels.recurrent.lstm_step_forward``):
        step_gates (4, n, H) = o, i, f, g from preactivation_gates (4, n, H) (sigmoid blocks halved), then
        c' = f c + i g, tanh(c') and hidden = o tanh(c'), all written in place."""
        xp = self.xp
        xp.tanh(preactivation_gates, out=step_gates)
        sigmoids = step_gates[:3]
        sigmoids *= 0.5
        sigmoids += 0.5
        output_gate, input_gate, forget_gate, candidate = step_gates
        xp.multiply(input_gate, candidate, out=cell)
        xp.multiply(forget_gate, cell_prev, out=forget_term)
        cell += forget_term
        xp.tanh(cell, out=tanh_cell)
        xp.multiply(output_gate, tanh_cell, out=hidden)

    def _step_factors(self, gates, cells, tanh_cells, reverse, work):
        """What backward multiplies each step's gradients by, computed for all steps at once (it does not depend
        on the recurrence): factors (4, T, B, H) = (o (1-o) tanh(c'), i (1-i) g, f (1-f) c, i (1-g^2)) and
        cell_factor (T, B, H) = o (1 - tanh(c')^2). Arrays of ``work``."""
        xp = self.xp
        steps = tanh_cells.shape[0]
        factors = work.empty(gates.shape, gates.dtype)
        cell_factor = work.empty(tanh_cells.shape, gates.dtype)
        output_gate, input_gate, _, candidate = gates
        sigmoid_slopes = factors[:3]  # s (1 - s) for o, i, f
        xp.subtract(1, gates[:3], out=sigmoid_slopes)
        sigmoid_slopes *= gates[:3]
        factors[0] *= tanh_cells
        factors[1] *= candidate
        factors[2] *= cells[1:] if reverse else cells[:steps]  # the cell each step read
        xp.multiply(candidate, candidate, out=factors[3])
        xp.subtract(1, factors[3], out=factors[3])
        factors[3] *= input_gate
        xp.multiply(tanh_cells, tanh_cells, out=cell_factor)
        xp.subtract(1, cell_factor, out=cell_factor)
        cell_factor *= output_gate
        return factors, cell_factor

    def backward(self, dout, dh_n, dc_n):
        step_inputs, x_shape, cells, gates, tanh_cells, unprojected, w_ih, w_hh_gate_major, w_hr, sizes, reverse = \
            self.saved
        xp = self.xp
        _, steps, batch, hidden = gates.shape
        out_size = w_hh_gate_major.shape[1]
        temporary = Workspace(xp)  # this backward's own arrays, back to the pool when it returns
        step_kernels = _step_kernels(gates, dh_n, dc_n)
        if step_kernels is None:  # NumPy: what does not depend on the recurrence, for all steps in a few passes
            factors, cell_factor = self._step_factors(gates, cells, tanh_cells, reverse, temporary)
            cell_term = xp.empty((batch, hidden), dtype=gates.dtype)  # dm o (1 - tanh(c')^2) of one step
        dz_steps = temporary.empty((steps, batch, 4 * hidden), gates.dtype)  # pre-activation gradients, (B, 4H) each
        if sizes[-1] < batch:
            dz_steps.fill(0)  # rows a step skips enter the weight gradients
        dh_projected = temporary.zeros((steps, batch, out_size), gates.dtype) if w_hr is not None else None
        dh, dc = dh_n.copy(), dc_n.copy()  # returned as dh0, dc0: new arrays
        dm_rows = xp.empty((batch, hidden), dtype=gates.dtype) if w_hr is not None else None  # dh W_hr
        first = steps - 1 if reverse else 0
        outputs_used = not is_unused_gradient(dout)
        gemm = _sequence_product(step_kernels, w_hr)
        if gemm is not None:  # the loop below as one compiled call
            row_sizes, dout_rows = np.asarray(sizes, dtype=np.int64), dout if outputs_used else dh
            step_kernels.over_batch_rows(
                lambda first, count: step_kernels.lstm_backward_steps(
                    gemm, dout_rows, outputs_used, dh, dc, gates, tanh_cells, cells, dz_steps, w_hh_gate_major,
                    row_sizes, reverse, self.needs_input_grad[1], first, count),
                batch, sum(sizes) * w_hh_gate_major.size)
        for t, read, write in reversed(step_order(steps, reverse)) if gemm is None else ():
            n = sizes[t]
            dc_rows, dh_rows = dc[:n], dh[:n]
            if outputs_used:
                dh_rows += dout[t, :n]
            if w_hr is None:
                dm = dh_rows
            else:
                dh_projected[t, :n] = dh_rows
                dm = xp.matmul(dh_rows, w_hr, out=dm_rows[:n])
            if step_kernels is not None:
                step_kernels.lstm_step_backward(dm, dc_rows, *gates[:, t, :n], tanh_cells[t, :n], cells[read, :n],
                                                dz_steps[t, :n])
            else:
                dz_gates = factors[:, t, :n]  # (4, n, H): the factors become the gradients in place, then one copy
                xp.multiply(dm, cell_factor[t, :n], out=cell_term[:n])
                dc_rows += cell_term[:n]
                dz_gates[0] *= dm
                dz_gates[1:] *= dc_rows
                dz_steps[t, :n].reshape(n, 4, hidden).transpose(1, 0, 2)[...] = dz_gates
                dc_rows *= gates[2, t, :n]  # dc_prev = dc f
            if t == first and not self.needs_input_grad[1]:
                break  # dh0 is not wanted: skip the last product
            xp.matmul(dz_steps[t, :n], w_hh_gate_major, out=dh_rows)
        return self._parameter_gradients(dz_steps, step_inputs, x_shape, unprojected, dh_projected, w_ih, w_hr, dh,
                                         dc, temporary, shared_products=gemm is not None)

    def _parameter_gradients(self, dz_steps, step_inputs, x_shape, unprojected, dh_projected, w_ih, w_hr, dh, dc,
                             temporary, shared_products=False):
        """The gradients of all inputs from every step's dz (T, B, 4H, gate-major), as new arrays; releases
        ``temporary``."""
        needs = self.needs_input_grad
        steps, batch, four_hidden = dz_steps.shape
        hidden = four_hidden // 4
        dz_flat = dz_steps.reshape(steps * batch, four_hidden)
        dx = dw_ih = db = dw_hh = dw_hr = None
        matmul, inner = np.matmul, lambda a, b: a.T @ b
        if shared_products:  # on ganglion's threads, as the step loops before (kernels.conv)
            from ...kernels.conv import matmul_inner_shared as inner
            from ...kernels.conv import matmul_rows_shared as matmul
        if needs[0]:
            dx = matmul(dz_flat, gate_major(w_ih, 4, _GATE_ORDER).reshape(four_hidden, -1)).reshape(x_shape)
        if any(needs[3:7]):  # [dW_hh dW_ih db] in one product with what the steps read, [h x 1]
            reads_flat = step_inputs.reshape(steps * batch, step_inputs.shape[-1])
            dw_all = gate_rows(inner(dz_flat, reads_flat).reshape(4, hidden, -1), _GATE_ORDER)
            out_size = dw_all.shape[1] - x_shape[-1] - 1
            dw_hh, dw_ih, db = dw_all[:, :out_size], dw_all[:, out_size:-1], dw_all[:, -1]
        if w_hr is not None and needs[7]:
            out_size = dh_projected.shape[-1]
            dw_hr = dh_projected.reshape(steps * batch, out_size).T @ unprojected.reshape(steps * batch, hidden)
        grads = (dx, dh if needs[1] else None, dc if needs[2] else None, dw_ih, dw_hh, db, db, dw_hr)
        temporary.check_not_holding("lstm backward", grads)
        temporary.release()
        return grads
