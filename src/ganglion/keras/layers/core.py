"""Core layers: ``Dense`` (over ``nn.Linear``) and ``Activation``."""

from ...nn.modules.linear import Linear
from .. import activations as keras_activations
from .. import initializers
from .base import KerasWeight, Layer


class Dense(Layer):
    """y = activation(x @ kernel + bias).  x: (batch, ..., in) -> (batch, ..., units).

    The engine's ``nn.Linear`` does the work; Keras sees its weight as ``kernel`` of shape (in, units).
    """

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
            raise ValueError(f"Dense: units must be a positive int, got {units!r}")
        self.units = units
        self.activation = keras_activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        if kernel_regularizer is not None:
            self.add_regularizer("kernel", kernel_regularizer)
        if bias_regularizer is not None:
            self.add_regularizer("bias", bias_regularizer)
        self.kernel_constraint, self.bias_constraint = kernel_constraint, bias_constraint

    def build(self, input_shape):
        in_features = input_shape[-1]
        if in_features is None:
            raise ValueError(f"{self.name}: the last dimension of the input must be known, got shape {input_shape}")
        self.linear = Linear(in_features, self.units, bias=self.use_bias)
        self.kernel_initializer.fill(self.linear.weight, keras_shape=(in_features, self.units), transpose=True)
        if self.use_bias:
            self.bias_initializer.fill(self.linear.bias, keras_shape=(self.units,))
        self.built = True

    # Keras' names for the engine's parameters: kernel is the transposed weight
    @property
    def kernel(self):
        return self.keras_weights()[0]

    @property
    def bias(self):
        return self.keras_weights()[1] if self.use_bias else None

    def keras_weights(self):
        if not self.built:
            return []
        out = [KerasWeight("kernel", self.linear.weight, to_keras=lambda a: a.T, from_keras=lambda a: a.T)]
        if self.use_bias:
            out.append(KerasWeight("bias", self.linear.bias))
        return out

    def _penalty_target(self, name):
        return self.linear.weight if name == "kernel" else self.linear.bias

    def call(self, inputs):
        if inputs.shape[-1] != self.linear.in_features:
            raise ValueError(
                f"Input 0 of layer {self.name!r} is incompatible: expected shape (None, {self.linear.in_features}), "
                f"got {tuple(inputs.shape)}"
            )
        y = self.linear(inputs)
        return self.activation(y) if self.activation is not None else y

    def get_config(self):
        config = super().get_config()
        config.update({
            "units": self.units, "activation": keras_activations.serialize(self.activation), "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
        })
        return config


class Activation(Layer):
    """Apply an activation function (a name such as "relu" or a function from ``keras.activations``)."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = keras_activations.get(activation)

    def call(self, inputs):
        return self.activation(inputs) if self.activation is not None else inputs

    def get_config(self):
        config = super().get_config()
        config["activation"] = keras_activations.serialize(self.activation)
        return config
