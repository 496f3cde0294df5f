"""``keras.optimizers.schedules``: learning rates as functions of the optimizer's step count (``iterations``, 0 at
the first update). An optimizer given a schedule as ``learning_rate`` calls it before every step. Each schedule is a
plain formula of the step (Keras' formulas, in float64), with ``get_config`` so a saved model keeps it."""

import math

from .._registry import lookup
from ..saving.serialization import registered_name_of


def _step(step):
    """A step given as an int, a NumPy scalar or a 0-d Tensor, as a float."""
    if hasattr(step, "item"):
        step = step.item()
    return float(step)


def _positive(owner, name, value):
    if not value > 0:
        raise ValueError(f"{owner}: {name} must be > 0, got {name}={value!r}")


class LearningRateSchedule:
    """Base class: a callable ``schedule(step) -> learning rate``. Subclass it and override ``__call__`` and
    ``get_config`` (for saving)."""

    def __call__(self, step):
        raise NotImplementedError(f"learning rate schedule {type(self).__name__} must override __call__(self, step)")

    def get_config(self):
        raise NotImplementedError(
            f"learning rate schedule {type(self).__name__} must override get_config() to be saved with a model"
        )

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class ExponentialDecay(LearningRateSchedule):
    """lr(step) = initial_learning_rate * decay_rate ^ (step / decay_steps); the exponent is floored when
    ``staircase``."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name="ExponentialDecay"):
        _positive(type(self).__name__, "decay_steps", decay_steps)
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.decay_rate, self.staircase, self.name = decay_rate, staircase, name

    def __call__(self, step):
        p = _step(step) / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate * self.decay_rate ** p

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate, "staircase": self.staircase, "name": self.name}


class PiecewiseConstantDecay(LearningRateSchedule):
    """values[0] while step <= boundaries[0], values[i] while boundaries[i-1] < step <= boundaries[i], values[-1]
    after the last boundary."""

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        boundaries, values = list(boundaries), list(values)
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                f"PiecewiseConstantDecay: boundaries must have one entry less than values, got boundaries={boundaries}"
                f" ({len(boundaries)}) and values={values} ({len(values)})"
            )
        if any(later <= earlier for earlier, later in zip(boundaries, boundaries[1:])):
            raise ValueError(f"PiecewiseConstantDecay: boundaries must increase strictly, got {boundaries}")
        self.boundaries, self.values, self.name = boundaries, values, name

    def __call__(self, step):
        step = _step(step)
        for boundary, value in zip(self.boundaries, self.values):
            if step <= boundary:
                return value
        return self.values[-1]

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """lr(step) = (initial - end) * (1 - step / decay_steps) ^ power + end, with step capped at decay_steps; with
    ``cycle`` decay_steps becomes the first multiple of itself >= step (1 x at step 0)."""

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0, cycle=False,
                 name="PolynomialDecay"):
        _positive(type(self).__name__, "decay_steps", decay_steps)
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.end_learning_rate, self.power, self.cycle, self.name = end_learning_rate, power, cycle, name

    def __call__(self, step):
        step = _step(step)
        decay_steps = float(self.decay_steps)
        if self.cycle:
            decay_steps *= 1.0 if step == 0 else math.ceil(step / decay_steps)
        else:
            step = min(step, decay_steps)
        fraction = 1 - step / decay_steps
        return (self.initial_learning_rate - self.end_learning_rate) * fraction ** self.power + self.end_learning_rate

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "end_learning_rate": self.end_learning_rate, "power": self.power, "cycle": self.cycle,
                "name": self.name}


class InverseTimeDecay(LearningRateSchedule):
    """lr(step) = initial_learning_rate / (1 + decay_rate * step / decay_steps); the ratio is floored when
    ``staircase``."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name="InverseTimeDecay"):
        _positive(type(self).__name__, "decay_steps", decay_steps)
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.decay_rate, self.staircase, self.name = decay_rate, staircase, name

    def __call__(self, step):
        p = _step(step) / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate / (1 + self.decay_rate * p)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate, "staircase": self.staircase, "name": self.name}


def _cosine(fraction, alpha):
    """(1 - alpha) * (1 + cos(pi * fraction)) / 2 + alpha: 1 at fraction 0, alpha at fraction 1."""
    return (1 - alpha) * 0.5 * (1 + math.cos(math.pi * fraction)) + alpha


