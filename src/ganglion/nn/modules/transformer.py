"""The Transformer of PyTorch: ``TransformerEncoderLayer`` (self-attention + feed-forward, each with a residual and a
LayerNorm), ``TransformerDecoderLayer`` (self-attention, attention over the encoder's memory, feed-forward),
``TransformerEncoder``/``TransformerDecoder`` (stacks of copies) and ``Transformer`` (the encoder-decoder model).
Submodule names, and so state_dict keys, are PyTorch's."""

import copy
import math

from .. import functional as F
from .. import init
from ..module import Module
from ...factories import full
from .attention import MultiheadAttention
from .container import ModuleList
from .dropout import Dropout
from .linear import Linear
from .normalization import LayerNorm

_ACTIVATIONS = {"relu": F.relu, "gelu": F.gelu}


def _activation(activation):
    if callable(activation):
        return activation
    if activation not in _ACTIVATIONS:
        raise RuntimeError(f"activation should be relu/gelu, not {activation!r}")
    return _ACTIVATIONS[activation]


class _TransformerLayer(Module):
    """What the encoder and decoder layers share: PyTorch's submodules, built in PyTorch's order (so state_dict keys
    and their order match), the self-attention block SA and the feed-forward block FF."""

    def _build(self, attentions, d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps, batch_first,
               norm_first, bias, device, dtype):
        """One MultiheadAttention per name in ``attentions``; linear1, dropout, linear2 (the feed-forward); one
        LayerNorm ``norm<i>`` and one Dropout ``dropout<i>`` per sublayer (the attentions, then the feed-forward)."""
        factory = {"device": device, "dtype": dtype}
        for name in attentions:
            setattr(self, name, MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first,
                                                   **factory))
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **factory)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **factory)
        self.norm_first = bool(norm_first)
        sublayers = range(1, len(attentions) + 2)
        for i in sublayers:
            setattr(self, f"norm{i}", LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory))
        for i in sublayers:
            setattr(self, f"dropout{i}", Dropout(dropout))
        self._ff_dropout = f"dropout{len(attentions) + 1}"
        self.activation = _activation(activation)

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=False,
                           is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        return getattr(self, self._ff_dropout)(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class _LayerStack(Module):
    """``num_layers`` deep copies of one layer (the constructor's ``argument``), applied in turn by the subclass's
    forward, then ``norm`` if given."""

    def __init__(self, argument, layer, num_layers, norm):
        super().__init__()
        if not isinstance(layer, Module):
            raise TypeError(f"{type(self).__name__}: {argument} must be a Module, got {type(layer).__name__}")
        self.layers = ModuleList([copy.deepcopy(layer) for _ in range(num_layers)])
        self.num_layers = num_layers
        self.norm = norm

    def _final_norm(self, output):
        return output if self.norm is None else self.norm(output)


class TransformerEncoderLayer(_TransformerLayer):
    """One encoder block, as ``torch.nn.TransformerEncoderLayer`` (same submodule names).

    src (S, N, d_model) ((N, S, d_model) with ``batch_first``; unbatched (S, d_model)) -> the same shape.
        post-norm (default): x = norm1(x + SA(x));  x = norm2(x + FF(x))
        pre-norm (norm_first): x = x + SA(norm1(x));  x = x + FF(norm2(x))
    SA(x) = dropout1(self_attn(x, x, x)),  FF(x) = dropout2(linear2(dropout(activation(linear1(x))))).
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation=F.relu, layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True, device=None, dtype=None):
        super().__init__()
        self._build(("self_attn",), d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps, batch_first,
                    norm_first, bias, device, dtype)

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x


class TransformerEncoder(_LayerStack):
    """``num_layers`` deep copies of ``encoder_layer`` applied in turn, then ``norm`` if given, as
    ``torch.nn.TransformerEncoder``.  src (S, N, E) (or (N, S, E) with batch_first) -> the same shape.

    ``enable_nested_tensor`` is accepted for compatibility and has no effect: ganglion always computes the padded
    positions (PyTorch's nested fast path, used only in inference, returns zeros there instead).
    """

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True, mask_check=True):
        super().__init__("encoder_layer", encoder_layer, num_layers, norm)
        self.enable_nested_tensor = enable_nested_tensor

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        output = src
        is_causal = bool(is_causal)
        for layer in self.layers:
            output = layer(output, src_mask=mask, is_causal=is_causal, src_key_padding_mask=src_key_padding_mask)
        return self._final_norm(output)


class TransformerDecoderLayer(_TransformerLayer):
    """One decoder block, as ``torch.nn.TransformerDecoderLayer`` (same submodule names).

    tgt (T, N, d_model), memory (S, N, d_model) ((N, T, d_model), (N, S, d_model) with ``batch_first``; unbatched
    (T, d_model), (S, d_model)) -> the shape of tgt.
        post-norm (default): x = norm1(x + SA(x));  x = norm2(x + MHA(x, m));  x = norm3(x + FF(x))
        pre-norm (norm_first): x = x + SA(norm1(x));  x = x + MHA(norm2(x), m);  x = x + FF(norm3(x))
    SA(x) = dropout1(self_attn(x, x, x)),  MHA(x, m) = dropout2(multihead_attn(x, m, m)),
    FF(x) = dropout3(linear2(dropout(activation(linear1(x))))).
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation=F.relu, layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True, device=None, dtype=None):
        super().__init__()
        self._build(("self_attn", "multihead_attn"), d_model, nhead, dim_feedforward, dropout, activation,
                    layer_norm_eps, batch_first, norm_first, bias, device, dtype)

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False):
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask, memory_key_padding_mask, memory_is_causal)
            x = x + self._ff_block(self.norm3(x))
        else:
            x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
            x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask, memory_is_causal))
            x = self.norm3(x + self._ff_block(x))
        return x

    def _mha_block(self, x, memory, attn_mask, key_padding_mask, is_causal):
        x = self.multihead_attn(x, memory, memory, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                                need_weights=False, is_causal=is_causal)[0]
        return self.dropout2(x)


