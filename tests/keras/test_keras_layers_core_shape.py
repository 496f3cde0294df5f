"""Keras reshaping and merge layers against PyTorch: forward values and input gradients (table-driven), Keras'
output shapes, get_config/from_config round trips, and the errors for wrong shapes and arguments."""

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ganglion as g
from ganglion.keras import layers as L
from ganglion.keras.layers.merging import Merge


def nhwc(fn):
    """Apply a channels-first torch function to channels-last data."""
    return lambda t: fn(t.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)


SINGLE_ROWS = [
    # (id, layer factory, input shape, torch reference)
    ("flatten", lambda: L.Flatten(), (2, 3, 4, 5), lambda t: t.reshape(2, -1)),
    ("flatten_2d", lambda: L.Flatten(), (2, 3), lambda t: t.reshape(2, -1)),
    ("flatten_channels_first", lambda: L.Flatten(data_format="channels_first"), (2, 3, 4, 5),
     lambda t: t.permute(0, 2, 3, 1).reshape(2, -1)),
    ("reshape_infer", lambda: L.Reshape((3, -1)), (2, 4, 3), lambda t: t.reshape(2, 3, 4)),
    ("reshape_add_dim", lambda: L.Reshape((2, 3, 1)), (2, 6), lambda t: t.reshape(2, 2, 3, 1)),
    ("permute_21", lambda: L.Permute((2, 1)), (2, 3, 4), lambda t: t.permute(0, 2, 1)),
    ("permute_312", lambda: L.Permute((3, 1, 2)), (2, 3, 4, 5), lambda t: t.permute(0, 3, 1, 2)),
    ("repeat_vector", lambda: L.RepeatVector(3), (2, 4), lambda t: t.unsqueeze(1).repeat(1, 3, 1)),
    ("zero_padding2d_int", lambda: L.ZeroPadding2D(1), (2, 3, 4, 2), lambda t: TF.pad(t, (0, 0, 1, 1, 1, 1))),
    ("zero_padding2d_pairs", lambda: L.ZeroPadding2D(((1, 2), (0, 3))), (2, 3, 4, 2),
     lambda t: TF.pad(t, (0, 0, 0, 3, 1, 2))),
    ("zero_padding2d_hw", lambda: L.ZeroPadding2D((2, 1)), (1, 3, 3, 1), lambda t: TF.pad(t, (0, 0, 1, 1, 2, 2))),
    ("zero_padding1d", lambda: L.ZeroPadding1D((2, 1)), (2, 4, 3), lambda t: TF.pad(t, (0, 0, 2, 1))),
    ("upsampling2d_nearest", lambda: L.UpSampling2D((2, 3)), (2, 3, 4, 2),
     lambda t: t.repeat_interleave(2, 1).repeat_interleave(3, 2)),
    ("upsampling2d_bilinear", lambda: L.UpSampling2D(2, interpolation="bilinear"), (2, 3, 4, 2),
     nhwc(lambda t: TF.interpolate(t, scale_factor=2, mode="bilinear", align_corners=False))),
    ("upsampling2d_channels_first", lambda: L.UpSampling2D(2, data_format="channels_first"), (1, 2, 3, 3),
     lambda t: t.repeat_interleave(2, 2).repeat_interleave(2, 3)),
    ("upsampling1d", lambda: L.UpSampling1D(3), (2, 4, 2), lambda t: t.repeat_interleave(3, 1)),
]


@pytest.mark.parametrize("make, shape, ref", [pytest.param(*r[1:], id=r[0]) for r in SINGLE_ROWS])
def test_reshaping_layers_match_torch(make, shape, ref):
    rng = np.random.default_rng(0)
    layer = make()
    x_np = rng.standard_normal(shape).astype(np.float32)
    x, x_t = g.tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
    y, y_t = layer(x), ref(x_t)
    assert tuple(y.shape) == tuple(y_t.shape) == layer.compute_output_shape(shape)
    np.testing.assert_allclose(y.detach().numpy(), y_t.detach().numpy(), rtol=1e-5, atol=1e-6)
    r = rng.standard_normal(tuple(y.shape)).astype(np.float32)
    (y * g.tensor(r)).sum().backward()
    (y_t * torch.tensor(r)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), x_t.grad.numpy(), rtol=1e-5, atol=1e-5)


