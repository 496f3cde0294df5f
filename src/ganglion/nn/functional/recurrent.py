"""Recurrent layers as fused ops: one Function runs a whole sequence through one layer in one direction.

Forward: the input projection of every time step is one large matrix product (x W_ih^T + b for all T steps at once);
each step then costs one product h W_hh^T (all gates fused) and a few elementwise array calls, writing the gate
activations and states into preallocated (T, B, .) arrays. Backward walks the steps in reverse with closed-form
derivatives, storing the gradient of every step's pre-activations; the weight gradients are then one matrix product
each over all steps stacked (dW_ih = dZ^T X, dW_hh = dZ^T H_prev), and dx is one product dZ W_ih.

Sigmoids are computed as sigma(a) = (1 + tanh(a / 2)) / 2, which is exact for inputs of any magnitude; the 1/2 is
folded into the rows of the weights, so a single tanh covers every gate of a step.

Layout (PyTorch's): x is (T, B, I) time-major; the gates are stacked along the rows of the weights, LSTM (i, f, g, o),
GRU (r, z, n), so weights move between ganglion and PyTorch unchanged. Variable-length batches come as
``batch_sizes``: with the batch sorted by decreasing length, step t updates only its first ``batch_sizes[t]`` rows;
the other rows keep their state (finished sequences keep their last state; in reverse, unstarted ones keep h0) and
their output is 0, so padded steps never change the result.

The cells (``lstm_cell``, ``gru_cell``, ``rnn_tanh_cell``, ``rnn_relu_cell``) are the same ops on a one-step sequence.
"""

from ...autograd.function import Function
from ...ops import cat
from .dropout import dropout as _dropout


def _order(T, reverse):
    """Time steps in processing order, with the state slots each reads and writes (states are stored by time)."""
    r = int(reverse)
    steps = range(T - 1, -1, -1) if reverse else range(T)
    return [(t, t + r, t + 1 - r) for t in steps]


class _Sequence(Function):
    """What the three recurrences share: step order, batch sizes, masking of padded outputs, bias folding."""

    def _begin(self, x, h0, batch_sizes, reverse, dtype):
        xp = self.xp
        if x.ndim == 2:  # one step (a cell)
            x = x[None]
        T, B, _ = x.shape
        sizes = (B,) * T if batch_sizes is None else tuple(batch_sizes)
        alloc = xp.empty if batch_sizes is None else xp.zeros  # rows a step skips are read by the weight gradients
        S = alloc((T + 1, B, h0.shape[-1]), dtype=dtype)
        S[T if reverse else 0] = h0
        X = x.reshape(T * B, x.shape[2])
        return xp, T, B, sizes, alloc, S, X

    @staticmethod
    def _carry(arrays, n, B, src, dst):
        """Rows a step skips keep their state."""
        if n < B:
            for A in arrays:
                A[dst, n:] = A[src, n:]

    def _outputs(self, S, sizes, reverse):
        """The per-step outputs (T, B, H), zero where a step skipped a row, and the final state."""
        T, B = S.shape[0] - 1, S.shape[1]
        out = S[:T] if reverse else S[1:]
        if sizes[-1] < B:  # sizes only shrink, so this is the packed case
            out = out.copy()
            for t, n in enumerate(sizes):
                out[t, n:] = 0
        return out, S[0] if reverse else S[T]

    def _input_grads(self, dZ, X, w_ih, x_shape, rows_dz=None):
        """dx = dZ W_ih (reshaped to x), dW_ih = dZ^T X: one product each over all steps."""
        Z = dZ.reshape(-1, dZ.shape[-1]) if rows_dz is None else rows_dz
        needs = self.needs_input_grad
        dx = (Z @ w_ih).reshape(x_shape) if needs[0] else None
        return dx, (Z.T @ X if needs[self.W_IH] else None)


