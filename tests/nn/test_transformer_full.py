"""nn.Transformer, TransformerDecoder(Layer) against PyTorch: state_dict keys, outputs and gradients with torch's
weights copied in (dropout 0), over layouts, norm placement, activations and every kind of mask."""

import numpy as np
import pytest
import torch

import ganglion as g
from ganglion import nn
from ganglion.nn import functional as F

D_MODEL, NHEAD, FF, S, T, N = 8, 2, 16, 5, 4, 3

# torch's note that its nested-tensor inference path is off for these layouts
pytestmark = pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")


def close(mine, theirs, atol=1e-4):
    np.testing.assert_allclose(mine.detach().numpy(), theirs.detach().numpy(), atol=atol, rtol=1e-4)


def copy_weights(mine, theirs):
    state = theirs.state_dict()
    assert list(mine.state_dict()) == list(state)
    mine.load_state_dict({name: value.numpy() for name, value in state.items()})


def _bool_mask(rng, shape):
    mask = rng.random(shape) > 0.6
    mask[..., 0] = False  # every query sees at least one key
    return mask


def _padding(rng, n, length):
    mask = np.zeros((n, length), bool)
    mask[:, -1] = True
    mask[0, -2] = True
    return mask


# each case: constructor options and a function rng -> forward masks (numpy arrays, both libraries get copies)
CASES = {
    "post_norm_relu_seq_first": (dict(), lambda rng: {}),
    "post_norm_gelu_batch_first": (dict(batch_first=True, activation="gelu"), lambda rng: {}),
    "pre_norm_relu_batch_first_causal": (
        dict(batch_first=True, norm_first=True),
        lambda rng: {"tgt_mask": np.triu(np.full((T, T), -np.inf), 1)}),
    "pre_norm_gelu_seq_first_float_masks": (
        dict(norm_first=True, activation="gelu"),
        lambda rng: {"src_mask": rng.normal(size=(S, S)), "tgt_mask": np.triu(np.full((T, T), -np.inf), 1),
                     "memory_mask": rng.normal(size=(T, S))}),
    "post_norm_bool_masks_and_padding": (
        dict(batch_first=True),
        lambda rng: {"src_mask": _bool_mask(rng, (S, S)), "tgt_mask": np.triu(np.ones((T, T), bool), 1),
                     "memory_mask": _bool_mask(rng, (T, S)), "src_key_padding_mask": _padding(rng, N, S),
                     "tgt_key_padding_mask": _padding(rng, N, T), "memory_key_padding_mask": _padding(rng, N, S)}),
    "pre_norm_padding_only_seq_first_no_bias": (
        dict(norm_first=True, bias=False),
        lambda rng: {"src_key_padding_mask": _padding(rng, N, S), "memory_key_padding_mask": _padding(rng, N, S)}),
    "per_head_tgt_mask_callable_gelu": (
        dict(batch_first=True, activation="callable"),
        lambda rng: {"tgt_mask": _bool_mask(rng, (N * NHEAD, T, T))}),
}


def _pair(options):
    t_options, g_options = dict(options), dict(options)
    if options.get("activation") == "callable":
        t_options["activation"], g_options["activation"] = torch.nn.functional.gelu, F.gelu
    torch.manual_seed(0)
    theirs = torch.nn.Transformer(D_MODEL, NHEAD, 2, 2, FF, dropout=0.0, dtype=torch.float64, **t_options)
    mine = nn.Transformer(D_MODEL, NHEAD, 2, 2, FF, dropout=0.0, dtype=g.float64, **g_options)
    copy_weights(mine, theirs)
    return mine, theirs


@pytest.mark.parametrize("case", CASES)
def test_transformer_matches_torch_forward_and_backward(rng, case):
    options, make_masks = CASES[case]
    mine, theirs = _pair(options)
    batch_first = options.get("batch_first", False)
    src = rng.normal(size=(N, S, D_MODEL) if batch_first else (S, N, D_MODEL))
    tgt = rng.normal(size=(N, T, D_MODEL) if batch_first else (T, N, D_MODEL))
    masks = make_masks(rng)
    g_src, g_tgt = (g.tensor(a, dtype=g.float64, requires_grad=True) for a in (src, tgt))
    t_src, t_tgt = (torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in (src, tgt))
    out = mine(g_src, g_tgt, **{k: g.tensor(v) for k, v in masks.items()})
    ref = theirs(t_src, t_tgt, **{k: torch.tensor(v) for k, v in masks.items()})
    assert out.shape == tuple(ref.shape) == tgt.shape
    close(out, ref)
    weights = rng.normal(size=tgt.shape)
    (out * g.tensor(weights)).sum().backward()
    (ref * torch.tensor(weights)).sum().backward()
    close(g_src.grad, t_src.grad)
    close(g_tgt.grad, t_tgt.grad)
    mine_params = dict(mine.named_parameters())
    for name, p in theirs.named_parameters():
        close(mine_params[name].grad, p.grad)