MERGE_ROWS = [
    # (id, layer factory, input shapes, torch reference on the list)
    ("add", lambda: L.Add(), [(2, 3), (2, 3), (2, 3)], lambda ts: ts[0] + ts[1] + ts[2]),
    ("add_broadcast", lambda: L.Add(), [(2, 1, 4), (2, 3, 4)], lambda ts: ts[0] + ts[1]),
    ("subtract", lambda: L.Subtract(), [(2, 3), (2, 3)], lambda ts: ts[0] - ts[1]),
    ("multiply", lambda: L.Multiply(), [(2, 3, 2), (2, 3, 2)], lambda ts: ts[0] * ts[1]),
    ("average", lambda: L.Average(), [(2, 3), (2, 3), (2, 3)], lambda ts: (ts[0] + ts[1] + ts[2]) / 3),
    ("maximum", lambda: L.Maximum(), [(2, 4), (2, 4), (2, 4)], lambda ts: torch.maximum(torch.maximum(*ts[:2]), ts[2])),
    ("minimum", lambda: L.Minimum(), [(2, 4), (2, 4)], lambda ts: torch.minimum(*ts)),
    ("concatenate", lambda: L.Concatenate(), [(2, 3, 2), (2, 3, 4)], lambda ts: torch.cat(ts, -1)),
    ("concatenate_axis1", lambda: L.Concatenate(axis=1), [(2, 1, 4), (2, 3, 4), (2, 2, 4)],
     lambda ts: torch.cat(ts, 1)),
]


