"""Attention against PyTorch: scaled_dot_product_attention, MultiheadAttention, TransformerEncoder(Layer)."""

import numpy as np
import pytest
import torch

import ganglion as g
from ganglion import nn
from ganglion.autograd.gradcheck import gradcheck
from ganglion.nn import functional as F


def g64(a, grad=False):
    return g.tensor(a, dtype=g.float64, requires_grad=grad)


def t64(a, grad=False):
    return torch.tensor(a, dtype=torch.float64, requires_grad=grad)


def close(a, b, atol=1e-10):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=atol, rtol=1e-9)


def _bool_mask(rng, shape):
    mask = rng.random(shape) > 0.4
    mask[..., 0] = True  # every row sees at least one key
    return mask


SDPA_CASES = {
    "plain": lambda rng: {},
    "bool_mask": lambda rng: {"attn_mask": _bool_mask(rng, (4, 6))},
    "bool_mask_per_head": lambda rng: {"attn_mask": _bool_mask(rng, (2, 3, 4, 6))},
    "float_mask": lambda rng: {"attn_mask": rng.normal(size=(4, 6))},
    "causal": lambda rng: {"is_causal": True},
    "scale": lambda rng: {"scale": 0.3},
    "fully_masked_row": lambda rng: {"attn_mask": np.vstack([np.zeros((1, 6), bool), _bool_mask(rng, (3, 6))])},
}


@pytest.mark.parametrize("case", SDPA_CASES)
def test_sdpa_matches_torch_forward_and_backward(rng, case):
    q, k, v = rng.normal(size=(2, 3, 4, 5)), rng.normal(size=(2, 3, 6, 5)), rng.normal(size=(2, 3, 6, 7))
    kwargs = SDPA_CASES[case](rng)
    t_kwargs = {n: torch.tensor(a) if isinstance(a, np.ndarray) else a for n, a in kwargs.items()}
    gq, gk, gv = (g64(a, True) for a in (q, k, v))
    tq, tk, tv = (t64(a, True) for a in (q, k, v))
    out = F.scaled_dot_product_attention(gq, gk, gv, **kwargs)
    ref = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, **t_kwargs)
    assert out.shape == (2, 3, 4, 7)
    close(out, ref)
    weights = rng.normal(size=out.shape)
    (out * g64(weights)).sum().backward()
    (ref * t64(weights)).sum().backward()
    for mine, theirs in ((gq, tq), (gk, tk), (gv, tv)):
        close(mine.grad, theirs.grad)


@pytest.mark.parametrize("case", ["bool_mask", "float_mask", "causal"])
def test_sdpa_gradcheck(rng, case):
    kwargs = SDPA_CASES[case](rng)
    q, k, v = g64(rng.normal(size=(2, 4, 3)), True), g64(rng.normal(size=(2, 6, 3)), True), g64(
        rng.normal(size=(2, 6, 2)), True)
    assert gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, **kwargs), (q, k, v))


def test_sdpa_dropout_zeroes_weights_and_rescales(rng):
    q, k, v = g64(rng.normal(size=(4, 5))), g64(rng.normal(size=(6, 5))), g64(np.ones((6, 3)))
    assert np.all(F.scaled_dot_product_attention(q, k, v, dropout_p=1.0).numpy() == 0)
    g.manual_seed(0)
    out = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5).numpy()
    # with value all ones each output is the sum of the kept weights times 2: not all 1, never negative
    assert not np.allclose(out, 1.0) and np.all(out >= 0)


def test_sdpa_errors():
    q = g64(np.zeros((4, 5)))
    with pytest.raises(ValueError, match="query's last dim 5 must equal key's 3"):
        F.scaled_dot_product_attention(q, g64(np.zeros((6, 3))), g64(np.zeros((6, 3))))
    with pytest.raises(RuntimeError, match="is_causal"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=np.ones((4, 4), bool), is_causal=True)


def _padding(rng, batch, src_len):
    mask = rng.random((batch, src_len)) > 0.7
    mask[:, 0] = False  # True = ignore; keep one key per sample
    return mask


MHA_CASES = {
    "self": (dict(), lambda rng: {}, [(5, 3, 8)] * 3),
    "kdim_vdim_batch_first_masks_per_head": (
        dict(kdim=4, vdim=6, batch_first=True),
        lambda rng: {"key_padding_mask": _padding(rng, 3, 6), "attn_mask": ~_bool_mask(rng, (5, 6)),
                     "average_attn_weights": False},
        [(3, 5, 8), (3, 6, 4), (3, 6, 6)]),
    "bias_kv_zero_attn_float_mask_3d": (
        dict(num_heads=4, add_bias_kv=True, add_zero_attn=True),
        lambda rng: {"key_padding_mask": _padding(rng, 3, 6).astype(np.float64) * -1e9,
                     "attn_mask": rng.normal(size=(12, 5, 6))},
        [(5, 3, 8), (6, 3, 8), (6, 3, 8)]),
    "unbatched_no_bias_causal_hint": (
        dict(bias=False), lambda rng: {"need_weights": False, "attn_mask": ~_bool_mask(rng, (5, 6)), "is_causal": True},
        [(5, 8), (6, 8), (6, 8)]),
}


