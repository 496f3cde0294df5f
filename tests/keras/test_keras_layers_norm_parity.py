"""Keras normalization layers (BatchNormalization, LayerNormalization, GroupNormalization) against references
written in PyTorch from Keras' definitions (channels-last, statistics over the axes Keras names, epsilon 1e-3):
forward values and gradients of the input and of gamma/beta; BatchNormalization's moving statistics computed by
hand with Keras' formula over several training steps; summaries, configs, errors. A row: (id, factory, shape,
reference). Adding a case is adding a row.
"""

import numpy as np
import pytest
import torch

import ganglion as g
from ganglion.autograd import gradcheck
from ganglion.keras import layers as L


def normalize(x, axes, eps):
    mean = x.mean(dim=axes, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=axes, keepdim=True)  # biased, as Keras
    return (x - mean) / torch.sqrt(var + eps)


def affine(y, gamma, beta, shape):
    if gamma is not None:
        y = y * gamma.reshape(shape)
    if beta is not None:
        y = y + beta.reshape(shape)
    return y


def ref_batch_norm(layer, x, gamma, beta):
    axis = layer.axis % x.ndim
    reduce = tuple(d for d in range(x.ndim) if d != axis)
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]
    return affine(normalize(x, reduce, layer.epsilon), gamma, beta, shape)


def ref_layer_norm(layer, x, gamma, beta):
    axes = layer.axis if isinstance(layer.axis, list) else [layer.axis]
    axes = sorted(a % x.ndim for a in axes)
    shape = [x.shape[d] if d in axes else 1 for d in range(x.ndim)]
    if layer.rms_scaling:
        y = x / torch.sqrt((x * x).mean(dim=tuple(axes), keepdim=True) + layer.epsilon)
        return y * gamma.reshape(shape)
    return affine(normalize(x, tuple(axes), layer.epsilon), gamma, beta, shape)