@pytest.mark.parametrize("make, shapes, ref", [pytest.param(*r[1:], id=r[0]) for r in MERGE_ROWS])
def test_merge_layers_match_torch(make, shapes, ref):
    rng = np.random.default_rng(1)
    layer = make()
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    xs = [g.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, y_t = layer(xs), ref(ts)
    assert tuple(y.shape) == tuple(y_t.shape) == layer.compute_output_shape(shapes)
    np.testing.assert_allclose(y.detach().numpy(), y_t.detach().numpy(), rtol=1e-5, atol=1e-6)
    r = rng.standard_normal(tuple(y.shape)).astype(np.float32)
    (y * g.tensor(r)).sum().backward()
    (y_t * torch.tensor(r)).sum().backward()
    for x, t in zip(xs, ts):
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_functional_forms_and_symbolic_shapes():
    a, b = L.Input(shape=(2, 5)), L.Input(shape=(2, 3))
    assert L.concatenate([a, b]).shape == (None, 2, 8)
    c = L.Input(shape=(2, 5))
    for fn in (L.add, L.subtract, L.multiply, L.average, L.maximum, L.minimum):
        assert fn([a, c]).shape == (None, 2, 5)
    model = g.keras.Model([a, c], L.Add()([a, c]))
    x1, x2 = np.ones((3, 2, 5), np.float32), np.full((3, 2, 5), 2.0, np.float32)
    np.testing.assert_allclose(model.predict([x1, x2], verbose=0), 3.0)


@pytest.mark.parametrize("make, in_shape, out_shape", [
    (lambda: L.Flatten(), (3, 4), (12,)),
    (lambda: L.Flatten(), (28, 28, 1), (784,)),
    (lambda: L.Reshape((-1, 2)), (6,), (3, 2)),
    (lambda: L.Reshape((3, 4)), (12,), (3, 4)),
    (lambda: L.Permute((2, 1)), (10, 64), (64, 10)),
    (lambda: L.RepeatVector(3), (32,), (3, 32)),
    (lambda: L.ZeroPadding2D(1), (28, 28, 1), (30, 30, 1)),
    (lambda: L.ZeroPadding2D(((1, 0), (2, 3))), (4, 4, 2), (5, 9, 2)),
    (lambda: L.UpSampling2D(), (4, 4, 3), (8, 8, 3)),
    (lambda: L.UpSampling1D(2), (5, 3), (10, 3)),
])
def test_reshaping_output_shapes_are_keras(make, in_shape, out_shape):
    layer = make()
    model = g.keras.Sequential([L.Input(shape=in_shape), layer])
    assert model.output_shape == (None,) + out_shape
    assert layer.compute_output_shape((None,) + in_shape) == (None,) + out_shape
    assert model.count_params() == 0


CONFIG_ROWS = [
    lambda: L.Flatten(data_format="channels_first", name="flat"),
    lambda: L.Reshape((2, -1)),
    lambda: L.Permute((3, 1, 2)),
    lambda: L.RepeatVector(4),
    lambda: L.ZeroPadding2D(((1, 2), (3, 4))),
    lambda: L.ZeroPadding1D(3),
    lambda: L.UpSampling2D((2, 3), interpolation="bilinear"),
    lambda: L.UpSampling1D(4),
    lambda: L.Concatenate(axis=1),
    lambda: L.Add(),
    lambda: L.Subtract(),
    lambda: L.Average(trainable=False),
]


@pytest.mark.parametrize("make", CONFIG_ROWS)
def test_config_round_trip(make):
    layer = make()
    config = json.loads(json.dumps(layer.get_config()))
    clone = type(layer).from_config(config)
    assert clone.get_config() == config and type(clone) is type(layer)


def test_sequential_with_reshaping_layers_saves_and_loads(tmp_path):
    model = g.keras.Sequential([
        L.Input(shape=(4, 4, 1)), L.ZeroPadding2D(1), L.UpSampling2D(), L.Reshape((12, 12, 1)),
        L.Permute((2, 1, 3)), L.Flatten(), L.RepeatVector(2), L.Flatten(), L.Dense(2),
    ])
    x = np.random.default_rng(0).standard_normal((3, 4, 4, 1)).astype(np.float32)
    path = tmp_path / "reshape.keras"
    model.save(path)
    loaded = g.keras.models.load_model(path)
    assert [type(layer).__name__ for layer in loaded.layers] == [type(layer).__name__ for layer in model.layers]
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


@pytest.mark.parametrize("make, inputs, fragments", [
    (lambda: L.Reshape((5, 2), name="r"), [(2, 3, 4)], ["'r'", "(2, 3, 4)", "(5, 2)", "12 values"]),
    (lambda: L.Permute((2, 1)), [(2, 3, 4, 5)], ["expected ndim=3", "(2, 3, 4, 5)"]),
    (lambda: L.RepeatVector(2), [(2, 3, 4)], ["expected ndim=2", "(2, 3, 4)"]),
    (lambda: L.ZeroPadding2D(), [(2, 3, 4)], ["expected ndim=4"]),
    (lambda: L.UpSampling2D(), [(2, 3, 4)], ["expected ndim=4"]),
    (lambda: L.Add(name="sum"), [(2, 3), (2, 4)], ["'sum'", "same shape", "(2, 3)", "(2, 4)"]),
    (lambda: L.Add(), [(2, 3), (2, 3, 1)], ["same rank"]),
    (lambda: L.Subtract(), [(2, 3), (2, 3), (2, 3)], ["exactly 2 inputs", "got 3"]),
    (lambda: L.Concatenate(), [(2, 3, 4), (2, 2, 4)], ["except the concatenation axis", "(2, 3, 4)", "(2, 2, 4)"]),
    (lambda: L.Concatenate(axis=3), [(2, 3, 4), (2, 3, 4)], ["axis=3"]),
])
def test_bad_shapes_raise_value_error(make, inputs, fragments):
    layer = make()
    arrays = [np.zeros(s, np.float32) for s in inputs]
    with pytest.raises(ValueError) as info:
        layer(arrays if isinstance(layer, Merge) else arrays[0])
    for fragment in fragments:
        assert fragment in str(info.value)


def test_merge_layer_given_one_tensor_and_symbolic_mismatch():
    with pytest.raises(ValueError, match="list of inputs"):
        L.Add()(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match=r"\(None, 3\).*\(None, 4\)"):
        L.Add()([L.Input(shape=(3,)), L.Input(shape=(4,))])


@pytest.mark.parametrize("make, fragment", [
    (lambda: L.Reshape((2, -1, -1)), "at most one -1"),
    (lambda: L.Reshape((0, 3)), "positive ints"),
    (lambda: L.Permute((1, 3)), "permutation of 1..2"),
    (lambda: L.Permute((0, 1)), "1-based"),
    (lambda: L.RepeatVector(0), "positive int"),
    (lambda: L.ZeroPadding2D((1, 2, 3)), "padding"),
    (lambda: L.ZeroPadding2D(-1), "non-negative"),
    (lambda: L.UpSampling2D(interpolation="cubic"), "nearest, bilinear"),
    (lambda: L.Concatenate(axis=1.5), "axis must be an int"),
])
def test_bad_arguments_raise_value_error(make, fragment):
    with pytest.raises(ValueError, match=fragment):
        make()
