"""Keras preprocessing layers inside the model: Rescaling (y = x scale + offset) and Normalization (statistics
given, or learned by ``adapt`` from arrays, batches or datasets; ``invert``), with Keras' documented examples as
expected values, saving, configs and errors."""

import numpy as np
import pytest

import ganglion as g
from ganglion.keras import layers as L
from ganglion.keras.models import Sequential, load_model

KERAS_DOC_DATA = np.array([[0., 7., 4.], [2., 9., 6.], [0., 7., 4.], [2., 9., 6.]], np.float32)


def test_rescaling_values_dtypes_and_channels():
    images = np.arange(24, dtype=np.uint8).reshape(1, 2, 4, 3)
    y = L.Rescaling(1.0 / 255)(images)
    assert y.dtype == g.float32  # integer images become float
    np.testing.assert_allclose(y.numpy(), images / 255.0, rtol=1e-6)
    y = L.Rescaling(1.0 / 127.5, offset=-1)(images)
    np.testing.assert_allclose(y.numpy(), images / 127.5 - 1, rtol=1e-6, atol=1e-7)
    per_channel = L.Rescaling([1.0, 2.0, 3.0], offset=[0.0, 0.5, 1.0])(images.astype(np.float32))
    np.testing.assert_allclose(per_channel.numpy(), images * np.array([1, 2, 3]) + np.array([0, 0.5, 1]))


def test_rescaling_is_differentiable_and_round_trips():
    layer = L.Rescaling(0.5, offset=2.0)
    x = g.tensor(np.ones((2, 3), np.float32), requires_grad=True)
    layer(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full((2, 3), 0.5))
    clone = L.Rescaling.from_config(layer.get_config())
    assert clone.get_config()["scale"] == 0.5 and clone.get_config()["offset"] == 2.0
    with pytest.raises(ValueError, match="does not broadcast"):
        L.Rescaling([1.0, 2.0])(np.ones((2, 3), np.float32))
    with pytest.raises(ValueError, match="scale must be a number"):
        L.Rescaling("big")


def test_normalization_keras_examples():
    layer = L.Normalization(axis=-1)
    layer.adapt(KERAS_DOC_DATA)
    np.testing.assert_allclose(layer(np.array([[0., 7., 4.]], np.float32)).numpy(), [[-1., -1., -1.]], atol=1e-6)
    inverse = L.Normalization(axis=-1, invert=True)
    inverse.adapt(KERAS_DOC_DATA)
    np.testing.assert_allclose(inverse(np.array([[1., 2., 3.]], np.float32)).numpy(), [[2., 10., 8.]], atol=1e-5)
    scalar = L.Normalization(axis=None)
    scalar.adapt(np.array([1., 2., 3., 4., 5.], np.float32))
    np.testing.assert_allclose(scalar(np.array([1., 2., 3.], np.float32)).numpy(), [-1.4142135, -0.70710677, 0.],
                               rtol=1e-6)
    given = L.Normalization(mean=3., variance=2.)
    np.testing.assert_allclose(given(np.array([[1.], [2.], [3.]], np.float32)).numpy(),
                               [[-1.4142135], [-0.70710677], [0.]], rtol=1e-6)
    assert given.weights == []


def test_normalization_keeps_several_axes_and_divides_safely():
    rng = np.random.default_rng(0)
    data = rng.standard_normal((10, 3, 4)).astype(np.float32) * 5 + 2
    data[:, 0, 0] = 7.0  # a constant feature: variance 0, divided by 1e-7 instead of 0
    layer = L.Normalization(axis=(1, 2))
    layer.adapt(data)
    mean, var = data.mean(0), data.var(0)
    np.testing.assert_allclose(layer.mean.numpy()[0], mean, rtol=1e-5)
    y = layer(data).numpy()
    assert np.all(np.isfinite(y)) and np.all(y[:, 0, 0] == 0)
    np.testing.assert_allclose(y[:, 1:], (data[:, 1:] - mean[1:]) / np.sqrt(var[1:]), rtol=1e-4, atol=1e-4)