def ref_group_norm(layer, x, gamma, beta):
    axis = layer.axis % x.ndim
    moved = x.movedim(axis, -1)  # (N, ..., C)
    n, c = moved.shape[0], moved.shape[-1]
    grouped = moved.reshape(n, -1, layer.groups, c // layer.groups)
    y = normalize(grouped, (1, 3), layer.epsilon).reshape(moved.shape)
    return affine(y, gamma, beta, [1] * (x.ndim - 1) + [c]).movedim(-1, axis)


ROWS = [
    ("bn_2d", lambda: L.BatchNormalization(), (6, 5), ref_batch_norm),
    ("bn_images", lambda: L.BatchNormalization(), (3, 4, 4, 3), ref_batch_norm),
    ("bn_axis1_images", lambda: L.BatchNormalization(axis=1), (3, 4, 2, 5), ref_batch_norm),
    ("bn_axis1_sequence", lambda: L.BatchNormalization(axis=1, momentum=0.5, epsilon=0.1), (3, 4, 5),
     ref_batch_norm),
    ("bn_middle_axis", lambda: L.BatchNormalization(axis=2), (3, 4, 5, 2), ref_batch_norm),
    ("bn_no_scale", lambda: L.BatchNormalization(scale=False), (4, 3), ref_batch_norm),
    ("bn_no_center", lambda: L.BatchNormalization(center=False), (4, 3), ref_batch_norm),
    ("bn_plain", lambda: L.BatchNormalization(center=False, scale=False), (4, 3), ref_batch_norm),
    ("ln_last", lambda: L.LayerNormalization(), (3, 6), ref_layer_norm),
    ("ln_sequence", lambda: L.LayerNormalization(epsilon=1e-5), (2, 3, 6), ref_layer_norm),
    ("ln_axes", lambda: L.LayerNormalization(axis=[1, 2]), (2, 3, 4, 2), ref_layer_norm),
    ("ln_inner_axis", lambda: L.LayerNormalization(axis=1), (2, 3, 4), ref_layer_norm),
    ("ln_no_center", lambda: L.LayerNormalization(center=False), (3, 5), ref_layer_norm),
    ("ln_rms", lambda: L.LayerNormalization(rms_scaling=True), (3, 5), ref_layer_norm),
    ("gn_2d", lambda: L.GroupNormalization(groups=2), (3, 6), ref_group_norm),
    ("gn_images", lambda: L.GroupNormalization(groups=3), (2, 4, 3, 6), ref_group_norm),
    ("gn_axis1", lambda: L.GroupNormalization(groups=2, axis=1), (2, 4, 3, 3), ref_group_norm),
    ("gn_instance", lambda: L.GroupNormalization(groups=4, scale=False), (2, 5, 4), ref_group_norm),
]


def gamma_beta(layer, rng):
    """Random gamma/beta (so both are checked), returned as float32 arrays by name."""
    values = {}
    for w in layer.weights:
        if w.name in ("gamma", "beta"):
            values[w.name] = (rng.standard_normal(w.shape) * 0.5 + (1.0 if w.name == "gamma" else 0.0)).astype(
                np.float32)
            w.assign(values[w.name])
    return values


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
@pytest.mark.parametrize("training", [True, False])
def test_forward_and_gradients_match_keras_definition(row, training):
    _, make, shape, ref = row
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(shape) * 2 + 1).astype(np.float32)
    layer = make()
    layer(x)
    values = gamma_beta(layer, rng)
    if isinstance(layer, L.BatchNormalization):
        layer.moving_mean.assign(rng.standard_normal(layer.moving_mean.shape))
        layer.moving_variance.assign(rng.uniform(0.5, 2.0, layer.moving_variance.shape))
        moving = [torch.tensor(w.numpy()) for w in (layer.moving_mean, layer.moving_variance)]
    xg = g.tensor(x, requires_grad=True)
    y = layer(xg, training=training)
    xt = torch.tensor(x, requires_grad=True)
    wt = {k: torch.tensor(v, requires_grad=True) for k, v in values.items()}
    if isinstance(layer, L.BatchNormalization) and not training:  # inference: the moving statistics
        axis = layer.axis % x.ndim
        view = [x.shape[d] if d == axis else 1 for d in range(x.ndim)]
        norm = (xt - moving[0].reshape(view)) / torch.sqrt(moving[1].reshape(view) + layer.epsilon)
        expected = affine(norm, wt.get("gamma"), wt.get("beta"), view)
    else:
        expected = ref(layer, xt, wt.get("gamma"), wt.get("beta"))
    np.testing.assert_allclose(y.detach().numpy(), expected.detach().numpy(), atol=2e-5)
    probe = np.linspace(-1, 1, y.numel()).reshape(tuple(y.shape)).astype(np.float32)
    (y * g.tensor(probe)).sum().backward()
    (expected * torch.tensor(probe)).sum().backward()
    np.testing.assert_allclose(xg.grad.numpy(), xt.grad.numpy(), atol=5e-5)
    for w in layer.weights:
        if w.name in wt:
            np.testing.assert_allclose(w.to_keras(w.parameter.grad.numpy()), wt[w.name].grad.numpy(), atol=5e-5)