def test_transformer_unbatched_matches_torch(rng):
    mine, theirs = _pair(dict())
    src, tgt = rng.normal(size=(S, D_MODEL)), rng.normal(size=(T, D_MODEL))
    mask = np.triu(np.full((T, T), -np.inf), 1)
    out = mine(g.tensor(src), g.tensor(tgt), tgt_mask=g.tensor(mask), tgt_is_causal=True)
    ref = theirs(torch.tensor(src), torch.tensor(tgt), tgt_mask=torch.tensor(mask), tgt_is_causal=True)
    assert out.shape == (T, D_MODEL)
    close(out, ref)


def test_state_dict_keys_and_shapes_equal_torch():
    theirs = torch.nn.Transformer(D_MODEL, NHEAD, 2, 1, FF)
    mine = nn.Transformer(D_MODEL, NHEAD, 2, 1, FF)
    mine_state, their_state = mine.state_dict(), theirs.state_dict()
    assert list(mine_state) == list(their_state)
    assert {k: tuple(v.shape) for k, v in mine_state.items()} == {k: tuple(v.shape) for k, v in their_state.items()}
    for key in ("encoder.layers.0.self_attn.in_proj_weight", "decoder.layers.0.multihead_attn.in_proj_weight",
                "decoder.layers.0.norm3.weight", "encoder.norm.weight", "decoder.norm.bias"):
        assert key in mine_state
    # torch's weights load into ganglion and back unchanged
    theirs2 = torch.nn.Transformer(D_MODEL, NHEAD, 2, 1, FF)
    theirs2.load_state_dict({k: torch.tensor(v.numpy()) for k, v in mine.state_dict().items()})
    mine.load_state_dict({k: v.numpy() for k, v in their_state.items()})
    for k, v in mine.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), their_state[k].numpy())


def test_transformer_defaults_and_init():
    m = nn.Transformer()
    assert (m.d_model, m.nhead, m.batch_first) == (512, 8, False)
    assert len(m.encoder.layers) == 6 and len(m.decoder.layers) == 6
    layer = m.decoder.layers[0]
    assert layer.linear1.out_features == 2048 and layer.dropout.p == 0.1 and not layer.norm_first
    assert layer.norm1.eps == 1e-5
    # every matrix re-initialized Xavier-uniform: bound sqrt(6 / (fan_in + fan_out)), and layers differ
    w = m.encoder.layers[0].linear1.weight.detach().numpy()
    bound = np.float32(np.sqrt(6 / (512 + 2048)))  # rounded as the float32 weights are
    assert bound * 0.99 < np.abs(w).max() <= bound
    assert not np.array_equal(w, m.encoder.layers[1].linear1.weight.detach().numpy())


def test_custom_encoder_and_decoder_are_used():
    encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(D_MODEL, NHEAD, FF), 1)
    decoder = nn.TransformerDecoder(nn.TransformerDecoderLayer(D_MODEL, NHEAD, FF), 3, norm=nn.LayerNorm(D_MODEL))
    m = nn.Transformer(D_MODEL, NHEAD, custom_encoder=encoder, custom_decoder=decoder)
    assert m.encoder is encoder and m.decoder is decoder and len(m.decoder.layers) == 3


def test_decoder_stack_matches_torch_with_norm(rng):
    torch.manual_seed(1)
    theirs = torch.nn.TransformerDecoder(
        torch.nn.TransformerDecoderLayer(D_MODEL, NHEAD, FF, dropout=0.0, dtype=torch.float64), 2,
        norm=torch.nn.LayerNorm(D_MODEL, dtype=torch.float64))
    mine = nn.TransformerDecoder(nn.TransformerDecoderLayer(D_MODEL, NHEAD, FF, dropout=0.0, dtype=g.float64), 2,
                                 norm=nn.LayerNorm(D_MODEL, dtype=g.float64))
    copy_weights(mine, theirs)
    tgt, memory = rng.normal(size=(T, N, D_MODEL)), rng.normal(size=(S, N, D_MODEL))
    g_mem = g.tensor(memory, dtype=g.float64, requires_grad=True)
    t_mem = torch.tensor(memory, requires_grad=True)
    mask = nn.Transformer.generate_square_subsequent_mask(T, dtype=g.float64)
    out = mine(g.tensor(tgt), g_mem, tgt_mask=mask)
    ref = theirs(torch.tensor(tgt), t_mem, tgt_mask=torch.nn.Transformer.generate_square_subsequent_mask(
        T, dtype=torch.float64))
    close(out, ref)
    (out ** 2).sum().backward()
    (ref ** 2).sum().backward()
    close(g_mem.grad, t_mem.grad)


