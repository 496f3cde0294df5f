"""Keras convolution layers against PyTorch: forward values and the gradients of the input and of every Keras weight
(compared in Keras' layout), for a table of configurations. The PyTorch references are written from Keras'
definitions: channels-last data, TensorFlow's 'same' padding for any stride (out = ceil(in / stride), the odd pad at
the end), 'causal' = left padding, and the transposed convolution as the gradient of the forward convolution (as
TensorFlow defines it). A row: (id, layer factory, input shape, reference). Adding a case is adding a row.
"""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ganglion as g
from ganglion import backend
from ganglion.autograd import gradcheck
from ganglion.keras import layers as L

ACT = {None: lambda t: t, "relu": torch.relu, "tanh": torch.tanh}


def tf_pads(size, k, s, d, padding):
    """(lo, hi) padding of one dim under Keras' padding names (written from TensorFlow's documentation)."""
    k_eff = d * (k - 1) + 1
    if padding == "valid":
        return 0, 0
    if padding == "causal":
        return k_eff - 1, 0
    out = math.ceil(size / s)
    total = max((out - 1) * s + k_eff - size, 0)
    return total // 2, total - total // 2


def channels_first(x):
    return x.permute(0, x.ndim - 1, *range(1, x.ndim - 1))


def channels_last(y):
    return y.permute(0, *range(2, y.ndim), 1)


def torch_conv(x, kernel, bias, strides, dilation, padding, groups):
    """x channels-first; kernel in Keras layout (*k, in/groups, out)."""
    nd = x.ndim - 2
    w = kernel.permute(nd + 1, nd, *range(nd))
    pads = [tf_pads(n, k, s, d, padding) for n, k, s, d in zip(x.shape[2:], w.shape[2:], strides, dilation)]
    x = TF.pad(x, [v for lo_hi in reversed(pads) for v in lo_hi])
    conv = {1: TF.conv1d, 2: TF.conv2d, 3: TF.conv3d}[nd]
    return conv(x, w, bias, stride=strides, dilation=dilation, groups=groups)


def ref_conv(layer, x, weights):
    kernel, bias = weights[0], (weights[1] if layer.use_bias else None)
    first = layer.data_format == "channels_first"
    y = torch_conv(x if first else channels_first(x), kernel, bias, layer.strides, layer.dilation_rate,
                   layer.padding, layer.groups)
    return ACT[layer.get_config()["activation"] if layer.activation else None](y if first else channels_last(y))


def _depthwise_torch_kernel(kernel):
    kh, kw, c, m = kernel.shape
    return kernel.permute(2, 3, 0, 1).reshape(c * m, 1, kh, kw)


def ref_depthwise(layer, x, weights):
    kernel = weights[0]
    w = _depthwise_torch_kernel(kernel)
    xc = channels_first(x)
    pads = [tf_pads(n, k, s, d, layer.padding) for n, k, s, d in
            zip(xc.shape[2:], layer.kernel_size, layer.strides, layer.dilation_rate)]
    xc = TF.pad(xc, [v for lo_hi in reversed(pads) for v in lo_hi])
    y = TF.conv2d(xc, w, weights[1] if layer.use_bias else None, stride=layer.strides, dilation=layer.dilation_rate,
                  groups=kernel.shape[2])
    return channels_last(y)


def ref_separable(layer, x, weights):
    depthwise, pointwise = weights[0], weights[1]
    xc = channels_first(x)
    pads = [tf_pads(n, k, s, d, layer.padding) for n, k, s, d in
            zip(xc.shape[2:], layer.kernel_size, layer.strides, layer.dilation_rate)]
    xc = TF.pad(xc, [v for lo_hi in reversed(pads) for v in lo_hi])
    y = TF.conv2d(xc, _depthwise_torch_kernel(depthwise), None, stride=layer.strides, dilation=layer.dilation_rate,
                  groups=depthwise.shape[2])
    y = TF.conv2d(y, pointwise.permute(3, 2, 0, 1), weights[2] if layer.use_bias else None)
    return ACT[layer.get_config()["activation"] if layer.activation else None](channels_last(y))


def keras_transpose_length(n, k, s, d, padding, output_padding):
    """Keras 3's documented output length of a transposed convolution."""
    k_eff = d * (k - 1) + 1
    if padding == "valid":
        return (n - 1) * s + k_eff + (max(s - k_eff, 0) if output_padding is None else output_padding)
    return n * s if output_padding is None else (n - 1) * s + k_eff % 2 + output_padding


