"""The decay formulas, written once: pure functions of the step (an epoch for ``lr_scheduler``, an update count for
``keras.optimizers.schedules``), and the one validation of their arguments. Both faces call these; a schedule class
adds only its own bookkeeping (param groups and chaining, or Keras' config).

    exponential     initial * rate ^ (step / decay_steps)                      (exponent floored with staircase)
    inverse_time    initial / (1 + rate * step / decay_steps)                  (ratio floored with staircase)
    piecewise       values[i] for boundaries[i-1] < step <= boundaries[i]
    polynomial      (initial - end) (1 - min(step, decay_steps) / decay_steps) ^ power + end
    cosine          (1 - alpha) (1 + cos(pi fraction)) / 2 + alpha              (a factor: 1 at 0, alpha at 1)
    cosine_warmup   linear warmup, then cosine
    restarts        SGDR's restart index and the fraction of the current period
"""

import math
import numbers
from bisect import bisect_left


def _as_float(step):
    """A step given as an int, a NumPy scalar or a 0-d Tensor, as a float."""
    if hasattr(step, "item"):
        step = step.item()
    return float(step)


# ------------------------------------------------------------------------------------------------- validation
def check_positive(owner, name, value):
    """``value`` must be a number > 0 (decay_steps, first_decay_steps)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0:
        raise ValueError(f"{owner}: {name} must be > 0, got {name}={value!r}")


def check_decay_rate(owner, decay_rate):
    """An inverse-time decay rate must be a number >= 0 (a negative one reaches a zero denominator)."""
    if isinstance(decay_rate, bool) or not isinstance(decay_rate, numbers.Real) or decay_rate < 0:
        raise ValueError(f"{owner}: decay_rate must be a non-negative number, got {decay_rate!r}")


def check_piecewise(owner, boundaries, values):
    """Boundaries strictly increasing, and one value more than boundaries."""
    boundaries, values = list(boundaries), list(values)
    if any(later <= earlier for earlier, later in zip(boundaries, boundaries[1:])):
        raise ValueError(f"{owner}: boundaries must increase strictly (be strictly increasing), got {boundaries}")
    if len(values) != len(boundaries) + 1:
        raise ValueError(f"{owner}: boundaries must have one entry less than values: expected len(boundaries) + 1 = "
                         f"{len(boundaries) + 1} values, got {len(values)} ({values}) for boundaries {boundaries}")


# --------------------------------------------------------------------------------------------------- formulas
def exponential(initial, step, decay_steps, decay_rate, staircase=False):
    """initial * decay_rate ^ (step / decay_steps); the exponent is floored when ``staircase``."""
    p = _as_float(step) / decay_steps
    if staircase:
        p = math.floor(p)
    return initial * decay_rate ** p


def inverse_time_denominator(step, decay_steps, decay_rate, staircase=False):
    """1 + decay_rate * step / decay_steps (the ratio floored when ``staircase``): inverse-time decay's divisor."""
    p = _as_float(step) / decay_steps
    if staircase:
        p = math.floor(p)
    return 1 + decay_rate * p


def inverse_time(initial, step, decay_steps, decay_rate, staircase=False):
    """initial / (1 + decay_rate * step / decay_steps): the notes' 1/t decay."""
    return initial / inverse_time_denominator(step, decay_steps, decay_rate, staircase)


def piecewise_constant(step, boundaries, values):
    """values[0] while step <= boundaries[0], values[i] while boundaries[i-1] < step <= boundaries[i], values[-1]
    after the last boundary."""
    return values[bisect_left(boundaries, _as_float(step))]


def polynomial(initial, step, decay_steps, end=0.0, power=1.0, cycle=False):
    """(initial - end) * (1 - step / decay_steps) ^ power + end, with step capped at decay_steps; with ``cycle``
    decay_steps becomes the first multiple of itself >= step (1 x at step 0)."""
    step, decay_steps = _as_float(step), float(decay_steps)
    if cycle:
        decay_steps *= 1.0 if step == 0 else math.ceil(step / decay_steps)
    else:
        step = min(step, decay_steps)
    fraction = 1 - step / decay_steps
    return (initial - end) * fraction ** power + end


def cosine(fraction, alpha=0.0, scale=1.0):
    """(1 - alpha) * scale * (1 + cos(pi * fraction)) / 2 + alpha: scale + alpha (1 - scale) at fraction 0, alpha at
    fraction 1 (``scale``: SGDR's lower restarts)."""
    return (1 - alpha) * 0.5 * scale * (1 + math.cos(math.pi * fraction)) + alpha


def cosine_warmup(initial, step, decay_steps, alpha=0.0, warmup_target=None, warmup_steps=0):
    """Linear warmup from ``initial`` to ``warmup_target`` over ``warmup_steps``, then ``cosine`` decay over
    ``decay_steps`` from the warmup target (``initial`` without one) to ``alpha`` times it; constant afterwards."""
    step = _as_float(step)
    if warmup_target is None:
        return initial * cosine(min(step, decay_steps) / decay_steps, alpha)
    step = min(step, decay_steps + warmup_steps)
    if step < warmup_steps:
        return (warmup_target - initial) * step / warmup_steps + initial
    return warmup_target * cosine((step - warmup_steps) / decay_steps, alpha)


def restarts(step, first_period, t_mul=2.0):
    """SGDR's periods, first_period long and each ``t_mul`` times the last: (index of the current period, fraction
    of it done). Restart i begins at first_period (1 - t_mul^i) / (1 - t_mul)."""
    fraction = _as_float(step) / first_period
    if t_mul == 1.0:
        restart = math.floor(fraction)
        return restart, fraction - restart
    restart = math.floor(math.log(1.0 - fraction * (1.0 - t_mul)) / math.log(t_mul))
    start = (1.0 - t_mul ** restart) / (1.0 - t_mul)
    return restart, (fraction - start) / t_mul ** restart