@pytest.mark.parametrize("case", MHA_CASES)
def test_multihead_attention_matches_torch(rng, case):
    options, make_kwargs, shapes = MHA_CASES[case]
    options = {"embed_dim": 8, "num_heads": 2, **options}
    theirs = torch.nn.MultiheadAttention(**options, dtype=torch.float64)
    mine = nn.MultiheadAttention(**options, dtype=g.float64)
    state = theirs.state_dict()
    assert list(mine.state_dict()) == list(state)
    mine.load_state_dict({name: value.numpy() for name, value in state.items()})
    kwargs = make_kwargs(rng)
    t_kwargs = {n: torch.tensor(a) if isinstance(a, np.ndarray) else a for n, a in kwargs.items()}
    arrays = [rng.normal(size=s) for s in shapes]
    g_inputs, t_inputs = [g64(a, True) for a in arrays], [t64(a, True) for a in arrays]
    out, weights = mine(*g_inputs, **kwargs)
    ref, ref_weights = theirs(*t_inputs, **t_kwargs)
    close(out, ref)
    loss, ref_loss = out.sum(), ref.sum()
    if ref_weights is None:
        assert weights is None
    else:
        close(weights, ref_weights)
        loss, ref_loss = loss + (weights ** 2).sum(), ref_loss + (ref_weights ** 2).sum()
    loss.backward()
    ref_loss.backward()
    for x, tx in zip(g_inputs, t_inputs):
        close(x.grad, tx.grad)
    mine_params = dict(mine.named_parameters())
    for name, p in theirs.named_parameters():
        close(mine_params[name].grad, p.grad)


def test_multihead_attention_errors():
    with pytest.raises(ValueError, match="divisible by num_heads"):
        nn.MultiheadAttention(10, 3)
    mha = nn.MultiheadAttention(8, 2)
    x = g.zeros(5, 3, 8)
    with pytest.raises(RuntimeError, match="Need attn_mask"):
        mha(x, x, x, is_causal=True)
    with pytest.raises(RuntimeError, match="attn_mask should have shape"):
        mha(x, x, x, attn_mask=np.zeros((4, 5), bool))
    with pytest.raises(ValueError, match="embedding dimension of 8"):
        mha(g.zeros(5, 3, 6), x, x)


ENCODER_CASES = {
    "post_norm_relu": dict(),
    "pre_norm_gelu_batch_first": dict(batch_first=True, norm_first=True, activation="gelu"),
    "no_bias_callable": dict(bias=False, activation="callable"),
}


@pytest.mark.parametrize("case", ENCODER_CASES)
def test_transformer_encoder_matches_torch(rng, case):
    options = ENCODER_CASES[case]
    t_options, g_options = dict(options), dict(options)
    if options.get("activation") == "callable":
        t_options["activation"], g_options["activation"] = torch.nn.functional.relu, F.relu
    torch.manual_seed(0)
    theirs = torch.nn.TransformerEncoder(
        torch.nn.TransformerEncoderLayer(8, 2, 16, dtype=torch.float64, **t_options), 2,
        norm=torch.nn.LayerNorm(8, dtype=torch.float64), enable_nested_tensor=False)
    mine = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, dtype=g.float64, **g_options), 2,
                                 norm=nn.LayerNorm(8, dtype=g.float64))
    state = theirs.state_dict()
    assert list(mine.state_dict()) == list(state)
    mine.load_state_dict({name: value.numpy() for name, value in state.items()})
    theirs.eval()
    mine.eval()
    batch_first = options.get("batch_first", False)
    x = rng.normal(size=(3, 5, 8))
    padding = np.zeros((3, 5) if batch_first else (5, 3), bool)
    padding[:, -1] = True
    mask = torch.nn.Transformer.generate_square_subsequent_mask(5, dtype=torch.float64)
    kwargs = {"src_key_padding_mask": padding} if batch_first else {}
    tx, gx = t64(x, True), g64(x, True)
    ref = theirs(tx, mask=mask, is_causal=True, **{n: torch.tensor(a) for n, a in kwargs.items()})
    out = mine(gx, mask=nn.Transformer.generate_square_subsequent_mask(5, dtype=g.float64), is_causal=True, **kwargs)
    close(out, ref)
    (out ** 2).sum().backward()
    (ref ** 2).sum().backward()
    close(gx.grad, tx.grad)
    mine_params = dict(mine.named_parameters())
    for name, p in theirs.named_parameters():
        close(mine_params[name].grad, p.grad)


def test_transformer_encoder_layers_are_independent_copies():
    layer = nn.TransformerEncoderLayer(8, 2, 16)
    encoder = nn.TransformerEncoder(layer, 3)
    assert len(encoder.layers) == 3
    weights = [l.linear1.weight for l in encoder.layers] + [layer.linear1.weight]
    assert len({id(w) for w in weights}) == 4
    assert all(np.array_equal(w.detach().numpy(), layer.linear1.weight.detach().numpy()) for w in weights)


def test_square_subsequent_mask_and_unknown_activation():
    mask = nn.Transformer.generate_square_subsequent_mask(4).numpy()
    np.testing.assert_array_equal(mask, torch.nn.Transformer.generate_square_subsequent_mask(4).numpy())
    with pytest.raises(RuntimeError, match="relu/gelu"):
        nn.TransformerEncoderLayer(8, 2, activation="tanh")
