"""``keras.layers``: Keras' layers as adapters over the engine's ``nn`` modules."""

from .base import Layer
from .core import Activation, Dense
from .input_layer import Input, InputLayer, KerasTensor

__all__ = ["Layer", "Dense", "Activation", "Input", "InputLayer", "KerasTensor"]
