"""``scaled_dot_product_attention``: softmax(Q K^T * scale + mask) V, composed of engine ops so autograd gives the
backward (matmul, where, softmax, dropout each carry their own rule)."""

import math

from ...ops import cat, matmul, pad, softmax, where
from ...tensor import Tensor
from .dropout import dropout
from .linear import linear


def _as_mask(mask, like):
    """``mask`` (Tensor, array or nested lists) as a Tensor on ``like``'s device; bool stays bool, numbers take
    ``like``'s dtype (an additive mask)."""
    from ...factories import tensor

    if not isinstance(mask, Tensor):
        as_given = tensor(mask, device=like.device)
        mask = as_given if as_given.dtype.kind == "b" else tensor(mask, dtype=like.dtype, device=like.device)
    if mask.dtype.kind != "b" and mask.dtype != like.dtype:
        mask = mask.type(like.dtype)
    return mask


def causal_mask(target_len, source_len, device=None):
    """A bool (target_len, source_len) mask, True on and below the diagonal: position i may attend to j <= i."""
    from ...factories import ones

    return ones(target_len, source_len, dtype="bool", device=device).tril()


def _safe_softmax(scores):
    """softmax along the last dim, but 0 (not NaN) for a row whose scores are all -inf (fully masked), as
    PyTorch's attention does."""
    from ...factories import tensor

    dead_rows = (scores.array == -math.inf).all(axis=-1, keepdims=True)
    if not dead_rows.any():
        return softmax(scores, dim=-1)
    dead_rows = tensor(dead_rows, device=scores.device)
    return where(dead_rows, 0.0, softmax(where(dead_rows, 0.0, scores), dim=-1))


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """Attention of ``query`` over ``key``/``value``, as ``torch.nn.functional.scaled_dot_product_attention``.

    Shapes: query (*, L, E), key (*, S, E), value (*, S, Ev) -> (*, L, Ev); the leading dims broadcast.
        A = softmax(Q K^T * scale + M) (along S),  out = dropout(A, dropout_p) V,  scale = 1 / sqrt(E) by default.
    ``attn_mask`` broadcasts to (*, L, S): a bool mask is True where attention is allowed (False positions get
    -inf; a row with no True gives zeros, as PyTorch); a float mask is added to the scores. ``is_causal`` uses a
    lower-triangular mask (with ``attn_mask`` it is an error, as PyTorch). Dropout is applied whenever
    ``dropout_p > 0`` (the functional form has no training flag).
    """
    for name, x in (("query", query), ("key", key), ("value", value)):
        if not isinstance(x, Tensor):
            raise TypeError(f"scaled_dot_product_attention: {name} must be a Tensor, got {type(x).__name__}")
        if x.ndim < 2:
            raise ValueError(f"scaled_dot_product_attention: {name} must have at least 2 dims (*, seq, features), "
                             f"got shape {tuple(x.shape)}")
    if enable_gqa:
        raise ValueError("scaled_dot_product_attention: enable_gqa=True is not supported; repeat the key/value "
                         "heads to the query's head count instead")
    if query.shape[-1] != key.shape[-1]:
        raise ValueError(f"scaled_dot_product_attention: query's last dim {query.shape[-1]} must equal key's "
                         f"{key.shape[-1]} (query {tuple(query.shape)}, key {tuple(key.shape)})")
    if key.shape[-2] != value.shape[-2]:
        raise ValueError(f"scaled_dot_product_attention: key and value must have the same sequence length, got "
                         f"key {tuple(key.shape)} and value {tuple(value.shape)}")
    if is_causal and attn_mask is not None:
        raise RuntimeError("scaled_dot_product_attention: _scaled_dot_product_attention: Explicit attn_mask should "
                           "not be set when is_causal=True")
    target_len, source_len = query.shape[-2], key.shape[-2]
    if scale is None:
        scale = 1.0 / math.sqrt(query.shape[-1])
    scores = matmul(query, key.transpose(-2, -1)) * scale
    if is_causal:
        attn_mask = causal_mask(target_len, source_len, device=query.device)
    if attn_mask is not None:
        attn_mask = _as_mask(attn_mask, scores)
        scores = where(attn_mask, scores, -math.inf) if attn_mask.dtype.kind == "b" else scores + attn_mask
    weights = _safe_softmax(scores)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, training=True)
    return matmul(weights, value)


