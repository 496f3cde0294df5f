"""Dropout, Dropout1d, Dropout2d: identity in eval mode (exactly as PyTorch), inverted scaling in training with the
gradient equal to mask * scale for the mask used, PyTorch's drop statistics and value sets, channel-wise masks,
reproducibility under manual_seed, in-place use and errors. (Masks cannot equal PyTorch's: different generators.)"""

import warnings

import numpy as np
import pytest
import torch

import ganglion as g
from ganglion import nn
from ganglion.autograd import gradcheck
from ganglion.nn import functional as F

TF = torch.nn.functional

# (name, ganglion functional, torch functional, input shape, dims that share one mask entry)
KINDS = [
    ("dropout", F.dropout, TF.dropout, (4, 5, 6), ()),
    ("dropout-0d", F.dropout, TF.dropout, (), ()),
    ("dropout1d", F.dropout1d, TF.dropout1d, (4, 6, 7), (2,)),
    ("dropout1d-unbatched", F.dropout1d, TF.dropout1d, (6, 7), (1,)),
    ("dropout2d", F.dropout2d, TF.dropout2d, (3, 6, 4, 5), (2, 3)),
]
IDS = [k[0] for k in KINDS]
MODULES = [("Dropout", (3, 4)), ("Dropout1d", (2, 3, 4)), ("Dropout2d", (2, 3, 4, 4)), ("AlphaDropout", (3, 4))]


def seeded(seed):
    return g.Generator().manual_seed(seed)


# ---------------------------------------------------------------------------------------------------- eval mode
@pytest.mark.parametrize("name,shape", MODULES)
def test_eval_mode_is_the_identity_exactly_like_torch(name, shape, rng):
    x = rng.standard_normal(shape).astype(np.float32)
    ours, theirs = getattr(nn, name)(p=0.4).eval(), getattr(torch.nn, name)(p=0.4).eval()
    xg = g.tensor(x, requires_grad=True)
    y = ours(xg)
    np.testing.assert_array_equal(y.detach().numpy(), theirs(torch.tensor(x)).numpy())
    np.testing.assert_array_equal(y.detach().numpy(), x)
    y.sum().backward()
    np.testing.assert_array_equal(xg.grad.numpy(), np.ones_like(x))


@pytest.mark.parametrize("name,ours,theirs,shape,shared", KINDS, ids=IDS)
def test_training_false_and_p_zero_return_the_input(name, ours, theirs, shape, shared, rng):
    x = g.tensor(rng.standard_normal(shape))
    assert ours(x, 0.5, training=False) is x
    assert ours(x, 0.0, training=True) is x


def test_module_train_and_eval_switch_dropout_inside_a_model(rng):
    model = nn.Sequential(nn.Linear(8, 8), nn.Dropout(0.5), nn.ReLU())
    x = g.tensor(rng.standard_normal((16, 8)).astype(np.float32))
    with g.no_grad():
        model.eval()
        a, b = model(x).numpy(), model(x).numpy()
        model.train()
        c = model(x).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