def ref_transpose(layer, x, weights):
    """TensorFlow's definition: the gradient, w.r.t. its input, of the forward convolution with the same kernel."""
    kernel = weights[0]  # (*k, filters, in): the forward convolution maps filters -> in channels
    xc = channels_first(x)
    ops = layer.output_padding or (None,) * (x.ndim - 2)
    sizes = [keras_transpose_length(n, k, s, d, layer.padding, p) for n, k, s, d, p in
             zip(xc.shape[2:], layer.kernel_size, layer.strides, layer.dilation_rate, ops)]
    z = torch.zeros((x.shape[0], kernel.shape[-2]) + tuple(sizes), dtype=x.dtype, requires_grad=True)
    forward = torch_conv(z, kernel, None, layer.strides, layer.dilation_rate, layer.padding, 1)
    assert forward.shape == xc.shape
    (y,) = torch.autograd.grad((forward * xc).sum(), z, create_graph=True)
    if layer.use_bias:
        y = y + weights[1].reshape((1, -1) + (1,) * (x.ndim - 2))
    return channels_last(y)


def row(id, make, shape, ref=ref_conv):
    return pytest.param(make, shape, ref, id=id)


ROWS = [
    row("conv2d_valid", lambda: L.Conv2D(4, 3), (2, 7, 6, 3)),
    row("conv2d_same_relu", lambda: L.Conv2D(4, 3, padding="same", activation="relu"), (2, 6, 5, 3)),
    row("conv2d_same_stride2_odd", lambda: L.Conv2D(3, 3, strides=2, padding="same"), (2, 7, 6, 2)),
    row("conv2d_same_stride2_k4", lambda: L.Conv2D(3, 4, strides=2, padding="same"), (2, 8, 5, 2)),
    row("conv2d_same_stride3_k2", lambda: L.Conv2D(2, 2, strides=3, padding="same"), (1, 7, 8, 2)),
    row("conv2d_rect_strides", lambda: L.Conv2D(3, (3, 2), strides=(2, 1), use_bias=False), (2, 7, 6, 2)),
    row("conv2d_same_dilation2", lambda: L.Conv2D(3, 3, padding="same", dilation_rate=2, activation="tanh"),
        (2, 7, 7, 2)),
    row("conv2d_groups2", lambda: L.Conv2D(6, 3, groups=2, padding="same"), (2, 5, 5, 4)),
    row("conv2d_channels_first", lambda: L.Conv2D(3, 3, data_format="channels_first"), (2, 2, 6, 5)),
    row("conv1d_valid", lambda: L.Conv1D(4, 3), (2, 9, 3)),
    row("conv1d_same_stride2", lambda: L.Conv1D(3, 4, strides=2, padding="same"), (2, 9, 2)),
    row("conv1d_causal_dil2", lambda: L.Conv1D(3, 3, padding="causal", dilation_rate=2), (2, 8, 2)),
    row("conv3d_same", lambda: L.Conv3D(2, 3, padding="same", strides=2), (1, 5, 4, 5, 2)),
    row("depthwise_valid", lambda: L.DepthwiseConv2D(3), (2, 6, 6, 3), ref_depthwise),
    row("depthwise_mult2_same_stride2", lambda: L.DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=2),
        (2, 7, 6, 3), ref_depthwise),
    row("depthwise_nobias_dil2", lambda: L.DepthwiseConv2D((3, 2), dilation_rate=2, use_bias=False),
        (1, 7, 6, 2), ref_depthwise),
    row("separable_same", lambda: L.SeparableConv2D(5, 3, padding="same"), (2, 6, 6, 3), ref_separable),
    row("separable_mult2_stride2_relu",
        lambda: L.SeparableConv2D(4, 3, strides=2, depth_multiplier=2, activation="relu"), (2, 7, 7, 2),
        ref_separable),
    row("transpose_valid", lambda: L.Conv2DTranspose(3, 3), (2, 4, 5, 2), ref_transpose),
    row("transpose_valid_stride2", lambda: L.Conv2DTranspose(3, 3, strides=2), (2, 4, 3, 2), ref_transpose),
    row("transpose_same_stride2_k3", lambda: L.Conv2DTranspose(3, 3, strides=2, padding="same"), (2, 3, 4, 2),
        ref_transpose),
    row("transpose_same_stride2_k4", lambda: L.Conv2DTranspose(2, 4, strides=2, padding="same"), (1, 3, 3, 3),
        ref_transpose),
    row("transpose_same_stride3_k2", lambda: L.Conv2DTranspose(2, 2, strides=3, padding="same"), (1, 3, 2, 2),
        ref_transpose),
    row("transpose_valid_stride3_k2", lambda: L.Conv2DTranspose(2, 2, strides=3), (1, 3, 2, 2), ref_transpose),
    row("transpose_output_padding", lambda: L.Conv2DTranspose(2, 3, strides=2, output_padding=1), (1, 3, 4, 2),
        ref_transpose),
    row("transpose_same_output_padding",
        lambda: L.Conv2DTranspose(2, 4, strides=2, padding="same", output_padding=1, use_bias=False), (1, 3, 3, 2),
        ref_transpose),
    row("transpose_same_dilation2", lambda: L.Conv2DTranspose(2, 3, padding="same", dilation_rate=2), (1, 4, 4, 2),
        ref_transpose),
    row("transpose1d_same_stride2", lambda: L.Conv1DTranspose(2, 3, strides=2, padding="same"), (2, 5, 3),
        ref_transpose),
]


