"""The ``Loss`` base class: ``loss(y_true, y_pred, sample_weight=None)`` computes per-sample losses with ``call`` and
reduces them over the batch the way Keras 3 does.

Reductions: ``"sum_over_batch_size"`` (default) and ``"mean"``: sum(w * l) / number of loss values;
``"mean_with_sample_weight"``: sum(w * l) / sum(w); ``"sum"``: sum(w * l); ``"none"``/None: w * l, unreduced.
Entries a loss masks out (e.g. ``ignore_class``) count neither in the sum nor in the number of values.
"""

import warnings

from ..layers.structure import as_tensor
from .._registry import FromConfig
from ..naming import to_snake_case

REDUCTIONS = ("sum_over_batch_size", "sum", "none", None, "mean", "mean_with_sample_weight")


def standardize_reduction(owner, reduction):
    if reduction not in REDUCTIONS:
        raise ValueError(f"{owner}: unknown reduction {reduction!r}; accepted: "
                         f"{', '.join(repr(r) for r in REDUCTIONS)}")
    return reduction


def _match_rank(values, weights):
    """Line ``weights`` up with ``values`` from the leading (batch) axis: drop or add a trailing 1, then append
    axes of size 1 so (N,) weights scale every loss of sample n."""
    if weights.ndim == values.ndim + 1 and weights.shape[-1] == 1:
        weights = weights.reshape(tuple(weights.shape[:-1]))
    elif values.ndim == weights.ndim + 1 and values.shape[-1] == 1:
        values = values.reshape(tuple(values.shape[:-1]))
    if weights.ndim < values.ndim:
        weights = weights.reshape(tuple(weights.shape) + (1,) * (values.ndim - weights.ndim))
    return values, weights


def reduce_weighted_values(values, sample_weight=None, mask=None, reduction="sum_over_batch_size"):
    """Weight per-sample ``values`` by ``sample_weight`` (and a 0/1 ``mask``) and reduce them (see module doc)."""
    weights = None if sample_weight is None else as_tensor(sample_weight).type(values.dtype)
    if mask is not None:
        mask = mask.type(values.dtype)
        if reduction in ("mean", "sum_over_batch_size"):  # divide by the valid entries, not by all of them
            valid = float(mask.sum().item())
            mask = mask * (mask.numel() / valid if valid else 0.0)
        if weights is None:
            weights = mask
        else:
            mask, weights = _match_rank(mask, weights)
            weights = weights * mask
    if weights is not None:
        values, weights = _match_rank(values, weights)
        values = values * weights
    if reduction in (None, "none") or values.ndim == 0:
        return values
    total = values.sum()
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        denominator = float(weights.sum().item())
        return total / denominator if denominator else total * 0.0
    return total / max(values.numel(), 1)


class Loss(FromConfig):
    """Base class of Keras losses. Subclass it and implement ``call(y_true, y_pred)`` returning per-sample losses;
    ``__call__`` adds sample weights and the reduction."""

    fn = None  # the per-sample loss function a wrapper class calls (None for a loss written as ``call``)

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        self.name = name or to_snake_case(type(self).__name__)
        self.reduction = standardize_reduction(type(self).__name__, reduction)
        self.dtype = dtype

    def call(self, y_true, y_pred):
        raise NotImplementedError(f"{type(self).__name__} must implement call(self, y_true, y_pred)")

    def mask(self, y_true, y_pred):
        """A 0/1 Tensor shaped like the per-sample losses marking the entries to count, or None for all."""
        return None

    def __call__(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = as_tensor(y_true), as_tensor(y_pred)
        _warn_if_probabilities(self, y_pred)
        if self.dtype is not None:
            y_pred = y_pred.type(self.dtype)
        values = self.call(y_true, y_pred)
        return reduce_weighted_values(values, sample_weight, self.mask(y_true, y_pred), self.reduction)

    def get_config(self):
        config = {"name": self.name, "reduction": self.reduction}
        if self.dtype is not None:
            config["dtype"] = str(self.dtype)
        return config


    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r}, reduction={self.reduction!r}>"


def _probability_activation(loss):
    """The activation (an engine Function) whose output a ``from_logits=True`` cross-entropy must not be given:
    Softmax for the categorical ones, Sigmoid for the binary ones; None for other losses or ``from_logits=False``."""
    if not getattr(loss, "_fn_kwargs", {}).get("from_logits"):
        return None
    from ...ops.reduction import Softmax
    from ...ops.unary import Sigmoid
    from . import functions as fn

    if loss.fn in (fn.categorical_crossentropy, fn.sparse_categorical_crossentropy):
        return Softmax
    if loss.fn in (fn.binary_crossentropy, fn.binary_focal_crossentropy):
        return Sigmoid
    return None


def _warn_if_probabilities(loss, y_pred):
    """Warn once per loss object when a ``from_logits=True`` loss gets the output of a softmax (or sigmoid): it then
    trains on probabilities as if they were logits, silently wrong (Keras 3 warns the same on TensorFlow). Only an
    output with a graph can be traced to its activation; ``loss.output_layer`` (a layer name), when set, is named."""
    if getattr(loss, "_warned_probabilities", False):
        return
    activation = _probability_activation(loss)
    if activation is None or type(y_pred._node) is not activation:
        return
    loss._warned_probabilities = True
    kind = activation.__name__.lower()
    layer = getattr(loss, "output_layer", None)
    source = f"a {kind}" + (f" (layer {layer!r})" if layer else "")
    warnings.warn(f"{type(loss).__name__} ({loss.name!r}) received from_logits=True, but the model's output comes "
                  f"from {source} and thus holds probabilities, not logits: the loss expects logits "
                  f"(from_logits=True). Was this intended? Remove the {kind} activation or pass from_logits=False.",
                  UserWarning, stacklevel=3)


class LossFunctionWrapper(Loss):
    """A Loss from a per-sample function ``fn(y_true, y_pred, **kwargs)``."""

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        if not callable(fn):
            raise TypeError(f"LossFunctionWrapper: fn must be a function, got {fn!r}")
        super().__init__(name=name or getattr(fn, "__name__", None), reduction=reduction, dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        config = super().get_config()
        config.update(self._fn_kwargs)
        if type(self) is LossFunctionWrapper:
            config["fn"] = getattr(self.fn, "__name__", None)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if cls is LossFunctionWrapper:
            from . import get

            config["fn"] = get(config["fn"])
        return cls(**config)
