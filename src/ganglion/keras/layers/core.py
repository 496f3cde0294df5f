"""Core layers: ``Dense`` (over ``nn.Linear``) and ``Activation``."""

from ...nn.functional.linear import linear
from ...nn.modules.linear import Linear
from .. import activations as keras_activations
from .. import initializers
from . import _adapters as A
from .base import Layer

_KERNEL_LAYOUT = A.WeightLayout((1, 0))  # engine (units, in) <-> Keras (in, units)


class Dense(A.WeightTable, Layer):
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
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = A.regularizer_or_none(kernel_regularizer)
        self.bias_regularizer = A.regularizer_or_none(bias_regularizer)
        self.kernel_constraint = A.constraint_or_none(kernel_constraint)
        self.bias_constraint = A.constraint_or_none(bias_constraint)
        self._init_activity(activity_regularizer)
        self._add_regularizers([("kernel", self.kernel_regularizer), ("bias", self.bias_regularizer)])

    def build(self, input_shape):
        in_features = input_shape[-1]
        if in_features is None:
            raise ValueError(f"{self.name}: the last dimension of the input must be known, got shape {input_shape}")
        self.linear = Linear(in_features, self.units, bias=self.use_bias, dtype=self.dtype_policy)
        A.fill(self.linear.weight, self.kernel_initializer, (in_features, self.units), _KERNEL_LAYOUT)
        if self.use_bias:
            A.fill(self.linear.bias, self.bias_initializer, (self.units,))
        self.built = True
        self._add_constraints([("kernel", self.kernel_constraint), ("bias", self.bias_constraint)])

    def _weight_table(self):
        table = [("kernel", self.linear.weight, _KERNEL_LAYOUT)]
        if self.use_bias:
            table.append(("bias", self.linear.bias, A.IDENTITY))
        return table

    # Keras' names for the engine's parameters
    @property
    def kernel(self):
        return self._keras_weight("kernel")

    @property
    def bias(self):
        return self._keras_weight("bias")

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
        config.update({
            "units": self.units, "activation": keras_activations.serialize(self.activation), "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": A.serialize_regularizer(self.kernel_regularizer),
            "bias_regularizer": A.serialize_regularizer(self.bias_regularizer),
            "activity_regularizer": A.serialize_regularizer(self.activity_regularizer),
            "kernel_constraint": A.serialize_constraint(self.kernel_constraint),
            "bias_constraint": A.serialize_constraint(self.bias_constraint),
        })
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
