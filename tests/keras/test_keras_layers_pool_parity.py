"""Keras pooling layers against references: PyTorch for 'valid' windows and global pooling, and a direct loop over
TensorFlow's windows for 'same' (out = ceil(in / strides), windows start at o * stride - pad_lo, and the average
counts only the inputs inside the window). Forward values and input gradients; Keras' shapes, configs and errors.
"""

import itertools
import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ganglion as g
from ganglion.keras import layers as L


def tf_same_pool(x, pool, strides, kind):
    """Direct loop over TensorFlow's 'same' windows of channels-last x (N, *spatial, C)."""
    spatial = x.shape[1:-1]
    outs = [math.ceil(n / s) for n, s in zip(spatial, strides)]
    los = [max((o - 1) * s + k - n, 0) // 2 for o, s, k, n in zip(outs, strides, pool, spatial)]
    y = np.empty((x.shape[0],) + tuple(outs) + (x.shape[-1],), x.dtype)
    for o in itertools.product(*(range(n) for n in outs)):
        window = tuple(slice(max(i * s - lo, 0), min(i * s - lo + k, n))
                       for i, s, lo, k, n in zip(o, strides, los, pool, spatial))
        values = x[(slice(None),) + window + (slice(None),)].reshape(x.shape[0], -1, x.shape[-1])
        y[(slice(None),) + o + (slice(None),)] = values.max(1) if kind == "max" else values.mean(1)
    return y


def torch_valid_pool(x, pool, strides, kind):
    nd = x.ndim - 2
    xc = x.permute(0, nd + 1, *range(1, nd + 1))
    fn = {("max", 1): TF.max_pool1d, ("max", 2): TF.max_pool2d, ("avg", 1): TF.avg_pool1d,
          ("avg", 2): TF.avg_pool2d}[kind, nd]
    y = fn(xc, pool, strides)
    return y.permute(0, *range(2, nd + 2), 1)


ROWS = [
    # (id, layer factory, input shape, kind)
    ("max2d_default", lambda: L.MaxPooling2D(), (2, 6, 4, 3), "max"),
    ("max2d_alias_3_stride2", lambda: L.MaxPool2D(3, strides=2), (2, 7, 8, 2), "max"),
    ("max2d_same_odd", lambda: L.MaxPool2D(padding="same"), (2, 5, 7, 2), "max"),
    ("max2d_same_k3_s2", lambda: L.MaxPooling2D((3, 3), strides=(2, 2), padding="same"), (1, 6, 7, 2), "max"),
    ("max2d_same_k3_s1", lambda: L.MaxPooling2D(3, strides=1, padding="same"), (1, 5, 4, 2), "max"),
    ("max2d_same_rect", lambda: L.MaxPooling2D((2, 3), strides=(1, 2), padding="same"), (1, 5, 5, 2), "max"),
    ("max1d_default", lambda: L.MaxPooling1D(), (2, 9, 3), "max"),
    ("max1d_same_s3", lambda: L.MaxPool1D(2, strides=3, padding="same"), (2, 8, 3), "max"),
    ("avg2d_default", lambda: L.AveragePooling2D(), (2, 6, 5, 3), "avg"),
    ("avg2d_alias_same", lambda: L.AvgPool2D(padding="same"), (2, 5, 7, 2), "avg"),
    ("avg2d_same_k3_s2", lambda: L.AveragePooling2D(3, strides=2, padding="same"), (1, 6, 7, 2), "avg"),
    ("avg2d_same_k3_s1", lambda: L.AveragePooling2D(3, strides=1, padding="same"), (1, 4, 5, 2), "avg"),
    ("avg1d_same", lambda: L.AveragePooling1D(3, strides=2, padding="same"), (2, 8, 3), "avg"),
    ("avg1d_alias_valid", lambda: L.AvgPool1D(3), (2, 8, 3), "avg"),
]


@pytest.mark.parametrize("make, shape, kind", [pytest.param(*r[1:], id=r[0]) for r in ROWS])
def test_pooling_forward_and_gradient(make, shape, kind):
    rng = np.random.default_rng(0)
    layer = make()
    x_np = rng.standard_normal(shape).astype(np.float32)
    x = g.tensor(x_np, requires_grad=True)
    y = layer(x)
    if layer.padding == "same":
        expected = tf_same_pool(x_np, layer.pool_size, layer.strides, kind)
        np.testing.assert_allclose(y.detach().numpy(), expected, rtol=1e-5, atol=1e-6)
        x64 = g.tensor(x_np.astype(np.float64), dtype=g.float64, requires_grad=True)
        assert g.autograd.gradcheck(lambda t: layer(t), (x64,))
    else:
        x_t = torch.tensor(x_np, requires_grad=True)
        y_t = torch_valid_pool(x_t, layer.pool_size, layer.strides, kind)
        np.testing.assert_allclose(y.detach().numpy(), y_t.detach().numpy(), rtol=1e-5, atol=1e-6)
        r = rng.standard_normal(tuple(y.shape)).astype(np.float32)
        (y * g.tensor(r)).sum().backward()
        (y_t * torch.tensor(r)).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), x_t.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_same_average_excludes_padding_and_max_never_picks_it():
    x = np.array([1, 2, 3, 4, 5], np.float32).reshape(1, 5, 1)
    avg = L.AveragePooling1D(2, padding="same")(x).detach().numpy().ravel()
    np.testing.assert_allclose(avg, [1.5, 3.5, 5.0])  # the last window holds 5 and one pad: mean 5, not 2.5
    neg = -x
    mx = L.MaxPooling1D(2, padding="same")(neg).detach().numpy().ravel()
    np.testing.assert_allclose(mx, [-1, -3, -5])  # a zero pad would have won the last window


