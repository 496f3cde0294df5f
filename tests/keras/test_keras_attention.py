"""keras.layers.MultiHeadAttention against Keras 3 (torch backend) after set_weights from Keras' get_weights."""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import ganglion.keras as gk  # noqa: E402


def _numpy(x):
    return x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)


CASES = {
    "key_mask_scores": (dict(num_heads=2, key_dim=3, value_dim=4), dict(key=True, mask=True, scores=True)),
    "causal_no_bias_output_shape": (dict(num_heads=3, key_dim=2, output_shape=5, use_bias=False),
                                    dict(use_causal_mask=True)),
    "self_attention_mask_and_causal": (dict(num_heads=2, key_dim=4), dict(self=True, mask=True, use_causal_mask=True)),
}


@pytest.mark.parametrize("case", CASES)
def test_multi_head_attention_matches_keras(case):
    options, how = CASES[case]
    rng = np.random.default_rng(0)
    query = rng.normal(size=(2, 5, 6)).astype("float32")
    value = query if how.get("self") else rng.normal(size=(2, 7 if not how.get("self") else 5, 8)).astype("float32")
    kwargs = {}
    if how.get("key"):
        kwargs["key"] = rng.normal(size=(2, value.shape[1], 3)).astype("float32")
    if how.get("mask"):
        mask = rng.random((2, 5, value.shape[1])) > 0.3
        mask[..., 0] = True
        kwargs["attention_mask"] = mask
    if how.get("use_causal_mask"):
        kwargs["use_causal_mask"] = True
    if how.get("scores"):
        kwargs["return_attention_scores"] = True
    theirs, mine = keras.layers.MultiHeadAttention(**options), gk.layers.MultiHeadAttention(**options)
    ref = theirs(query, value, **kwargs)
    mine(query, value, **kwargs)
    assert [tuple(w.shape) for w in mine.get_weights()] == [tuple(w.shape) for w in theirs.get_weights()]
    mine.set_weights([_numpy(w) for w in theirs.get_weights()])
    out = mine(query, value, **kwargs)
    if how.get("scores"):
        (out, scores), (ref, ref_scores) = out, ref
        assert tuple(scores.shape) == (2, options["num_heads"], 5, value.shape[1])
        np.testing.assert_allclose(_numpy(scores), _numpy(ref_scores), atol=1e-5)
    np.testing.assert_allclose(_numpy(out), _numpy(ref), atol=1e-5)
    assert out.shape[-1] == options.get("output_shape", 6)


def test_multi_head_attention_in_functional_model_with_two_inputs():
    query, value = gk.Input((5, 6)), gk.Input((7, 8))
    layer = gk.layers.MultiHeadAttention(num_heads=2, key_dim=3)
    out = layer(query, value)
    assert out.shape == (None, 5, 6)
    model = gk.Model([query, value], out)
    rng = np.random.default_rng(1)
    x, y = rng.random((4, 5, 6)).astype("float32"), rng.random((4, 7, 8)).astype("float32")
    np.testing.assert_allclose(model.predict([x, y], verbose=0), _numpy(layer(x, y)), atol=1e-6)
    model.compile(optimizer="adam", loss="mse")
    before = [w.copy() for w in model.get_weights()]
    model.fit([x, y], np.zeros((4, 5, 6), "float32"), epochs=1, verbose=0)
    assert any(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))


def test_multi_head_attention_dropout_only_in_training():
    layer = gk.layers.MultiHeadAttention(num_heads=2, key_dim=3, dropout=0.5)
    x = np.random.default_rng(2).random((2, 4, 6)).astype("float32")
    inference = _numpy(layer(x, x))
    np.testing.assert_array_equal(inference, _numpy(layer(x, x, training=False)))
    assert not np.allclose(_numpy(layer(x, x, training=True)), inference)


def test_multi_head_attention_errors():
    with pytest.raises(ValueError, match="attention_axes"):
        gk.layers.MultiHeadAttention(num_heads=2, key_dim=3, attention_axes=(1, 2))
    layer = gk.layers.MultiHeadAttention(num_heads=2, key_dim=3)
    with pytest.raises(ValueError, match="batch, seq, features"):
        layer(np.zeros((2, 6), "float32"), np.zeros((2, 6), "float32"))