class CosineDecay(LearningRateSchedule):
    """Optional linear warmup from ``initial_learning_rate`` to ``warmup_target`` over ``warmup_steps``, then cosine
    decay over ``decay_steps`` from the warmup target (or the initial rate without warmup) down to ``alpha`` times
    it: lr = start * ((1 - alpha) * (1 + cos(pi * min(t, decay_steps) / decay_steps)) / 2 + alpha)."""

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay", warmup_target=None,
                 warmup_steps=0):
        _positive(type(self).__name__, "decay_steps", decay_steps)
        if warmup_steps < 0:
            raise ValueError(f"CosineDecay: warmup_steps must be >= 0, got {warmup_steps}")
        self.initial_learning_rate, self.decay_steps, self.alpha, self.name = (initial_learning_rate, decay_steps,
                                                                                alpha, name)
        self.warmup_target, self.warmup_steps = warmup_target, warmup_steps

    def __call__(self, step):
        step = _step(step)
        if self.warmup_target is None:
            return self.initial_learning_rate * _cosine(min(step, self.decay_steps) / self.decay_steps, self.alpha)
        step = min(step, self.decay_steps + self.warmup_steps)
        if step < self.warmup_steps:
            delta = self.warmup_target - self.initial_learning_rate
            return delta * step / self.warmup_steps + self.initial_learning_rate
        return self.warmup_target * _cosine((step - self.warmup_steps) / self.decay_steps, self.alpha)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "alpha": self.alpha, "name": self.name, "warmup_target": self.warmup_target,
                "warmup_steps": self.warmup_steps}


class CosineDecayRestarts(LearningRateSchedule):
    """SGDR: cosine decay from 1 to ``alpha`` (times the initial rate) over ``first_decay_steps``, then warm
    restarts, each period ``t_mul`` times longer than the last and starting ``m_mul`` times lower."""

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0, name="SGDRDecay"):
        _positive(type(self).__name__, "first_decay_steps", first_decay_steps)
        self.initial_learning_rate, self.first_decay_steps = initial_learning_rate, first_decay_steps
        self._t_mul, self._m_mul, self.alpha, self.name = t_mul, m_mul, alpha, name

    def __call__(self, step):
        fraction = _step(step) / self.first_decay_steps
        t_mul = self._t_mul
        if t_mul == 1.0:
            restart = math.floor(fraction)
            fraction -= restart
        else:  # periods 1, t, t^2, ...: restart i begins at (1 - t^i) / (1 - t) first periods
            restart = math.floor(math.log(1.0 - fraction * (1.0 - t_mul)) / math.log(t_mul))
            start = (1.0 - t_mul ** restart) / (1.0 - t_mul)
            fraction = (fraction - start) / t_mul ** restart
        scale = self._m_mul ** restart
        decayed = (1 - self.alpha) * 0.5 * scale * (1.0 + math.cos(math.pi * fraction)) + self.alpha
        return self.initial_learning_rate * decayed

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "first_decay_steps": self.first_decay_steps,
                "t_mul": self._t_mul, "m_mul": self._m_mul, "alpha": self.alpha, "name": self.name}


_ALL = {cls.__name__: cls for cls in (LearningRateSchedule, ExponentialDecay, PiecewiseConstantDecay,
                                      PolynomialDecay, InverseTimeDecay, CosineDecay, CosineDecayRestarts)}


def serialize(schedule):
    """A schedule as a JSON-ready dict: {"class_name": ..., "config": ...}."""
    if not isinstance(schedule, LearningRateSchedule):
        raise ValueError(f"serialize expects a keras.optimizers.schedules.LearningRateSchedule, got {schedule!r}")
    name = registered_name_of(type(schedule))
    return {"module": "keras.optimizers.schedules", "class_name": name, "config": schedule.get_config(),
            "registered_name": None if name == type(schedule).__name__ else name}


def deserialize(config, custom_objects=None):
    """A schedule from ``serialize``'s dict (built-in classes, ``custom_objects`` or registered classes)."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"deserialize expects a dict with 'class_name' and 'config', got {config!r}")
    from ..saving.serialization import _REGISTRY

    table = {**_ALL, **_REGISTRY, **(custom_objects or {})}
    cls = lookup("learning rate schedule", config["class_name"], table, instantiate=False)
    return cls.from_config(dict(config.get("config") or {}))


def get(identifier):
    """A schedule from an instance or a config dict (as ``serialize`` writes it)."""
    if isinstance(identifier, LearningRateSchedule):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    raise ValueError(f"could not interpret learning rate schedule {identifier!r}: give a schedule or its config")