@pytest.mark.parametrize("make, shape, ref", ROWS)
def test_forward_and_gradients_match_torch(make, shape, ref):
    rng = np.random.default_rng(0)
    layer = make()
    x_np = rng.standard_normal(shape).astype(np.float32)
    x = g.tensor(x_np, requires_grad=True)
    y = layer(x)
    weights = [torch.tensor(w, requires_grad=True) for w in layer.get_weights()]
    x_t = torch.tensor(x_np, requires_grad=True)
    y_t = ref(layer, x_t, weights)
    assert tuple(y.shape) == tuple(y_t.shape)
    np.testing.assert_allclose(y.detach().numpy(), y_t.detach().numpy(), rtol=1e-4, atol=1e-5)

    r = rng.standard_normal(tuple(y.shape)).astype(np.float32)
    (y * g.tensor(r)).sum().backward()
    (y_t * torch.tensor(r)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), x_t.grad.numpy(), rtol=1e-4, atol=1e-4)
    for w, w_t in zip(layer.weights, weights):
        grad = w.to_keras(backend.to_numpy(w.parameter.grad.array))
        np.testing.assert_allclose(grad, w_t.grad.numpy(), rtol=1e-4, atol=1e-4, err_msg=w.name)


# ---------------------------------------------------------------------------- shapes and parameter counts
SHAPE_ROWS = [
    # (layer, input shape without batch, Keras' output shape without batch, Keras' parameter count)
    (lambda: L.Conv2D(32, 3), (28, 28, 3), (26, 26, 32), 896),
    (lambda: L.Conv2D(8, 3, strides=2, padding="same"), (7, 7, 1), (4, 4, 8), 80),
    (lambda: L.Conv2D(6, 3, groups=2), (8, 8, 4), (6, 6, 6), 114),
    (lambda: L.Conv2D(4, 5, dilation_rate=2, use_bias=False), (12, 12, 2), (4, 4, 4), 200),
    (lambda: L.Conv1D(8, 5), (20, 3), (16, 8), 128),
    (lambda: L.Conv1D(2, 3, padding="causal", dilation_rate=2), (10, 3), (10, 2), 20),
    (lambda: L.Conv3D(2, 3), (5, 6, 7, 1), (3, 4, 5, 2), 56),
    (lambda: L.Conv2DTranspose(2, 3, strides=2), (5, 5, 4), (11, 11, 2), 74),
    (lambda: L.Conv2DTranspose(2, 3, strides=2, padding="same"), (5, 5, 4), (10, 10, 2), 74),
    (lambda: L.Conv2DTranspose(2, 3, strides=2, output_padding=1), (5, 5, 4), (12, 12, 2), 74),
    (lambda: L.Conv2DTranspose(2, 1, strides=3), (4, 4, 1), (12, 12, 2), 4),
    (lambda: L.DepthwiseConv2D(3, depth_multiplier=2), (8, 8, 3), (6, 6, 6), 60),
    (lambda: L.SeparableConv2D(5, 3, padding="same"), (8, 8, 3), (8, 8, 5), 47),
]


@pytest.mark.parametrize("make, in_shape, out_shape, params", SHAPE_ROWS)
def test_output_shapes_and_param_counts_are_keras(make, in_shape, out_shape, params):
    layer = make()
    assert layer.compute_output_shape((None,) + in_shape) == (None,) + out_shape
    model = g.keras.Sequential([L.Input(shape=in_shape), layer])
    assert model.output_shape == (None,) + out_shape
    assert layer.count_params() == params == model.count_params()
    assert tuple(layer(np.zeros((2,) + in_shape, np.float32)).shape) == (2,) + out_shape


