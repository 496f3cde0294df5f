"""``keras.models``: ``Sequential``, ``Model`` and ``load_model``."""

from .._registry import register_builtin_layers
from ..saving import load_model
from .model import Model
from .sequential import Sequential

register_builtin_layers({"Sequential": Sequential, "Model": Model, "Functional": Model})

__all__ = ["Model", "Sequential", "load_model"]
