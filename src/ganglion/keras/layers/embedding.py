"""``Embedding``: Keras' lookup table over the engine's ``nn.Embedding`` / ``nn.functional.embedding``.

The weight ``embeddings`` (input_dim, output_dim) has the same layout in both faces.
"""

from ...nn.functional.embedding import embedding
from ...nn.modules.embedding import Embedding as EngineEmbedding
from .. import regularizers
from . import _adapters as A
from .base import Layer
from .weight_options import WeightTable, keras_weight


class Embedding(WeightTable, Layer):
    """y = embeddings[x]: integer indices (batch, ...) in [0, input_dim) -> (batch, ..., output_dim).

    Float inputs are cast to integers, as Keras does. ``mask_zero=True`` reserves index 0 for padding (so input_dim
    should be vocabulary + 1): the output's mask is ``x != 0``, and the layers after it that use masks (recurrent
    layers, GlobalAveragePooling1D) skip the padded steps.
    """

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform", embeddings_regularizer=None,
                 embeddings_constraint=None, mask_zero=False, weights=None, activity_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        self.input_dim = A.positive_int(input_dim, "input_dim", "Embedding")
        self.output_dim = A.positive_int(output_dim, "output_dim", "Embedding")
        self._init_weight_options(embeddings=(embeddings_initializer, embeddings_regularizer, embeddings_constraint))
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero  # as in Keras: without mask_zero, an incoming mask stops here
        self._init_activity(activity_regularizer)
        if weights is not None:
            self._maybe_build(None)
            self.set_weights(weights)

    def build(self, input_shape=None):
        self.embedding = EngineEmbedding(self.input_dim, self.output_dim, dtype=self.dtype_policy)
        self._create_weights({"embeddings": (self.input_dim, self.output_dim)})
        self.built = True

    def _weight_table(self):
        return [("embeddings", self.embedding.weight, A.IDENTITY)]

    embeddings = keras_weight("embeddings")

    def call(self, inputs):
        x = inputs if inputs.dtype.kind in "iu" else inputs.long()
        if x.array.size:
            low, high = int(x.array.min()), int(x.array.max())
            if low < 0 or high >= self.input_dim:
                bad = low if low < 0 else high
                raise ValueError(f"{A.who(self)}: index {bad} is out of range for input_dim="
                                 f"{self.input_dim} (valid indices: 0 to {self.input_dim - 1}); input shape "
                                 f"{tuple(inputs.shape)}")
        return self._record_activity(embedding(x, self.embedding.weight))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def compute_mask(self, inputs, mask=None):
        """Keras' padding mask (batch, ...): x != 0 when mask_zero is set, else None."""
        if not self.mask_zero:
            return None
        return inputs != 0

    def get_config(self):
        config = super().get_config()
        config.update({
            "input_dim": self.input_dim, "output_dim": self.output_dim, **self._weight_options_config(),
            "mask_zero": self.mask_zero, "activity_regularizer": regularizers.serialize(self.activity_regularizer),
        })
        return config