def test_weight_names_and_keras_layouts():
    cases = [
        (L.Conv2D(4, (3, 2), groups=2), (None, 6, 6, 2), {"kernel": (3, 2, 1, 4), "bias": (4,)}),
        (L.Conv2DTranspose(4, (3, 2)), (None, 6, 6, 2), {"kernel": (3, 2, 4, 2), "bias": (4,)}),
        (L.DepthwiseConv2D((3, 2), depth_multiplier=3), (None, 6, 6, 2), {"kernel": (3, 2, 2, 3), "bias": (6,)}),
        (L.SeparableConv2D(5, 3, depth_multiplier=2, use_bias=False), (None, 6, 6, 2),
         {"depthwise_kernel": (3, 3, 2, 2), "pointwise_kernel": (1, 1, 4, 5)}),
    ]
    for layer, shape, expected in cases:
        layer.build(shape)
        layer.built = True
        assert {w.name: w.shape for w in layer.weights} == expected
        values = [np.random.default_rng(1).standard_normal(s).astype(np.float32) for s in expected.values()]
        layer.set_weights(values)
        for got, want in zip(layer.get_weights(), values):
            np.testing.assert_array_equal(got, want)


def test_depthwise_output_channel_order_is_keras():
    # output channel c * multiplier + m filters input channel c with kernel[..., c, m]
    layer = L.DepthwiseConv2D(1, depth_multiplier=2, use_bias=False)
    layer.build((None, 1, 1, 3))
    layer.built = True
    kernel = np.arange(1, 7, dtype=np.float32).reshape(1, 1, 3, 2)
    layer.set_weights([kernel])
    y = layer(np.array([[[[1.0, 10.0, 100.0]]]], np.float32)).detach().numpy().ravel()
    np.testing.assert_allclose(y, [1, 2, 30, 40, 500, 600])


def test_transposed_same_is_the_adjoint_of_strided_same_conv():
    # <conv(x), y> = <x, conv_transpose(y)> with the same Keras kernel: Keras' definition of Conv2DTranspose
    rng = np.random.default_rng(3)
    conv = L.Conv2D(3, 4, strides=2, padding="same", use_bias=False)
    deconv = L.Conv2DTranspose(2, 4, strides=2, padding="same", use_bias=False)
    x = rng.standard_normal((1, 8, 6, 2)).astype(np.float32)
    cx = conv(x).detach().numpy()  # (1, 4, 3, 3)
    deconv.build((None,) + cx.shape[1:])
    deconv.built = True
    deconv.set_weights(conv.get_weights())
    y = rng.standard_normal(cx.shape).astype(np.float32)
    dy = deconv(y).detach().numpy()
    assert dy.shape == x.shape
    np.testing.assert_allclose((cx * y).sum(), (x * dy).sum(), rtol=1e-4)


def test_float64_gradcheck_through_the_asymmetric_padding_path():
    conv = L.Conv2D(2, 2, strides=2, padding="same", dtype="float64")
    deconv = L.Conv2DTranspose(2, 3, strides=2, padding="same", dtype="float64")
    x = g.tensor(np.random.default_rng(0).standard_normal((1, 3, 5, 2)), dtype=g.float64, requires_grad=True)
    assert gradcheck(lambda t: deconv(conv(t)), (x,))
    assert conv.conv.weight.dtype == g.float64


# ---------------------------------------------------------------------------------------- config round trip
CONFIG_ROWS = [
    lambda: L.Conv2D(4, (3, 2), strides=(2, 1), padding="same", dilation_rate=1, groups=2, activation="relu",
                     use_bias=False, kernel_initializer="he_normal", kernel_regularizer=g.keras.regularizers.L2(0.1),
                     name="c2"),
    lambda: L.Conv1D(3, 3, padding="causal", dilation_rate=2, bias_initializer="ones"),
    lambda: L.Conv2DTranspose(3, 3, strides=2, padding="same", output_padding=1, activation="tanh"),
    lambda: L.DepthwiseConv2D(3, depth_multiplier=2, padding="same", depthwise_initializer="lecun_uniform"),
    lambda: L.SeparableConv2D(3, 3, depth_multiplier=2, pointwise_regularizer="l2", data_format="channels_first"),
]


@pytest.mark.parametrize("make", CONFIG_ROWS)
def test_get_config_from_config_round_trip(make):
    import json

    layer = make()
    config = json.loads(json.dumps(layer.get_config()))
    clone = type(layer).from_config(config)
    assert json.loads(json.dumps(clone.get_config())) == config
    shape = (2, 4, 6, 6) if layer.data_format == "channels_first" else ((2, 8, 4) if layer.rank == 1 else (2, 6, 6, 4))
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    layer(x), clone(x)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(clone(x).detach().numpy(), layer(x).detach().numpy(), rtol=1e-6)
    assert len(clone.losses) == len(layer.losses)


