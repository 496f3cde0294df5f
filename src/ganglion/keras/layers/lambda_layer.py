"""``Lambda``: wrap a function of tensors as a layer (``Lambda(lambda x: x ** 2)``).

Saving: ganglion never stores or runs code from a model file, so a Lambda saves only by name: its function must be
registered (``@keras.saving.register_keras_serializable()``) or be one of ``keras.activations``; anything else
(a ``lambda``, a local function) makes ``get_config`` (and so ``model.save``) raise a ValueError that says how to
fix it. Loading looks the name up in ``custom_objects``, then in the registry.
"""

import inspect

from .. import activations as keras_activations
from .._registry import REGISTRY
from ._adapters import who
from .base import Layer


def _function_config(fn, what, layer):
    """The saved form of ``fn``: its registered name, or its keras.activations name."""
    registered = getattr(fn, "_registered_name", None)
    if registered is not None:
        return {"registered_name": registered}
    if any(fn is known for known in keras_activations._ALL.values()):
        return {"activation": keras_activations.serialize(fn)}
    name = getattr(fn, "__name__", repr(fn))
    raise ValueError(
        f"{who(layer)}: its {what} {name!r} cannot be saved safely: ganglion does not store code in model "
        "files. Decorate the function with @keras.saving.register_keras_serializable() (and pass it in "
        "custom_objects, or import it before load_model), or write a Layer subclass instead of the Lambda."
    )


def _function_from_config(spec, custom_objects):
    if "activation" in spec:
        return keras_activations.get_optional(spec["activation"])
    key = spec["registered_name"]
    short = key.split(">", 1)[-1]
    for table in (custom_objects or {}, REGISTRY):
        for name in (key, short):
            if name in table:
                return table[name]
    raise ValueError(f"Lambda: the saved function {key!r} is not registered: pass custom_objects={{'{short}': fn}} "
                     "to load_model, or import the module that registers it")


class Lambda(Layer):
    """y = function(inputs, **arguments). ``output_shape`` (without the batch dim, or a function of the input
    shape) is only needed when the shape cannot be found by running the function.

    Masks, as in Keras: ``function`` receives the input's mask if it takes a ``mask`` argument; the output's mask
    is ``mask(inputs, input_mask)`` when ``mask`` is a function, and there is none without one (the layer then
    stops the mask, as Keras' Lambda does)."""

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise ValueError(f"Lambda: function must be callable, got {type(function).__name__}")
        if mask is not None and not callable(mask):
            raise ValueError(f"Lambda: mask must be a function (inputs, mask) -> output mask, or None; got "
                             f"{type(mask).__name__}")
        self.function = function
        self.output_shape = tuple(output_shape) if isinstance(output_shape, (list, tuple)) else output_shape
        self.mask = mask
        self.supports_masking = mask is not None
        self.arguments = dict(arguments or {})
        try:
            params = inspect.signature(function).parameters
        except (TypeError, ValueError):  # some builtins have no signature
            params = {}
        self.__dict__["_fn_takes_training"] = "training" in params
        self.__dict__["_fn_takes_mask"] = "mask" in params

    def call(self, inputs, mask=None, training=None):
        kwargs = dict(self.arguments)
        if self._fn_takes_mask:
            kwargs["mask"] = mask
        if self._fn_takes_training:
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    def compute_mask(self, inputs, mask=None):
        return None if self.mask is None else self.mask(inputs, mask)

    def compute_output_shape(self, input_shape):
        if self.output_shape is None:
            return super().compute_output_shape(input_shape)
        if callable(self.output_shape):
            return tuple(self.output_shape(input_shape))
        return (tuple(input_shape)[0],) + self.output_shape

    def get_config(self):
        config = super().get_config()
        shape = self.output_shape
        if callable(shape):
            shape = _function_config(shape, "output_shape function", self)
        elif shape is not None:
            shape = list(shape)
        config.update({"function": _function_config(self.function, "function", self), "output_shape": shape,
                       "arguments": self.arguments})
        if self.mask is not None:
            config["mask"] = _function_config(self.mask, "mask function", self)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config["function"] = _function_from_config(config["function"], custom_objects)
        if isinstance(config.get("mask"), dict):
            config["mask"] = _function_from_config(config["mask"], custom_objects)
        if isinstance(config.get("output_shape"), dict):
            config["output_shape"] = _function_from_config(config["output_shape"], custom_objects)
        return cls(**config)
