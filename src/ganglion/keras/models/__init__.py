"""``keras.models``: ``Sequential``, ``Model`` and ``load_model``."""

from ..saving import load_model
from .model import Model
from .sequential import Sequential

__all__ = ["Model", "Sequential", "load_model"]