class LSTMSequence(_Sequence):
    """One LSTM layer over a sequence, one direction.  x: (T, B, I), h0: (B, P), c0: (B, H) -> out (T, B, P),
    h_n (B, P), c_n (B, H), with P = proj_size or H.

        i, f, g, o = sigma(z_i), sigma(z_f), tanh(z_g), sigma(z_o)   with z = x W_ih^T + b_ih + h W_hh^T + b_hh
        c' = f c + i g,   h' = o tanh(c')   (then h' = h' W_hr^T with a projection)

    Backward per step, with dm = dh (or dh W_hr): dc += dm o (1 - tanh(c')^2);  dz_o = dm tanh(c') o (1 - o);
    dz_i = dc g i (1 - i);  dz_f = dc c f (1 - f);  dz_g = dc i (1 - g^2);  dc_prev = dc f;  dh_prev = dz W_hh.
    Internally the gates are reordered (o, i, f, g) so the sigmoids are one block and the dc-scaled gates another.
    """

    W_IH = 3  # position of w_ih among the inputs

    def forward(self, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, batch_sizes=None, reverse=False):
        H = w_ih.shape[0] // 4
        xp, T, B, sizes, alloc, S, X = self._begin(x, h0, batch_sizes, reverse, w_ih.dtype)
        scale = xp.ones((4 * H, 1), dtype=w_ih.dtype)
        scale[: 3 * H] = 0.5
        wi, wh = _to_ofig(w_ih, H, xp), _to_ofig(w_hh, H, xp)
        xw = (X @ (wi * scale).T).reshape(T, B, 4 * H)
        if b_ih is not None or b_hh is not None:
            bias = sum(b for b in (b_ih, b_hh) if b is not None)
            xw += _to_ofig(bias, H, xp) * scale[:, 0]
        wh_scaled_t = (wh * scale).T
        C = alloc((T + 1, B, H), dtype=w_ih.dtype)
        C[T if reverse else 0] = c0
        G = alloc((T, B, 4 * H), dtype=w_ih.dtype)
        TC = alloc((T, B, H), dtype=w_ih.dtype)
        M = alloc((T, B, H), dtype=w_ih.dtype) if w_hr is not None else None
        w_hr_t = w_hr.T if w_hr is not None else None
        tmp = xp.empty((B, H), dtype=w_ih.dtype)
        for t, src, dst in _order(T, reverse):
            n = sizes[t]
            g = G[t, :n]
            xp.matmul(S[src, :n], wh_scaled_t, out=g)
            g += xw[t, :n]
            xp.tanh(g, out=g)
            sig = g[:, : 3 * H]
            sig *= 0.5
            sig += 0.5
            c = C[dst, :n]
            xp.multiply(g[:, H : 2 * H], g[:, 3 * H :], out=c)
            xp.multiply(g[:, 2 * H : 3 * H], C[src, :n], out=tmp[:n])
            c += tmp[:n]
            tc = TC[t, :n]
            xp.tanh(c, out=tc)
            if w_hr is None:
                xp.multiply(g[:, :H], tc, out=S[dst, :n])
            else:
                xp.multiply(g[:, :H], tc, out=M[t, :n])
                xp.matmul(M[t, :n], w_hr_t, out=S[dst, :n])
            self._carry((S, C), n, B, src, dst)
        out, h_n = self._outputs(S, sizes, reverse)
        self.save(X, x.shape, S, C, G, TC, M, wi, wh, w_hr, sizes, reverse, b_ih is not None, b_hh is not None)
        return out, h_n, C[0] if reverse else C[T]

    def backward(self, dout, dh_n, dc_n):
        X, x_shape, S, C, G, TC, M, wi, wh, w_hr, sizes, reverse, has_b_ih, has_b_hh = self.saved
        xp = self.xp
        T, B, H4 = G.shape
        H = H4 // 4
        packed = sizes[-1] < B
        dZ = (xp.zeros if packed else xp.empty)((T, B, 4 * H), dtype=G.dtype)
        DH = xp.zeros((T, B, S.shape[2]), dtype=G.dtype) if w_hr is not None else None
        Z4 = dZ.reshape(T, B, 4, H)
        dh, dc = dh_n.copy(), dc_n.copy()
        tmp = xp.empty((B, H), dtype=G.dtype)
        dm_buf = xp.empty((B, H), dtype=G.dtype) if w_hr is not None else None
        for t, src, dst in reversed(_order(T, reverse)):
            n = sizes[t]
            g, tc, z, dcn = G[t, :n], TC[t, :n], dZ[t, :n], dc[:n]
            dhn = dh[:n]
            dhn += dout[t, :n]
            if w_hr is None:
                dm = dhn
            else:
                DH[t, :n] = dhn
                dm = xp.matmul(dhn, w_hr, out=dm_buf[:n])
            o, i, gg = g[:, :H], g[:, H : 2 * H], g[:, 3 * H :]
            k = tmp[:n]
            xp.multiply(tc, tc, out=k)
            xp.subtract(1, k, out=k)
            k *= o
            k *= dm
            dcn += k
            sig = z[:, : 3 * H]
            xp.subtract(1, g[:, : 3 * H], out=sig)
            sig *= g[:, : 3 * H]
            zo = z[:, :H]
            zo *= tc
            zo *= dm
            z[:, H : 2 * H] *= gg
            z[:, 2 * H : 3 * H] *= C[src, :n]
            zg = z[:, 3 * H :]
            xp.multiply(gg, gg, out=zg)
            xp.subtract(1, zg, out=zg)
            zg *= i
            Z4[t, :n, 1:] *= dcn[:, None, :]
            dcn *= g[:, 2 * H : 3 * H]
            xp.matmul(z, wh, out=dhn)
        needs = self.needs_input_grad
        Z = dZ.reshape(T * B, 4 * H)
        dx, dw_ih = self._input_grads(dZ, X, wi, x_shape)
        h_prev = (S[1:] if reverse else S[:T]).reshape(T * B, S.shape[2])
        dw_hh = _from_ofig(Z.T @ h_prev, H, xp) if needs[4] else None
        db = _from_ofig(Z.sum(axis=0), H, xp) if (has_b_ih or has_b_hh) else None
        dw_hr = DH.reshape(T * B, -1).T @ M.reshape(T * B, H) if w_hr is not None and needs[7] else None
        dw_ih = _from_ofig(dw_ih, H, xp) if dw_ih is not None else None
        return (dx, dh if needs[1] else None, dc if needs[2] else None, dw_ih, dw_hh,
                db if has_b_ih else None, db if has_b_hh else None, dw_hr)


