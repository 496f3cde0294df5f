"""Compiled kernels for one LSTM step's elementwise work, forward and backward (float32).

The NumPy reference is ``nn/functional/recurrent_lstm.py``: there a step's elementwise work is about ten array calls
(a tanh over all four gates, the sigmoids' scale and shift, the cell update, its tanh, the output), each a separate
pass over (B, H) blocks; NumPy's float32 tanh alone (~2.8 ns an element) was most of it. Here each step is one pass
(three short ones per row backward), and tanh is a rational approximation that LLVM vectorises (``tanh32``, Eigen's
float tanh: within 3 ulp of NumPy's over all of float32, odd, +-1 beyond |x| = 7.9). For the 32-128 LSTM of the
benchmark (batch 64): forward step 221 -> 43 us, backward step about 17 us and no all-steps factor passes.

The kernels are serial (``parallel=False``): one step's work is 40 us, and a parallel loop waits at its end for
the slowest thread: on a 2-core machine with the other core busy, the same loop on two threads took 3.4 ms instead of
35 us (the second thread waits for a time slice). Measurements: benchmarks/README.md.

This module imports numba when imported (``register_jitable`` lets the kernels call ``tanh32``, and the reference
loops call it as plain Python), so import it only after ``ganglion.kernels.usable`` said yes.
"""

import numpy as np
from numba.extending import register_jitable

from . import compiled
from .blas import NO_TRANS, product

_CLAMP = np.float32(7.90531110763549805)  # tanh(x) rounds to +-1 in float32 beyond this
_NUMERATOR = tuple(np.float32(c) for c in (-2.76076847742355e-16, 2.00018790482477e-13, -8.60467152213735e-11,
                                           5.12229709037114e-08, 1.48572235717979e-05, 6.37261928875436e-04,
                                           4.89352455891786e-03))
_DENOMINATOR = tuple(np.float32(c) for c in (1.19825839466702e-06, 1.18534705686654e-04, 2.26843463243900e-03,
                                             4.89352518554385e-03))


@register_jitable
def tanh32(x):
    """tanh of a float32 x as x p(x^2) / q(x^2), x clamped to [-7.9, 7.9] (Eigen's ``ptanh_float`` coefficients)."""
    v = min(max(x, -_CLAMP), _CLAMP)
    v2 = v * v
    p = _NUMERATOR[0]
    for c in _NUMERATOR[1:]:
        p = p * v2 + c
    q = _DENOMINATOR[0]
    for c in _DENOMINATOR[1:]:
        q = q * v2 + c
    return v * np.divide(p, q)  # np.divide: no ZeroDivisionError check (q >= 4.9e-3), which would stop LLVM vectorising


@compiled(parallel=False)  # serial: see the module docstring
def lstm_step_forward(preactivation, cell_prev, output_gate, input_gate, forget_gate, candidate, cell, tanh_cell,
                      hidden_rows):
    """One LSTM step after its product, every output array written in place.

    preactivation (n, 4H): the step's z in gate-major blocks o, i, f, g, the three sigmoid blocks already halved
    (sigma(a) = (1 + tanh(a / 2)) / 2). cell_prev (n, H): c. Writes o, i, f, g, c' = f c + i g, tanh(c') (each
    (n, H)) and o tanh(c') into the first H columns of hidden_rows (n, >= H), C-contiguous like every argument: the
    next step's input rows [h x 1] take h' in place (a strided (n, H) view there stops LLVM vectorising the loop,
    4.6 times slower)."""
    n, width = preactivation.shape
    size = width // 4
    half = np.float32(0.5)
    for b in range(n):
        for j in range(size):
            o = half + half * tanh32(preactivation[b, j])
            i = half + half * tanh32(preactivation[b, size + j])
            f = half + half * tanh32(preactivation[b, 2 * size + j])
            g = tanh32(preactivation[b, 3 * size + j])
            c = f * cell_prev[b, j] + i * g
            tc = tanh32(c)
            output_gate[b, j] = o
            input_gate[b, j] = i
            forget_gate[b, j] = f
            candidate[b, j] = g
            cell[b, j] = c
            tanh_cell[b, j] = tc
            hidden_rows[b, j] = o * tc


