"""Optimizer steps as one compiled loop over a flat parameter array, on every core: Adam/AdamW and SGD.

The NumPy rules in ``ganglion.optim`` (``Adam.update``, ``SGD.update``) make a dozen passes over the arrays, one
ufunc at a time, on one core; these loops read each element once, update it in registers and write it back, on every
thread. Each loop restates its algorithm's rule operation for operation, in the order and the precision of the NumPy
rule (the caller passes every constant already rounded to the arrays' dtype, and float32 stays float32 inside), so
the two give the same bits: ``tests/optim/test_optim_compiled.py`` steps both side by side and compares them.

Arrays: ``p`` (parameters, updated in place), ``g`` (gradient, read only) and the state arrays, all 1-D, of one
float dtype and the same length. An array an option does not use (``v_max`` without AMSGrad, ``buf`` without
momentum) is passed as any array of that dtype and is not touched. ``adam_`` and ``sgd_`` take the gradient as a list
of pieces laid end to end over p (a bucket's parameters lie end to end in one flat array, their gradients apart), so
one call steps every parameter of a bucket without copying the gradients together.

The loops are compiled with NumPy's error model (``compiled(numpy_errors=True)``): a division by zero gives inf or
NaN, as the NumPy rule does, and without the check for it LLVM vectorizes Adam's division and square root (10x
faster; vector square roots and divisions round as the scalar ones, so the bits stay the same).

Each loop is compiled serial and shared over the threads in chunks by ``kernels.parallel_ranges`` (arrays below
``GRAIN`` elements stay on the calling thread, where handing work to another thread costs more than it saves): a
busy machine then costs at most one chunk over one thread, where numba's own parallel loop waited for the other
thread to be scheduled (118 ms against 29 ms per Adam step at load 20; benchmarks/README.md).
"""

import math

import numpy as np

from . import compiled, parallel_ranges

#: the smallest chunk handed to another thread
GRAIN = 1 << 16


def _over_ranges(loop, p, grads, args):
    """Run ``loop(p, g, *args)`` over all of p, whose gradient ``grads`` comes in pieces: 1-D arrays laid end to end
    over p (their sizes add up to p.size), e.g. each parameter's own gradient, so that none is copied into one array.

    p is cut into chunks (of at least ``GRAIN`` elements, shared over the threads by ``parallel_ranges``; one chunk
    when p is short) and each chunk into the pieces of gradient it spans; every array argument as long as p (the
    state) is cut with p, the rest (the constants, and the placeholder arrays an option does not use) passed whole.
    One call for the whole of p: the threads are handed work once per step, not once per parameter.
    """
    size = p.size
    offsets = [0]
    for g in grads:
        offsets.append(offsets[-1] + g.size)
    if offsets[-1] != size:  # the loops do not check bounds
        raise ValueError(f"optimizer step: the gradient pieces hold {offsets[-1]} numbers, the parameters {size}")
    if size < 2 * GRAIN and len(grads) == 1:  # one chunk, one piece (a flat bucket of small parameters): as it is
        loop(p, grads[0], *args)
        return
    cut = [i for i, a in enumerate(args) if isinstance(a, np.ndarray) and a.shape == (size,)]

    def work(start, stop):
        for g, lo, hi in zip(grads, offsets, offsets[1:]):
            a, b = max(start, lo), min(stop, hi)
            if a < b:
                parts = list(args)
                for i in cut:
                    parts[i] = args[i][a:b]
                loop(p[a:b], g[a - lo:b - lo], *parts)

    if size < 2 * GRAIN:  # one chunk: no hand-off
        work(0, size)
    else:
        parallel_ranges(size, work, GRAIN)


def adam_(p, grads, *args):
    """One Adam step over p, its gradient in the pieces ``grads`` (``_over_ranges``; ``_adam_loop``'s other
    arguments), shared over the threads when p is long enough."""
    _over_ranges(_adam_loop, p, grads, args)


def sgd_(p, grads, *args):
    """One SGD step over p, its gradient in the pieces ``grads`` (``_over_ranges``; ``_sgd_loop``'s other
    arguments), shared over the threads when p is long enough."""
    _over_ranges(_sgd_loop, p, grads, args)


@compiled(parallel=False, numpy_errors=True)
def _adam_loop(p, g, m, v, v_max, decay, maximize, l2, weight_decay, lerp_weight, lerp_from_end, lerp_rest, beta2,
               one_minus_beta2, amsgrad, bias_correction2_sqrt, eps, neg_step_size):
    """One Adam step, as ``optim.Adam.update``, element by element:

    p *= decay  (decoupled weight decay, decay = 1 - lr weight_decay; 1 when there is none);
    d = -g if maximize else g;  d += weight_decay p  (when ``l2``);
    m = lerp(m, d, 1 - b1)  (from m when lerp_weight < 0.5: m + w (d - m); else from d: d - (1 - w) (d - m));
    v = b2 v + (1 - b2) d^2;  v_max = max(v_max, v) (AMSGrad, used instead of v);
    p += (-lr / (1 - b1^t)) m / (sqrt(v) / sqrt(1 - b2^t) + eps).
    """
    for i in range(p.size):
        w = p[i] * decay
        d = -g[i] if maximize else g[i]
        if l2:
            d = w * weight_decay + d
        diff = d - m[i]
        if lerp_from_end:
            mi = d - diff * lerp_rest
        else:
            mi = m[i] + diff * lerp_weight
        m[i] = mi
        vi = v[i] * beta2 + d * one_minus_beta2 * d
        v[i] = vi
        if amsgrad:
            vm = v_max[i]
            if vi > vm or vi != vi:  # np.maximum: the larger, NaN when either is NaN
                vm = vi
            v_max[i] = vm
            vi = vm
        p[i] = w + mi * neg_step_size / (math.sqrt(vi) / bias_correction2_sqrt + eps)


@compiled(parallel=False, numpy_errors=True)
def _sgd_loop(p, g, buf, maximize, l2, weight_decay, momentum, first, keep, nesterov, lr):
    """One SGD step, as ``optim.SGD.update``, element by element:

    d = -g if maximize else g;  d += weight_decay p  (when ``l2``);
    with momentum (> 0):  buf = d on the first step, else buf = momentum buf + keep d  (keep = 1 - dampening; the
    product is skipped when keep is 1, as the NumPy rule does);  d = d + momentum buf (Nesterov) or d = buf;
    p -= lr d.
    """
    for i in range(p.size):
        w = p[i]
        d = -g[i] if maximize else g[i]
        if l2:
            d = w * weight_decay + d
        if momentum != 0:
            if first:
                b = d
            elif keep == 1:
                b = buf[i] * momentum + d
            else:
                b = buf[i] * momentum + d * keep
            buf[i] = b
            d = b * momentum + d if nesterov else b
        p[i] = w - d * lr