def _to_ofig(a, H, xp):
    """PyTorch's gate rows (i, f, g, o) -> (o, i, f, g)."""
    return xp.concatenate((a[3 * H :], a[: 3 * H]))


def _from_ofig(a, H, xp):
    """Gate rows (o, i, f, g) -> PyTorch's (i, f, g, o)."""
    return xp.concatenate((a[H:], a[:H]))


class GRUSequence(_Sequence):
    """One GRU layer over a sequence, one direction.  x: (T, B, I), h0: (B, H) -> out (T, B, H), h_n (B, H).

        r, z = sigma(x W_ir^T + b_ir + h W_hr^T + b_hr), sigma(x W_iz^T + b_iz + h W_hz^T + b_hz)
        n = tanh(x W_in^T + b_in + r (h W_hn^T + b_hn)),   h' = (1 - z) n + z h

    Backward per step: dn = dh (1 - z) (1 - n^2);  dz = dh (h - n) z (1 - z);  dr = dn (h W_hn^T + b_hn) r (1 - r);
    the h-side pre-activation gradient is (dr, dz, dn r), the x-side one (dr, dz, dn);  dh_prev = dh z + (dr, dz, dn r) W_hh.
    """

    W_IH = 2

    def forward(self, x, h0, w_ih, w_hh, b_ih, b_hh, batch_sizes=None, reverse=False):
        H = w_ih.shape[0] // 3
        xp, T, B, sizes, alloc, S, X = self._begin(x, h0, batch_sizes, reverse, w_ih.dtype)
        scale = xp.ones((3 * H, 1), dtype=w_ih.dtype)
        scale[: 2 * H] = 0.5
        xw = (X @ (w_ih * scale).T).reshape(T, B, 3 * H)
        if b_ih is not None:
            xw += b_ih * scale[:, 0]
        if b_hh is not None:  # b_hr and b_hz add to the x side; b_hn is scaled by r, so it stays on the h side
            xw[..., : 2 * H] += b_hh[: 2 * H] * 0.5
        b_hn = b_hh[2 * H :] if b_hh is not None else None
        wh_scaled_t = (w_hh * scale).T
        HH = alloc((T, B, 3 * H), dtype=w_ih.dtype)  # per step: r, z, h W_hn^T + b_hn
        N = alloc((T, B, H), dtype=w_ih.dtype)
        for t, src, dst in _order(T, reverse):
            n = sizes[t]
            hh = HH[t, :n]
            xp.matmul(S[src, :n], wh_scaled_t, out=hh)
            rz = hh[:, : 2 * H]
            rz += xw[t, :n, : 2 * H]
            xp.tanh(rz, out=rz)
            rz *= 0.5
            rz += 0.5
            hn = hh[:, 2 * H :]
            if b_hn is not None:
                hn += b_hn
            new = N[t, :n]
            xp.multiply(hh[:, :H], hn, out=new)
            new += xw[t, :n, 2 * H :]
            xp.tanh(new, out=new)
            h = S[dst, :n]
            xp.subtract(S[src, :n], new, out=h)
            h *= hh[:, H : 2 * H]
            h += new
            self._carry((S,), n, B, src, dst)
        out, h_n = self._outputs(S, sizes, reverse)
        self.save(X, x.shape, S, HH, N, w_ih, w_hh, sizes, reverse, b_ih is not None, b_hh is not None)
        return out, h_n

    def backward(self, dout, dh_n):
        X, x_shape, S, HH, N, w_ih, w_hh, sizes, reverse, has_b_ih, has_b_hh = self.saved
        xp = self.xp
        T, B, H3 = HH.shape
        H = H3 // 3
        packed = sizes[-1] < B
        alloc = xp.zeros if packed else xp.empty
        D = alloc((T, B, 3 * H), dtype=HH.dtype)  # h-side pre-activation gradients (dr, dz, dn r)
        DN = alloc((T, B, H), dtype=HH.dtype)  # x-side gradient of the n gate
        dh = dh_n.copy()
        one_minus_z = xp.empty((B, H), dtype=HH.dtype)
        carry = xp.empty((B, H), dtype=HH.dtype)
        for t, src, dst in reversed(_order(T, reverse)):
            n = sizes[t]
            hh, new, d, dn = HH[t, :n], N[t, :n], D[t, :n], DN[t, :n]
            r, z, hn = hh[:, :H], hh[:, H : 2 * H], hh[:, 2 * H :]
            dhn = dh[:n]
            dhn += dout[t, :n]
            omz = one_minus_z[:n]
            xp.subtract(1, z, out=omz)
            dz = d[:, H : 2 * H]
            xp.subtract(S[src, :n], new, out=dz)
            dz *= dhn
            dz *= z
            dz *= omz
            omz *= dhn
            xp.multiply(new, new, out=dn)
            xp.subtract(1, dn, out=dn)
            dn *= omz
            dr = d[:, :H]
            xp.subtract(1, r, out=dr)
            dr *= r
            dr *= hn
            dr *= dn
            xp.multiply(dn, r, out=d[:, 2 * H :])
            dhn *= z
            dhn += xp.matmul(d, w_hh, out=carry[:n])
        needs = self.needs_input_grad
        Z = D.reshape(T * B, 3 * H)
        ZX = xp.concatenate((Z[:, : 2 * H], DN.reshape(T * B, H)), axis=1)
        dx, dw_ih = self._input_grads(None, X, w_ih, x_shape, rows_dz=ZX)
        h_prev = (S[1:] if reverse else S[:T]).reshape(T * B, H)
        dw_hh = Z.T @ h_prev if needs[3] else None
        db_ih = ZX.sum(axis=0) if has_b_ih and needs[4] else None
        db_hh = Z.sum(axis=0) if has_b_hh and needs[5] else None
        return dx, dh if needs[1] else None, dw_ih, dw_hh, db_ih, db_hh


