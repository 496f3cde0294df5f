"""``MultiHeadAttention``: Keras 3's layer (its projection sublayers, weight names and shapes, call, masks) over
engine ops. The masks are merged in ``attention_masks.py``."""

import math
import string

from ...nn.functional.dropout import dropout
from ...ops import einsum, where
from .. import regularizers
from . import _adapters as A
from .attention_masks import attention_mask_of
from .base import Layer, _input_layer, _is_symbolic
from .structure import as_tensor, no_mask
from .weight_options import WeightOptions


class _Operands(list):
    """query, value (and key) of one call, packed so that a functional model records all of them as the call's
    inputs and hands on the mask of each (Keras reads them from the tensors; ganglion's Tensors carry no mask)."""


class _Projection(Layer):
    """Keras' ``EinsumDense`` as MultiHeadAttention uses it: the last dims of x contract with the kernel.

    x (B, ..., *in_dims) -> (B, ..., *out_dims);  y = x . kernel + bias,  kernel (*in_dims, *out_dims),
    bias (*out_dims,), computed as one matmul with the kernel seen as (prod(in_dims), prod(out_dims)). Weight
    regularizers join ``losses`` and constraints run after each optimizer step (``add_weight``'s machinery); the
    activity regularizer adds reg(y) / batch size at every call, as Keras 3's ``Layer.__call__``.
    """

    def __init__(self, name, in_dims, out_dims, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
                 bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint, **kwargs):
        super().__init__(name=name, **kwargs)
        self.in_dims, self.out_dims = tuple(in_dims), tuple(out_dims)
        self.activity_regularizer = activity_regularizer
        self.add_weight(shape=self.in_dims + self.out_dims, initializer=kernel_initializer,
                        regularizer=kernel_regularizer, constraint=kernel_constraint, name="kernel")
        self.use_bias = bool(use_bias)
        if self.use_bias:
            self.add_weight(shape=self.out_dims, initializer=bias_initializer, regularizer=bias_regularizer,
                            constraint=bias_constraint, name="bias")
        self.built = True

    def call(self, inputs):
        bound = len(self.in_dims)
        lead = tuple(inputs.shape[:-bound])
        if tuple(inputs.shape[-bound:]) != self.in_dims or not lead:
            dims = ", ".join(map(str, self.in_dims))
            raise ValueError(f"{A.who(self)}: expected an input of shape (batch, ..., {dims}), got "
                             f"{tuple(inputs.shape)}")
        n_in, n_out = math.prod(self.in_dims), math.prod(self.out_dims)
        y = (inputs.reshape(*lead, n_in) @ self.kernel.reshape(n_in, n_out)).reshape(*lead, *self.out_dims)
        if self.use_bias:
            y = y + self.bias
        if self.activity_regularizer is not None:
            self.add_loss(self.activity_regularizer(y) / y.shape[0])
        return y


def attention_equations(rank, attention_axes):
    """Keras' ``_build_attention_equation``: einsum equations for projected tensors of ``rank`` dims, shaped
    (B, <other dims>, <attention dims>, heads, channels):
        scores = einsum(dot, key, query):   (<batch dims, heads>, <query attention dims>, <key attention dims>)
        out = einsum(combine, scores, value): the query's shape with value's channels.
    E.g. rank 4, axes (1,): "aecd,abcd->acbe" and "acbe,aecd->abcd"."""
    letters = string.ascii_lowercase
    target = letters[:rank]
    batch_dims = [i for i in range(rank) if i not in attention_axes and i != rank - 1]  # the heads are among them
    source, offset = "", rank
    for i in range(rank):
        if i in batch_dims or i == rank - 1:
            source += target[i]
        else:
            source += letters[offset]
            offset += 1
    product = "".join([target[i] for i in batch_dims] + [target[i] for i in attention_axes]
                      + [source[i] for i in attention_axes])
    return f"{source},{target}->{product}", f"{product},{source}->{target}"


