"""The metric machinery: ``Metric`` (state accumulated by ``update_state`` over an epoch, read with ``result``,
cleared with ``reset_state``), the reductions ``Mean`` and ``Sum``, and ``MeanMetricWrapper``, which averages a
per-sample function. Metrics never take part in training, so they run on NumPy arrays (float64) outside the graph.

Weighting follows Keras 3: values are reduced to one value per sample (mean over the other axes), multiplied by the
sample weights, and a ``Mean`` divides their sum by the sum of the weights (the number of samples without weights).
"""

import numpy as np

from ... import backend
from ...autograd.grad_mode import no_grad
from .._registry import FromConfig
from ..naming import to_snake_case


def to_numpy(x, dtype=None):
    """A Tensor (any device), array, list or number as a NumPy array."""
    x = backend.to_numpy(x.array if hasattr(x, "array") else x)
    return x.astype(dtype) if dtype is not None else x


def same_rank(x1, x2, expand_rank_1=True):
    """Keras' squeeze-or-expand: when ranks differ by one and the longer ends in 1, drop that 1 (or, for a rank-1
    partner and ``expand_rank_1``, give the partner a trailing 1 instead)."""
    if x1.ndim == x2.ndim + 1 and x1.shape[-1] == 1:
        if x2.ndim == 1 and expand_rank_1:
            x2 = x2[..., None]
        else:
            x1 = x1[..., 0]
    elif x2.ndim == x1.ndim + 1 and x2.shape[-1] == 1:
        if x1.ndim == 1 and expand_rank_1:
            x1 = x1[..., None]
        else:
            x2 = x2[..., 0]
    return x1, x2


def divide_no_nan(a, b):
    """a / b, and 0 where b is 0."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    out = np.zeros(np.broadcast(a, b).shape)
    np.divide(a, b, out=out, where=b != 0)
    return out


def scalar_or_array(x):
    """0-d and size-1 results as a Python float, others as a NumPy array."""
    x = np.asarray(x, dtype=np.float64)
    return float(x) if x.ndim == 0 else x


def samplewise(values, sample_weight, reduce):
    """(per-sample values, per-sample weights or None): weights aligned with the leading axes, values reduced with
    ``reduce`` (np.mean or np.sum) over the axes the weights do not cover, then over all but the first."""
    values = to_numpy(values, np.float64)
    weights = None
    if sample_weight is not None:
        weights = to_numpy(sample_weight, np.float64)
        values, weights = same_rank(values, weights)
        if values.ndim > weights.ndim:
            values = reduce(values, axis=tuple(range(weights.ndim, values.ndim)))
        weights = np.broadcast_to(weights, values.shape)
        values = values * weights
        if weights.ndim > 1:
            weights = reduce(weights, axis=tuple(range(1, weights.ndim)))
    if values.ndim > 1:
        values = reduce(values, axis=tuple(range(1, values.ndim)))
    return values, weights


class Metric(FromConfig):
    """Base class of metrics, as Keras 3 defines it. A subclass makes its state in ``__init__`` with
    ``self.add_variable(shape=(), initializer="zeros", name="...")`` (or ``add_weight``), accumulates in
    ``update_state(y_true, y_pred, sample_weight=None)`` with ``.assign_add`` on those variables, and reads them in
    ``result()``. ``reset_state()`` (by default: every variable back to zeros) is called by ``fit`` and ``evaluate``
    at the start of each epoch and run. ``metric(y_true, y_pred)`` updates and reads.

    The built-in metrics keep their state in plain attributes set by their own ``reset_state``
    (``_state_in_reset``), which ``__init__`` calls."""

    _direction = None  # "up" if larger is better, "down" if smaller is (callbacks use it in mode="auto")
    _state_in_reset = False

    def __init__(self, dtype=None, name=None):
        self.name = name or to_snake_case(type(self).__name__)
        self._dtype = dtype
        self._variables = []
        if self._state_in_reset:
            self.reset_state()

    @property
    def dtype(self):
        """The dtype of the metric's values as Keras names it ("float32" unless given)."""
        return str(self._dtype) if self._dtype is not None else "float32"

    def add_variable(self, shape=(), initializer="zeros", dtype=None, aggregation="sum", name=None):
        """A state variable of ``shape`` (a ``keras.Variable`` outside any graph), listed in ``variables``."""
        from ..variables import Variable

        if "_variables" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}: call super().__init__() before add_variable")
        var = Variable(initializer, shape=shape, dtype=dtype or self.dtype, trainable=False, aggregation=aggregation,
                       name=name)
        var._path = f"{self.name}/{var.name}"
        self._variables.append(var)
        return var

    def add_weight(self, shape=(), initializer=None, dtype=None, name=None):
        """Keras' older name for ``add_variable`` (zeros by default)."""
        return self.add_variable(shape=shape, initializer=initializer or "zeros", dtype=dtype, name=name)

    @property
    def variables(self):
        """The state variables: this metric's, then those of metrics held in its attributes (Keras tracks both)."""
        found = list(self.__dict__.get("_variables", ()))
        for value in self.__dict__.values():
            if isinstance(value, Metric) and value is not self:
                found.extend(v for v in value.variables if all(v is not f for f in found))
        return found

    def reset_state(self):
        """Set every state variable back to zeros."""
        for v in self.variables:
            v.assign(np.zeros(tuple(v.shape), dtype=str(v.dtype)))

    def update_state(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must implement update_state()")

    def result(self):
        raise NotImplementedError(f"{type(self).__name__} must implement result()")

    def __call__(self, *args, **kwargs):
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r}>"