# ------------------------------------------------------------------------------------------------ training mode
@pytest.mark.parametrize("p", [0.2, 0.5, 0.9])
@pytest.mark.parametrize("name,ours,theirs,shape,shared", KINDS, ids=IDS)
def test_output_is_input_times_mask_over_keep_and_gradient_is_that_mask(name, ours, theirs, shape, shared, p, rng):
    x_np = rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)  # no zeros: a zero output means dropped
    x = g.tensor(x_np, dtype=g.float64, requires_grad=True)
    y = ours(x, p, training=True)
    assert tuple(y.shape) == shape and y.dtype == g.float64
    kept = y.detach().numpy() != 0
    if shared:  # channel-wise: a mask entry covers whole rows / feature maps
        assert np.all(kept == kept.all(axis=shared, keepdims=True))
    scale = 1.0 / (1.0 - p)
    np.testing.assert_array_equal(y.detach().numpy(), x_np * (kept * scale))
    upstream = rng.standard_normal(shape)
    y.backward(g.from_numpy(upstream))
    np.testing.assert_array_equal(x.grad.numpy(), upstream * (kept * scale))


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
@pytest.mark.parametrize("name,ours,theirs,shape,shared", [k for k in KINDS if k[3]], ids=IDS[:1] + IDS[2:])
def test_drop_rate_and_values_match_torch(name, ours, theirs, shape, shared, p):
    """Over many draws: the same two values (0 and 1/(1-p), bit for bit) and the same drop fraction as PyTorch."""
    g.manual_seed(0)
    torch.manual_seed(0)
    big = (400,) + shape[1:] if len(shape) > 2 else (400 * shape[0],) + shape[1:]
    ones = np.ones(big, dtype=np.float32)
    y = ours(g.tensor(ones), p, training=True).numpy()
    y_t = theirs(torch.tensor(ones), p, training=True).numpy()
    np.testing.assert_array_equal(np.unique(y), np.unique(y_t))
    n_draws = y.size // int(np.prod([big[d] for d in shared])) if shared else y.size
    tolerance = 5 * np.sqrt(p * (1 - p) / n_draws)  # five standard errors of a Bernoulli mean
    assert abs(np.mean(y == 0) - p) < tolerance
    assert abs(np.mean(y_t == 0) - p) < tolerance
    assert abs(y.mean() - 1.0) < tolerance / (1 - p)  # inverted dropout keeps the expectation


def test_p_one_gives_zeros_and_zero_gradient_like_torch(rng):
    x = g.tensor(rng.standard_normal((3, 4, 5)).astype(np.float32), requires_grad=True)
    for fn, tfn in [(F.dropout, TF.dropout), (F.dropout1d, TF.dropout1d), (F.alpha_dropout, TF.alpha_dropout)]:
        x.grad = None
        y = fn(x, 1.0, training=True)
        np.testing.assert_array_equal(y.detach().numpy(), tfn(torch.tensor(x.detach().numpy()), 1.0, True).numpy())
        assert not y.detach().numpy().any()
        y.sum().backward()
        assert not x.grad.numpy().any()


def test_dropout2d_3d_input_is_read_as_n_c_l_with_a_warning_like_torch(rng):
    x = np.ones((50, 4, 6), dtype=np.float32)
    with pytest.warns(UserWarning, match="dropout2d"):
        y = F.dropout2d(g.tensor(x), 0.5).numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y_t = TF.dropout2d(torch.tensor(x), 0.5).numpy()
    for out in (y, y_t):  # one draw per (sample, channel): rows along the last dim are all kept or all dropped
        assert np.all((out == 0).all(axis=2) | (out != 0).all(axis=2))
        assert 0 < np.mean(out == 0) < 1


# ------------------------------------------------------------------------------------------------ gradcheck
@pytest.mark.parametrize("name,ours,theirs,shape,shared", KINDS, ids=IDS)
def test_gradcheck_with_a_fixed_mask(name, ours, theirs, shape, shared, rng):
    x = g.tensor(rng.standard_normal(shape), dtype=g.float64, requires_grad=True)
    assert gradcheck(lambda t: ours(t, 0.4, training=True, generator=seeded(3)), (x,))


# --------------------------------------------------------------------------------------------- reproducibility
@pytest.mark.parametrize("name,ours,theirs,shape,shared", KINDS, ids=IDS)
def test_masks_are_reproducible_under_manual_seed(name, ours, theirs, shape, shared):
    x = g.ones(*shape) if shape else g.tensor(1.0)
    g.manual_seed(123)
    a = ours(x, 0.5).numpy()
    g.manual_seed(123)
    b = ours(x, 0.5).numpy()
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, ours(x, 0.5, generator=seeded(123)).numpy())  # same stream as a Generator
    if x.numel() > 20:
        g.manual_seed(124)
        assert not np.array_equal(a, ours(x, 0.5).numpy())


def test_module_masks_follow_manual_seed_and_the_mask_is_the_same_for_float32_and_float64():
    layer = nn.Dropout(0.3)
    g.manual_seed(7)
    a = layer(g.ones(10, 10)).numpy()
    g.manual_seed(7)
    b = layer(g.ones(10, 10, dtype=g.float64)).numpy()
    np.testing.assert_array_equal(a == 0, b == 0)


