"""``Masking``: mark the steps whose features all equal ``mask_value`` as padding, as Keras 3 does.

    mask[b, t] = any_f (x[b, t, f] != mask_value)        y[b, t] = x[b, t] if mask[b, t] else 0

The layers after it that use masks (recurrent layers, GlobalAveragePooling1D) then skip the masked steps; the layers
that support masking hand the mask on (see layers/base.py).
"""

import numbers

from ...ops import where
from .base import Layer


class Masking(Layer):
    """(batch, steps, features) -> the same shape, with the mask (batch, steps) of the steps that hold any value
    other than ``mask_value`` (any rank >= 2 works the same way: the mask drops the last axis)."""

    supports_masking = True

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(mask_value, bool) or not isinstance(mask_value, numbers.Real):
            raise ValueError(f"Masking: mask_value must be a number, got {mask_value!r}")
        self.mask_value = mask_value
        self.built = True  # no weights

    def _kept(self, inputs, keepdim):
        if inputs.ndim < 2:
            raise ValueError(f"{self.name!r} (Masking): expected inputs of rank >= 2 (batch, ..., features), got "
                             f"shape {tuple(inputs.shape)}")
        return (inputs != self.mask_value).amax(-1, keepdim=keepdim)

    def compute_mask(self, inputs, mask=None):
        return self._kept(inputs, keepdim=False)

    def call(self, inputs):
        return where(self._kept(inputs, keepdim=True), inputs, 0.0)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config["mask_value"] = self.mask_value
        return config