GLOBAL_ROWS = [
    ("gap2d", lambda: L.GlobalAveragePooling2D(), (2, 4, 5, 3), lambda t: t.mean((1, 2))),
    ("gap2d_keepdims", lambda: L.GlobalAvgPool2D(keepdims=True), (2, 4, 5, 3), lambda t: t.mean((1, 2), keepdim=True)),
    ("gmp2d", lambda: L.GlobalMaxPooling2D(), (2, 4, 5, 3), lambda t: t.amax((1, 2))),
    ("gmp2d_keepdims", lambda: L.GlobalMaxPool2D(keepdims=True), (2, 4, 5, 3), lambda t: t.amax((1, 2), keepdim=True)),
    ("gap1d", lambda: L.GlobalAveragePooling1D(), (2, 6, 3), lambda t: t.mean(1)),
    ("gmp1d_alias", lambda: L.GlobalMaxPool1D(), (2, 6, 3), lambda t: t.amax(1)),
    ("gap2d_channels_first", lambda: L.GlobalAveragePooling2D(data_format="channels_first"), (2, 3, 4, 5),
     lambda t: t.mean((2, 3))),
]


@pytest.mark.parametrize("make, shape, ref", [pytest.param(*r[1:], id=r[0]) for r in GLOBAL_ROWS])
def test_global_pooling_matches_torch(make, shape, ref):
    rng = np.random.default_rng(1)
    layer = make()
    x_np = rng.standard_normal(shape).astype(np.float32)
    x, x_t = g.tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
    y, y_t = layer(x), ref(x_t)
    assert tuple(y.shape) == tuple(y_t.shape) == layer.compute_output_shape(shape)
    np.testing.assert_allclose(y.detach().numpy(), y_t.detach().numpy(), rtol=1e-5, atol=1e-6)
    y.sum().backward()
    y_t.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), x_t.grad.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("make, in_shape, out_shape", [
    (lambda: L.MaxPooling2D(), (28, 28, 32), (14, 14, 32)),
    (lambda: L.MaxPooling2D(), (7, 7, 4), (3, 3, 4)),
    (lambda: L.MaxPooling2D(padding="same"), (7, 7, 4), (4, 4, 4)),
    (lambda: L.MaxPooling2D(3, strides=1), (5, 6, 1), (3, 4, 1)),
    (lambda: L.AveragePooling2D((2, 3)), (6, 9, 2), (3, 3, 2)),
    (lambda: L.MaxPooling1D(3, padding="same"), (10, 4), (4, 4)),
    (lambda: L.AveragePooling1D(), (9, 4), (4, 4)),
    (lambda: L.GlobalAveragePooling2D(), (7, 7, 5), (5,)),
    (lambda: L.GlobalMaxPooling1D(keepdims=True), (7, 5), (1, 5)),
])
def test_pooling_output_shapes_are_keras(make, in_shape, out_shape):
    layer = make()
    model = g.keras.Sequential([L.Input(shape=in_shape), layer])
    assert model.output_shape == (None,) + out_shape
    assert layer.compute_output_shape((None,) + in_shape) == (None,) + out_shape
    assert model.count_params() == 0


@pytest.mark.parametrize("make", [
    lambda: L.MaxPooling2D((2, 3), strides=1, padding="same", name="p"),
    lambda: L.AveragePooling1D(3, data_format="channels_first"),
    lambda: L.GlobalMaxPooling2D(keepdims=True),
])
def test_pooling_config_round_trip(make):
    layer = make()
    config = json.loads(json.dumps(layer.get_config()))
    assert type(layer).from_config(config).get_config() == config


def test_pooling_defaults_are_keras():
    config = L.MaxPooling2D().get_config()
    assert (config["pool_size"], config["strides"], config["padding"]) == ([2, 2], [2, 2], "valid")
    assert L.AveragePooling1D(3).get_config()["strides"] == [3]
    assert L.MaxPool2D is L.MaxPooling2D and L.AvgPool1D is L.AveragePooling1D


@pytest.mark.parametrize("make, shape, fragment", [
    (lambda: L.MaxPooling2D(), (2, 8, 8), "expected ndim=4"),
    (lambda: L.MaxPooling1D(), (2, 8, 8, 1), "expected ndim=3"),
    (lambda: L.GlobalAveragePooling2D(), (2, 8), "expected ndim=4"),
    (lambda: L.MaxPooling2D(3), (2, 2, 8, 1), "smaller than pool_size"),
])
def test_pooling_bad_input_raises_value_error(make, shape, fragment):
    layer = make()
    with pytest.raises(ValueError, match=fragment) as info:
        layer(np.zeros(shape, np.float32))
    assert layer.name in str(info.value) and str(shape) in str(info.value)


def test_pooling_bad_arguments():
    with pytest.raises(ValueError, match="'valid', 'same'"):
        L.MaxPooling2D(padding="causal")
    with pytest.raises(ValueError, match="pool_size"):
        L.MaxPooling2D(pool_size=0)