# ------------------------------------------------------------------------------------------------------ inplace
def test_inplace_overwrites_an_input_outside_the_graph(rng):
    x_np = rng.uniform(1, 2, (5, 6)).astype(np.float32)
    x = g.tensor(x_np)
    y = nn.Dropout(0.5, inplace=True)(x)
    assert y is x
    assert np.any(x.numpy() == 0) and np.all((x.numpy() == 0) | np.isclose(x.numpy(), 2 * x_np))


def test_inplace_on_a_leaf_that_requires_grad_raises_like_torch():
    with pytest.raises(RuntimeError, match="in place"):
        F.dropout(g.ones(3, requires_grad=True), 0.5, inplace=True)
    with pytest.raises(RuntimeError):
        TF.dropout(torch.ones(3, requires_grad=True), 0.5, inplace=True)


def test_inplace_inside_the_graph_still_differentiates(rng):
    w = g.tensor(rng.uniform(1, 2, (4, 5)), requires_grad=True)
    y = F.dropout(w * 1.0, 0.5, inplace=True, generator=seeded(1))
    y.sum().backward()
    kept = y.detach().numpy() != 0
    np.testing.assert_array_equal(w.grad.numpy(), kept * 2.0)


# ------------------------------------------------------------------------------------------------------- errors
@pytest.mark.parametrize("p", [-0.1, 1.5])
@pytest.mark.parametrize("make", [
    lambda p: nn.Dropout(p), lambda p: nn.Dropout1d(p), lambda p: nn.Dropout2d(p), lambda p: nn.AlphaDropout(p),
    lambda p: F.dropout(g.ones(2), p), lambda p: F.dropout2d(g.ones(1, 2, 2, 2), p, training=False),
    lambda p: F.alpha_dropout(g.ones(2), p),
])
def test_p_outside_0_1_raises_value_error(make, p):
    with pytest.raises(ValueError, match=f"between 0 and 1, but got {p}"):
        make(p)


@pytest.mark.parametrize("call,shape", [
    (lambda: F.dropout1d(g.ones(2, 3, 4, 5), 0.5), "(2, 3, 4, 5)"),
    (lambda: nn.Dropout1d()(g.ones(5)), "(5,)"),
    (lambda: F.dropout2d(g.ones(2, 3), 0.5), "(2, 3)"),
    (lambda: nn.Dropout2d()(g.ones(1, 2, 3, 4, 5)), "(1, 2, 3, 4, 5)"),
])
def test_wrong_rank_for_channel_dropout_names_the_shape(call, shape):
    with pytest.raises(ValueError) as info:
        call()
    assert shape in str(info.value)


def test_bad_p_type_and_integer_input_raise_type_error():
    with pytest.raises(TypeError, match="p must be a real number"):
        nn.Dropout(p="0.5")
    with pytest.raises(TypeError, match="floating-point"):
        F.dropout(g.ones(3, dtype=g.int64), 0.5)


@pytest.mark.parametrize("name", ["Dropout", "Dropout1d", "Dropout2d", "AlphaDropout"])
def test_modules_repr_and_state_dict_like_torch(name):
    ours, theirs = getattr(nn, name)(0.25, inplace=True), getattr(torch.nn, name)(0.25, inplace=True)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == []
    assert ours.p == theirs.p and ours.inplace == theirs.inplace


@pytest.mark.gpu
@pytest.mark.skipif(not g.cuda.is_available(), reason="needs CuPy and a visible GPU")
@pytest.mark.parametrize("name,ours,theirs,shape,shared", KINDS, ids=IDS)
def test_a_seed_gives_the_same_mask_on_the_gpu(name, ours, theirs, shape, shared, rng):
    x_np = rng.uniform(0.5, 2.0, shape)
    out = []
    for device in ("cpu", "cuda"):
        x = g.tensor(x_np, device=device, requires_grad=True)
        y = ours(x, 0.4, training=True, generator=seeded(5))
        y.sum().backward()
        assert y.device == x.device
        out.append((y.detach().cpu().numpy(), x.grad.cpu().numpy()))
    np.testing.assert_array_equal(out[0][0], out[1][0])
    np.testing.assert_array_equal(out[0][1], out[1][1])
