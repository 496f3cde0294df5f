"""The masks of ``MultiHeadAttention``, merged as Keras 3's ``_compute_attention_mask`` and ``_masked_softmax`` do.

A mask is True where attention is allowed. The sources, each checked against the tensor it belongs to:
    query_mask (B, <query dims>)   -> (B, <query dims>, 1)        a padded query position attends to nothing
    value_mask (B, <value dims>)   -> (B, 1, <value dims>)        a padded value position is attended by nothing
    key_mask   (B, <key dims>)     -> (B, 1, <key dims>)          likewise for the key
    causal     (1, T, S)           lower triangle: position i attends to j <= i
    attention_mask (B, T, S)       given by the caller
are ANDed into one mask, which is then widened (Keras inserts the missing axes just before the query attention
axes, where the heads are) until it has the attention scores' rank.
"""

from ...nn.functional.attention import causal_mask
from ...ops import logical_and
from . import _adapters as A
from .structure import as_tensor


def as_bool(mask):
    """A mask as bools, nonzero = True (Keras casts masks to bool)."""
    return mask if mask.dtype.kind == "b" else mask != 0


def checked_mask(layer, name, mask, expected):
    """``mask`` as a bool Tensor; ValueError naming ``name`` and both shapes unless it has the shape ``expected``
    (a dim of 1 broadcasts, as in Keras)."""
    mask = as_tensor(mask)
    shape = tuple(mask.shape)
    if len(shape) != len(expected) or any(m != e and m != 1 for m, e in zip(shape, expected)):
        raise ValueError(f"{A.who(layer)}: {name} must have shape {tuple(expected)} to match the inputs, got "
                         f"{name} of shape {shape}")
    return as_bool(mask)


def attention_mask_of(layer, query, value, key, scores_shape, attention_rank, query_mask=None, value_mask=None,
                      key_mask=None, attention_mask=None, use_causal_mask=False):
    """One bool mask shaped to broadcast over the scores (or None) from the masks of ``call``, as Keras'
    ``_compute_attention_mask``: the query's (B, T) as (B, T, 1), the value's and key's (B, S) as (B, 1, S), the
    causal (1, T, S), and ``attention_mask``, all ANDed. Each mask is checked against what it belongs to."""
    merged = None

    def meet(mask):
        nonlocal merged
        merged = mask if merged is None else logical_and(merged, mask)

    if query_mask is not None:
        meet(checked_mask(layer, "query_mask", query_mask, query.shape[:-1]).unsqueeze(-1))
    if value_mask is not None:
        meet(checked_mask(layer, "value_mask", value_mask, value.shape[:-1]).unsqueeze(-2))
    if key_mask is not None:
        meet(checked_mask(layer, "key_mask", key_mask, key.shape[:-1]).unsqueeze(-2))
    if use_causal_mask:
        meet(causal_mask(query.shape[1], value.shape[1], device=query.device).unsqueeze(0))
    if attention_mask is not None:
        given = as_bool(as_tensor(attention_mask))
        mask_for_scores(layer, given, scores_shape, attention_rank, "attention_mask")
        merged = given if merged is None else logical_and(given, merged)
    return None if merged is None else mask_for_scores(layer, merged, scores_shape, attention_rank)


def mask_for_scores(layer, mask, scores_shape, attention_rank, name="the merged attention mask"):
    """``mask`` widened to the rank of the scores (<batch dims>, heads, <query attention dims>, <key attention
    dims>): the missing axes go just before the query attention axes, as Keras' ``_masked_softmax``. ValueError
    naming the attention mask and both shapes when it does not broadcast to the scores."""
    shape = tuple(mask.shape)
    if len(shape) > len(scores_shape):
        raise ValueError(f"{A.who(layer)}: {name} of shape {shape} has more dims than the attention scores of "
                         f"shape {tuple(scores_shape)}")
    insert_at = max(len(shape) - 2 * attention_rank, 0)  # before the mask's query and key attention dims
    shape = shape[:insert_at] + (1,) * (len(scores_shape) - len(shape)) + shape[insert_at:]
    if any(m != s and m != 1 for m, s in zip(shape, scores_shape)):
        raise ValueError(f"{A.who(layer)}: {name} of shape {tuple(mask.shape)} does not broadcast to the attention "
                         f"scores of shape {tuple(scores_shape)} (batch dims, heads, query attention dims, key "
                         "attention dims)")
    return mask.reshape(shape)
