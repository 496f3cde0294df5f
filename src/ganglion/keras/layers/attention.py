"""``MultiHeadAttention``: Keras' layer (its weight names, shapes and call) over ``nn.functional``'s attention."""

import math

from ...factories import ones
from ...nn.functional.dropout import dropout
from ...ops import logical_and, tril, where
from .. import initializers
from . import _adapters as A
from .base import Layer, as_tensor

_WEIGHTS = ("query", "key", "value", "attention_output")


class MultiHeadAttention(Layer):
    """Multi-head attention as ``keras.layers.MultiHeadAttention`` (default attention axes).

    query (B, T, dim), value (B, S, vdim), key (B, S, kdim; defaults to value) -> (B, T, output_shape or dim),
    and scores (B, num_heads, T, S) with ``return_attention_scores``.
        Q = einsum(query, Wq) + bq  (B, T, H, key_dim);  K, V likewise;
        scores = softmax(Q K^T / sqrt(key_dim), masked where attention_mask is False);  out = einsum(scores V, Wo) + bo
    Weights, in Keras' order: query/kernel (dim, H, key_dim), query/bias (H, key_dim), key/..., value/kernel
    (vdim, H, value_dim), value/bias (H, value_dim), attention_output/kernel (H, value_dim, out), bias (out,).
    """

    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True, output_shape=None,
                 attention_axes=None, kernel_initializer="glorot_uniform", bias_initializer="zeros", **kwargs):
        for name in ("kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint",
                     "bias_constraint"):
            if kwargs.pop(name, None) is not None:
                raise ValueError(f"MultiHeadAttention: {name} is not supported by ganglion's MultiHeadAttention")
        kwargs.pop("seed", None)
        super().__init__(**kwargs)
        self.num_heads = A.positive_int(num_heads, "num_heads", "MultiHeadAttention")
        self.key_dim = A.positive_int(key_dim, "key_dim", "MultiHeadAttention")
        self.value_dim = A.positive_int(value_dim, "value_dim", "MultiHeadAttention") if value_dim else key_dim
        self.dropout = float(dropout)
        self.use_bias = bool(use_bias)
        if isinstance(output_shape, (tuple, list)):
            if len(output_shape) != 1:
                raise ValueError(f"MultiHeadAttention: output_shape must be an int or a 1-tuple here, got "
                                 f"{output_shape!r}")
            output_shape = output_shape[0]
        self._output_shape = output_shape
        if attention_axes is not None and tuple(attention_axes) not in ((1,), (-2,)):
            raise ValueError(f"MultiHeadAttention: attention_axes={attention_axes!r} is not supported; only the "
                             "default (attend over axis 1 of (batch, seq, features) inputs) is")
        self.attention_axes = attention_axes
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)

    def build(self, query_shape, value_shape=None, key_shape=None):
        self._build_input_shape = query_shape
        self.built = True  # the projections are made on the first call, when value's and key's shapes are known

    def _make_weights(self, query_dim, key_dim, value_dim):
        heads = self.num_heads
        out_dim = self._output_shape or query_dim
        shapes = {
            "query": ((query_dim, heads, self.key_dim), (heads, self.key_dim)),
            "key": ((key_dim, heads, self.key_dim), (heads, self.key_dim)),
            "value": ((value_dim, heads, self.value_dim), (heads, self.value_dim)),
            "attention_output": ((heads, self.value_dim, out_dim), (out_dim,)),
        }
        for name in _WEIGHTS:
            kernel_shape, bias_shape = shapes[name]
            self.add_weight(shape=kernel_shape, initializer=self.kernel_initializer, name=f"{name}_kernel")
            if self.use_bias:
                self.add_weight(shape=bias_shape, initializer=self.bias_initializer, name=f"{name}_bias")
        self.__dict__["_weights_made"] = True

    def _project(self, name, x):
        """x (B, L, d) -> (B, H, L, k): one matmul with the (d, H, k) kernel seen as (d, H * k)."""
        kernel = getattr(self, f"{name}_kernel")
        d, heads, k = kernel.shape
        y = (x @ kernel.reshape(d, heads * k)).reshape(x.shape[0], x.shape[1], heads, k)
        if self.use_bias:
            y = y + getattr(self, f"{name}_bias")
        return y.permute(0, 2, 1, 3)

    def call(self, query, value, key=None, attention_mask=None, return_attention_scores=False, training=None,
             use_causal_mask=False):
        value = as_tensor(value)
        key = value if key is None else as_tensor(key)
        for name, x in (("query", query), ("value", value), ("key", key)):
            if x.ndim != 3:
                raise ValueError(f"{self.name}: expected {name} of shape (batch, seq, features), got "
                                 f"{tuple(x.shape)}")
        if not self.__dict__.get("_weights_made"):
            self._make_weights(query.shape[-1], key.shape[-1], value.shape[-1])
        q, k, v = self._project("query", query), self._project("key", key), self._project("value", value)
        mask = None
        if attention_mask is not None:
            mask = as_tensor(attention_mask).type("bool").unsqueeze(1)  # (B, T, S) -> (B, 1, T, S) over heads
        if use_causal_mask:
            causal = tril(ones(query.shape[1], value.shape[1], dtype="bool"))
            mask = causal if mask is None else logical_and(mask, causal)
        scores = (q * (1.0 / math.sqrt(self.key_dim))) @ k.transpose(-2, -1)  # (B, H, T, S)
        if mask is not None:
            # Keras puts -1e9, not -inf, on masked scores: a fully masked row attends uniformly, not to nothing
            scores = where(mask, scores, -1e9)
        weights = scores.softmax(-1)
        attended = dropout(weights, self.dropout, training=bool(training)) if self.dropout > 0 else weights
        context = attended @ v  # (B, H, T, value_dim)
        batch, heads, target_len, _ = context.shape
        context = context.permute(0, 2, 1, 3).reshape(batch, target_len, heads * self.value_dim)
        out = context @ self.attention_output_kernel.reshape(heads * self.value_dim, -1)
        if self.use_bias:
            out = out + self.attention_output_bias
        return (out, weights) if return_attention_scores else out

    def get_config(self):
        config = super().get_config()
        config.update({
            "num_heads": self.num_heads, "key_dim": self.key_dim, "value_dim": self.value_dim,
            "dropout": self.dropout, "use_bias": self.use_bias, "output_shape": self._output_shape,
            "attention_axes": self.attention_axes,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
        })
        return config