class RNNSequence(_Sequence):
    """One Elman RNN layer over a sequence, one direction.  x: (T, B, I), h0: (B, H) -> out (T, B, H), h_n (B, H).

        h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh),  act = tanh or relu
        dz = dh (1 - h'^2) for tanh, dh [h' > 0] for relu;  dh_prev = dz W_hh.
    """

    W_IH = 2

    def forward(self, x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh", batch_sizes=None, reverse=False):
        H = w_ih.shape[0]
        xp, T, B, sizes, alloc, S, X = self._begin(x, h0, batch_sizes, reverse, w_ih.dtype)
        xw = (X @ w_ih.T).reshape(T, B, H)
        for b in (b_ih, b_hh):
            if b is not None:
                xw += b
        w_hh_t = w_hh.T
        for t, src, dst in _order(T, reverse):
            n = sizes[t]
            h = S[dst, :n]
            xp.matmul(S[src, :n], w_hh_t, out=h)
            h += xw[t, :n]
            if nonlinearity == "tanh":
                xp.tanh(h, out=h)
            else:
                xp.maximum(h, 0, out=h)
            self._carry((S,), n, B, src, dst)
        out, h_n = self._outputs(S, sizes, reverse)
        self.save(X, x.shape, S, w_ih, w_hh, nonlinearity, sizes, reverse, b_ih is not None, b_hh is not None)
        return out, h_n

    def backward(self, dout, dh_n):
        X, x_shape, S, w_ih, w_hh, nonlinearity, sizes, reverse, has_b_ih, has_b_hh = self.saved
        xp = self.xp
        T, B, H = S.shape[0] - 1, S.shape[1], S.shape[2]
        dZ = (xp.zeros if sizes[-1] < B else xp.empty)((T, B, H), dtype=S.dtype)
        dh = dh_n.copy()
        for t, src, dst in reversed(_order(T, reverse)):
            n = sizes[t]
            h, z, dhn = S[dst, :n], dZ[t, :n], dh[:n]
            dhn += dout[t, :n]
            if nonlinearity == "tanh":
                xp.multiply(h, h, out=z)
                xp.subtract(1, z, out=z)
                z *= dhn
            else:
                xp.multiply(dhn, h > 0, out=z)
            xp.matmul(z, w_hh, out=dhn)
        needs = self.needs_input_grad
        Z = dZ.reshape(T * B, H)
        dx, dw_ih = self._input_grads(dZ, X, w_ih, x_shape)
        dw_hh = Z.T @ (S[1:] if reverse else S[:T]).reshape(T * B, H) if needs[3] else None
        db = Z.sum(axis=0) if has_b_ih or has_b_hh else None
        return dx, dh if needs[1] else None, dw_ih, dw_hh, db if has_b_ih else None, db if has_b_hh else None


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


MODES = ("RNN_TANH", "RNN_RELU", "LSTM", "GRU")


def recurrent_stack(mode, x, hx, weights, num_layers, bidirectional=False, dropout=0.0, training=False,
                    batch_sizes=None):
    """Run ``num_layers`` stacked recurrent layers (each one or two directions) over a time-major sequence.

    x: (T, B, I). hx: one initial state per layer and direction, layer-major (forward before reverse): h (B, P), or
    (h, c) for LSTM. weights: per layer and direction, (w_ih, w_hh, b_ih, b_hh) plus w_hr for LSTM (None without a
    projection). Dropout with probability ``dropout`` is applied to every layer's output but the last, in training.
    Returns the last layer's output (T, B, D * P) (directions concatenated) and the final states in hx's order.
    """
    if mode not in MODES:
        raise ValueError(f"recurrent_stack: unknown mode {mode!r}; accepted modes are {', '.join(MODES)}")
    directions = 2 if bidirectional else 1
    layer_input, finals = x, []
    for layer in range(num_layers):
        outs = []
        for d in range(directions):
            k = layer * directions + d
            opts = {"batch_sizes": batch_sizes, "reverse": d == 1}
            if mode == "LSTM":
                out, h, c = LSTMSequence.apply(layer_input, hx[k][0], hx[k][1], *weights[k], **opts)
                finals.append((h, c))
            elif mode == "GRU":
                out, h = GRUSequence.apply(layer_input, hx[k], *weights[k], **opts)
                finals.append(h)
            else:
                nonlinearity = "tanh" if mode == "RNN_TANH" else "relu"
                out, h = RNNSequence.apply(layer_input, hx[k], *weights[k], nonlinearity=nonlinearity, **opts)
                finals.append(h)
            outs.append(out)
        layer_input = outs[0] if directions == 1 else cat(outs, dim=2)
        if dropout > 0 and training and layer < num_layers - 1:
            layer_input = _dropout(layer_input, dropout, training=True)
    return layer_input, finals
