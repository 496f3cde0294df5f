"""Convolution layers against PyTorch: forward values and the gradients of the input, the weight and the bias, for a
table of configurations sampled from the grid kernel 1/3/5 x stride 1/2 x padding 0/1/same/valid x dilation 1/2 x
groups 1/2/depthwise x padding modes (not the full product: each value appears several times, in varied company).
Then float64 ``gradcheck`` of each functional on small cases. The table runs on the GPU too (the ``device`` fixture).

A row: (id, ganglion class, PyTorch class, constructor kwargs, input shape). Adding a case is adding a row.
"""

import numpy as np
import pytest
import torch

import ganglion as g
from ganglion import nn
from ganglion.autograd import gradcheck
from ganglion.nn import functional as F


def row(id, g_cls, t_cls, shape, **kwargs):
    return pytest.param(g_cls, t_cls, kwargs, shape, id=id)


C1, C2, C3 = (nn.Conv1d, torch.nn.Conv1d), (nn.Conv2d, torch.nn.Conv2d), (nn.Conv3d, torch.nn.Conv3d)
T1, T2, T3 = ((nn.ConvTranspose1d, torch.nn.ConvTranspose1d), (nn.ConvTranspose2d, torch.nn.ConvTranspose2d),
              (nn.ConvTranspose3d, torch.nn.ConvTranspose3d))

CONV_ROWS = [
    # 2-D: every kernel size, stride, padding kind, dilation and grouping, several padding modes
    row("k1", *C2, (2, 3, 5, 6), in_channels=3, out_channels=4, kernel_size=1),
    row("k1_stride2_nobias", *C2, (2, 3, 5, 6), in_channels=3, out_channels=4, kernel_size=1, stride=2, bias=False),
    row("k3", *C2, (2, 3, 7, 6), in_channels=3, out_channels=4, kernel_size=3),
    row("k3_pad1", *C2, (2, 3, 7, 6), in_channels=3, out_channels=5, kernel_size=3, padding=1),
    row("k3_stride2_pad1", *C2, (2, 3, 7, 8), in_channels=3, out_channels=4, kernel_size=3, stride=2, padding=1),
    row("k3_same_dil2", *C2, (2, 2, 7, 6), in_channels=2, out_channels=3, kernel_size=3, padding="same", dilation=2),
    row("k3_valid_stride2_dil2", *C2, (2, 2, 9, 8), in_channels=2, out_channels=3, kernel_size=3, padding="valid",
        stride=2, dilation=2),
    row("k5", *C2, (2, 2, 7, 9), in_channels=2, out_channels=3, kernel_size=5),
    row("k5_pad1_stride2", *C2, (2, 2, 8, 9), in_channels=2, out_channels=3, kernel_size=5, padding=1, stride=2),
    row("k5_same", *C2, (1, 2, 6, 5), in_channels=2, out_channels=2, kernel_size=5, padding="same"),
    row("k4_same_even", *C2, (1, 2, 6, 7), in_channels=2, out_channels=2, kernel_size=4, padding="same"),
    row("rect_kernel_tuple_args", *C2, (2, 2, 7, 8), in_channels=2, out_channels=3, kernel_size=(3, 5),
        stride=(2, 1), padding=(1, 2), dilation=(1, 2)),
    row("groups2", *C2, (2, 4, 6, 6), in_channels=4, out_channels=6, kernel_size=3, groups=2),
    row("groups2_stride2_pad1", *C2, (2, 4, 7, 6), in_channels=4, out_channels=2, kernel_size=3, groups=2, stride=2,
        padding=1),
    row("depthwise", *C2, (2, 3, 6, 7), in_channels=3, out_channels=3, kernel_size=3, groups=3, padding=1),
    row("depthwise_multiplier2_dil2", *C2, (2, 3, 8, 7), in_channels=3, out_channels=6, kernel_size=3, groups=3,
        dilation=2),
    row("depthwise_k5_same", *C2, (1, 4, 6, 6), in_channels=4, out_channels=4, kernel_size=5, groups=4,
        padding="same", bias=False),
    row("reflect_pad1", *C2, (2, 2, 5, 6), in_channels=2, out_channels=3, kernel_size=3, padding=1,
        padding_mode="reflect"),
    row("reflect_same_k5", *C2, (1, 2, 6, 6), in_channels=2, out_channels=3, kernel_size=5, padding="same",
        padding_mode="reflect"),
    row("replicate_stride2", *C2, (2, 2, 7, 6), in_channels=2, out_channels=3, kernel_size=3, padding=(1, 2),
        stride=2, padding_mode="replicate"),
    row("circular_groups2", *C2, (2, 4, 5, 6), in_channels=4, out_channels=4, kernel_size=3, padding=1, groups=2,
        padding_mode="circular"),
    row("circular_same_dil2", *C2, (1, 2, 6, 7), in_channels=2, out_channels=2, kernel_size=3, padding="same",
        dilation=2, padding_mode="circular"),
    row("unbatched_CHW", *C2, (3, 6, 5), in_channels=3, out_channels=2, kernel_size=3, padding=1),
    row("kernel_equals_input", *C2, (2, 2, 3, 4), in_channels=2, out_channels=3, kernel_size=(3, 4)),
    row("large_spatial_flat_layout", *C2, (1, 1, 20, 24), in_channels=1, out_channels=2, kernel_size=3, padding=1),
    # fewer output than input channels at stride 1: the offsets route (a product per kernel offset, no columns)
    row("offsets_route_k7_to_one_channel", *C2, (2, 6, 9, 8), in_channels=6, out_channels=1, kernel_size=7,
        padding=3),
    row("offsets_route_rect_dil2_nobias", *C2, (2, 5, 8, 9), in_channels=5, out_channels=2, kernel_size=(3, 2),
        padding=(2, 1), dilation=2, bias=False),
    row("offsets_route_same_even_reflect", *C2, (1, 4, 6, 7), in_channels=4, out_channels=3, kernel_size=4,
        padding="same", padding_mode="reflect"),
    # 1-D and 3-D share the N-d implementation
    row("1d_k3", *C1, (2, 3, 10), in_channels=3, out_channels=4, kernel_size=3),
    row("1d_k5_stride2_pad1_dil2", *C1, (2, 2, 13), in_channels=2, out_channels=3, kernel_size=5, stride=2,
        padding=1, dilation=2),
    row("1d_same_groups2_reflect", *C1, (2, 4, 9), in_channels=4, out_channels=2, kernel_size=3, padding="same",
        groups=2, padding_mode="reflect"),
    row("1d_k1_unbatched", *C1, (3, 7), in_channels=3, out_channels=2, kernel_size=1),
    row("3d_k3_pad1", *C3, (1, 2, 4, 5, 4), in_channels=2, out_channels=3, kernel_size=3, padding=1),
    row("3d_stride2_dil_groups", *C3, (2, 2, 5, 6, 5), in_channels=2, out_channels=2, kernel_size=(1, 3, 2),
        stride=(1, 2, 2), dilation=(1, 1, 2), groups=2),
    row("3d_same_replicate", *C3, (1, 1, 4, 4, 5), in_channels=1, out_channels=2, kernel_size=3, padding="same",
        padding_mode="replicate"),
    # transposed
    row("T2_k3", *T2, (2, 3, 4, 5), in_channels=3, out_channels=2, kernel_size=3),
    row("T2_stride2_pad1_outpad1", *T2, (2, 3, 4, 5), in_channels=3, out_channels=4, kernel_size=3, stride=2,
        padding=1, output_padding=1),
    row("T2_k5_dil2_pad2", *T2, (1, 2, 4, 3), in_channels=2, out_channels=3, kernel_size=5, dilation=2, padding=2),
    row("T2_groups2_rect", *T2, (2, 4, 3, 4), in_channels=4, out_channels=6, kernel_size=(2, 3), stride=(2, 1),
        groups=2, bias=False),
    row("T2_k1_stride2_outpad", *T2, (2, 3, 3, 4), in_channels=3, out_channels=2, kernel_size=1, stride=2,
        output_padding=1),
    row("T2_outpad_beyond_padding", *T2, (1, 2, 3, 3), in_channels=2, out_channels=2, kernel_size=3, stride=3,
        output_padding=2),
    row("T2_depthwise", *T2, (2, 3, 4, 4), in_channels=3, out_channels=3, kernel_size=3, groups=3, stride=2),
    row("T1_stride3", *T1, (2, 2, 5), in_channels=2, out_channels=3, kernel_size=4, stride=3, padding=1,
        output_padding=2),
    row("T1_unbatched", *T1, (2, 5), in_channels=2, out_channels=3, kernel_size=3, stride=2),
    row("T3_stride2", *T3, (1, 2, 2, 3, 2), in_channels=2, out_channels=2, kernel_size=3, stride=2, padding=1,
        output_padding=1),
]


