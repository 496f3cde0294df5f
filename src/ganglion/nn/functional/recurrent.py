"""Recurrent layers as fused ops: one Function runs a whole sequence through one layer in one direction.

Forward (GRU, RNN): the input projection of every time step (bias included, as a column of ones appended to x) is
one large matrix product; each step then costs one product h W_hh^T for all gates and a few elementwise array calls,
writing the gate activations and states into preallocated arrays. The LSTM instead makes the input part of each
step's product, [h x 1] [W_hh W_ih b]^T, with the state written next to its step's input: no projection to add
(reading it back cost more than the larger product), and one product for all weight gradients (fwd+bwd -10%).

Backward walks the steps in reverse with closed-form derivatives, storing the gradient of every step's
pre-activations; the weight and bias gradients are then one matrix product each over all steps stacked
(dW_ih = dZ^T [X 1], dW_hh = dZ^T H_prev; the LSTM's [dW_hh dW_ih b] = dZ^T [H_prev X 1]), and dx one product dZ W_ih.

Speed notes. Gate activations are stored gate-major, (gates, T, B, H), so every elementwise call runs on contiguous
(B, H) blocks (a strided slice of a (B, 4H) row costs about 2.5 times more). The recurrent products themselves are
one flat (B, H) x (H, gates H) product per step, forward and backward: measured 25% faster than one product per
gate, and the add of the input projection reads the forward product through a gate-major view.
Sigmoids are (1 + tanh(a / 2)) / 2, exact for inputs of any magnitude, with the 1/2 folded into the weights so one
tanh covers every gate of a step. Backward computes, before its loop, every factor that does not depend on the
recurrence (o (1 - o) tanh(c'), i (1 - i) g, ...) for all steps in a few large passes, leaving about five
elementwise calls and one product per step. The large per-call arrays come from workspaces (``memory.Workspace``):
fresh multi-megabyte arrays would page-fault on every call. What a step loop fills and backward reads (states,
gate activations) belongs to the node's workspace until the graph is spent; what one forward or backward needs only
while it runs goes back when it returns. The outputs are always new arrays, copied out of the work arrays.

Layout (PyTorch's): x is (T, B, I) time-major; gates are stacked along the rows of the weights, LSTM (i, f, g, o),
GRU (r, z, n). Variable-length batches come as ``batch_sizes``: with the batch sorted by decreasing length, step t
updates only its first ``batch_sizes[t]`` rows; the other rows keep their state (finished sequences keep their last
state; in reverse, unstarted ones keep h0) and output 0, so padded steps never change the result.
"""

from ...memory import Workspace
from ._buffered import BufferedFunction
from .recurrent_graph import gru_graph, lstm_graph, rnn_graph


def _order(T, reverse):
    """Time steps in processing order, with the state slots each reads and writes (states are stored by time)."""
    r = int(reverse)
    steps = range(T - 1, -1, -1) if reverse else range(T)
    return [(t, t + r, t + 1 - r) for t in steps]


