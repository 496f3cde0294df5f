"""``TimeDistributed``: apply one layer to every time step of a sequence, with the same weights at every step.

    y[:, t] = layer(x[:, t])        x: (batch, time, ...) -> y: (batch, time, ...layer's output)

Keras calls the layer once per step; every step is independent, so here the steps are folded into the batch,
(batch, time, ...) -> (batch * time, ...), the layer runs once, and its output is unfolded: the same numbers with
one call. The wrapper owns no weights: they are the wrapped layer's, under its names. A (batch, time) mask reaches
a layer whose ``call`` takes one, folded the same way, and the output keeps the input's mask.

One difference from Keras' step loop: a layer that updates statistics when it runs (``BatchNormalization`` in
training) updates them once per batch over all steps, not once per step.
"""

from .base import Layer


class TimeDistributed(Layer):
    """Wrap ``layer`` so that it runs on each slice along axis 1: (batch, time, ...) -> (batch, time, ...)."""

    supports_masking = True

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"Please initialize `TimeDistributed` layer with a `keras.layers.Layer` instance. "
                             f"Received: {layer}")
        super().__init__(**kwargs)
        self.layer = layer

    @staticmethod
    def _child_shape(input_shape):
        if not isinstance(input_shape, (tuple, list)) or len(input_shape) < 3:
            raise ValueError(f"`TimeDistributed` Layer should be passed an `input_shape` with at least 3 dimensions, "
                             f"received: {input_shape}")
        return (input_shape[0], *input_shape[2:])

    def build(self, input_shape):
        self.layer._maybe_build(self._child_shape(tuple(input_shape)))
        self.built = True

    def call(self, inputs, training=None, mask=None):
        batch, steps = self._child_shape(inputs.shape)[0], inputs.shape[1]
        kwargs = {"training": training}
        if mask is not None and self.layer._call_takes_mask:
            if mask.ndim < 2 or tuple(mask.shape[:2]) != (batch, steps):
                raise ValueError(f"The `mask` passed to the `TimeDistributed` layer has a shape {tuple(mask.shape)} "
                                 f"that is incompatible with the input shape {tuple(inputs.shape)}. The first two "
                                 f"dimensions of the mask (batch size and timesteps) must match the input's first "
                                 f"two dimensions.")
            kwargs["mask"] = mask.reshape(batch * steps, *mask.shape[2:])
        outputs = self.layer(inputs.reshape(batch * steps, *inputs.shape[2:]), **kwargs)
        return outputs.reshape(batch, steps, *outputs.shape[1:])

    def get_config(self):
        config = super().get_config()
        config["layer"] = {"class_name": type(self.layer).__name__, "config": self.layer.get_config()}
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from ..saving.serialization import deserialize_layer

        config = dict(config)
        return cls(deserialize_layer(config.pop("layer"), custom_objects), **config)