def _copy_weights(ours, theirs):
    theirs.load_state_dict({k: torch.from_numpy(v.detach().numpy().copy()) for k, v in ours.state_dict().items()})


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")  # PyTorch's note on its own speed
@pytest.mark.parametrize("g_cls, t_cls, kwargs, shape", CONV_ROWS)
def test_conv_layers_match_torch_forward_and_backward(g_cls, t_cls, kwargs, shape, device):
    g.manual_seed(0)
    ours, theirs = g_cls(**kwargs), t_cls(**kwargs)
    _copy_weights(ours, theirs)
    ours.to(device)
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape).astype(np.float32)
    gx, tx = g.tensor(x, device=device, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, ty = ours(gx), theirs(tx)
    assert tuple(y.shape) == tuple(ty.shape)
    assert y.dtype == g.float32 and y.device.type == device
    np.testing.assert_allclose(y.detach().cpu().numpy(), ty.detach().numpy(), rtol=1e-4, atol=1e-5)
    dy = rng.standard_normal(tuple(y.shape)).astype(np.float32)
    y.backward(g.tensor(dy, device=device))
    ty.backward(torch.from_numpy(dy))
    np.testing.assert_allclose(gx.grad.cpu().numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(ours.weight.grad.cpu().numpy(), theirs.weight.grad.numpy(), rtol=1e-4, atol=1e-4)
    if kwargs.get("bias", True):
        np.testing.assert_allclose(ours.bias.grad.cpu().numpy(), theirs.bias.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(gx.detach().cpu().numpy(), x)  # the input is left alone


@pytest.mark.parametrize("shape", [(1, 1, 9, 9), (2, 3, 6, 6)])
def test_input_without_grad_still_gives_weight_grads(shape):
    ours, theirs = nn.Conv2d(shape[1], 2, 3), torch.nn.Conv2d(shape[1], 2, 3)
    _copy_weights(ours, theirs)
    x = np.random.default_rng(2).standard_normal(shape).astype(np.float32)
    ours(g.tensor(x)).sum().backward()
    theirs(torch.tensor(x)).sum().backward()
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-4, atol=1e-4)


def test_conv_transpose_output_size_argument_matches_torch():
    g.manual_seed(0)
    ours = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
    theirs = torch.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
    _copy_weights(ours, theirs)
    x = np.random.default_rng(3).standard_normal((1, 2, 4, 5)).astype(np.float32)
    for size in [(7, 9), (8, 10), (1, 3, 8, 9)]:
        y, ty = ours(g.tensor(x), output_size=size), theirs(torch.tensor(x), output_size=size)
        assert tuple(y.shape) == tuple(ty.shape) and tuple(y.shape[-2:]) == tuple(size[-2:])
        np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-4, atol=1e-5)


def test_conv_and_its_transpose_are_adjoint():
    """<conv(x), y> = <x, conv_transpose(y)> for the same weight: the two ops are each other's transpose."""
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((2, 3, 7, 8)), rng.standard_normal((4, 3, 3, 2))
    y = rng.standard_normal((2, 4, 4, 4))
    as64 = lambda a: g.tensor(a, dtype=g.float64)  # noqa: E731
    lhs = (F.conv2d(as64(x), as64(w), stride=2, padding=1, dilation=(1, 2)).numpy() * y).sum()
    rhs = (x * F.conv_transpose2d(as64(y), as64(w), stride=2, padding=1, dilation=(1, 2), output_padding=(0, 1))
           .numpy()).sum()
    np.testing.assert_allclose(lhs, rhs, rtol=1e-12)


# ------------------------------------------------------------------------------------------- float64 gradcheck
def _t(rng, shape):
    return g.tensor(rng.standard_normal(shape), dtype=g.float64, requires_grad=True)


GRADCHECK = [
    ("conv1d", lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1, dilation=2), (1, 2, 7), (3, 2, 3), 3),
    ("conv2d", lambda x, w, b: F.conv2d(x, w, b, padding=1), (1, 2, 4, 4), (2, 2, 3, 3), 2),
    ("conv2d_stride_groups", lambda x, w, b: F.conv2d(x, w, b, stride=2, groups=2), (1, 2, 5, 5), (2, 1, 3, 2), 2),
    ("conv2d_same_dilated", lambda x, w, b: F.conv2d(x, w, b, padding="same", dilation=2), (1, 1, 5, 4),
     (2, 1, 2, 3), 2),
    ("conv3d", lambda x, w, b: F.conv3d(x, w, b, padding=(1, 0, 1)), (1, 1, 3, 3, 3), (2, 1, 2, 2, 2), 2),
    ("conv2d_offsets_route", lambda x, w, b: F.conv2d(x, w, b, padding=2), (2, 3, 4, 5), (1, 3, 5, 3), 1),
    ("conv3d_offsets_route", lambda x, w, b: F.conv3d(x, w, b, padding=1), (1, 3, 3, 3, 3), (2, 3, 2, 3, 2), 2),
    ("conv_transpose1d", lambda x, w, b: F.conv_transpose1d(x, w, b, stride=2, output_padding=1), (1, 2, 3),
     (2, 2, 3), 2),
    ("conv_transpose2d", lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1,
                                                            dilation=1), (1, 2, 3, 2), (2, 1, 3, 3), 1),
    ("conv_transpose2d_groups", lambda x, w, b: F.conv_transpose2d(x, w, b, groups=2, dilation=2), (1, 2, 2, 3),
     (2, 1, 2, 2), 2),
    ("conv_transpose3d", lambda x, w, b: F.conv_transpose3d(x, w, b, stride=(1, 2, 1)), (1, 1, 2, 2, 2),
     (1, 2, 2, 1, 2), 2),
]


@pytest.mark.parametrize("fn, x_shape, w_shape, n_bias", [pytest.param(*r[1:], id=r[0]) for r in GRADCHECK])
def test_gradcheck_float64(fn, x_shape, w_shape, n_bias):
    rng = np.random.default_rng(5)
    assert gradcheck(fn, (_t(rng, x_shape), _t(rng, w_shape), _t(rng, (n_bias,))))


def test_gradcheck_padding_modes_through_the_layer():
    g.manual_seed(0)
    for mode in ("reflect", "replicate", "circular"):
        layer = nn.Conv2d(1, 1, 3, padding=1, padding_mode=mode, dtype=g.float64)
        x = _t(np.random.default_rng(6), (1, 1, 3, 4))
        assert gradcheck(lambda x: layer(x), (x,)), mode
