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

The rows of a batch are independent through the whole sequence, so the two whole-sequence loops take a share of
rows each (``over_batch_rows``): one hand-off per sequence to ganglion's threads, each share's products on
single-threaded BLAS. The 32-128 LSTM's workload (batch 64, 50 steps) took 0.91x the time of one call with the
products on OpenBLAS's two threads (three runs of 20 calls each way, each in its own process). That holds only while
OpenBLAS's workers are asleep: after a product on its threads they spin for ~0.1 s (``kernels.blas``), and the split
loop then took 1.22x the time; so it is not split then.

This module imports numba when imported (``register_jitable`` lets the kernels call ``tanh32``, and the reference
loops call it as plain Python), so import it only after ``ganglion.kernels.usable`` said yes.
"""

import numpy as np
from numba.extending import register_jitable

from . import compiled, get_num_threads, machine_busy, parallel_ranges
from .blas import NO_TRANS, blas_threads_spinning, product
from .conv import MIN_WORK_PER_THREAD, _SingleThreadedBlas

MIN_ROWS_PER_THREAD = 16
"""The fewest batch rows a thread's share of a sequence gets (``over_batch_rows``)."""

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
def lstm_forward_steps(gemm, step_inputs, weights_t, preactivation, cells, gates, tanh_cells, sizes, reverse, first,
                       count):
    """Every step of an LSTM layer without a projection, in processing order, as one call (``LSTMSequence.forward``'s
    loop, its products through ``kernels.blas``), for the batch rows [first, first + count): z = [h x 1]
    [W_hh W_ih b]^T (halved sigmoid rows), then ``lstm_step_forward``, h' written into the next step's input rows;
    rows a packed step skips keep their state. Rows of the batch are independent, so threads can take a share each.

    step_inputs (T + 1, B, H + I + 1), weights_t (H + I + 1, 4H), preactivation (B, 4H), cells (T + 1, B, H), gates
    (4, T, B, H), tanh_cells (T, B, H); sizes (T,): the rows each step takes. ``gemm``: ``blas.gemm(float32)``. The
    rows are sliced here, not by the caller: a view passed in would be compiled as a non-contiguous array (no vector
    loops)."""
    steps = tanh_cells.shape[0]
    hidden = tanh_cells.shape[2]
    last = first + count
    for s in range(steps):
        t = steps - 1 - s if reverse else s
        read, write = (t + 1, t) if reverse else (t, t + 1)
        stop = min(max(sizes[t], first), last)  # the rows [first, stop) this step takes
        if stop > first:
            product(gemm, step_inputs[read, first:stop], NO_TRANS, weights_t, NO_TRANS, preactivation[first:stop],
                    0.0)
            lstm_step_forward(preactivation[first:stop], cells[read, first:stop], gates[0, t, first:stop],
                              gates[1, t, first:stop], gates[2, t, first:stop], gates[3, t, first:stop],
                              cells[write, first:stop], tanh_cells[t, first:stop], step_inputs[write, first:stop])
        if stop < last:
            step_inputs[write, stop:last, :hidden] = step_inputs[read, stop:last, :hidden]
            cells[write, stop:last] = cells[read, stop:last]


@compiled(parallel=False)
def lstm_backward_steps(gemm, dout, outputs_used, dh, dc, gates, tanh_cells, cells, dz_steps, w_hh, sizes, reverse,
                        last_product, first, count):
    """Every step of an LSTM layer's backward without a projection, in reverse processing order, as one call
    (``LSTMSequence.backward``'s loop, its products through ``kernels.blas``), for the batch rows
    [first, first + count): dh += dout[t] (when ``outputs_used``), ``lstm_step_backward`` into dz_steps[t], then
    dh = dz W_hh, except after the first step unless ``last_product`` (dh0 not wanted).

    dout (T, B, H), dh and dc (B, H) in place, gates (4, T, B, H), tanh_cells (T, B, H), cells (T + 1, B, H), dz_steps
    (T, B, 4H), w_hh (4H, H) gate-major, rows of unit stride; sizes (T,)."""
    steps = tanh_cells.shape[0]
    last = first + count
    for s in range(steps):
        t = s if reverse else steps - 1 - s
        read = t + 1 if reverse else t
        stop = min(max(sizes[t], first), last)
        if stop == first:
            continue  # a packed step that takes none of these rows
        if outputs_used:
            dh[first:stop] += dout[t, first:stop]
        lstm_step_backward(dh[first:stop], dc[first:stop], gates[0, t, first:stop], gates[1, t, first:stop],
                           gates[2, t, first:stop], gates[3, t, first:stop], tanh_cells[t, first:stop],
                           cells[read, first:stop], dz_steps[t, first:stop])
        if s == steps - 1 and not last_product:
            break
        product(gemm, dz_steps[t, first:stop], NO_TRANS, w_hh, NO_TRANS, dh[first:stop], 0.0)


def over_batch_rows(call, batch, multiply_adds):
    """``call(first, count)`` over the batch rows [0, batch): the rows of a recurrence are independent, so each thread
    takes a share of rows for the whole sequence (one hand-off a sequence), its products on single-threaded BLAS.
    One call on the calling thread (BLAS keeping its threads) when the work is small, the batch short, or the machine
    busy. ``multiply_adds``: the whole sequence's products."""
    parts = min(get_num_threads(), batch // MIN_ROWS_PER_THREAD, multiply_adds // MIN_WORK_PER_THREAD)
    if parts <= 1 or machine_busy() or blas_threads_spinning():
        call(0, batch)
        return
    with _SingleThreadedBlas():
        parallel_ranges(batch, lambda first, stop: call(first, stop - first), batch // parts)
