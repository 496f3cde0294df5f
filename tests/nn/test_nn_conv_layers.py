"""Convolution layers as objects: PyTorch's weight layouts, state_dict keys, init, repr, and the errors a person gets
for a wrong input (rank, channels, a kernel larger than the padded input) or wrong arguments."""

import math

import numpy as np
import pytest
import torch

import ganglion as g
from ganglion import nn
from ganglion.nn import functional as F

LAYOUTS = [
    (lambda m: m.Conv1d(4, 6, 3, groups=2), (6, 2, 3)),
    (lambda m: m.Conv2d(3, 8, (3, 5)), (8, 3, 3, 5)),
    (lambda m: m.Conv2d(4, 8, 3, groups=4), (8, 1, 3, 3)),
    (lambda m: m.Conv3d(2, 4, 2), (4, 2, 2, 2, 2)),
    (lambda m: m.ConvTranspose1d(4, 6, 3, groups=2), (4, 3, 3)),
    (lambda m: m.ConvTranspose2d(3, 8, (2, 3)), (3, 8, 2, 3)),
    (lambda m: m.ConvTranspose3d(2, 4, 2), (2, 4, 2, 2, 2)),
]


@pytest.mark.parametrize("make, weight_shape", LAYOUTS)
def test_weight_layout_and_state_dict_match_torch(make, weight_shape):
    ours, theirs = make(nn), make(torch.nn)
    assert tuple(ours.weight.shape) == tuple(theirs.weight.shape) == weight_shape
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight", "bias"]
    assert repr(ours) == repr(theirs)
    # weights move between the two unchanged
    ours.load_state_dict(theirs.state_dict())
    np.testing.assert_array_equal(ours.weight.detach().numpy(), theirs.weight.detach().numpy())


@pytest.mark.parametrize("make", [
    lambda m: m.Conv2d(3, 8, 3, stride=2, padding=1, dilation=2, groups=1, bias=False, padding_mode="reflect"),
    lambda m: m.Conv2d(4, 4, 3, padding="same", groups=4),
    lambda m: m.Conv1d(2, 3, 5, padding="valid"),
    lambda m: m.ConvTranspose2d(3, 8, 3, stride=2, padding=1, output_padding=1, groups=1, dilation=1),
], ids=["options", "same_depthwise", "valid_1d", "transposed"])
def test_repr_and_attributes_match_torch(make):
    ours, theirs = make(nn), make(torch.nn)
    assert repr(ours) == repr(theirs)
    for name in ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups",
                 "padding_mode", "output_padding", "transposed"):
        assert getattr(ours, name) == getattr(theirs, name), name


@pytest.mark.parametrize("make, fan_in", [
    (lambda: nn.Conv2d(16, 32, 5), 16 * 25),
    (lambda: nn.Conv2d(16, 32, 3, groups=4), 4 * 9),
    (lambda: nn.ConvTranspose2d(16, 32, 3, groups=2), 16 * 9),  # weight (16, 16, 3, 3): fan_in = 16 x 9
    (lambda: nn.Conv1d(8, 64, 7), 8 * 7),
])
def test_default_init_is_uniform_within_one_over_sqrt_fan_in(make, fan_in):
    g.manual_seed(0)
    layer = make()
    bound = 1 / math.sqrt(fan_in)
    w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert np.abs(w).max() > 0.95 * bound  # the whole interval is used
    np.testing.assert_allclose(w.std(), bound / math.sqrt(3), rtol=0.05)  # the std of U(-a, a) is a / sqrt(3)


def test_init_follows_the_seed():
    g.manual_seed(3)
    a = nn.Conv2d(2, 3, 3).weight.detach().numpy().copy()
    g.manual_seed(3)
    b = nn.Conv2d(2, 3, 3).weight.detach().numpy().copy()
    np.testing.assert_array_equal(a, b)


def test_one_by_one_convolution_is_a_matrix_product():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 5, 3, 4)), rng.standard_normal((6, 5, 1, 1))
    y = F.conv2d(g.tensor(x, dtype=g.float64), g.tensor(w, dtype=g.float64)).numpy()
    np.testing.assert_allclose(y, np.einsum("oc,nchw->nohw", w[:, :, 0, 0], x), rtol=1e-12)


# ------------------------------------------------------------------------------------------------------ errors
def _message(fn, *args, error=ValueError, **kwargs):
    with pytest.raises(error) as info:
        fn(*args, **kwargs)
    return str(info.value)


@pytest.mark.parametrize("shape", [(28, 28), (1, 1, 1, 28, 28)], ids=["2d", "5d"])
def test_conv2d_wrong_rank_names_layer_and_accepted_ranks(shape):
    layer = nn.Conv2d(1, 6, 5)
    text = _message(layer, g.zeros(*shape))
    assert "Conv2d(1, 6, kernel_size=(5, 5)" in text
    assert "3-D (C, H, W) or 4-D (N, C, H, W)" in text and str(shape) in text


def test_conv2d_accepts_unbatched_input_like_torch():
    layer = nn.Conv2d(3, 2, 3)
    assert tuple(layer(g.zeros(3, 8, 8)).shape) == (2, 6, 6)