@compiled(parallel=False)
def lstm_step_backward(dm, dc, output_gate, input_gate, forget_gate, candidate, tanh_cell, cell_prev, dz):
    """One LSTM step of backward, before its product with W_hh.

    dm (n, H): the gradient reaching o tanh(c') (dh, or dh W_hr with a projection). dc (n, H), in place: the
    gradient of c' in, of c out. Writes dz (n, 4H), the gradient of the (unscaled) pre-activations, blocks o, i, f, g:
        dc += dm o (1 - tanh(c')^2);  dz_o = dm tanh(c') o (1 - o);  dz_i = dc g i (1 - i);
        dz_f = dc c f (1 - f);  dz_g = dc i (1 - g^2);  then dc = dc f.
    """
    n, size = dm.shape
    one = np.float32(1.0)
    for b in range(n):  # three loops over a row, each touching few arrays, so that LLVM vectorises them (2x faster)
        for j in range(size):
            o, tc, d = output_gate[b, j], tanh_cell[b, j], dm[b, j]
            dc[b, j] += d * o * (one - tc * tc)
            dz[b, j] = d * tc * o * (one - o)
        for j in range(size):
            i, g, dcell = input_gate[b, j], candidate[b, j], dc[b, j]
            dz[b, size + j] = dcell * g * i * (one - i)
            dz[b, 3 * size + j] = dcell * i * (one - g * g)
        for j in range(size):
            f, dcell = forget_gate[b, j], dc[b, j]
            dz[b, 2 * size + j] = dcell * cell_prev[b, j] * f * (one - f)
            dc[b, j] = dcell * f


@compiled(parallel=False)
def lstm_forward_steps(gemm, step_inputs, weights_t, preactivation, cells, gates, tanh_cells, sizes, reverse):
    """Every step of an LSTM layer without a projection, in processing order, as one call (``LSTMSequence.forward``'s
    loop, its products through ``kernels.blas``): z = [h x 1] [W_hh W_ih b]^T (halved sigmoid rows), then
    ``lstm_step_forward``, h' written into the next step's input rows; rows a packed step skips keep their state.

    step_inputs (T + 1, B, H + I + 1), weights_t (H + I + 1, 4H), preactivation (B, 4H), cells (T + 1, B, H), gates
    (4, T, B, H), tanh_cells (T, B, H); sizes (T,): the rows each step takes. ``gemm``: ``blas.gemm(float32)``."""
    steps, batch, hidden = tanh_cells.shape
    for s in range(steps):
        t = steps - 1 - s if reverse else s
        read, write = (t + 1, t) if reverse else (t, t + 1)
        n = sizes[t]
        product(gemm, step_inputs[read, :n], NO_TRANS, weights_t, NO_TRANS, preactivation[:n], 0.0)
        lstm_step_forward(preactivation[:n], cells[read, :n], gates[0, t, :n], gates[1, t, :n], gates[2, t, :n],
                          gates[3, t, :n], cells[write, :n], tanh_cells[t, :n], step_inputs[write, :n])
        if n < batch:
            step_inputs[write, n:, :hidden] = step_inputs[read, n:, :hidden]
            cells[write, n:] = cells[read, n:]


@compiled(parallel=False)
def lstm_backward_steps(gemm, dout, outputs_used, dh, dc, gates, tanh_cells, cells, dz_steps, w_hh, sizes, reverse,
                        last_product):
    """Every step of an LSTM layer's backward without a projection, in reverse processing order, as one call
    (``LSTMSequence.backward``'s loop, its products through ``kernels.blas``): dh += dout[t] (when
    ``outputs_used``), ``lstm_step_backward`` into dz_steps[t], then dh = dz W_hh, except after the first step
    unless ``last_product`` (dh0 not wanted).

    dout (T, B, H), dh and dc (B, H) in place, gates (4, T, B, H), tanh_cells (T, B, H), cells (T + 1, B, H), dz_steps
    (T, B, 4H), w_hh (4H, H) gate-major, rows of unit stride; sizes (T,)."""
    steps = tanh_cells.shape[0]
    for s in range(steps):
        t = s if reverse else steps - 1 - s
        read = t + 1 if reverse else t
        n = sizes[t]
        if outputs_used:
            dh[:n] += dout[t, :n]
        lstm_step_backward(dh[:n], dc[:n], gates[0, t, :n], gates[1, t, :n], gates[2, t, :n], gates[3, t, :n],
                           tanh_cells[t, :n], cells[read, :n], dz_steps[t, :n])
        if s == steps - 1 and not last_product:
            break
        product(gemm, dz_steps[t, :n], NO_TRANS, w_hh, NO_TRANS, dh[:n], 0.0)