# --------------------------------------------------------------------------- regularizers and constraints
def test_kernel_regularizer_and_activity_regularizer_join_losses():
    layer = L.Conv2D(2, 3, kernel_regularizer=g.keras.regularizers.L2(0.1), bias_regularizer="l1",
                     activity_regularizer=g.keras.regularizers.L1(0.01))
    x = np.random.default_rng(0).standard_normal((2, 5, 5, 3)).astype(np.float32)
    layer.build(x.shape)
    layer.built = True
    layer.set_weights([layer.get_weights()[0], np.full(2, -0.5, np.float32)])
    y = layer(x).detach().numpy()
    kernel = layer.get_weights()[0]
    values = sorted(float(t.item()) for t in layer.losses)
    expected = sorted([0.1 * float((kernel.astype(np.float64) ** 2).sum()), 0.01 * 1.0, 0.01 * float(np.abs(y).sum())])
    np.testing.assert_allclose(values, expected, rtol=1e-5)


class RecordingNonNeg:
    """A constraint that records the layout it sees and zeroes negative values."""

    def __init__(self):
        self.seen = []

    def __call__(self, w):
        self.seen.append(tuple(w.shape))
        return w.clamp(min=0.0)


def test_constraints_see_keras_layout_and_apply_after_each_step():
    constraint = RecordingNonNeg()
    model = g.keras.Sequential([L.Input(shape=(5, 5, 2)), L.DepthwiseConv2D((3, 2), depth_multiplier=2,
                                                                            depthwise_constraint=constraint),
                                L.Flatten(), L.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(0).standard_normal((4, 5, 5, 2)).astype(np.float32)
    model.fit(x, np.ones((4, 1), np.float32), epochs=1, batch_size=2, verbose=0)
    assert constraint.seen == [(3, 2, 2, 2)] * 2
    assert (model.layers[0].get_weights()[0] >= 0).all()


# -------------------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("make, shape, fragments", [
    (lambda: L.Conv2D(4, 3), (2, 8, 8), ["conv2d", "expected ndim=4", "(2, 8, 8)"]),
    (lambda: L.Conv1D(4, 3), (2, 8, 8, 1), ["conv1d", "expected ndim=3", "(2, 8, 8, 1)"]),
    (lambda: L.SeparableConv2D(4, 3), (2, 8, 8), ["separable_conv2d", "expected ndim=4"]),
    (lambda: L.Conv2D(4, 3, groups=2), (2, 8, 8, 3), ["divisible by groups", "(2, 8, 8, 3)"]),
])
def test_wrong_input_rank_or_channels_raise_value_error(make, shape, fragments):
    layer = make()
    with pytest.raises(ValueError) as info:
        layer(np.zeros(shape, np.float32))
    for fragment in fragments:
        assert fragment in str(info.value)


def test_channel_mismatch_after_build_names_layer_expected_and_got():
    layer = L.Conv2D(4, 3, name="features")
    layer(np.zeros((1, 6, 6, 3), np.float32))
    with pytest.raises(ValueError, match=r"'features'.*value 3.*\(1, 6, 6, 4\)"):
        layer(np.zeros((1, 6, 6, 4), np.float32))


@pytest.mark.parametrize("make, fragment", [
    (lambda: L.Conv2D(0, 3), "filters must be a positive int"),
    (lambda: L.Conv2D(4, 3, padding="full"), "'valid', 'same'"),
    (lambda: L.Conv2D(4, 3, padding="causal"), "'valid', 'same'"),
    (lambda: L.Conv2D(5, 3, groups=2), "divisible by groups"),
    (lambda: L.Conv2D(4, (3, 3, 3)), "kernel_size"),
    (lambda: L.Conv2D(4, 3, strides=2, dilation_rate=2), "dilation_rate"),
    (lambda: L.Conv2D(4, 3, data_format="NHWC"), "channels_last"),
    (lambda: L.Conv2DTranspose(4, 3, strides=2, output_padding=2), "output_padding"),
    (lambda: L.DepthwiseConv2D(3, depth_multiplier=0), "depth_multiplier"),
    (lambda: L.Conv2D(4, 3, activation="relux"), "accepted names"),
])
def test_bad_arguments_raise_value_error(make, fragment):
    with pytest.raises(ValueError, match=fragment):
        make()
