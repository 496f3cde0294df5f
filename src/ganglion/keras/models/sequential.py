"""``Sequential``: a plain stack of layers, each feeding the next."""

from ..layers.base import Layer
from ..layers.input_layer import Input, InputLayer, KerasTensor
from .model import Model


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
        self._stack.append(layer)
        self.add_module(layer.name, layer)
        self.__dict__["built"] = False
        first = self._stack[0]
        if self._input is None and first._input_shape_arg is not None:
            self.__dict__["_input"] = InputLayer(shape=first._input_shape_arg, batch_size=first._batch_size_arg)
        if self._input is not None:
            self._build_graph()

    def pop(self):
        if not self._stack:
            raise TypeError("there are no layers in the model to pop")
        layer = self._stack.pop()
        delattr(self, layer.name)
        if self._input is not None and self._stack:
            self._build_graph()
        return layer

    def _build_graph(self):
        x = self._input.output
        for layer in self._stack:
            x = layer(x)
        self.__dict__["outputs"] = [x]
        self.__dict__["inputs"] = [self._input.output]
        self.__dict__["built"] = True

    def build(self, input_shape=None):
        """Create the weights for inputs of ``input_shape`` (batch dimension included, e.g. (None, 4))."""
        if input_shape is None:
            raise ValueError("Sequential.build needs the input shape, e.g. build((None, 4))")
        if self._input is None:
            self.__dict__["_input"] = InputLayer(shape=tuple(input_shape)[1:])
        self._build_graph()

    def _maybe_build(self, input_shape):
        if not self.built:
            self.build(input_shape)

    def call(self, inputs, training=None):
        x = inputs
        for layer in self._stack:
            x = layer(x, training=training) if layer._call_takes_training else layer(x)
        return x

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

        config = {"name": self.name, "layers": [serialize_layer(layer) for layer in self._stack]}
        if self._input is not None:
            config["input_shape"] = list(self._input.shape)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from ..saving.serialization import deserialize_layer

        model = cls(name=config.get("name"))
        if config.get("input_shape") is not None:
            model.add(Input(shape=tuple(config["input_shape"])))
        for layer_config in config["layers"]:
            model.add(deserialize_layer(layer_config, custom_objects))
        return model