def _additive_mask(mask, name, like):
    """A bool mask (True = do not attend, PyTorch's MultiheadAttention convention) as a float mask with -inf
    there and 0 elsewhere; a float mask as it is (in ``like``'s dtype); None stays None."""
    if mask is None:
        return None
    mask = _as_mask(mask, like)
    if mask.dtype.kind == "b":
        return where(mask, -math.inf, like.new_zeros(()))
    if mask.dtype.kind != "f":
        raise TypeError(f"multi_head_attention_forward: only bool and floating types of {name} are supported, "
                        f"got {mask.dtype}")
    return mask


def _project(query, key, value, w_q, w_k, w_v, in_proj_bias):
    b_q = b_k = b_v = None
    if in_proj_bias is not None:
        b_q, b_k, b_v = in_proj_bias.chunk(3)
    return linear(query, w_q, b_q), linear(key, w_k, b_k), linear(value, w_v, b_v)


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
                                 bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
                                 training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
                                 v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
                                 is_causal=False):
    """Multi-head attention in PyTorch's sequence-first layout, as ``torch.nn.functional.multi_head_attention_forward``.

    Shapes: query (L, N, E), key (S, N, kdim), value (S, N, vdim) (or unbatched (L, E), (S, kdim), (S, vdim));
    key_padding_mask (N, S); attn_mask (L, S) or (N * num_heads, L, S); bool masks are True where attention is
    NOT allowed, float masks are added to the scores. Returns (output (L, N, E), weights (N, L, S) averaged over
    heads, (N, num_heads, L, S) per head, or None when ``need_weights`` is False).
        Q = query W_q^T + b_q (same for K, V), split into heads of E / num_heads features;
        head_h = softmax(Q_h K_h^T / sqrt(E / num_heads) + mask) V_h;  output = concat(heads) W_o^T + b_o.
    ``bias_k``/``bias_v`` (1, 1, E) add one learned key/value position; ``add_zero_attn`` one zero position.
    ``is_causal`` is a hint, as in PyTorch: ``attn_mask`` must still be given; with no key_padding_mask and
    need_weights=False the causal mask is applied in its place, otherwise ``attn_mask`` is used.
    """
    if static_k is not None or static_v is not None:
        raise ValueError("multi_head_attention_forward: static_k and static_v are not supported")
    batched = query.ndim == 3
    if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
        raise ValueError(f"multi_head_attention_forward: expected query, key and value all 3-D (seq, batch, "
                         f"features) or all 2-D (seq, features), got {tuple(query.shape)}, {tuple(key.shape)}, "
                         f"{tuple(value.shape)}")
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = _as_mask(key_padding_mask, query).unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    if embed_dim != embed_dim_to_check:
        raise ValueError(f"multi_head_attention_forward: was expecting embedding dimension of {embed_dim_to_check}, "
                         f"but got {embed_dim}")
    if key.shape[:2] != value.shape[:2] or key.shape[1] != bsz:
        raise ValueError(f"multi_head_attention_forward: key {tuple(key.shape)} and value {tuple(value.shape)} must "
                         f"share (seq, batch), and the batch must be the query's {bsz}")
    if is_causal and attn_mask is None:
        raise RuntimeError("multi_head_attention_forward: Need attn_mask if specifying the is_causal hint. You may "
                           "use the Transformer module method `generate_square_subsequent_mask` to create this mask.")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise ValueError(f"multi_head_attention_forward: embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if is_causal and key_padding_mask is None and not need_weights:
        # PyTorch then trusts the hint and applies the causal mask in place of attn_mask
        attn_mask = causal_mask(tgt_len, key.shape[0], device=query.device).logical_not()
    attn_mask = _additive_mask(attn_mask, "attn_mask", query)
    key_padding_mask = _additive_mask(key_padding_mask, "key_padding_mask", query)

    if use_separate_proj_weight:
        w_q, w_k, w_v = q_proj_weight, k_proj_weight, v_proj_weight
    else:
        w_q, w_k, w_v = in_proj_weight.chunk(3)
    q, k, v = _project(query, key, value, w_q, w_k, w_v, in_proj_bias)

    src_len = key.shape[0]
    if attn_mask is not None:
        expected = {2: (tgt_len, src_len), 3: (bsz * num_heads, tgt_len, src_len)}.get(attn_mask.ndim)
        if tuple(attn_mask.shape) != expected:
            raise RuntimeError(f"multi_head_attention_forward: attn_mask should have shape ({tgt_len}, {src_len}) "
                               f"or ({bsz * num_heads}, {tgt_len}, {src_len}), got {tuple(attn_mask.shape)}")
        if attn_mask.ndim == 2:
            attn_mask = attn_mask.unsqueeze(0)
    if key_padding_mask is not None and tuple(key_padding_mask.shape) != (bsz, src_len):
        raise ValueError(f"multi_head_attention_forward: expecting key_padding_mask shape of ({bsz}, {src_len}), "
                         f"but got {tuple(key_padding_mask.shape)}")

    def one_more_key(k, v, k_extra, v_extra, dim):
        """Append one key/value position (along ``dim``); masks get a 0 (attend) column for it."""
        nonlocal attn_mask, key_padding_mask
        k, v = cat([k, k_extra], dim=dim), cat([v, v_extra], dim=dim)
        attn_mask = None if attn_mask is None else pad(attn_mask, (0, 1))
        key_padding_mask = None if key_padding_mask is None else pad(key_padding_mask, (0, 1))
        return k, v

    if bias_k is not None and bias_v is not None:
        k, v = one_more_key(k, v, bias_k.repeat(1, bsz, 1), bias_v.repeat(1, bsz, 1), dim=0)
    elif bias_k is not None or bias_v is not None:
        raise ValueError("multi_head_attention_forward: bias_k and bias_v must both be given or both be None")

    # (seq, batch, E) -> (batch * heads, seq, head_dim)
    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = k.reshape(k.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
    v = v.reshape(v.shape[0], bsz * num_heads, v.shape[-1] // num_heads).transpose(0, 1)
    if add_zero_attn:
        zeros = k.new_zeros((bsz * num_heads, 1, head_dim))
        k, v = one_more_key(k, v, zeros, v.new_zeros((bsz * num_heads, 1, v.shape[-1])), dim=1)
    src_len = k.shape[1]
    if key_padding_mask is not None:
        key_padding_mask = key_padding_mask.reshape(bsz, 1, 1, src_len).expand(bsz, num_heads, 1, src_len)
        key_padding_mask = key_padding_mask.reshape(bsz * num_heads, 1, src_len)
        attn_mask = key_padding_mask if attn_mask is None else attn_mask + key_padding_mask

    scores = matmul(q * (1.0 / math.sqrt(head_dim)), k.transpose(-2, -1))
    if attn_mask is not None:
        scores = scores + attn_mask
    weights = _safe_softmax(scores)
    if training and dropout_p > 0.0:
        weights = dropout(weights, dropout_p, training=True)
    out = matmul(weights, v)  # (batch * heads, L, head_dim)
    out = out.transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
    out = linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, embed_dim)
    if not need_weights:
        return (out if batched else out.squeeze(1)), None
    weights = weights.reshape(bsz, num_heads, tgt_len, src_len)
    if average_attn_weights:
        weights = weights.mean(dim=1)
    if not batched:
        return out.squeeze(1), weights.squeeze(0)
    return out, weights
