"""Initializers' rules against PyTorch: gains, fans (conv kernels and groups included), the deterministic ones
(eye_, dirac_, constants), orthogonality, sparsity, in-place semantics and the errors."""

import math
import warnings

import numpy as np
import pytest
import torch

import ganglion as g
from ganglion import nn
from ganglion.nn import init


@pytest.mark.parametrize(
    "nonlinearity, param",
    [("linear", None), ("conv1d", None), ("conv2d", None), ("conv3d", None), ("conv_transpose1d", None),
     ("conv_transpose2d", None), ("conv_transpose3d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
     ("selu", None), ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", 3), ("leaky_relu", math.sqrt(5))],
)
def test_calculate_gain_matches_torch(nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(
        torch.nn.init.calculate_gain(nonlinearity, param), rel=1e-15
    )


def test_calculate_gain_rejects_unknown_names_listing_the_accepted_ones():
    with pytest.raises(ValueError, match=r"unsupported nonlinearity 'gelu'; accepted: linear, .*selu, leaky_relu"):
        init.calculate_gain("gelu")
    with pytest.raises(ValueError, match="negative_slope"):
        init.calculate_gain("leaky_relu", "0.1")


@pytest.mark.parametrize("shape", [(5, 3), (8, 2, 3), (8, 2, 3, 3), (4, 6, 2, 3, 5), (7, 1, 1, 1)])
def test_fans_match_torch(shape):
    assert init.calculate_fan_in_and_fan_out(g.empty(*shape)) == torch.nn.init._calculate_fan_in_and_fan_out(
        torch.empty(shape)
    )
    assert init._calculate_fan_in_and_fan_out is init.calculate_fan_in_and_fan_out


def test_conv_fan_in_is_in_channels_over_groups_times_kernel_area():
    conv = torch.nn.Conv2d(4, 8, kernel_size=(3, 5), groups=2)  # weight (8, 2, 3, 5)
    w = g.empty(*conv.weight.shape)
    assert init.calculate_fan_in_and_fan_out(w) == (4 // 2 * 15, 8 * 15)
    # "standard" init is PyTorch's default conv/linear init: its bound is kaiming_uniform_(a=sqrt 5)'s, 1/sqrt(fan_in)
    g.manual_seed(0)
    init.standard_uniform_(w)
    torch_bound = init.calculate_gain("leaky_relu", math.sqrt(5)) * math.sqrt(3 / 30)
    assert torch_bound == pytest.approx(1 / math.sqrt(30))
    assert np.abs(w.numpy()).max() <= torch_bound
    assert np.abs(conv.weight.detach().numpy()).max() <= torch_bound


def test_fans_need_two_dimensions():
    with pytest.raises(ValueError, match=r"fewer than 2 dimensions \(shape \(5,\)\)"):
        init.xavier_uniform_(g.empty(5))


@pytest.mark.parametrize("shape", [(3, 3), (2, 5), (6, 4)])
def test_eye_matches_torch(shape):
    t = init.eye_(g.empty(*shape))
    np.testing.assert_array_equal(t.numpy(), torch.nn.init.eye_(torch.empty(shape)).numpy())
    assert init.identity_ is init.eye_


@pytest.mark.parametrize("shape, groups", [((4, 4, 3), 1), ((6, 3, 3, 3), 1), ((8, 2, 3, 3), 2), ((4, 6, 3, 3, 3), 1),
                                           ((6, 2, 5), 3), ((3, 5, 2, 4), 1)])
def test_dirac_matches_torch(shape, groups):
    t = init.dirac_(g.empty(*shape), groups)
    np.testing.assert_array_equal(t.numpy(), torch.nn.init.dirac_(torch.empty(shape), groups).numpy())


def test_dirac_weight_makes_a_convolution_preserve_its_input():
    x = np.random.default_rng(0).standard_normal((1, 3, 6, 6)).astype(np.float32)
    w = init.dirac_(g.empty(3, 3, 3, 3)).numpy()
    y = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w), padding=1).numpy()
    np.testing.assert_array_equal(y, x)


@pytest.mark.parametrize("shape, gain", [((10, 10), 1.0), ((6, 20), 2.0), ((20, 6), 0.5), ((8, 3, 2, 2), 1.0)])
def test_orthogonal_rows_or_columns_are_orthonormal_times_gain(shape, gain):
    g.manual_seed(0)
    t = init.orthogonal_(g.empty(*shape, dtype=g.float64), gain=gain)
    m = t.numpy().reshape(shape[0], -1)
    small = m @ m.T if m.shape[0] <= m.shape[1] else m.T @ m
    np.testing.assert_allclose(small, gain**2 * np.eye(small.shape[0]), atol=1e-12)


def test_sparse_zeroes_the_same_fraction_of_every_column():
    g.manual_seed(0)
    t = init.sparse_(g.empty(1000, 300, dtype=g.float64), sparsity=0.25, std=0.1)
    x = t.numpy()
    np.testing.assert_array_equal((x == 0).sum(axis=0), 250)
    assert x[x != 0].std() == pytest.approx(0.1, rel=0.02)


def test_constants_fill_and_everything_works_in_place_without_recording():
    p = nn.Parameter(g.empty(3, 4))
    for fill, value in ((init.zeros_, 0.0), (init.ones_, 1.0), (lambda t: init.constant_(t, -2.5), -2.5)):
        assert fill(p) is p
        np.testing.assert_array_equal(p.detach().numpy(), value)
    for fill in (init.kaiming_uniform_, init.orthogonal_, init.trunc_normal_, init.eye_):
        array = p.array
        assert fill(p) is p and p.array is array  # same memory
        assert p.is_leaf and p.grad_fn is None and p.requires_grad


def test_float64_weights_stay_float64():
    t = init.xavier_normal_(g.empty(4, 5, dtype=g.float64))
    assert t.dtype == g.float64


def test_zero_element_tensors_are_a_no_op_with_a_warning():
    for fill in (init.kaiming_uniform_, init.kaiming_normal_, init.xavier_uniform_, init.xavier_normal_,
                 init.lecun_normal_, init.lecun_uniform_):
        with pytest.warns(UserWarning, match="zero-element"):
            assert fill(g.empty(0, 3)).shape == (0, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        init.orthogonal_(g.empty(0, 3))


def test_aliases_are_the_same_functions():
    assert init.glorot_uniform_ is init.xavier_uniform_ and init.glorot_normal_ is init.xavier_normal_
    assert init.he_uniform_ is init.kaiming_uniform_ and init.he_normal_ is init.kaiming_normal_
    assert init.random_normal_ is init.normal_ and init.random_uniform_ is init.uniform_
    assert init.truncated_normal_ is init.trunc_normal_ and init.standard_ is init.standard_uniform_


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: init.uniform_(g.empty(3), 1.0, 0.0), r"uniform_: expected a <= b, got a=1.0, b=0.0"),
        (lambda: init.normal_(g.empty(3), std=-1.0), "normal_: std must be >= 0"),
        (lambda: init.trunc_normal_(g.empty(3), a=1.0, b=1.0), "trunc_normal_: expected a < b"),
        (lambda: init.kaiming_uniform_(g.empty(3, 3), mode="fan_avg"),
         r"kaiming_uniform_: mode 'fan_avg' is not supported; accepted modes are 'fan_in' and 'fan_out'"),
        (lambda: init.kaiming_normal_(g.empty(3, 3), nonlinearity="swish"), "accepted: linear"),
        (lambda: init.eye_(g.empty(2, 2, 2)), r"eye_: only 2-D tensors are supported, got shape \(2, 2, 2\)"),
        (lambda: init.dirac_(g.empty(3, 3)), r"dirac_: only tensors with 3, 4 or 5 dimensions"),
        (lambda: init.dirac_(g.empty(5, 2, 3), groups=2), r"dim 0 of shape \(5, 2, 3\) must be divisible by groups=2"),
        (lambda: init.orthogonal_(g.empty(4)), r"orthogonal_: only tensors with 2 or more dimensions"),
        (lambda: init.sparse_(g.empty(4, 3), 1.5), r"sparse_: sparsity must be in \[0, 1\]"),
        (lambda: init.sparse_(g.empty(4), 0.5), "sparse_: only 2-D tensors"),
    ],
)
def test_bad_arguments_raise_value_errors_that_name_them(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_trunc_normal_with_zero_std_is_the_clamped_mean():
    np.testing.assert_array_equal(init.trunc_normal_(g.empty(3), mean=5.0, std=0.0, a=-1.0, b=2.0).numpy(), 2.0)
