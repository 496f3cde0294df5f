"""keras.layers.TimeDistributed against Keras 3 (torch backend): same outputs and gradients after set_weights for
Dense and Conv2D, shared weights under the wrapped layer's names, masks handed on, config round trip, bad input."""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

import ganglion.keras as gk  # noqa: E402


def _pair(make, shape):
    theirs, mine = keras.layers.TimeDistributed(make(keras)), gk.layers.TimeDistributed(make(gk))
    theirs.build(shape)
    mine.build(shape)
    mine.set_weights(theirs.get_weights())
    return theirs, mine


@pytest.mark.parametrize("make, shape", [
    (lambda k: k.layers.Dense(5, activation="relu"), (2, 4, 3)),
    (lambda k: k.layers.Dense(2), (2, 3, 4, 6)),
    (lambda k: k.layers.Conv2D(4, 3, strides=2, padding="same"), (2, 3, 7, 7, 2)),
])
def test_matches_keras_outputs_and_gradients(make, shape):
    theirs, mine = _pair(make, shape)
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    xt = torch.tensor(x, requires_grad=True)
    expected = theirs(xt)
    got = mine(x)
    assert tuple(got.shape) == tuple(expected.shape) == theirs.compute_output_shape(shape)
    np.testing.assert_allclose(got.detach().numpy(), expected.detach().numpy(), rtol=1e-5, atol=1e-5)
    expected.sum().backward()
    got.sum().backward()
    kernel_grad = mine.layer.weights[0].grad
    np.testing.assert_allclose(kernel_grad, theirs.layer.kernel.value.grad.numpy(), rtol=1e-4, atol=1e-4)


def test_weights_are_the_wrapped_layers_and_shared_across_steps():
    theirs, mine = _pair(lambda k: k.layers.Dense(3), (None, 4, 5))
    assert [w.name for w in mine.weights] == [w.name for w in theirs.weights] == ["kernel", "bias"]
    assert mine.count_params() == theirs.count_params() == 18
    x = np.random.default_rng(1).standard_normal((2, 4, 5)).astype(np.float32)
    same_steps = np.repeat(x[:, :1], 4, axis=1)
    y = mine(same_steps).detach().numpy()
    np.testing.assert_allclose(y, np.repeat(y[:, :1], 4, axis=1), rtol=1e-6)


def test_in_a_model_trains_and_round_trips_config():
    model = gk.Sequential([gk.Input((4, 3)), gk.layers.TimeDistributed(gk.layers.Dense(2)), gk.layers.Flatten()])
    model.compile("sgd", "mse")
    x = np.random.default_rng(2).standard_normal((8, 4, 3)).astype(np.float32)
    before = model.get_weights()[0].copy()
    model.fit(x, np.ones((8, 8), np.float32), epochs=1, verbose=0)
    assert not np.allclose(model.get_weights()[0], before)
    layer = model.layers[0]
    clone = gk.layers.TimeDistributed.from_config(layer.get_config())
    assert isinstance(clone.layer, gk.layers.Dense) and clone.layer.units == 2


def test_mask_reaches_the_wrapped_layer_and_stays_on_the_output():
    seen = {}

    class Recorder(gk.layers.Layer):
        def call(self, inputs, mask=None):
            seen["mask"] = None if mask is None else mask.numpy()
            return inputs * 2.0

    wrapper = gk.layers.TimeDistributed(Recorder())
    x = np.ones((2, 3, 4), np.float32)
    mask = np.array([[1, 1, 0], [1, 0, 0]], bool)
    out, out_mask = wrapper._call_with_mask(gk.ops.convert_to_tensor(x), gk.ops.convert_to_tensor(mask))
    np.testing.assert_array_equal(seen["mask"], mask.reshape(6))
    np.testing.assert_array_equal(out_mask.numpy(), mask)
    np.testing.assert_allclose(out.numpy(), 2 * x)


def test_bad_input():
    with pytest.raises(ValueError, match="keras.layers.Layer"):
        gk.layers.TimeDistributed(lambda x: x)
    with pytest.raises(ValueError, match="at least 3 dimensions"):
        gk.layers.TimeDistributed(gk.layers.Dense(2))(np.ones((2, 3), np.float32))
