"""``keras.optimizers.schedules``: learning rates as functions of the optimizer's step count (``iterations``, 0 at
the first update). An optimizer given a schedule as ``learning_rate`` calls it before every step. Each schedule is a
formula of the step (Keras' formulas, in float64) from ``optim.lr_scheduler.formulas``, which the PyTorch-style
schedules share, with ``get_config`` so a saved model keeps it."""

from ...optim.lr_scheduler import formulas
from .._registry import lookup
from ..saving.serialization import registered_name_of

_positive = formulas.check_positive


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


class _BuiltIn(LearningRateSchedule):
    """A built-in schedule: its configuration is its constructor's arguments, kept as attributes of the same names
    (``config_names``)."""

    config_names = ()

    def get_config(self):
        return {name: getattr(self, name) for name in self.config_names}


class _RateDecay(_BuiltIn):
    """A decay by ``decay_rate`` every ``decay_steps`` steps (continuous, or by whole periods when ``staircase``):
    lr(step) = formula(initial_learning_rate, step, decay_steps, decay_rate, staircase)."""

    config_names = ("initial_learning_rate", "decay_steps", "decay_rate", "staircase", "name")
    formula = None  # one of ``optim.lr_scheduler.formulas``

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name=None):
        _positive(type(self).__name__, "decay_steps", decay_steps)
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.decay_rate, self.staircase, self.name = decay_rate, staircase, name or type(self).__name__

    def __call__(self, step):
        return type(self).formula(self.initial_learning_rate, step, self.decay_steps, self.decay_rate, self.staircase)


class ExponentialDecay(_RateDecay):
    """lr(step) = initial_learning_rate * decay_rate ^ (step / decay_steps); the exponent is floored when
    ``staircase``."""

    formula = staticmethod(formulas.exponential)


class PiecewiseConstantDecay(_BuiltIn):
    """values[0] while step <= boundaries[0], values[i] while boundaries[i-1] < step <= boundaries[i], values[-1]
    after the last boundary."""

    config_names = ("boundaries", "values", "name")

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        boundaries, values = list(boundaries), list(values)
        formulas.check_piecewise(type(self).__name__, boundaries, values)
        self.boundaries, self.values, self.name = boundaries, values, name

    def __call__(self, step):
        return formulas.piecewise_constant(step, self.boundaries, self.values)


class PolynomialDecay(_BuiltIn):
    """lr(step) = (initial - end) * (1 - step / decay_steps) ^ power + end, with step capped at decay_steps; with
    ``cycle`` decay_steps becomes the first multiple of itself >= step (1 x at step 0)."""

    config_names = ("initial_learning_rate", "decay_steps", "end_learning_rate", "power", "cycle", "name")

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0, cycle=False,
                 name="PolynomialDecay"):
        _positive(type(self).__name__, "decay_steps", decay_steps)
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.end_learning_rate, self.power, self.cycle, self.name = end_learning_rate, power, cycle, name

    def __call__(self, step):
        return formulas.polynomial(self.initial_learning_rate, step, self.decay_steps, self.end_learning_rate,
                                   self.power, self.cycle)


class InverseTimeDecay(_RateDecay):
    """lr(step) = initial_learning_rate / (1 + decay_rate * step / decay_steps); the ratio is floored when
    ``staircase``."""

    formula = staticmethod(formulas.inverse_time)

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name="InverseTimeDecay"):
        formulas.check_decay_rate(type(self).__name__, decay_rate)
        super().__init__(initial_learning_rate, decay_steps, decay_rate, staircase, name)


class CosineDecay(_BuiltIn):
    """Optional linear warmup from ``initial_learning_rate`` to ``warmup_target`` over ``warmup_steps``, then cosine
    decay over ``decay_steps`` from the warmup target (or the initial rate without warmup) down to ``alpha`` times
    it: lr = start * ((1 - alpha) * (1 + cos(pi * min(t, decay_steps) / decay_steps)) / 2 + alpha)."""

    config_names = ("initial_learning_rate", "decay_steps", "alpha", "name", "warmup_target", "warmup_steps")

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay", warmup_target=None,
                 warmup_steps=0):
        _positive(type(self).__name__, "decay_steps", decay_steps)
        if warmup_steps < 0:
            raise ValueError(f"CosineDecay: warmup_steps must be >= 0, got {warmup_steps}")
        self.initial_learning_rate, self.decay_steps, self.alpha, self.name = (initial_learning_rate, decay_steps,
                                                                                alpha, name)
        self.warmup_target, self.warmup_steps = warmup_target, warmup_steps

    def __call__(self, step):
        return formulas.cosine_warmup(self.initial_learning_rate, step, self.decay_steps, self.alpha,
                                      self.warmup_target, self.warmup_steps)


class CosineDecayRestarts(LearningRateSchedule):
    """SGDR: cosine decay from 1 to ``alpha`` (times the initial rate) over ``first_decay_steps``, then warm
    restarts, each period ``t_mul`` times longer than the last and starting ``m_mul`` times lower."""

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0, name="SGDRDecay"):
        _positive(type(self).__name__, "first_decay_steps", first_decay_steps)
        self.initial_learning_rate, self.first_decay_steps = initial_learning_rate, first_decay_steps
        self._t_mul, self._m_mul, self.alpha, self.name = t_mul, m_mul, alpha, name

    def __call__(self, step):
        restart, fraction = formulas.restarts(step, self.first_decay_steps, self._t_mul)
        return self.initial_learning_rate * formulas.cosine(fraction, self.alpha, self._m_mul ** restart)

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
    from .._registry import REGISTRY

    table = {**_ALL, **REGISTRY, **(custom_objects or {})}
    cls = lookup("learning rate schedule", config["class_name"], table, instantiate=False)
    return cls.from_config(dict(config.get("config") or {}))


def get(identifier):
    """A schedule from an instance or a config dict (as ``serialize`` writes it)."""
    if isinstance(identifier, LearningRateSchedule):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    raise ValueError(f"could not interpret learning rate schedule {identifier!r}: give a schedule or its config")
