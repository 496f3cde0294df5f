"""Keras weight regularizers: penalties added to the training loss (and shown in it), built on
``nn.utils.penalties``: L1 = l1 sum |w|, L2 = l2 sum w^2 (no factor 1/2, as Keras)."""

from ..nn.utils.penalties import l1_l2_penalty
from ._registry import FromConfig, lookup, serialize


class Regularizer(FromConfig):
    """Base class: ``regularizer(weight)`` returns the scalar penalty Tensor added to the training loss. Subclass it
    and define ``__call__`` (and ``get_config`` for saving)."""

    def __call__(self, weight):
        raise NotImplementedError(f"{type(self).__name__} must define __call__(self, weight)")

    def get_config(self):
        return dict(vars(self))



class L1L2(Regularizer):
    """l1 sum |w| + l2 sum w^2."""

    def __init__(self, l1=0.0, l2=0.0):
        if l1 < 0 or l2 < 0:
            raise ValueError(f"regularizer factors must be non-negative, got l1={l1}, l2={l2}")
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, weight):
        return l1_l2_penalty([weight], self.l1, self.l2)


class L1(L1L2):
    """l1 sum |w| (Keras' default factor 0.01)."""

    def __init__(self, l1=0.01):
        super().__init__(l1=l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    """l2 sum w^2 (Keras' default factor 0.01)."""

    def __init__(self, l2=0.01):
        super().__init__(l2=l2)

    def get_config(self):
        return {"l2": self.l2}


def l1(l1=0.01):
    """Keras' function form of ``L1``."""
    return L1(l1)


def l2(l2=0.01):
    """Keras' function form of ``L2``."""
    return L2(l2)


def l1_l2(l1=0.01, l2=0.01):
    """Keras' function form of ``L1L2`` (both factors 0.01 by default)."""
    return L1L2(l1, l2)


_ALL = {"l1": L1, "l2": L2, "l1_l2": L1L2, "L1": L1, "L2": L2, "L1L2": L1L2}


def get(identifier):
    """A regularizer from a name ("l2"), an instance or a function of the weight."""
    return lookup("regularizer", identifier, _ALL)