def test_batch_norm_moving_statistics_follow_keras_formula():
    """moving = moving * momentum + batch * (1 - momentum), with the biased batch variance, step after step."""
    rng = np.random.default_rng(1)
    layer = L.BatchNormalization(momentum=0.9)
    batches = [(rng.standard_normal((5, 3, 4)) * s + s).astype(np.float32) for s in (1.0, 2.0, 3.0)]
    mean, var = np.zeros(4), np.ones(4)
    for batch in batches:
        layer(batch, training=True)
        mean = mean * 0.9 + batch.mean(axis=(0, 1)) * 0.1
        var = var * 0.9 + batch.var(axis=(0, 1)) * 0.1  # np.var is the biased variance
        np.testing.assert_allclose(layer.moving_mean.numpy(), mean, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(layer.moving_variance.numpy(), var, rtol=1e-5, atol=1e-6)
    layer(batches[0])  # inference leaves them alone
    np.testing.assert_allclose(layer.moving_mean.numpy(), mean, rtol=1e-5, atol=1e-6)


def test_batch_norm_moving_statistics_in_fit():
    """BatchNormalization first in a model sees the data batches: after one fit epoch (no shuffling) its moving
    statistics are Keras' running averages over those batches."""
    from ganglion.keras.models import Sequential

    rng = np.random.default_rng(2)
    x = (rng.standard_normal((12, 3)) * 3 + 2).astype(np.float32)
    y = rng.standard_normal((12, 1)).astype(np.float32)
    model = Sequential([L.Input((3,)), L.BatchNormalization(momentum=0.8), L.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    mean, var = np.zeros(3), np.ones(3)
    for i in range(0, 12, 4):
        mean = mean * 0.8 + x[i:i + 4].mean(0) * 0.2
        var = var * 0.8 + x[i:i + 4].var(0) * 0.2
    bn = model.layers[0]
    np.testing.assert_allclose(bn.moving_mean.numpy(), mean, rtol=1e-5)
    np.testing.assert_allclose(bn.moving_variance.numpy(), var, rtol=1e-5)


def test_frozen_batch_norm_runs_in_inference_mode():
    """Keras 3: a BatchNormalization with trainable=False uses (and keeps) its moving statistics even in training."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 4)).astype(np.float32)
    layer = L.BatchNormalization()
    layer(x)
    layer.moving_mean.assign(np.full(4, 0.5))
    layer.trainable = False
    y = layer(x, training=True).detach().numpy()
    np.testing.assert_allclose(y, (x - 0.5) / np.sqrt(1 + 1e-3), rtol=1e-5)
    np.testing.assert_array_equal(layer.moving_mean.numpy(), np.full(4, 0.5, np.float32))
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 4


def test_batch_norm_single_value_per_channel():
    """One sample of a 2-D input in training: variance 0, so y = beta (Keras does not fail here)."""
    layer = L.BatchNormalization(momentum=0.5)
    x = np.array([[1.0, -2.0, 3.0]], np.float32)
    layer(x)
    layer.beta.assign(np.array([0.1, 0.2, 0.3]))
    y = layer(g.tensor(x, requires_grad=True), training=True)
    np.testing.assert_allclose(y.detach().numpy(), [[0.1, 0.2, 0.3]], atol=1e-7)
    np.testing.assert_allclose(layer.moving_mean.numpy(), x[0] * 0.5)
    np.testing.assert_allclose(layer.moving_variance.numpy(), [0.5, 0.5, 0.5])


@pytest.mark.parametrize("make, shape, training", [
    (lambda: L.BatchNormalization(dtype="float64"), (4, 3), True),
    (lambda: L.BatchNormalization(axis=1, dtype="float64"), (3, 2, 3), True),
    (lambda: L.LayerNormalization(axis=[1, 2], dtype="float64"), (2, 2, 3), None),
    (lambda: L.LayerNormalization(rms_scaling=True, dtype="float64"), (2, 3), None),
    (lambda: L.GroupNormalization(groups=2, dtype="float64"), (2, 3, 4), None),
], ids=["bn", "bn_axis1", "ln_axes", "ln_rms", "gn"])
def test_gradcheck_float64(make, shape, training):
    rng = np.random.default_rng(4)
    layer = make()
    x = g.tensor(rng.standard_normal(shape), dtype=g.float64, requires_grad=True)
    layer(x)
    params = [p for p in layer.parameters() if p.requires_grad]
    assert params and all(p.dtype == g.float64 for p in params)
    kwargs = {"training": training} if training is not None else {}
    assert gradcheck(lambda x, *ps: layer(x, **kwargs), (x, *params))


def summary_text(model):
    lines = []
    model.summary(print_fn=lines.append)
    return "\n".join(lines)


def test_batch_norm_summary_shows_non_trainable():
    from ganglion.keras.models import Sequential

    model = Sequential([L.Input((16,)), L.BatchNormalization()])
    text = summary_text(model)
    assert "Total params: 64 (256.00 B)" in text
    assert "Trainable params: 32 (128.00 B)" in text
    assert "Non-trainable params: 32 (128.00 B)" in text
    assert [w.name for w in model.layers[0].weights] == ["gamma", "beta", "moving_mean", "moving_variance"]


@pytest.mark.parametrize("make, names", [
    (lambda: L.BatchNormalization(center=False), ["gamma", "moving_mean", "moving_variance"]),
    (lambda: L.LayerNormalization(axis=[1, 2], scale=False), ["beta"]),
    (lambda: L.LayerNormalization(rms_scaling=True), ["gamma"]),
    (lambda: L.GroupNormalization(groups=2), ["gamma", "beta"]),
], ids=["bn", "ln", "ln_rms", "gn"])
def test_weight_names_shapes_and_set_weights(make, names):
    layer = make()
    layer(np.zeros((2, 3, 4), np.float32))
    assert [w.name for w in layer.weights] == names
    new = [np.arange(np.prod(w.shape), dtype=np.float32).reshape(w.shape) + 1 for w in layer.weights]
    layer.set_weights(new)
    for a, b in zip(layer.get_weights(), new):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("make", [
    lambda: L.BatchNormalization(axis=1, momentum=0.9, epsilon=0.01, center=False, gamma_initializer="he_normal",
                                 gamma_regularizer="l2"),
    lambda: L.LayerNormalization(axis=[1, 2], epsilon=1e-5, rms_scaling=True),
    lambda: L.GroupNormalization(groups=2, axis=1, center=False, beta_initializer="ones"),
], ids=["bn", "ln", "gn"])
def test_config_round_trip(make):
    x = np.random.default_rng(5).standard_normal((2, 4, 4)).astype(np.float32)
    layer = make()
    layer(x)
    config = layer.get_config()
    clone = type(layer).from_config(config)
    clone(x)
    a, b = dict(config), dict(clone.get_config())
    a.pop("name"), b.pop("name")
    assert a == b
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(clone(x).detach().numpy(), layer(x).detach().numpy(), atol=1e-6)


def test_regularizer_penalty_joins_losses():
    from ganglion.keras import regularizers

    layer = L.BatchNormalization(gamma_regularizer=regularizers.L2(0.1), beta_regularizer=regularizers.L1(0.2))
    layer(np.zeros((2, 3), np.float32))
    layer.gamma.assign(np.array([1.0, 2.0, 3.0]))
    layer.beta.assign(np.array([-1.0, 0.0, 1.0]))
    assert sorted(round(float(p.item()), 5) for p in layer.losses) == [0.4, 1.4]


@pytest.mark.parametrize("call, match", [
    (lambda: _built(L.BatchNormalization(), (2, 3))(np.zeros((2, 4), np.float32)),
     "expected axis 1 of input shape to have value 3"),
    (lambda: _built(L.BatchNormalization(), (2, 3))(np.zeros((2, 1, 3), np.float32)), "expected ndim=2"),
    (lambda: L.BatchNormalization(momentum=1.5), "momentum must be a number in"),
    (lambda: L.BatchNormalization(axis="x"), "axis must be an int"),
    (lambda: L.BatchNormalization(axis=3)(np.zeros((2, 3), np.float32)), "invalid axis 3"),
    (lambda: L.BatchNormalization(axis=0)(np.zeros((2, 3), np.float32)), "invalid axis 0"),
    (lambda: _built(L.LayerNormalization(axis=[1, 2]), (2, 3, 4))(np.zeros((2, 3, 5), np.float32)),
     "expected axis 2"),
    (lambda: L.LayerNormalization(epsilon=0), "epsilon must be a positive number"),
    (lambda: L.GroupNormalization(groups=4)(np.zeros((2, 6), np.float32)), "must be a divisor"),
    (lambda: L.GroupNormalization(groups=8)(np.zeros((2, 6), np.float32)), "cannot be more than"),
    (lambda: L.GroupNormalization(groups=0), "groups must be a positive int"),
], ids=["bn_features", "bn_rank", "bn_momentum", "bn_axis_type", "bn_axis_range", "bn_batch_axis", "ln_features",
        "ln_epsilon", "gn_divisor", "gn_too_many", "gn_groups"])
def test_bad_input_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def _built(layer, shape):
    layer(np.zeros(shape, np.float32))
    return layer


def test_constraints_and_missing_weights():
    from ganglion.keras import constraints
    from ganglion.keras.models import Sequential

    rng = np.random.default_rng(6)
    x = rng.standard_normal((8, 3)).astype(np.float32)
    bn = L.BatchNormalization(gamma_constraint=constraints.NonNeg(), beta_constraint=constraints.MaxNorm(0.1))
    model = Sequential([L.Input((3,)), bn])
    model.compile(optimizer="sgd", loss="mse")
    bn.set_weights([-np.ones(3), np.full(3, 5.0), np.zeros(3), np.ones(3)])
    model.fit(x, x, epochs=1, batch_size=8, verbose=0)
    assert np.all(bn.gamma.numpy() >= 0) and np.linalg.norm(bn.beta.numpy()) <= 0.1 + 1e-6
    # a regularizer or constraint of a weight the layer does not have is ignored, as Keras
    plain = L.LayerNormalization(scale=False, gamma_regularizer="l2", gamma_constraint=constraints.NonNeg())
    plain(x)
    assert plain.losses == [] and "_constraints" not in plain.__dict__