class TransformerDecoder(_LayerStack):
    """``num_layers`` deep copies of ``decoder_layer`` applied in turn to tgt (each attending to ``memory``), then
    ``norm`` if given, as ``torch.nn.TransformerDecoder``.  tgt (T, N, E), memory (S, N, E) (batch first with the
    layers' ``batch_first``) -> the shape of tgt."""

    def __init__(self, decoder_layer, num_layers, norm=None):
        super().__init__("decoder_layer", decoder_layer, num_layers, norm)

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False):
        output = tgt
        # None ("detect") and False give the same numbers: the hint only lets PyTorch skip reading the mask
        tgt_is_causal = bool(tgt_is_causal)
        for layer in self.layers:
            output = layer(output, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                           tgt_key_padding_mask=tgt_key_padding_mask, memory_key_padding_mask=memory_key_padding_mask,
                           tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)
        return self._final_norm(output)


class Transformer(Module):
    """The encoder-decoder Transformer of "Attention Is All You Need", as ``torch.nn.Transformer``.

    src (S, N, d_model), tgt (T, N, d_model) ((N, S, d_model), (N, T, d_model) with ``batch_first``; unbatched
    (S, d_model), (T, d_model)) -> (T, N, d_model) (the shape of tgt).
        memory = encoder(src, src_mask, src_key_padding_mask)
        output = decoder(tgt, memory, tgt_mask, memory_mask, tgt_key_padding_mask, memory_key_padding_mask)
    ``encoder`` is a TransformerEncoder of ``num_encoder_layers`` layers with a final LayerNorm (or
    ``custom_encoder``), ``decoder`` likewise; every parameter with more than one dimension is then
    re-initialized Xavier-uniform, as PyTorch does. Masks: (S, S) / (T, T) / (T, S) (or per head (N*nhead, ., .)),
    bool (True = may not attend) or float (added to the scores); key padding masks (N, S) / (N, T), True = ignore.
    """

    def __init__(self, d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6, dim_feedforward=2048,
                 dropout=0.1, activation=F.relu, custom_encoder=None, custom_decoder=None, layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True, device=None, dtype=None):
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        layer_args = (d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps, batch_first, norm_first,
                      bias)
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            self.encoder = TransformerEncoder(TransformerEncoderLayer(*layer_args, **factory), num_encoder_layers,
                                              LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory))
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            self.decoder = TransformerDecoder(TransformerDecoderLayer(*layer_args, **factory), num_decoder_layers,
                                              LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory))
        for p in self.parameters():
            if p.dim() > 1:
                init.xavier_uniform_(p)
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None, src_key_padding_mask=None,
                tgt_key_padding_mask=None, memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
                memory_is_causal=False):
        batch_dim = 0 if self.batch_first else 1
        if src.dim() == 3 and src.shape[batch_dim] != tgt.shape[batch_dim]:
            raise RuntimeError(f"Transformer: the batch number of src and tgt must be equal, got src of shape "
                               f"{tuple(src.shape)} and tgt of shape {tuple(tgt.shape)} (batch_first="
                               f"{self.batch_first})")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise RuntimeError(f"Transformer: the feature number of src and tgt must be equal to d_model="
                               f"{self.d_model}, got src of shape {tuple(src.shape)} and tgt of shape "
                               f"{tuple(tgt.shape)}")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask, tgt_is_causal=tgt_is_causal,
                            memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz, device=None, dtype=None):
        """A float (sz, sz) mask: 0 on and below the diagonal, -inf above (position i sees positions j <= i)."""
        return full((sz, sz), -math.inf, dtype=dtype, device=device).triu(diagonal=1)