def test_decoder_layers_are_independent_copies():
    layer = nn.TransformerDecoderLayer(D_MODEL, NHEAD, FF)
    decoder = nn.TransformerDecoder(layer, 2)
    weights = [l.multihead_attn.in_proj_weight for l in decoder.layers] + [layer.multihead_attn.in_proj_weight]
    assert len({id(w) for w in weights}) == 3
    assert decoder.norm is None


def test_dropout_is_active_in_training_only(rng):
    m = nn.Transformer(D_MODEL, NHEAD, 1, 1, FF, dropout=0.5)
    src, tgt = g.tensor(rng.normal(size=(S, N, D_MODEL))), g.tensor(rng.normal(size=(T, N, D_MODEL)))
    g.manual_seed(0)
    with g.no_grad():
        a, b = m(src, tgt).numpy(), m(src, tgt).numpy()
        assert not np.allclose(a, b)
        m.eval()
        np.testing.assert_array_equal(m(src, tgt).numpy(), m(src, tgt).numpy())


def test_square_subsequent_mask_matches_torch():
    for size in (1, 4):
        np.testing.assert_array_equal(nn.Transformer.generate_square_subsequent_mask(size).numpy(),
                                      torch.nn.Transformer.generate_square_subsequent_mask(size).numpy())


ERROR_CASES = {
    "batch_mismatch_seq_first": (dict(), (S, 2, D_MODEL), (T, 3, D_MODEL), r"batch number.*\(5, 2, 8\).*\(4, 3, 8\)"),
    "batch_mismatch_batch_first": (dict(batch_first=True), (2, S, D_MODEL), (3, T, D_MODEL), "batch number"),
    "feature_mismatch": (dict(), (S, N, D_MODEL), (T, N, 6), r"d_model=8.*\(4, 3, 6\)"),
}


@pytest.mark.parametrize("case", ERROR_CASES)
def test_transformer_errors_name_the_shapes(case):
    options, src_shape, tgt_shape, message = ERROR_CASES[case]
    m = nn.Transformer(D_MODEL, NHEAD, 1, 1, FF, **options)
    with pytest.raises(RuntimeError, match=message):
        m(g.zeros(*src_shape), g.zeros(*tgt_shape))
    with pytest.raises(RuntimeError, match="relu/gelu"):
        nn.TransformerDecoderLayer(D_MODEL, NHEAD, activation="tanh")


def test_copy_task_trains_like_torch(rng):
    """A few Adam steps of a tiny seq2seq copy task give the same losses in both libraries (same start)."""
    vocab, length = 6, 4
    tokens = rng.integers(1, vocab, size=(8, length))
    tgt_in = np.concatenate([np.zeros((8, 1), int), tokens[:, :-1]], axis=1)  # 0 is the start token
    losses = {}
    torch.manual_seed(0)
    t_model = torch.nn.ModuleDict({
        "embed": torch.nn.Embedding(vocab, D_MODEL, dtype=torch.float64),
        "core": torch.nn.Transformer(D_MODEL, NHEAD, 1, 1, FF, dropout=0.0, batch_first=True, dtype=torch.float64),
        "head": torch.nn.Linear(D_MODEL, vocab, dtype=torch.float64)})
    g_model = nn.ModuleDict({
        "embed": nn.Embedding(vocab, D_MODEL, dtype=g.float64),
        "core": nn.Transformer(D_MODEL, NHEAD, 1, 1, FF, dropout=0.0, batch_first=True, dtype=g.float64),
        "head": nn.Linear(D_MODEL, vocab, dtype=g.float64)})
    copy_weights(g_model, t_model)
    for lib, model, optim_cls, tensor, ce, mask in (
            ("torch", t_model, torch.optim.Adam, torch.tensor, torch.nn.functional.cross_entropy,
             torch.nn.Transformer.generate_square_subsequent_mask(length, dtype=torch.float64)),
            ("ganglion", g_model, g.optim.Adam, g.tensor, F.cross_entropy,
             nn.Transformer.generate_square_subsequent_mask(length, dtype=g.float64))):
        opt = optim_cls(model.parameters(), lr=0.01)
        losses[lib] = []
        for _ in range(5):
            opt.zero_grad()
            hidden = model["core"](model["embed"](tensor(tokens)), model["embed"](tensor(tgt_in)), tgt_mask=mask)
            loss = ce(model["head"](hidden).reshape(-1, vocab), tensor(tokens).reshape(-1))
            loss.backward()
            opt.step()
            losses[lib].append(float(loss.item()))
    np.testing.assert_allclose(losses["ganglion"], losses["torch"], rtol=1e-6)
    assert losses["ganglion"][-1] < losses["ganglion"][0]
