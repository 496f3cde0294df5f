"""``Sequential``: a plain stack of layers, each feeding the next."""

from ..layers.strings import dtype_name
from ..layers.base import Layer
from ..layers.structure import as_mask
from ..layers.input_layer import Input, InputLayer, KerasTensor
from .model import Model, adjust_input_rank


class Sequential(Model):
    """``Sequential([Dense(8, activation="relu", input_shape=(4,)), Dense(3, activation="softmax")])``.

    The model is built (weights created, output shapes known) as soon as the input shape is known: from an
    ``Input``/``InputLayer`` first, an ``input_shape=`` on the first layer, ``build(input_shape)``, or the first data.
    """

    def __init__(self, layers=None, name=None, trainable=True):
        super().__init__(name=name, trainable=trainable)
        self.__dict__["_stack"] = []
        self.__dict__["_input"] = None
        for layer in layers or []:
            self.add(layer)

    def add(self, layer):
        """Append a layer (or an ``Input``, which sets the input shape)."""
        if isinstance(layer, KerasTensor):
            layer = layer._keras_history[0]
        if isinstance(layer, InputLayer):
            if self._stack:
                raise ValueError("an Input can only be the first entry of a Sequential model")
            self.__dict__["_input"] = layer
            return
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add expects a keras Layer, got {type(layer).__name__}")
        if any(layer.name == other.name for other in self._stack):
            raise ValueError(f"All layers added to a Sequential model should have unique names; {layer.name!r} is "
                             "already in the model")
        was_built = self.built
        self._stack.append(layer)
        self.add_module(layer.name, layer)
        first = self._stack[0]
        if self._input is None and first._input_shape_arg is not None:
            self.__dict__["_input"] = InputLayer(shape=first._input_shape_arg, batch_size=first._batch_size_arg)
        elif self._input is None and _known_input_shape(first) is not None:  # a built model as the first block
            self.__dict__["_input"] = InputLayer(shape=_known_input_shape(first)[1:])
        if self._input is None:
            self.__dict__["built"] = False
        elif was_built and len(self._stack) > 1:  # only the new layer is traced
            self.__dict__["outputs"] = [layer(self.outputs[0])]
            self.__dict__["output_names"] = [layer.name]
        else:
            self._build_graph()

    def pop(self):
        """Remove the last layer and return it."""
        if not self._stack:
            raise TypeError("there are no layers in the model to pop")
        layer = self._stack.pop()
        delattr(self, layer.name)
        if self._input is not None and self._stack:
            self._build_graph()
        elif not self._stack:
            self.__dict__["built"] = False
        return layer

    def _build_graph(self):
        x = self._input.output
        for layer in self._stack:
            x = layer(x)
        d = self.__dict__
        d["outputs"] = [x]
        d["inputs"] = [self._input.output]
        d["output_names"] = [self._stack[-1].name] if self._stack else []
        d["_expected_shape"] = tuple(self._input.output.shape)
        d["built"] = True

    def build(self, input_shape=None):
        """Create the weights for inputs of ``input_shape`` (batch dimension included, e.g. (None, 4))."""
        if input_shape is None:
            raise ValueError("Sequential.build needs the input shape, e.g. build((None, 4))")
        if self._input is None:  # the input dtype is the first layer's, as in Keras: text for a TextVectorization
            dtype = "string" if self._stack and self._stack[0].accepts_strings else None
            self.__dict__["_input"] = InputLayer(shape=tuple(input_shape)[1:], dtype=dtype)
        self._build_graph()

    def _maybe_build(self, input_shape):
        if not self.built:
            self.build(input_shape)

    def call(self, inputs, training=None, mask=None):
        return self._run_graph(inputs, training, mask)[0]

    def _run_graph(self, inputs, training=None, mask=None):
        """Each layer on the previous one's output and mask (Keras' masking: see layers/base.py); returns the last
        output and its mask."""
        expected = self.__dict__.get("_expected_shape")
        if expected is not None and hasattr(inputs, "shape"):
            inputs = adjust_input_rank(inputs, expected)
            if tuple(inputs.shape[1:]) != expected[1:]:
                _check_shape(self, expected, tuple(inputs.shape))
        x, mask = inputs, as_mask(mask)
        for layer in self._stack:
            if layer._call_takes_training:
                x, mask = layer._call_with_mask(x, mask, training=training)
            else:
                x, mask = layer._call_with_mask(x, mask)
        return x, mask

    def _runs_own_graph(self):
        return type(self).call is Sequential.call

    @property
    def layers(self):
        return list(self._stack)

    @property
    def input_shape(self):
        return None if self._input is None else self._input.output.shape

    @property
    def output_shape(self):
        return None if not self.built else self.outputs[0].shape

    def get_config(self):
        from ..saving.serialization import serialize_layer

        config = {"name": self.name, "trainable": self.trainable,
                  "layers": [serialize_layer(layer) for layer in self._stack]}
        if self._input is not None:
            config["input_shape"] = list(self._input.shape)
            config["input_dtype"] = dtype_name(self._input.output.dtype)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from ..saving.serialization import deserialize_layer

        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        if config.get("input_shape") is not None:
            model.add(Input(shape=tuple(config["input_shape"]), dtype=config.get("input_dtype")))
        for layer_config in config["layers"]:
            model.add(deserialize_layer(layer_config, custom_objects))
        return model


def _check_shape(model, expected, got):
    """ValueError unless ``got`` fits ``expected`` (None matches any size)."""
    if len(got) != len(expected) or any(e is not None and e != g for e, g in zip(expected[1:], got[1:])):
        raise ValueError(f"Input 0 of {model.name!r} ({type(model).__name__}) is incompatible with the model: expected "
                         f"shape {expected}, got {got}")


def _known_input_shape(layer):
    """The input shape of a built Sequential or single-input functional model, else None."""
    inputs = getattr(layer, "inputs", None) if getattr(layer, "built", False) else None
    if isinstance(layer, Model) and inputs and len(inputs) == 1:
        return tuple(inputs[0].shape)
    return None