class MultiHeadAttention(WeightOptions, Layer):
    """Multi-head attention as ``keras.layers.MultiHeadAttention``.

    query (B, <query dims>, dim), value (B, <value dims>, vdim), key (B, <value dims>, kdim; defaults to value) ->
    (B, <query dims>, *output_shape or dim), and with ``return_attention_scores`` the scores
    (B, <non-attention dims>, H, <query attention dims>, <key attention dims>), e.g. (B, H, T, S) for 3-D inputs.
        Q = query . Wq + bq (B, ..., H, key_dim);  K, V likewise (sublayers ``query``, ``key``, ``value``);
        scores = softmax over the attention axes of (Q / sqrt(key_dim)) . K, masked;  out = (scores . V) . Wo + bo.
    ``attention_axes`` (default: all but the batch and feature axes) are the axes attended over. Masks (True =
    attend): ``attention_mask``, ``use_causal_mask``, and the padding masks ``query_mask``, ``value_mask``,
    ``key_mask``, merged as Keras does (see attention_masks.py). In a functional model the masks of query, value and
    key (e.g. from ``Embedding(mask_zero=True)``) fill these, and the output carries the query's mask. Keras reads
    the query's mask from the query tensor and ignores ``query_mask=``; a ganglion Tensor carries no mask, so in an
    eager call ``query_mask=`` stands for it. A fully masked query row gives zero scores, and, as Keras' fused
    attention, a uniform average of V when no scores are returned, no dropout is set and the inputs are 3-D.
    Weights, in Keras' order: query/kernel (dim, H, key_dim), query/bias (H, key_dim), key/..., value/kernel
    (vdim, H, value_dim), value/bias (H, value_dim), attention_output/kernel (H, value_dim, *out), bias (*out,).
    Regularizers, constraints and initializers go to each of the four projections, as in Keras.
    """

    supports_masking = True

    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True, output_shape=None,
                 attention_axes=None, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.num_heads = A.positive_int(num_heads, "num_heads", "MultiHeadAttention")
        self.key_dim = A.positive_int(key_dim, "key_dim", "MultiHeadAttention")
        self.value_dim = A.positive_int(value_dim, "value_dim", "MultiHeadAttention") if value_dim else key_dim
        self.dropout = float(dropout)
        self.use_bias = bool(use_bias)
        if isinstance(output_shape, int):
            output_shape = (output_shape,)
        if output_shape:
            output_shape = tuple(A.positive_int(d, "output_shape", "MultiHeadAttention") for d in output_shape)
        self._output_shape = output_shape or None
        if isinstance(attention_axes, int):
            attention_axes = (attention_axes,)
        elif attention_axes is not None and not isinstance(attention_axes, (list, tuple)):
            raise ValueError(f"MultiHeadAttention: attention_axes must be an int, list or tuple, got "
                             f"{attention_axes!r}")
        self.attention_axes = None if attention_axes is None else tuple(int(a) for a in attention_axes)
        self.seed = seed
        self._init_weight_options(kernel=(kernel_initializer, kernel_regularizer, kernel_constraint),
                                  bias=(bias_initializer, bias_regularizer, bias_constraint))
        self.activity_regularizer = regularizers.get(activity_regularizer)

    # ------------------------------------------------------------------------------------------- building
    def build(self, query_shape, value_shape=None, key_shape=None):
        """Make the four projections for inputs of these shapes (Keras' ``build``); a functional call hands the
        three shapes packed in one list."""
        if isinstance(query_shape, _Operands):
            query_shape, value_shape, key_shape = (list(query_shape) + [None])[:3]
        if value_shape is None:
            raise ValueError(f"{A.who(self)}: build needs the shapes of query and value, got value_shape=None")
        query_shape, value_shape = tuple(query_shape), tuple(value_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        for name, shape in (("query", query_shape), ("value", value_shape), ("key", key_shape)):
            if len(shape) < 3:
                raise ValueError(f"{A.who(self)}: expected {name} of shape (batch, seq, features) (or more dims), "
                                 f"got {shape}")
        if value_shape[1:-1] != key_shape[1:-1]:
            raise ValueError(f"{A.who(self)}: all dimensions of value and key except the last must be equal, got "
                             f"value_shape={value_shape} and key_shape={key_shape}")
        if len(query_shape) != len(value_shape):
            raise ValueError(f"{A.who(self)}: query and value must have the same number of dims, got "
                             f"query_shape={query_shape} and value_shape={value_shape}")
        rank = len(value_shape) + 1  # of the projected tensors (..., heads, channels)
        axes = tuple(range(1, rank - 2)) if self.attention_axes is None else \
            tuple(a if a >= 0 else rank - 1 + a for a in self.attention_axes)
        if not axes or any(not 1 <= a < rank - 2 for a in axes) or len(set(axes)) != len(axes):
            raise ValueError(f"{A.who(self)}: attention_axes={self.attention_axes!r} must name distinct axes of the "
                             f"inputs other than the batch (0) and features ({rank - 2}) axes, for inputs of "
                             f"shape {query_shape}")
        self._axes, self._input_rank = axes, len(value_shape)
        self._dot_product_equation, self._combine_equation = attention_equations(rank, axes)
        heads = self.num_heads
        out_dims = self._output_shape or (query_shape[-1],)
        for attribute, name, in_dims, out in (("query_dense", "query", query_shape[-1:], (heads, self.key_dim)),
                                              ("key_dense", "key", key_shape[-1:], (heads, self.key_dim)),
                                              ("value_dense", "value", value_shape[-1:], (heads, self.value_dim)),
                                              ("output_dense", "attention_output", (heads, self.value_dim),
                                               out_dims)):
            setattr(self, attribute, _Projection(
                name, in_dims, out, self.use_bias, self.kernel_initializer, self.bias_initializer,
                self.kernel_regularizer, self.bias_regularizer, self.activity_regularizer, self.kernel_constraint,
                self.bias_constraint, trainable=self.trainable, dtype=self.dtype_policy))
        self.built = True

    def compute_output_shape(self, query_shape, value_shape, key_shape=None):
        value_shape = tuple(value_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        if value_shape[1:-1] != key_shape[1:-1]:
            raise ValueError(f"{A.who(self)}: all dimensions of value and key except the last must be equal, got "
                             f"value_shape={value_shape} and key_shape={key_shape}")
        query_shape = tuple(query_shape)
        return query_shape[:-1] + self._output_shape if self._output_shape else query_shape

    # ------------------------------------------------------------------------------------------- calling
    def __call__(self, query, value, key=None, *args, **kwargs):
        operands = _Operands([query, value] if key is None else [query, value, key])
        if _is_symbolic(operands):
            return _input_layer().symbolic_call(self, operands, args, kwargs)
        return Layer.__call__(self, operands, *args, **kwargs)

    def forward(self, operands, *args, **kwargs):
        operands = self._prepare_call(operands, kwargs)
        query, value = operands[0], operands[1]
        return self.call(query, value, operands[2] if len(operands) == 3 else None, *args, **kwargs)

    def _call_with_mask(self, inputs, input_mask, *args, **kwargs):
        """A functional model's call with the masks of query, value (and key), as Keras' ``__call__``: the value's
        and key's fill ``value_mask`` and ``key_mask`` unless those are given; the query's is always the query's
        own (Keras' call reads it from the tensor). The output's mask is the query's (none for the scores)."""
        masks = [None] * len(inputs) if no_mask(input_mask) else list(input_mask)
        kwargs["query_mask"] = masks[0]
        if kwargs.get("value_mask") is None:
            kwargs["value_mask"] = masks[1]
        if len(inputs) == 3 and kwargs.get("key_mask") is None:
            kwargs["key_mask"] = masks[2]
        outputs = self(inputs[0], inputs[1], inputs[2] if len(inputs) == 3 else None, *args, **kwargs)
        query_mask = masks[0]
        if query_mask is None:
            return outputs, None
        return outputs, ((query_mask, None) if kwargs.get("return_attention_scores") else query_mask)

    def call(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None, attention_mask=None,
             return_attention_scores=False, training=None, use_causal_mask=False):
        query, value = as_tensor(query), as_tensor(value)
        key = value if key is None else as_tensor(key)
        if not self.built:
            self.build(tuple(query.shape), tuple(value.shape), tuple(key.shape))
        if value.shape[1:-1] != key.shape[1:-1] or not query.ndim == value.ndim == key.ndim == self._input_rank:
            raise ValueError(f"{A.who(self)}: query {tuple(query.shape)}, value {tuple(value.shape)} and key "
                             f"{tuple(key.shape)} must have the rank the layer was built for and value and key "
                             "equal dims but the last")
        q = self.query_dense(query) * (1.0 / math.sqrt(self.key_dim))
        k, v = self.key_dense(key), self.value_dense(value)
        scores = einsum(self._dot_product_equation, k, q)
        mask = attention_mask_of(self, query, value, key, tuple(scores.shape), len(self._axes), query_mask,
                                 value_mask, key_mask, attention_mask, use_causal_mask)
        # Keras' fused attention (3-D inputs, no dropout, no scores asked) leaves a fully masked row uniform; its
        # masked softmax, used otherwise, zeroes it
        fused = self.dropout == 0 and not return_attention_scores and q.ndim == 4
        weights = self._masked_softmax(scores, mask, zero_masked=not fused)
        attended = dropout(weights, self.dropout, training=bool(training)) if self.dropout > 0 else weights
        out = self.output_dense(einsum(self._combine_equation, attended, v))
        return (out, weights) if return_attention_scores else out

    def _masked_softmax(self, scores, mask, zero_masked):
        """softmax over the trailing attention axes, -1e9 where ``mask`` is False (Keras' Softmax layer), and 0
        there afterwards when ``zero_masked``."""
        if mask is not None:
            scores = where(mask, scores, -3e4 if scores.dtype == "float16" else -1e9)
        attention_rank = len(self._axes)
        lead = tuple(scores.shape[:-attention_rank])
        weights = scores.reshape(*lead, -1).softmax(-1).reshape(scores.shape)
        if mask is not None and zero_masked:
            weights = where(mask, weights, 0.0)
        return weights

    def get_config(self):
        config = super().get_config()
        config.update({
            "num_heads": self.num_heads, "key_dim": self.key_dim, "value_dim": self.value_dim,
            "dropout": self.dropout, "use_bias": self.use_bias, "output_shape": self._output_shape,
            "attention_axes": self.attention_axes, "seed": self.seed, **self._weight_options_config(),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
        })
        return config