def test_adapt_from_batches_equals_adapt_from_the_whole_array():
    from ganglion.data import DataLoader, TensorDataset

    rng = np.random.default_rng(1)
    data = (rng.standard_normal((50, 4)) * np.array([1, 2, 3, 4]) + np.array([0, -1, 5, 10])).astype(np.float32)
    whole = L.Normalization()
    whole.adapt(data)
    batches = L.Normalization()
    batches.adapt([data[:7], data[7:30], data[30:]])
    from_dataset = L.Normalization()
    from_dataset.adapt(TensorDataset(data, np.zeros(50)), batch_size=16)
    from_loader = L.Normalization()
    from_loader.adapt(DataLoader(TensorDataset(data, np.zeros(50)), batch_size=9))
    from_tensor = L.Normalization()
    from_tensor.adapt(g.tensor(data))
    for other in (batches, from_dataset, from_loader, from_tensor):
        for a, b in zip(other.get_weights(), whole.get_weights()):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(whole.get_weights()[1], data.var(0), rtol=1e-5)
    limited = L.Normalization()
    limited.adapt([data[:10], data[10:]], steps=1)
    np.testing.assert_allclose(limited.get_weights()[0], data[:10].mean(0), rtol=1e-5)


def test_normalization_in_a_model_summary_gradient_and_save(tmp_path):
    rng = np.random.default_rng(2)
    data = (rng.standard_normal((20, 4)) * 3 + 1).astype(np.float32)
    norm = L.Normalization()
    norm.adapt(data)
    model = Sequential([L.Input((4,)), norm, L.Dense(1)])
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "Non-trainable params: 9" in text  # mean (4), variance (4), count (1), as Keras 3
    assert [w.name for w in norm.weights] == ["mean", "variance", "count"]
    x = g.tensor(data[:3], requires_grad=True)
    norm(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy()[0], 1 / np.sqrt(data.var(0)), rtol=1e-4)
    before = model.predict(data, verbose=0)
    model.save(tmp_path / "norm.keras")
    again = load_model(tmp_path / "norm.keras")
    np.testing.assert_allclose(again.predict(data, verbose=0), before, atol=1e-6)
    np.testing.assert_allclose(again.layers[0].get_weights()[0], data.mean(0), rtol=1e-5)


@pytest.mark.parametrize("make", [
    lambda: L.Normalization(axis=(1, 2), invert=True),
    lambda: L.Normalization(axis=None),
    lambda: L.Normalization(mean=[1.0, 2.0, 3.0], variance=[4.0, 5.0, 6.0]),
], ids=["axes_invert", "scalar", "given"])
def test_normalization_config_round_trip(make):
    layer = make()
    x = np.random.default_rng(3).standard_normal((2, 2, 3)).astype(np.float32)
    layer(x)
    clone = L.Normalization.from_config(layer.get_config())
    clone(x)
    clone.set_weights(layer.get_weights())
    a, b = layer.get_config(), clone.get_config()
    a.pop("name"), b.pop("name")
    assert a == b
    np.testing.assert_allclose(clone(x).numpy(), layer(x).numpy())


@pytest.mark.parametrize("call, match", [
    (lambda: L.Normalization(mean=1.0), "both `mean` and `variance`"),
    (lambda: L.Normalization(mean=[1.0, 2.0], variance=[1.0]), "same shape"),
    (lambda: L.Normalization(axis=-1, mean=np.ones((2, 2)), variance=np.ones((2, 2))), "rank of `mean`"),
    (lambda: L.Normalization(axis=2)(np.zeros((2, 3), np.float32)), "range"),
    (lambda: _adapted().adapt(np.zeros((4, 5), np.float32)), "adapt"),
    (lambda: _adapted()(np.zeros((4, 5), np.float32)), "incompatible"),
    (lambda: L.Normalization(mean=1.0, variance=1.0).adapt(np.zeros((2, 1))), "given at construction"),
    (lambda: L.Normalization().adapt([]), "no data"),
], ids=["mean_only", "shapes", "rank", "axis", "adapt_shape", "call_shape", "adapt_given", "empty"])
def test_normalization_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def _adapted():
    layer = L.Normalization()
    layer.adapt(np.zeros((4, 3), np.float32))
    return layer
