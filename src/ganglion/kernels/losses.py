"""Softmax cross-entropy on class indices as one compiled pass forward and one backward, for the plain case: (M, C)
float logits, integer targets, no class weights, no label smoothing (``covers`` says when a call qualifies).

``nn.functional.losses.SoftmaxCrossEntropy`` computes the same on NumPy in about twelve array calls forward (the
row max, the shift, exp, the row sum, log, the gather at the targets, the reductions) and five backward, after four
more that check the labels. On an MNIST-sized batch (64 x 10) each call is a few microseconds of overhead for a few
hundred numbers: the loss took 95 us of a 0.9 ms MLP step against PyTorch's 38 us (benchmarks/README.md, tenth
session). Here one loop checks the labels, computes log-softmax and each row's loss, and another gives the gradient.

The loops restate the NumPy rule row by row: logp = (z - max z) - log(sum exp(z - max z)); loss_i = -logp[i, t_i],
0 where t_i is ``ignore_index``; dz = (exp(logp) - onehot(t)) * scale when no row is ignored (a batch with ignored
rows keeps NumPy's backward, whose target distribution also serves the double backward). The sums run in another
order than NumPy's pairwise ones and exp is LLVM's, so results agree with the NumPy path to rounding
(``tests/nn/test_nn_loss_kernels.py``), not bit for bit.
"""

import numpy as np

from . import compiled, usable


def covers(z, target):
    """True when the compiled loops take these arrays: NumPy, z float32/float64 of shape (M, C) and C-contiguous,
    target integer of shape (M,)."""
    return (usable(z, target) and z.ndim == 2 and z.dtype in (np.float32, np.float64) and z.flags.c_contiguous
            and target.ndim == 1 and target.dtype.kind in "iu")


def log_softmax_at_targets(z, target, ignore_index):
    """(logp, per_row, valid_rows, bad_row): log-softmax of each row of z (M, C), each row's loss -logp[i, t_i] (0
    where t_i is ``ignore_index``), how many rows are not ignored, and the first row whose label is outside [0, C)
    and not ``ignore_index`` (-1 when none; the caller raises)."""
    logp = np.empty_like(z)
    per = np.empty(z.shape[0], dtype=z.dtype)
    valid, bad = _forward_rows(z, target, ignore_index, logp, per)
    return logp, per, valid, bad


def softmax_minus_onehot(logp, target, scale):
    """dz = (exp(logp) - onehot(t)) * scale for rows whose labels are all in range (ignored rows take the NumPy path:
    ``SoftmaxCrossEntropy``). ``scale``: a number, or one number per row (reduction 'none'). A new array shaped like
    logp."""
    grad = np.empty_like(logp)
    per_row = np.ndim(scale) != 0
    scale = np.ascontiguousarray(scale, dtype=logp.dtype).reshape(-1)
    _backward_rows(logp, target, scale, per_row, grad)
    return grad


@compiled(parallel=False)
def _forward_rows(z, target, ignore_index, logp, per):
    """logp[i] = z[i] - max z[i] - log(sum exp(z[i] - max z[i])); per[i] = -logp[i, t_i], 0 on ignored rows.
    Returns (rows not ignored, first row with a label out of range or -1)."""
    m, c = z.shape
    valid = 0
    bad = -1
    for i in range(m):
        top = z[i, 0]
        for j in range(1, c):
            v = z[i, j]
            if v > top or v != v:
                top = v
        total = 0.0  # float64: a float32 row sums a little more exactly than NumPy's float32 sum
        for j in range(c):
            shifted = z[i, j] - top
            logp[i, j] = shifted
            total += np.exp(shifted)
        log_total = np.log(total)
        for j in range(c):
            logp[i, j] -= log_total
        t = target[i]
        if t == ignore_index:
            per[i] = 0
        elif t < 0 or t >= c:
            per[i] = 0
            if bad < 0:
                bad = i
        else:
            per[i] = -logp[i, t]
            valid += 1
    return valid, bad


@compiled(parallel=False)
def _backward_rows(logp, target, scale, per_row, grad):
    """grad[i, j] = (exp(logp[i, j]) - [j == t_i]) * scale[i if per_row else 0]."""
    m, c = logp.shape
    for i in range(m):
        s = scale[i] if per_row else scale[0]
        t = target[i]
        for j in range(c):
            p = np.exp(logp[i, j])
            grad[i, j] = (p - 1 if j == t else p) * s
