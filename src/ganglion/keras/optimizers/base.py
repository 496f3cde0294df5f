"""The Keras optimizer face: Keras' argument names (``learning_rate``, ``beta_1``, ``epsilon``, ``clipnorm``,
``clipvalue``, ``global_clipnorm``, ``weight_decay``) over an engine optimizer from ``ganglion.optim``, created when
the model's parameters are known. The update rule is the engine's; this class adds what Keras does around it:

- ``learning_rate`` may be a schedule (a callable of the step number), read before every step;
- gradients are clipped per variable (``clipnorm``, ``clipvalue``) or globally (``global_clipnorm``);
- ``weight_decay`` is decoupled, as in Keras: w <- w - lr * weight_decay * w before the update
  (``optim.weight_decay.decoupled_weight_decay_``, the engine's AdamW decay);
- ``iterations`` counts the updates; ``variables`` lists the optimizer's state as Keras counts it.
"""

import numpy as np

from ... import backend
from ...autograd.grad_mode import no_grad
from ...nn.utils.clip_grad import clip_grad_norm_, clip_grad_value_
from ...optim.weight_decay import decoupled_weight_decay_
from ...tensor import Tensor


class Optimizer:
    """Base class. Subclasses set ``engine`` (an ``optim`` class) and ``engine_names``, and pass their own Keras
    arguments (those names) on to this ``__init__``, which keeps them as attributes."""

    engine = None
    #: the subclass's own Keras arguments -> the engine's argument each one sets; names mapped to the same engine
    #: argument make a tuple of it, in order ({"beta_1": "betas", "beta_2": "betas"} gives betas=(beta_1, beta_2))
    engine_names = {}
    _extra_scalars = 0  # Keras variables beyond iterations, learning rate and per-weight slots (Nadam's u_product)

    def __init__(self, learning_rate=0.001, weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 name=None, **kwargs):
        for own in self.engine_names:
            setattr(self, own, kwargs.pop(own))
        unknown = set(kwargs) - {"use_ema", "ema_momentum", "ema_overwrite_frequency", "loss_scale_factor",
                                 "gradient_accumulation_steps", "jit_compile"}
        if unknown:
            raise TypeError(f"{type(self).__name__}: unexpected keyword argument(s) {sorted(unknown)}")
        if kwargs.get("use_ema") or kwargs.get("gradient_accumulation_steps") or kwargs.get("loss_scale_factor"):
            raise ValueError(f"{type(self).__name__}: use_ema, gradient_accumulation_steps and loss_scale_factor are "
                             "not supported by ganglion's Keras optimizers")
        if sum(c is not None for c in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(f"{type(self).__name__}: only one of clipnorm, clipvalue and global_clipnorm can be set, "
                             f"got clipnorm={clipnorm}, clipvalue={clipvalue}, global_clipnorm={global_clipnorm}")
        for arg, value in (("clipnorm", clipnorm), ("clipvalue", clipvalue), ("global_clipnorm", global_clipnorm),
                           ("weight_decay", weight_decay)):
            if value is not None and (not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0):
                raise ValueError(f"{type(self).__name__}: {arg} must be a non-negative number or None, got {value!r}")
        self._check_learning_rate(learning_rate)
        self._learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        self.name = name or type(self).__name__.lower()
        self.iterations = 0
        self._engine = None
        self._params = None

    def _check_learning_rate(self, value):
        if callable(value):
            return
        if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) or value < 0:
            raise ValueError(f"{type(self).__name__}: learning_rate must be a non-negative number or a schedule "
                             f"(a keras.optimizers.schedules object or a function of the step), got {value!r}")

    # ------------------------------------------------------------------------------------------------ engine
    def engine_arguments(self):
        """Keyword arguments (other than params and lr) for the engine optimizer, from ``engine_names``."""
        values = {}
        for keras_name, engine_name in self.engine_names.items():
            values.setdefault(engine_name, []).append(getattr(self, keras_name))
        return {name: tuple(found) if len(found) > 1 else found[0] for name, found in values.items()}

    def build(self, variables):
        """Create the engine optimizer for ``variables`` (Parameters, or Keras weights from ``model.trainable_weights``)."""
        params = [v.parameter if hasattr(v, "parameter") else v for v in variables]
        if not params:
            raise ValueError(f"{type(self).__name__}: there are no trainable weights to optimize (every layer is "
                             "frozen, or the model has no weights)")
        self._params = params
        self._engine = self.engine(params, lr=self.current_learning_rate(), **self.engine_arguments())

    @property
    def built(self):
        return self._engine is not None

    @property
    def params(self):
        """The engine Parameters this optimizer updates, in the order it was built with (None before ``build``).
        ``fit`` clears their gradients before each step."""
        return self._params

    @property
    def learning_rate(self):
        """The learning rate of the next step (a schedule is evaluated at ``iterations``)."""
        return self.current_learning_rate()

    @learning_rate.setter
    def learning_rate(self, value):
        value = value.item() if isinstance(value, Tensor) else value
        self._check_learning_rate(value)
        self._learning_rate = value

    def current_learning_rate(self):
        lr = self._learning_rate
        return float(lr(self.iterations)) if callable(lr) else float(lr)

    @property
    def variables(self):
        """The optimizer's state as Keras counts it: the iteration count, the learning rate (unless a schedule),
        then each weight's slots (e.g. Adam's momentums and velocities), as NumPy arrays."""
        out = [np.asarray(self.iterations, dtype=np.int64)]
        if not callable(self._learning_rate):
            out.append(np.asarray(self._learning_rate, dtype=np.float32))
        if not self.built:
            return out
        engine = self._engine
        states = {id(p): values for _, p, values in engine.param_states()}
        for group in engine.param_groups:
            names = [n for n in engine.state_names(group) if n not in engine.scalar_state]
            for p in group["params"]:
                values = states.get(id(p)) or {}
                for n in names:
                    value = values.get(n)
                    out.append(backend.to_numpy(value).reshape(p.shape) if value is not None
                               else np.zeros(p.shape, dtype=p.dtype))
        out.extend(np.ones((), dtype=np.float32) for _ in range(self._extra_scalars))
        return out

    # -------------------------------------------------------------------------------------------------- step
    def apply_gradients(self, grads_and_vars=None):
        """One update. Without arguments (as ``fit`` calls it) from the ``.grad`` of the built parameters; with
        Keras' ``zip(grads, variables)`` from the given gradients (in each variable's Keras layout)."""
        if grads_and_vars is not None:
            pairs = list(grads_and_vars)
            return self.apply([g for g, _ in pairs], [v for _, v in pairs])
        params = self._params
        lr = self.current_learning_rate()
        for group in self._engine.param_groups:
            group["lr"] = lr
        if self.clipnorm is not None:
            for p in params:
                if p.grad is not None:
                    clip_grad_norm_([p], self.clipnorm)
        elif self.clipvalue is not None:
            clip_grad_value_([p for p in params if p.grad is not None], self.clipvalue)
        elif self.global_clipnorm is not None:
            clip_grad_norm_([p for p in params if p.grad is not None], self.global_clipnorm)
        if self.weight_decay:
            with no_grad():
                for p in params:
                    if p.grad is not None:
                        decoupled_weight_decay_(p.array, lr, self.weight_decay)
        self._engine.step()
        self.iterations += 1
        return self.iterations

    def apply(self, grads, trainable_variables=None):
        """Keras' ``apply(grads, variables)``: set each variable's gradient and take one step (building the
        optimizer on ``trainable_variables`` the first time)."""
        if trainable_variables is None:
            if not self.built:
                raise ValueError(f"{type(self).__name__}.apply: give trainable_variables the first time (the "
                                 "optimizer is not built yet)")
            trainable_variables = self._params
        variables = list(trainable_variables)
        if len(grads) != len(variables):
            raise ValueError(f"{type(self).__name__}.apply: got {len(grads)} gradients for {len(variables)} variables")
        params = [v.parameter if hasattr(v, "parameter") else v for v in variables]
        if not self.built:
            self.build(params)
        known = {id(p) for p in self._params}
        for p in params:
            if id(p) not in known:
                raise ValueError(f"{type(self).__name__}.apply: a variable of shape {tuple(p.shape)} is not one the "
                                 "optimizer was built with; create a new optimizer for new variables")
        for p in self._params:
            p.grad = None
        for g, v, p in zip(grads, variables, params):
            if g is None:
                continue
            array = g.array if isinstance(g, Tensor) else np.asarray(g)
            if tuple(array.shape) != tuple(v.shape):
                raise ValueError(f"{type(self).__name__}.apply: gradient of shape {tuple(array.shape)} for a variable "
                                 f"of shape {tuple(v.shape)}")
            if hasattr(v, "from_keras"):  # a Keras weight: its gradient comes in Keras' layout
                array = v.from_keras(backend.to_numpy(array))
            p.grad = Tensor._wrap(backend.to_device(np.asarray(array, dtype=p.dtype), p.device))
        return self.apply_gradients()

    # ------------------------------------------------------------------------------------------------- state
    def get_config(self):
        lr = self._learning_rate
        config = {"name": self.name, "learning_rate": lr if not callable(lr) else _serialize_schedule(lr),
                  "weight_decay": self.weight_decay, "clipnorm": self.clipnorm, "clipvalue": self.clipvalue,
                  "global_clipnorm": self.global_clipnorm}
        config.update({name: getattr(self, name) for name in self.engine_names})
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        lr = config.get("learning_rate")
        if isinstance(lr, dict):
            config["learning_rate"] = _deserialize_schedule(lr, custom_objects)
        return cls(**config)

    def state_dict(self):
        """{'iterations', 'engine': the engine optimizer's state_dict (None before the first build)}."""
        return {"iterations": self.iterations, "engine": None if self._engine is None else self._engine.state_dict()}

    def load_state_dict(self, state):
        self.iterations = int(state["iterations"])
        if state.get("engine") is not None:
            if self._engine is None:
                raise ValueError("load the optimizer state after the optimizer is built (after compile and build)")
            self._engine.load_state_dict(state["engine"])

    def __repr__(self):
        return f"<{type(self).__name__} learning_rate={self._learning_rate!r}, iterations={self.iterations}>"


def _serialize_schedule(schedule):
    if hasattr(schedule, "get_config"):
        from ..saving.serialization import registered_name_of

        return {"class_name": registered_name_of(type(schedule)),
                "config": schedule.get_config()}
    raise ValueError(f"cannot save a learning-rate function {schedule!r}: use a keras.optimizers.schedules class "
                     "(or a LearningRateSchedule subclass with get_config)")


def _deserialize_schedule(config, custom_objects=None):
    """A schedule from {"class_name", "config"}: the built-in schedules, registered classes or custom_objects."""
    from .._registry import REGISTRY
    from . import schedules

    name = config.get("class_name")
    table = dict(custom_objects or {})
    for key, value in list(REGISTRY.items()) + list(schedules._ALL.items()):
        if isinstance(value, type) and issubclass(value, schedules.LearningRateSchedule):
            table.setdefault(key, value)
    if name not in table:
        from .._registry import unknown_name_message

        accepted = {k: v for k, v in table.items() if ">" not in k}
        raise ValueError(unknown_name_message("learning rate schedule", str(name), accepted))
    return table[name].from_config(config.get("config") or {})
