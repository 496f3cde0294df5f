"""Keras weight constraints (``keras.constraints``): projections applied to a weight after each optimizer step
(``Dense(..., kernel_constraint=MaxNorm(2))``). A constraint is a callable Tensor -> Tensor on the weight in Keras'
layout (a Dense kernel is (in, units), so ``axis=0`` bounds the norm of each unit's incoming weights).

The engine may store a weight in another layout (``nn.Linear`` keeps (units, in)); the layers hand a constraint
the Keras view of the weight (``layers.weight_options.LayoutConstraint``), so ``axis`` always means what it means in Keras.
"""

from ._registry import FromConfig, lookup, serialize

EPSILON = 1e-7


def _norms(w, axis):
    """sqrt(sum(w^2)) over ``axis`` (an int or a list of ints), kept as size-1 axes so it broadcasts against w."""
    axes = [axis] if isinstance(axis, int) else list(axis)
    squares = w * w
    for a in sorted((a % w.ndim for a in axes), reverse=True):
        squares = squares.sum(dim=a, keepdim=True)
    return squares.sqrt()


class Constraint(FromConfig):
    """Base class: override ``__call__(w)`` to return the projected weight (the base returns it unchanged)."""

    def __call__(self, w):
        return w

    def get_config(self):
        return {}



class MaxNorm(Constraint):
    """w * clip(||w||, 0, max_value) / (eps + ||w||), norms taken over ``axis``: the slices along the other axes
    keep norms <= max_value."""

    def __init__(self, max_value=2, axis=0):
        self.max_value, self.axis = max_value, axis

    def __call__(self, w):
        norms = _norms(w, self.axis)
        return w * (norms.clamp(0, self.max_value) / (EPSILON + norms))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """max(w, 0)."""

    def __call__(self, w):
        return w.clamp(min=0)


class UnitNorm(Constraint):
    """w / (eps + ||w||), norms over ``axis``."""

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        return w / (EPSILON + _norms(w, self.axis))

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """w * d / (eps + ||w||) with d = rate * clip(||w||, min_value, max_value) + (1 - rate) * ||w||: rate 1 enforces
    the bounds at once, a smaller rate moves the norms toward them gradually."""

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value, self.max_value, self.rate, self.axis = min_value, max_value, rate, axis

    def __call__(self, w):
        norms = _norms(w, self.axis)
        desired = self.rate * norms.clamp(self.min_value, self.max_value) + (1 - self.rate) * norms
        return w * (desired / (EPSILON + norms))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate, "axis": self.axis}


max_norm, non_neg, unit_norm, min_max_norm = MaxNorm, NonNeg, UnitNorm, MinMaxNorm

_ALL = {"max_norm": MaxNorm, "non_neg": NonNeg, "unit_norm": UnitNorm, "min_max_norm": MinMaxNorm,
        "MaxNorm": MaxNorm, "NonNeg": NonNeg, "UnitNorm": UnitNorm, "MinMaxNorm": MinMaxNorm, "Constraint": Constraint}


def get(identifier):
    """A constraint from a name ("max_norm", "NonNeg"), a config dict, an instance, a class or a function."""
    found = lookup("constraint", identifier, _ALL)
    if found is not None and not callable(found):
        raise ValueError(f"could not interpret constraint {identifier!r}: give a name, a Constraint or a function")
    return found


def deserialize(config):
    return get(config)

