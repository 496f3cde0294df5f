"""Optimizer steps as one compiled loop over a flat parameter array, on every core: Adam/AdamW and SGD.

The NumPy rules in ``ganglion.optim`` (``Adam.update``, ``SGD.update``) make a dozen passes over the arrays, one
ufunc at a time, on one core; these loops read each element once, update it in registers and write it back, on every
thread. Each loop restates its algorithm's rule operation for operation, in the order and the precision of the NumPy
rule (the caller passes every constant already rounded to the arrays' dtype, and float32 stays float32 inside), so
the two give the same bits: ``tests/optim/test_optim_compiled.py`` steps both side by side and compares them.

Arrays: ``p`` (parameters, updated in place), ``g`` (gradient, read only) and the state arrays, all 1-D, of one
float dtype and the same length. An array an option does not use (``v_max`` without AMSGrad, ``buf`` without
momentum) is passed as any array of that dtype and is not touched.

Each loop is compiled twice: parallel, and serial for arrays below ``PARALLEL_MIN_SIZE``, where handing half the
work to another thread costs more than it saves (tens of microseconds on an idle machine; on a busy one the other
thread may wait a scheduler time slice, milliseconds, before it runs).
"""

import math

from . import compiled, prange

#: arrays shorter than this are updated on the calling thread alone
PARALLEL_MIN_SIZE = 1 << 17


def adam_(p, *args):
    """One Adam step over p (``_adam_loop``'s arguments), on every thread when p is long enough."""
    (_adam_loop if p.size >= PARALLEL_MIN_SIZE else _adam_loop_serial)(p, *args)


def sgd_(p, *args):
    """One SGD step over p (``_sgd_loop``'s arguments), on every thread when p is long enough."""
    (_sgd_loop if p.size >= PARALLEL_MIN_SIZE else _sgd_loop_serial)(p, *args)


@compiled
def _adam_loop(p, g, m, v, v_max, decay, maximize, l2, weight_decay, lerp_weight, lerp_from_end, lerp_rest, beta2,
               one_minus_beta2, amsgrad, bias_correction2_sqrt, eps, neg_step_size):
    """One Adam step, as ``optim.Adam.update``, element by element:

    p *= decay  (decoupled weight decay, decay = 1 - lr weight_decay; 1 when there is none);
    d = -g if maximize else g;  d += weight_decay p  (when ``l2``);
    m = lerp(m, d, 1 - b1)  (from m when lerp_weight < 0.5: m + w (d - m); else from d: d - (1 - w) (d - m));
    v = b2 v + (1 - b2) d^2;  v_max = max(v_max, v) (AMSGrad, used instead of v);
    p += (-lr / (1 - b1^t)) m / (sqrt(v) / sqrt(1 - b2^t) + eps).
    """
    for i in prange(p.size):
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


@compiled
def _sgd_loop(p, g, buf, maximize, l2, weight_decay, momentum, first, keep, nesterov, lr):
    """One SGD step, as ``optim.SGD.update``, element by element:

    d = -g if maximize else g;  d += weight_decay p  (when ``l2``);
    with momentum (> 0):  buf = d on the first step, else buf = momentum buf + keep d  (keep = 1 - dampening; the
    product is skipped when keep is 1, as the NumPy rule does);  d = d + momentum buf (Nesterov) or d = buf;
    p -= lr d.
    """
    for i in prange(p.size):
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


_adam_loop_serial = compiled(_adam_loop.py_func, parallel=False)
_sgd_loop_serial = compiled(_sgd_loop.py_func, parallel=False)