def _gate_major(w, gates, order):
    """Rows (gates*H, K) in PyTorch's gate order -> (gates, H, K) in ``order``."""
    return w.reshape(gates, w.shape[0] // gates, -1)[list(order)]


def _gate_rows(w, order):
    """Undo ``_gate_major``: (gates, H, K) in ``order`` -> (gates*H, K) rows in PyTorch's order."""
    back = [order.index(k) for k in range(len(order))]
    return w[back].reshape(-1, w.shape[-1])


def _all_zero(a):
    """True for the engine's stand-in gradient of an unused output: a zero-strided view of a single zero."""
    return a.size > 0 and not any(a.strides) and not bool(a[(0,) * a.ndim])


class _Sequence(BufferedFunction):
    """What the three recurrences share: inputs with a ones column, step order, batch sizes, padded outputs."""

    def _begin(self, x, h0, batch_sizes, reverse, kept):
        """The step count T, batch B, batch sizes, [x 1] (T B, I + 1) and the states (T + 1, B, H) holding h0, the
        last two in the workspace ``kept`` (backward reads them)."""
        if x.ndim == 2:  # one step (a cell)
            x = x[None]
        T, B, I = x.shape
        sizes = (B,) * T if batch_sizes is None else tuple(batch_sizes)
        x_ones = kept.empty((T * B, I + 1), h0.dtype)  # [x 1]: the bias rides along in the input projection
        x_ones.reshape(T, B, I + 1)[:, :, :I] = x
        x_ones[:, I] = 1
        states = kept.empty((T + 1, B, h0.shape[-1]), h0.dtype)
        states[T if reverse else 0] = h0
        return T, B, sizes, x_ones, states

    def _input_projection(self, x_ones, w_ih, bias, gates, order, scale, T, B, work):
        """(gates, T, B, H) = [x 1] [W_ih b]^T, gate-major, rows scaled by ``scale``; an array of ``work``."""
        xp = self.xp
        H = w_ih.shape[0] // gates
        w1 = xp.concatenate((w_ih, bias[:, None]), axis=1)
        w1 = _gate_major(w1, gates, order) * scale
        projection = work.empty((gates, T * B, H), w_ih.dtype)
        xp.matmul(x_ones, w1.transpose(0, 2, 1), out=projection)
        return projection.reshape(gates, T, B, H)

    @staticmethod
    def _carry(arrays, n, B, src, dst):
        """Rows a step skips keep their state."""
        if n < B:
            for A in arrays:
                A[dst, n:] = A[src, n:]

    @staticmethod
    def _outputs(states, sizes, reverse):
        """New arrays (never views of the work array ``states``): the per-step outputs (T, B, H), zero where a step
        skipped a row, and the final state (B, H)."""
        T, B = states.shape[0] - 1, states.shape[1]
        out = (states[:T] if reverse else states[1:]).copy()
        if sizes[-1] < B:  # sizes only shrink, so this is the packed case
            for t, n in enumerate(sizes):
                out[t, n:] = 0
        return out, (states[0] if reverse else states[T]).copy()

    @staticmethod
    def _bias(b_ih, b_hh, rows, dtype, xp):
        total = xp.zeros(rows, dtype=dtype)
        for b in (b_ih, b_hh):
            if b is not None:
                total += b
        return total


_LSTM_ORDER = (3, 0, 1, 2)  # gate-major order o, i, f, g: the sigmoids form one block, the c-scaled gates another


class LSTMSequence(_Sequence):
    """One LSTM layer over a sequence, one direction.  x: (T, B, I), h0: (B, P), c0: (B, H) -> out (T, B, P),
    h_n (B, P), c_n (B, H), with P = proj_size or H.

        i, f, g, o = sigma(z_i), sigma(z_f), tanh(z_g), sigma(z_o)   with z = x W_ih^T + b_ih + h W_hh^T + b_hh
        c' = f c + i g,   h' = o tanh(c')   (then h' = h' W_hr^T with a projection)

    Backward per step, with dm = dh (or dh W_hr): dc += dm o (1 - tanh(c')^2);  dz_o = dm tanh(c') o (1 - o);
    dz_i = dc g i (1 - i);  dz_f = dc c f (1 - f);  dz_g = dc i (1 - g^2);  dc_prev = dc f;  dh_prev = dz W_hh.
    """

    forward_graph = staticmethod(lstm_graph)  # what double backward differentiates (recurrent_graph.py)

    def _step_factors(self, gates, cells, tanh_cells, reverse, work):
        """What backward multiplies each step's gradients by, computed for all steps at once (it does not depend
        on the recurrence): factors (4, T, B, H) = (o (1-o) tanh(c'), i (1-i) g, f (1-f) c, i (1-g^2)) and
        cell_factor (T, B, H) = o (1 - tanh(c')^2). Arrays of ``work``."""
        xp = self.xp
        T = tanh_cells.shape[0]
        factors = work.empty(gates.shape, gates.dtype)
        cell_factor = work.empty(tanh_cells.shape, gates.dtype)
        o, i, _, g = gates
        sig = factors[:3]
        xp.subtract(1, gates[:3], out=sig)
        sig *= gates[:3]
        factors[0] *= tanh_cells
        factors[1] *= g
        factors[2] *= cells[1:] if reverse else cells[:T]
        xp.multiply(g, g, out=factors[3])
        xp.subtract(1, factors[3], out=factors[3])
        factors[3] *= i
        xp.multiply(tanh_cells, tanh_cells, out=cell_factor)
        xp.subtract(1, cell_factor, out=cell_factor)
        cell_factor *= o
        return factors, cell_factor

    def forward(self, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, batch_sizes=None, reverse=False):
        xp = self.xp
        if x.ndim == 2:  # one step (a cell)
            x = x[None]
        T, B, I = x.shape
        sizes = (B,) * T if batch_sizes is None else tuple(batch_sizes)
        H, P, dt = w_ih.shape[0] // 4, h0.shape[-1], w_ih.dtype
        K = P + I + 1
        kept = Workspace(xp)  # everything the step loop fills is read again by backward
        # Slot s of step_inputs holds [h_s x 1]: the state, then the input of the step that reads that state, so that
        # each step is one product [h x 1] [W_hh W_ih b]^T (no separate input projection, no add of it).
        step_inputs = kept.empty((T + 1, B, K), dt)
        read = slice(1, T + 1) if reverse else slice(0, T)  # the slots steps read, in time order
        step_inputs[read, :, P:-1] = x
        step_inputs[read, :, -1] = 1
        step_inputs[0 if reverse else T, :, P:] = 0  # the last state's slot is read by no step
        step_inputs[T if reverse else 0, :, :P] = h0
        states = step_inputs[:, :, :P]
        scale = xp.asarray([0.5, 0.5, 0.5, 1.0], dtype=dt)[:, None, None]
        bias = self._bias(b_ih, b_hh, 4 * H, dt, xp)
        w_all = _gate_major(xp.concatenate((w_hh, w_ih, bias[:, None]), axis=1), 4, _LSTM_ORDER)  # (4, H, K)
        w_all_t = xp.ascontiguousarray((w_all * scale).reshape(4 * H, K).T)  # (K, 4H), sigmoid rows halved
        wh = w_all[:, :, :P].reshape(4 * H, P)  # (4H, P), rows gate-major, for backward
        gates = kept.empty((4, T, B, H), dt)  # o, i, f, g of every step
        cells = kept.empty((T + 1, B, H), dt)
        tanh_cells = kept.empty((T, B, H), dt)
        unprojected = kept.empty((T, B, H), dt) if w_hr is not None else None  # o tanh(c') before W_hr
        if sizes[-1] < B:  # rows a step skips: backward's all-steps passes read them, dW_hr sums them
            for array in (gates, tanh_cells) + ((unprojected,) if unprojected is not None else ()):
                array.fill(0)
        cells[T if reverse else 0] = c0
        w_hr_t = w_hr.T if w_hr is not None else None
        tmp = xp.empty((B, H), dtype=dt)
        z = xp.empty((B, 4 * H), dtype=dt)  # one step's pre-activations, (B, 4H)
        z_gates = z.reshape(B, 4, H).transpose(1, 0, 2)  # the same, seen gate-major (4, B, H)
        for t, src, dst in _order(T, reverse):
            n = sizes[t]
            g = gates[:, t, :n]
            xp.matmul(step_inputs[src, :n], w_all_t, out=z[:n])
            xp.tanh(z_gates[:, :n], out=g)
            sig = g[:3]
            sig *= 0.5
            sig += 0.5
            c, k = cells[dst, :n], tmp[:n]
            xp.multiply(g[1], g[3], out=c)
            xp.multiply(g[2], cells[src, :n], out=k)
            c += k
            tc = tanh_cells[t, :n]
            xp.tanh(c, out=tc)
            if w_hr is None:
                xp.multiply(g[0], tc, out=states[dst, :n])
            else:
                xp.multiply(g[0], tc, out=unprojected[t, :n])
                xp.matmul(unprojected[t, :n], w_hr_t, out=states[dst, :n])
            self._carry((states, cells), n, B, src, dst)
        out, h_n = self._outputs(states, sizes, reverse)
        c_n = (cells[0] if reverse else cells[T]).copy()
        self.keep_for_backward(kept, (out, h_n, c_n), step_inputs[read], x.shape, cells, gates, tanh_cells,
                               unprojected, w_ih, wh, w_hr, sizes, reverse)
        return out, h_n, c_n

    def backward(self, dout, dh_n, dc_n):
        reads, x_shape, cells, gates, tanh_cells, unprojected, w_ih, wh, w_hr, sizes, reverse = self.saved
        xp = self.xp
        _, T, B, H = gates.shape
        P = wh.shape[1]
        temporary = Workspace(xp)
        factors, cell_factor = self._step_factors(gates, cells, tanh_cells, reverse, temporary)
        dz_all = temporary.empty((T, B, 4 * H), gates.dtype)  # pre-activation gradients, (B, 4H) per step
        if sizes[-1] < B:
            dz_all.fill(0)  # rows a step skips enter the weight gradients
        dh_projected = temporary.zeros((T, B, P), gates.dtype) if w_hr is not None else None
        dh, dc = dh_n.copy(), dc_n.copy()
        tmp = xp.empty((B, H), dtype=gates.dtype)
        dm_buf = xp.empty((B, H), dtype=gates.dtype) if w_hr is not None else None
        first = T - 1 if reverse else 0
        flows = not _all_zero(dout)  # the per-step outputs were used
        for t, src, dst in reversed(_order(T, reverse)):
            n = sizes[t]
            dcn, dhn, k = dc[:n], dh[:n], tmp[:n]
            z = factors[:, t, :n]  # its factors become the gradients in place (contiguous), then one copy to (B, 4H)
            if flows:
                dhn += dout[t, :n]
            if w_hr is None:
                dm = dhn
            else:
                dh_projected[t, :n] = dhn
                dm = xp.matmul(dhn, w_hr, out=dm_buf[:n])
            xp.multiply(dm, cell_factor[t, :n], out=k)
            dcn += k
            z[0] *= dm
            z[1:] *= dcn
            dz_all[t, :n].reshape(n, 4, H).transpose(1, 0, 2)[...] = z
            dcn *= gates[2, t, :n]
            if t == first and not self.needs_input_grad[1]:
                break  # dh0 is not wanted: skip the last product
            xp.matmul(dz_all[t, :n], wh, out=dhn)
        needs = self.needs_input_grad
        dz_flat = dz_all.reshape(T * B, 4 * H)
        dx = dw_ih = db = dw_hh = dw_hr = None
        if needs[0]:
            dx = (dz_flat @ _gate_major(w_ih, 4, _LSTM_ORDER).reshape(4 * H, -1)).reshape(x_shape)
        if any(needs[3:7]):  # [dW_hh dW_ih db] in one product with what the steps read, [h x 1]
            reads_flat = reads.reshape(T * B, reads.shape[-1])
            dw_all = _gate_rows((dz_flat.T @ reads_flat).reshape(4, H, -1), _LSTM_ORDER)
            dw_hh, dw_ih, db = dw_all[:, :P], dw_all[:, P:-1], dw_all[:, -1]
        if w_hr is not None and needs[7]:
            dw_hr = dh_projected.reshape(T * B, P).T @ unprojected.reshape(T * B, H)
        dh, dc = (dh if needs[1] else None), (dc if needs[2] else None)
        grads = (dx, dh, dc, dw_ih, dw_hh, db, db, dw_hr)
        temporary.check_not_holding("lstm backward", grads)
        temporary.release()
        return grads


_GRU_ORDER = (0, 1, 2)


class GRUSequence(_Sequence):
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
        kept, temporary = Workspace(xp), Workspace(xp)  # kept: what backward reads
        T, B, sizes, x_ones, states = self._begin(x, h0, batch_sizes, reverse, kept)
        H, dt = w_ih.shape[0] // 3, w_ih.dtype
        scale = xp.asarray([0.5, 0.5, 1.0], dtype=dt)[:, None, None]
        bias = self._bias(b_ih, None, 3 * H, dt, xp)
        if b_hh is not None:  # b_hr and b_hz join the x side; b_hn is scaled by r, so it stays on the h side
            bias[: 2 * H] += b_hh[: 2 * H]
        b_hn = b_hh[2 * H :] if b_hh is not None else None
        xw = self._input_projection(x_ones, w_ih, bias, 3, _GRU_ORDER, scale, T, B, temporary)
        wh = w_hh.reshape(3 * H, -1)  # (3H, H), rows r, z, n
        wh_scaled_t = xp.ascontiguousarray((wh.reshape(3, H, -1) * scale).reshape(3 * H, -1).T)  # (H, 3H)
        gate_terms = kept.empty((3, T, B, H), dt)  # per step: r, z, h W_hn^T + b_hn
        candidates = kept.empty((T, B, H), dt)  # per step: n
        if sizes[-1] < B:  # rows a step skips: backward's all-steps passes read them
            gate_terms.fill(0)
            candidates.fill(0)
        hw = xp.empty((B, 3 * H), dtype=dt)  # h W_hh^T of one step, (B, 3H)
        hw_gates = hw.reshape(B, 3, H).transpose(1, 0, 2)  # the same, seen gate-major (3, B, H)
        for t, src, dst in _order(T, reverse):
            n = sizes[t]
            hh = gate_terms[:, t, :n]
            xp.matmul(states[src, :n], wh_scaled_t, out=hw[:n])
            rz = hh[:2]
            xp.add(hw_gates[:2, :n], xw[:2, t, :n], out=rz)
            xp.tanh(rz, out=rz)
            rz *= 0.5
            rz += 0.5
            if b_hn is not None:
                xp.add(hw_gates[2, :n], b_hn, out=hh[2])
            else:
                hh[2] = hw_gates[2, :n]
            new = candidates[t, :n]
            xp.multiply(hh[0], hh[2], out=new)
            new += xw[2, t, :n]
            xp.tanh(new, out=new)
            h = states[dst, :n]
            xp.subtract(states[src, :n], new, out=h)
            h *= hh[1]
            h += new
            self._carry((states,), n, B, src, dst)
        temporary.release()
        out, h_n = self._outputs(states, sizes, reverse)
        self.keep_for_backward(kept, (out, h_n), x_ones, x.shape, states, gate_terms, candidates, w_ih, wh, sizes,
                               reverse)
        return out, h_n

    def _step_factors(self, gate_terms, candidates, states, reverse, work):
        """What backward multiplies each step's gradients by, for all steps at once (it does not depend on the
        recurrence): (3, T, B, H) = ((1-r) r (h W_hn^T + b_hn), (h - n) z (1-z), (1 - n^2) (1-z)), in ``work``."""
        xp = self.xp
        T = candidates.shape[0]
        factors = work.empty(gate_terms.shape, gate_terms.dtype)
        square = work.empty(candidates.shape, candidates.dtype)
        r, z, hn = gate_terms
        xp.subtract(1, r, out=factors[0])
        factors[0] *= r
        factors[0] *= hn
        xp.subtract(1, z, out=factors[2])
        xp.subtract(states[1:] if reverse else states[:T], candidates, out=factors[1])
        factors[1] *= z
        factors[1] *= factors[2]
        xp.multiply(candidates, candidates, out=square)
        xp.subtract(1, square, out=square)
        factors[2] *= square
        return factors

    def backward(self, dout, dh_n):
        x_ones, x_shape, states, gate_terms, candidates, w_ih, wh, sizes, reverse = self.saved
        xp = self.xp
        _, T, B, H = gate_terms.shape
        temporary = Workspace(xp)
        factors = self._step_factors(gate_terms, candidates, states, reverse, temporary)
        dz_h = temporary.empty((T, B, 3 * H), gate_terms.dtype)  # h-side pre-activation gradients (dr, dz, dn r)
        dn_x = temporary.empty((T, B, H), gate_terms.dtype)  # x-side gradient of the n gate
        if sizes[-1] < B:
            dz_h.fill(0)
            dn_x.fill(0)
        dh = dh_n.copy()
        acc = xp.empty((B, H), dtype=gate_terms.dtype)
        first = T - 1 if reverse else 0
        flows = not _all_zero(dout)  # the per-step outputs were used
        for t, src, dst in reversed(_order(T, reverse)):
            n = sizes[t]
            d, dn, dhn = dz_h[t, :n].reshape(n, 3, H).transpose(1, 0, 2), dn_x[t, :n], dh[:n]
            if flows:
                dhn += dout[t, :n]
            xp.multiply(dhn, factors[1, t, :n], out=d[1])
            xp.multiply(dhn, factors[2, t, :n], out=dn)
            xp.multiply(dn, factors[0, t, :n], out=d[0])
            xp.multiply(dn, gate_terms[0, t, :n], out=d[2])
            if t == first and not self.needs_input_grad[1]:
                break  # dh0 is not wanted: skip the last product
            dhn *= gate_terms[1, t, :n]
            xp.matmul(dz_h[t, :n], wh, out=acc[:n])
            dhn += acc[:n]
        needs = self.needs_input_grad
        dz_h_flat = dz_h.reshape(T * B, 3 * H)
        dz_rz = dz_h_flat[:, : 2 * H]  # the x side shares dr, dz; its n gradient is dn_x
        dn_flat = dn_x.reshape(T * B, H)
        wi = w_ih.reshape(3 * H, -1)
        dx = dw_ih = db_ih = dw_hh = db_hh = None
        if needs[0]:
            dx = dz_rz @ wi[: 2 * H]
            dx += dn_flat @ wi[2 * H :]
            dx = dx.reshape(x_shape)
        if needs[2] or needs[4]:
            dw1 = xp.concatenate((dz_rz.T @ x_ones, dn_flat.T @ x_ones))
            dw_ih, db_ih = dw1[:, :-1], dw1[:, -1]
        if needs[3]:
            dw_hh = dz_h_flat.T @ (states[1:] if reverse else states[:T]).reshape(T * B, H)
        if needs[5]:
            db_hh = dz_h_flat.sum(axis=0)
        grads = (dx, dh if needs[1] else None, dw_ih, dw_hh, db_ih, db_hh)
        temporary.check_not_holding("gru backward", grads)
        temporary.release()
        return grads


class RNNSequence(_Sequence):
    """One Elman RNN layer over a sequence, one direction.  x: (T, B, I), h0: (B, H) -> out (T, B, H), h_n (B, H).

        h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh),  act = tanh or relu
        dz = dh (1 - h'^2) for tanh, dh [h' > 0] for relu;  dh_prev = dz W_hh.
    """

    forward_graph = staticmethod(rnn_graph)  # what double backward differentiates (recurrent_graph.py)

    def forward(self, x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh", batch_sizes=None, reverse=False):
        xp = self.xp
        kept, temporary = Workspace(xp), Workspace(xp)  # kept: what backward reads
        T, B, sizes, x_ones, states = self._begin(x, h0, batch_sizes, reverse, kept)
        H, dt = w_ih.shape[0], w_ih.dtype
        one = xp.ones((1, 1, 1), dtype=dt)
        bias = self._bias(b_ih, b_hh, H, dt, xp)
        xw = self._input_projection(x_ones, w_ih, bias, 1, (0,), one, T, B, temporary)[0]
        w_hh_t = w_hh.T
        for t, src, dst in _order(T, reverse):
            n = sizes[t]
            h = states[dst, :n]
            xp.matmul(states[src, :n], w_hh_t, out=h)
            h += xw[t, :n]
            if nonlinearity == "tanh":
                xp.tanh(h, out=h)
            else:
                xp.maximum(h, 0, out=h)
            self._carry((states,), n, B, src, dst)
        temporary.release()
        out, h_n = self._outputs(states, sizes, reverse)
        self.keep_for_backward(kept, (out, h_n), x_ones, x.shape, states, w_ih, w_hh, nonlinearity, sizes, reverse)
        return out, h_n

    def backward(self, dout, dh_n):
        x_ones, x_shape, states, w_ih, w_hh, nonlinearity, sizes, reverse = self.saved
        xp = self.xp
        T, B, H = states.shape[0] - 1, states.shape[1], states.shape[2]
        temporary = Workspace(xp)
        dz_all = temporary.empty((T, B, H), states.dtype)  # pre-activation gradients of every step
        outputs = states[:T] if reverse else states[1:]  # each step's output, in step order
        if nonlinearity == "tanh":  # the activation's slope for all steps at once: 1 - h'^2, or [h' > 0]
            xp.multiply(outputs, outputs, out=dz_all)
            xp.subtract(1, dz_all, out=dz_all)
        else:
            xp.greater(outputs, 0, out=dz_all)
        if sizes[-1] < B:
            for t, n in enumerate(sizes):
                dz_all[t, n:] = 0  # rows a step skips enter the weight gradients
        dh = dh_n.copy()
        first = T - 1 if reverse else 0
        flows = not _all_zero(dout)  # the per-step outputs were used
        for t, src, dst in reversed(_order(T, reverse)):
            n = sizes[t]
            z, dhn = dz_all[t, :n], dh[:n]
            if flows:
                dhn += dout[t, :n]
            z *= dhn
            if t == first and not self.needs_input_grad[1]:
                break  # dh0 is not wanted: skip the last product
            xp.matmul(z, w_hh, out=dhn)
        needs = self.needs_input_grad
        dz_flat = dz_all.reshape(T * B, H)
        dx = (dz_flat @ w_ih).reshape(x_shape) if needs[0] else None
        dw1 = dz_flat.T @ x_ones if needs[2] or needs[4] or needs[5] else None
        dw_hh = dz_flat.T @ (states[1:] if reverse else states[:T]).reshape(T * B, H) if needs[3] else None
        dw_ih, db = (dw1[:, :-1], dw1[:, -1]) if dw1 is not None else (None, None)
        grads = (dx, dh if needs[1] else None, dw_ih, dw_hh, db, db)
        temporary.check_not_holding("rnn backward", grads)
        temporary.release()
        return grads


# ---------------------------------------------------------------------------------------------- functional API
def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step (PyTorch's ``lstm_cell``).  input (B, I), hx = (h, c) each (B, H) -> (h', c') each (B, H)."""
    _, h, c = LSTMSequence.apply(input, hx[0], hx[1], w_ih, w_hh, b_ih, b_hh, None)
    return h, c


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU step (PyTorch's ``gru_cell``).  input (B, I), hx (B, H) -> h' (B, H)."""
    return GRUSequence.apply(input, hx, w_ih, w_hh, b_ih, b_hh)[1]


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One Elman step, h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh).  input (B, I), hx (B, H) -> (B, H)."""
    return RNNSequence.apply(input, hx, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh")[1]


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One Elman step, h' = relu(x W_ih^T + b_ih + h W_hh^T + b_hh).  input (B, I), hx (B, H) -> (B, H)."""
    return RNNSequence.apply(input, hx, w_ih, w_hh, b_ih, b_hh, nonlinearity="relu")[1]
