"""Core layers: ``Dense`` (over ``nn.Linear``) and ``Activation``."""

from ...nn.functional.linear import linear
from ...nn.modules.linear import Linear
from .. import activations as keras_activations
from .. import regularizers
from . import _adapters as A
from .base import Layer
from .weight_options import WeightTable, keras_weight

_KERNEL_LAYOUT = A.WeightLayout((1, 0))  # engine (units, in) <-> Keras (in, units)


class Dense(WeightTable, Layer):
    """y = activation(x @ kernel + bias).  x: (batch, ..., in) -> (batch, ..., units).

    The engine's ``nn.Linear`` holds the weights and ``nn.functional.linear`` computes; Keras sees the engine
    weight (units, in) as ``kernel`` of shape (in, units). Regularizers join ``losses``; constraints run after each
    optimizer step on the kernel in Keras' layout. A mask (batch, steps) of a 3-D input passes through, as in Keras.
    """

    supports_masking = True

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        self.units = A.positive_int(units, "units", "Dense")
        self.activation = keras_activations.get_optional(activation)
        self.use_bias = bool(use_bias)
        self._init_weight_options(kernel=(kernel_initializer, kernel_regularizer, kernel_constraint),
                                  bias=(bias_initializer, bias_regularizer, bias_constraint))
        self._init_activity(activity_regularizer)

    def build(self, input_shape):
        in_features = input_shape[-1]
        if in_features is None:
            raise ValueError(f"{self.name}: the last dimension of the input must be known, got shape {input_shape}")
        self.linear = Linear(in_features, self.units, bias=self.use_bias, dtype=self.dtype_policy)
        self._create_weights({"kernel": (in_features, self.units), "bias": (self.units,)})
        self.built = True

    def _weight_table(self):
        return [("kernel", self.linear.weight, _KERNEL_LAYOUT), ("bias", self.linear.bias, A.IDENTITY)]

    kernel, bias = keras_weight("kernel"), keras_weight("bias")

    def call(self, inputs):
        engine = self.linear
        if inputs.shape[-1] != engine.in_features or inputs.ndim < 2:
            raise ValueError(
                f"Input 0 of layer {self.name!r} (Dense) is incompatible with the layer: expected axis -1 of the "
                f"input shape to have value {engine.in_features} (shape (None, {engine.in_features})), got shape "
                f"{tuple(inputs.shape)}"
            )
        y = linear(inputs, engine.weight, engine.bias)
        if self.activation is not None:
            y = self.activation(y)
        if self.activity_regularizer is not None:
            self._record_activity(y)
        return y

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units, "activation": keras_activations.serialize(self.activation),
                       "use_bias": self.use_bias, **self._weight_options_config(),
                       "activity_regularizer": regularizers.serialize(self.activity_regularizer)})
        return config


class Activation(Layer):
    """Apply an activation function (a name such as "relu" or a function from ``keras.activations``).
    x: any shape -> the same shape; its mask passes through."""

    supports_masking = True

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = keras_activations.get_optional(activation)

    def call(self, inputs):
        return self.activation(inputs) if self.activation is not None else inputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config["activation"] = keras_activations.serialize(self.activation)
        return config
