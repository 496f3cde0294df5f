"""The Keras optimizer face: Keras' argument names (``learning_rate``, ``beta_1``, ``epsilon``, ``clipnorm``,
``clipvalue``, ``global_clipnorm``, ``weight_decay``) over an engine optimizer from ``ganglion.optim``, created when
the model's parameters are known. The update rule is the engine's; this class adds what Keras does around it:

- ``learning_rate`` may be a schedule (a callable of the step number), read before every step;
- gradients are clipped per variable (``clipnorm``, ``clipvalue``) or globally (``global_clipnorm``);
- ``weight_decay`` is decoupled, as in Keras: w <- w - lr * weight_decay * w before the update.
"""

from ...autograd.grad_mode import no_grad
from ...nn.utils.clip_grad import clip_grad_norm_, clip_grad_value_


class Optimizer:
    """Base class. Subclasses set ``engine`` (an ``optim`` class) and ``engine_arguments()``."""

    engine = None

    def __init__(self, learning_rate=0.001, weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 name=None, **kwargs):
        unknown = set(kwargs) - {"use_ema", "ema_momentum", "ema_overwrite_frequency", "loss_scale_factor",
                                 "gradient_accumulation_steps", "jit_compile"}
        if unknown:
            raise TypeError(f"{type(self).__name__}: unexpected keyword argument(s) {sorted(unknown)}")
        if sum(c is not None for c in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError("only one of clipnorm, clipvalue and global_clipnorm can be set")
        if not callable(learning_rate) and learning_rate < 0:
            raise ValueError(f"{type(self).__name__}: learning_rate must be non-negative, got {learning_rate}")
        self._learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        self.name = name or type(self).__name__.lower()
        self.iterations = 0
        self._engine = None
        self._params = None

    # ------------------------------------------------------------------------------------------------ engine
    def engine_arguments(self):
        """Keyword arguments (other than params and lr) for the engine optimizer."""
        return {}

    def build(self, parameters):
        """Create the engine optimizer for ``parameters`` (a list of trainable Parameters)."""
        self._params = list(parameters)
        if not self._params:
            raise ValueError(f"{type(self).__name__}: the model has no trainable weights")
        self._engine = self.engine(self._params, lr=self.current_learning_rate(), **self.engine_arguments())

    @property
    def built(self):
        return self._engine is not None

    @property
    def learning_rate(self):
        return self.current_learning_rate()

    @learning_rate.setter
    def learning_rate(self, value):
        self._learning_rate = value

    def current_learning_rate(self):
        lr = self._learning_rate
        return float(lr(self.iterations)) if callable(lr) else float(lr)

    # -------------------------------------------------------------------------------------------------- step
    def apply_gradients(self):
        """One update of the built parameters from their ``.grad`` (Keras' apply step)."""
        params = [p for p in self._params if p.grad is not None]
        lr = self.current_learning_rate()
        for group in self._engine.param_groups:
            group["lr"] = lr
        if self.clipnorm is not None:
            for p in params:
                clip_grad_norm_([p], self.clipnorm)
        elif self.clipvalue is not None:
            clip_grad_value_(params, self.clipvalue)
        elif self.global_clipnorm is not None:
            clip_grad_norm_(params, self.global_clipnorm)
        if self.weight_decay:
            with no_grad():
                for p in params:
                    p.array *= 1 - lr * self.weight_decay
        self._engine.step()
        self.iterations += 1

    # ------------------------------------------------------------------------------------------------- state
    def get_config(self):
        lr = self._learning_rate
        config = {"name": self.name, "learning_rate": lr if not callable(lr) else _serialize_schedule(lr),
                  "weight_decay": self.weight_decay, "clipnorm": self.clipnorm, "clipvalue": self.clipvalue,
                  "global_clipnorm": self.global_clipnorm}
        config.update(self._own_config())
        return config

    def _own_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        lr = config.get("learning_rate")
        if isinstance(lr, dict):
            from .schedules import deserialize

            config["learning_rate"] = deserialize(lr)
        return cls(**config)

    def state_dict(self):
        return {"iterations": self.iterations, "engine": None if self._engine is None else self._engine.state_dict()}

    def load_state_dict(self, state):
        self.iterations = int(state["iterations"])
        if state.get("engine") is not None:
            if self._engine is None:
                raise ValueError("load the optimizer state after the optimizer is built (after compile and build)")
            self._engine.load_state_dict(state["engine"])


def _serialize_schedule(schedule):
    if hasattr(schedule, "get_config"):
        return {"class_name": type(schedule).__name__, "config": schedule.get_config()}
    raise ValueError(f"cannot save a learning-rate function {schedule!r}; use a keras.optimizers.schedules class")