class Sum(Metric):
    """The (weighted) sum of the values given to ``update_state(values, sample_weight=None)``."""

    _state_in_reset = True

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        self.total = 0.0

    def update_state(self, values, sample_weight=None):
        values, _ = samplewise(values, sample_weight, np.sum)
        self.total += float(values.sum())

    def result(self):
        return self.total


class Mean(Metric):
    """The (weighted) mean of the values given to ``update_state(values, sample_weight=None)``: sum(w v) / sum(w).
    ``fit`` tracks the loss with one, weighting each batch's mean loss by its size."""

    _state_in_reset = True

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        self.total, self.count = 0.0, 0.0

    def update_state(self, values, sample_weight=None):
        if isinstance(values, (int, float, np.number)) and isinstance(sample_weight, (int, float, np.number)):
            self.total += float(values) * float(sample_weight)  # the loss tracker's path: one value, one weight
            self.count += float(sample_weight)
            return
        values, weights = samplewise(values, sample_weight, np.mean)
        self.total += float(values.sum())
        if weights is not None:
            self.count += float(np.sum(weights))
        else:
            self.count += values.shape[0] if values.ndim >= 1 else 1

    def result(self):
        return self.total / self.count if self.count else 0.0


class MeanMetricWrapper(Mean):
    """The running mean of a per-sample function ``fn(y_true, y_pred, **kwargs)`` (a metric function or a loss
    function; it runs without building a graph)."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        if not callable(fn):
            raise TypeError(f"MeanMetricWrapper: fn must be a function, got {fn!r}")
        self._fn, self._fn_kwargs = fn, kwargs
        super().__init__(name=name or getattr(fn, "__name__", None), dtype=dtype)
        from .. import losses

        if fn in losses.FUNCTIONS:
            self._direction = "down"

    def update_state(self, y_true, y_pred, sample_weight=None):
        with no_grad():
            values = self._fn(y_true, y_pred, **self._fn_kwargs)
        super().update_state(values, sample_weight)

    def get_config(self):
        config = super().get_config()
        config.update(self._fn_kwargs)
        return config


class FunctionMean(MeanMetricWrapper):
    """A built-in metric class: the running mean of the class's per-sample function ``fn`` with the options its
    constructor takes. The name defaults to the function's (Keras' name for the metric)."""

    fn = None

    def __init__(self, name=None, dtype=None, **options):
        super().__init__(type(self).fn, name=name, dtype=dtype, **options)
