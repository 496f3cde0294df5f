"""Keras' activation layers: ``ReLU``, ``LeakyReLU``, ``PReLU``, ``ELU`` and ``Softmax``. Each maps any shape to the
same shape, hands its input's mask on, and computes with ``keras.activations`` (calls into ``nn.functional``)."""

import numbers
import warnings

from ... import backend
from ...nn import functional as F
from ...ops import logsumexp, where
from .. import activations as keras_activations
from .base import Layer
from .structure import as_tensor
from .weight_options import WeightOptions


def _number_at_least_zero(value, message):
    if value is None or isinstance(value, bool) or not isinstance(value, numbers.Real) or value < 0:
        raise ValueError(message)
    return value


class _ElementwiseActivation(Layer):
    """An activation layer without weights: built at construction, output shape = input shape."""

    supports_masking = True

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.built = True

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


class ReLU(_ElementwiseActivation):
    """y = min(x, max_value) for x > threshold, else negative_slope (x - threshold) (Keras' general ReLU)."""

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        if max_value is not None and (isinstance(max_value, bool) or not isinstance(max_value, numbers.Real)
                                      or max_value < 0.0):
            raise ValueError(f"max_value of a ReLU layer cannot be a negative value. Received: max_value={max_value}")
        self.max_value = max_value
        self.negative_slope = _number_at_least_zero(
            negative_slope, "negative_slope of a ReLU layer cannot be None or a negative value. "
                            f"Received: negative_slope={negative_slope}")
        self.threshold = _number_at_least_zero(
            threshold, f"threshold of a ReLU layer cannot be None or a negative value. Received: threshold={threshold}")

    def call(self, inputs):
        return keras_activations.relu(inputs, negative_slope=self.negative_slope, max_value=self.max_value,
                                      threshold=self.threshold)

    def get_config(self):
        config = super().get_config()
        config.update({"max_value": self.max_value, "negative_slope": self.negative_slope,
                       "threshold": self.threshold})
        return config


class LeakyReLU(_ElementwiseActivation):
    """y = x if x > 0 else negative_slope x (Keras 3's default slope is 0.3; ``alpha`` is its deprecated name)."""

    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
            warnings.warn("Argument `alpha` is deprecated. Use `negative_slope` instead.", stacklevel=2)
        super().__init__(**kwargs)
        self.negative_slope = _number_at_least_zero(
            negative_slope, "The negative_slope value of a Leaky ReLU layer cannot be None or negative value. "
                            f"Expected a float. Received: negative_slope={negative_slope}")

    def call(self, inputs):
        return F.leaky_relu(inputs, self.negative_slope)

    def get_config(self):
        config = super().get_config()
        config["negative_slope"] = self.negative_slope
        return config


class ELU(_ElementwiseActivation):
    """y = x if x > 0 else alpha (e^x - 1)."""

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real):
            raise ValueError(f"ELU: alpha must be a number, got {alpha!r}")
        self.alpha = alpha

    def call(self, inputs):
        return F.elu(inputs, self.alpha)

    def get_config(self):  # Keras 3 leaves alpha out of its config (and so loses it); ganglion keeps it
        config = super().get_config()
        config["alpha"] = self.alpha
        return config


class PReLU(WeightOptions, Layer):
    """y = x if x > 0 else alpha x, with a learned ``alpha`` of shape input_shape[1:] (size 1 along
    ``shared_axes``, numbered with the batch axis as 0, as in Keras): relu(x) - alpha relu(-x)."""

    supports_masking = True

    def __init__(self, alpha_initializer="Zeros", alpha_regularizer=None, alpha_constraint=None, shared_axes=None,
                 **kwargs):
        super().__init__(**kwargs)
        self._init_weight_options(alpha=(alpha_initializer, alpha_regularizer, alpha_constraint))
        if shared_axes is None:
            self.shared_axes = None
        else:
            axes = list(shared_axes) if isinstance(shared_axes, (list, tuple)) else [shared_axes]
            if any(isinstance(a, bool) or not isinstance(a, (int, numbers.Integral)) or a < 1 for a in axes):
                raise ValueError(f"PReLU: shared_axes must be ints >= 1 (axis 0 is the batch), got {shared_axes!r}")
            self.shared_axes = [int(a) for a in axes]

    def build(self, input_shape):
        if len(input_shape) < 2:
            raise ValueError(f"{self.name!r} (PReLU): expected inputs of rank >= 2 (batch, ...), got shape "
                             f"{tuple(input_shape)}")
        shape = list(input_shape[1:])
        for axis in self.shared_axes or ():
            if axis >= len(input_shape):
                raise ValueError(f"{self.name!r} (PReLU): shared axis {axis} is out of range for inputs of shape "
                                 f"{tuple(input_shape)}")
            shape[axis - 1] = 1
        if any(s is None for s in shape):
            raise ValueError(f"{self.name!r} (PReLU): the non-shared input dimensions must be known, got shape "
                             f"{tuple(input_shape)}")
        self.alpha = self.add_weight(shape=shape, name="alpha", initializer=self.alpha_initializer,
                                     regularizer=self.alpha_regularizer, constraint=self.alpha_constraint)
        self.__dict__["_alpha_input_shape"] = tuple(input_shape[1:])
        self.built = True

    def call(self, inputs):
        expected = self._alpha_input_shape
        if inputs.ndim != len(expected) + 1 or any(
                a != 1 and n is not None and n != i for a, n, i in zip(self.alpha.shape, expected, inputs.shape[1:])):
            raise ValueError(f"Input 0 of layer {self.name!r} (PReLU) is incompatible with the layer: expected shape "
                             f"(None, {', '.join(map(str, expected))}), got {tuple(inputs.shape)}")
        return F.relu(inputs) - self.alpha * F.relu(-inputs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({**self._weight_options_config(), "shared_axes": self.shared_axes})
        return config


class Softmax(_ElementwiseActivation):
    """y = exp(x) / sum exp(x) along ``axis`` (an int or a list of ints). With ``mask`` (broadcastable to the
    input; 1/True keeps), masked entries get a large negative logit before and 0 after, as in Keras."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        axes = axis if isinstance(axis, (list, tuple)) else [axis]
        if not axes or any(isinstance(a, bool) or not isinstance(a, numbers.Integral) for a in axes):
            raise ValueError(f"Softmax: axis must be an int or a list of ints, got {axis!r}")
        self.axis = list(axis) if isinstance(axis, tuple) else axis

    def call(self, inputs, mask=None):
        if mask is not None:
            mask = self._checked_mask(inputs, as_tensor(mask))
            inputs = where(mask, inputs, -3e4 if inputs.dtype == backend.float16 else -1e9)
        if isinstance(self.axis, list) and len(self.axis) > 1:
            outputs = (inputs - logsumexp(inputs, dim=tuple(self.axis), keepdim=True)).exp()
        else:
            outputs = keras_activations.softmax(inputs, self.axis[0] if isinstance(self.axis, list) else self.axis)
        return outputs if mask is None else where(mask, outputs, 0.0)

    def _checked_mask(self, inputs, mask):
        if mask.ndim > inputs.ndim or any(m != 1 and m != i for m, i in zip(mask.shape[::-1], inputs.shape[::-1])):
            raise ValueError("The `mask` must be broadcastable to `inputs`: each mask dimension must be 1 or match the "
                             f"input's, and it must not have more dimensions. Received: inputs.shape="
                             f"{tuple(inputs.shape)}, mask.shape={tuple(mask.shape)}")
        return mask if mask.dtype == backend.bool_ else mask > 0.5

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config