@pytest.mark.parametrize("layer, shape, expected", [
    (nn.Conv2d(3, 8, 3), (1, 4, 8, 8), "(N, 3, H, W)"),
    (nn.Conv2d(4, 8, 3, groups=2), (2, 2, 8, 8), "(N, 4, H, W)"),
    (nn.Conv2d(3, 8, 3), (4, 8, 8), "(3, H, W)"),
    (nn.Conv1d(3, 8, 3), (2, 5, 9), "(N, 3, L)"),
    (nn.ConvTranspose2d(3, 8, 3), (1, 8, 5, 5), "(N, 3, H, W)"),
    (nn.Conv2d(3, 8, 3, padding=1, padding_mode="reflect"), (1, 4, 8, 8), "(N, 3, H, W)"),
])
def test_channel_mismatch_names_layer_expected_and_received(layer, shape, expected):
    text = _message(layer, g.zeros(*shape))
    assert repr(layer) in text and expected in text and str(shape) in text


def test_kernel_larger_than_padded_input_gives_the_formula_numbers():
    layer = nn.Conv2d(1, 1, 5, padding=1)
    text = _message(layer, g.zeros(1, 1, 2, 7))
    assert repr(layer) in text
    assert "(2, 7)" in text and "padded (4, 9)" in text and "(5, 5)" in text
    assert "floor((2 + 1 + 1 - 1*(5 - 1) - 1) / 1) + 1 = 0" in text
    with pytest.raises(ValueError, match="too small"):
        F.conv1d(g.zeros(1, 1, 4), g.zeros(1, 1, 3), dilation=2)
    with pytest.raises(ValueError, match="too small"):
        F.conv_transpose2d(g.zeros(1, 1, 1, 1), g.zeros(1, 1, 1, 1), padding=1)


@pytest.mark.parametrize("build, pattern", [
    (lambda: nn.Conv2d(3, 8, 3, stride=2, padding="same"), "padding='same' is not supported for strided"),
    (lambda: nn.Conv2d(3, 8, 3, padding="full"), "'same' or 'valid'"),
    (lambda: nn.Conv2d(3, 8, 3, groups=2), r"in_channels \(3\) must be divisible by groups \(2\)"),
    (lambda: nn.Conv2d(4, 6, 3, groups=4), r"out_channels \(6\) must be divisible by groups \(4\)"),
    (lambda: nn.Conv2d(3, 8, 3, padding_mode="mirror"), "'zeros', 'reflect', 'replicate', 'circular'"),
    (lambda: nn.Conv2d(3, 8, (3, 3, 3)), "kernel_size must be an int or a tuple of 2 ints"),
    (lambda: nn.Conv2d(3, 8, 0), "kernel_size must be >= 1"),
    (lambda: nn.Conv2d(3, 8, 3, padding=-1), "padding must be >= 0"),
    (lambda: nn.ConvTranspose2d(3, 8, 3, padding_mode="reflect"), 'only "zeros" padding mode'),
    (lambda: nn.ConvTranspose2d(3, 8, 3, stride=2, output_padding=2), "output_padding"),
])
def test_bad_arguments_raise_value_error_naming_them(build, pattern):
    with pytest.raises(ValueError, match=pattern):
        build()


def test_conv_transpose_bad_output_size_lists_valid_range():
    layer = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
    text = _message(layer, g.zeros(1, 2, 4, 5), output_size=(10, 9))
    assert "(7, 9)" in text and "(8, 10)" in text


def test_functional_errors_for_weight_bias_and_dtype():
    x = g.zeros(1, 2, 5, 5)
    assert "4-D weight" in _message(F.conv2d, x, g.zeros(3, 2, 3))
    assert "bias of shape (3,)" in _message(F.conv2d, x, g.zeros(3, 2, 3, 3), g.zeros(4))
    assert "float64" in _message(F.conv2d, x, g.zeros(3, 2, 3, 3, dtype=g.float64), error=TypeError)
    assert "Tensor" in _message(F.conv2d, np.zeros((1, 2, 5, 5)), g.zeros(3, 2, 3, 3), error=TypeError)


@pytest.mark.parametrize("wants", [(True, False, True), (False, True, True), (True, True, False), (False, False, True),
                                   (True, False, False)], ids=lambda w: "x{}-W{}-b{}".format(*map(int, w)))
@pytest.mark.parametrize("make", [lambda m: m.Conv2d(3, 4, 3, padding=1), lambda m: m.Conv1d(4, 6, 3, groups=2),
                                  lambda m: m.Conv2d(3, 4, 1)], ids=["bias-in-product", "groups", "one-by-one"])
def test_only_the_gradients_asked_for_are_computed_and_they_match_torch(make, wants):
    """The bias rides in the product for ungrouped kernels of more than one element; frozen weights or bias must not
    change what the others receive."""
    want_x, want_w, want_b = wants
    ours, theirs = make(nn).double(), make(torch.nn).double()
    theirs.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in ours.state_dict().items()})
    for module in (ours, theirs):
        module.weight.requires_grad_(want_w)
        module.bias.requires_grad_(want_b)
    shape = (2, theirs.in_channels) + (6,) * (theirs.weight.ndim - 2)
    x = np.random.default_rng(0).standard_normal(shape)
    gx, tx = g.tensor(x, dtype=g.float64, requires_grad=want_x), torch.tensor(x, requires_grad=want_x)
    (ours(gx) ** 2).sum().backward()
    (theirs(tx) ** 2).sum().backward()
    for a, b in ((gx, tx), (ours.weight, theirs.weight), (ours.bias, theirs.bias)):
        assert (a.grad is None) == (b.grad is None)
        if a.grad is not None:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10, atol=1e-12)
