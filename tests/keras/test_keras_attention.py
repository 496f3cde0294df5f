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


AXES = {  # query shape, value shape, attention_axes, attention mask shape (None: no mask)
    "axes_2_on_4d": ((2, 3, 4, 6), (2, 3, 5, 8), (2,), None),
    "axes_2_on_4d_masked": ((2, 3, 4, 6), (2, 3, 5, 8), (2,), (2, 3, 4, 5)),
    "axes_minus_2_on_4d": ((2, 3, 4, 6), (2, 3, 5, 8), (-2,), None),
    "axes_1_2_on_4d": ((2, 3, 4, 6), (2, 2, 5, 8), (1, 2), None),
    "axes_1_2_on_4d_masked": ((2, 3, 4, 6), (2, 2, 5, 8), (1, 2), (2, 3, 4, 2, 5)),
    "default_axes_on_4d": ((2, 3, 4, 6), (2, 2, 5, 8), None, None),
    "axes_1_on_4d": ((2, 3, 4, 6), (2, 5, 4, 8), (1,), None),
}


@pytest.mark.parametrize("case", AXES)
def test_attention_axes_match_keras(case):
    query_shape, value_shape, axes, mask_shape = AXES[case]
    rng = np.random.default_rng(5)
    query = rng.normal(size=query_shape).astype("float32")
    value = rng.normal(size=value_shape).astype("float32")
    kwargs = {"return_attention_scores": True}
    if mask_shape:
        mask = rng.random(mask_shape) > 0.3
        mask[..., 0] = True
        kwargs["attention_mask"] = mask
    options = dict(num_heads=2, key_dim=3, attention_axes=axes)
    theirs, mine = keras.layers.MultiHeadAttention(**options), gk.layers.MultiHeadAttention(**options)
    theirs(query, value)
    mine(query, value)
    mine.set_weights([_numpy(w) for w in theirs.get_weights()])
    (out, scores), (ref, ref_scores) = mine(query, value, **kwargs), theirs(query, value, **kwargs)
    assert tuple(scores.shape) == tuple(ref_scores.shape)
    np.testing.assert_allclose(_numpy(scores), _numpy(ref_scores), atol=1e-5)
    np.testing.assert_allclose(_numpy(out), _numpy(ref), atol=1e-5)
    # without scores: the same output (inputs above 3-D never take Keras' fused path)
    np.testing.assert_allclose(_numpy(mine(query, value, attention_mask=kwargs.get("attention_mask"))),
                               _numpy(ref), atol=1e-5)


REGULARIZERS = {
    "kernel_l2": dict(kernel_regularizer=keras.regularizers.L2(0.01)),
    "bias_l1": dict(bias_regularizer=keras.regularizers.L1(0.02)),
    "activity_l2": dict(activity_regularizer=keras.regularizers.L2(0.003)),
    "all_three": dict(kernel_regularizer=keras.regularizers.L1L2(0.01, 0.02), bias_regularizer="l2",
                      activity_regularizer=keras.regularizers.L1(0.001)),
}


def _as_ganglion(options):
    """The same options with ganglion's regularizer/constraint objects (names pass as they are)."""
    out = {}
    for name, value in options.items():
        if hasattr(value, "get_config"):
            module = gk.regularizers if "regularizer" in name else gk.constraints
            value = getattr(module, type(value).__name__)(**value.get_config())
        out[name] = value
    return out


def _models(options, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(4, 5, 6)).astype("float32")
    y = rng.normal(size=(4, 7, 8)).astype("float32")
    target = rng.normal(size=(4, 5, 6)).astype("float32")
    models = []
    for k, opts in ((keras, options), (gk, _as_ganglion(options))):
        query, value = k.Input((5, 6)), k.Input((7, 8))
        out = k.layers.MultiHeadAttention(num_heads=2, key_dim=3, name="attention", **opts)(query, value)
        models.append(k.Model([query, value], out))
    theirs, mine = models
    weights = [_numpy(w) for w in theirs.get_weights()]
    weights = [w + rng.normal(0, 0.3, w.shape).astype("float32") for w in weights]  # nonzero biases
    theirs.set_weights(weights)
    mine.set_weights(weights)
    return theirs, mine, [x, y], target


@pytest.mark.parametrize("case", REGULARIZERS)
def test_regularizers_join_losses_and_training_loss_as_keras(case):
    theirs, mine, inputs, target = _models(REGULARIZERS[case], seed=6)
    theirs(inputs)
    mine(inputs)
    ref = sorted(float(_numpy(v)) for v in theirs.losses)
    got = sorted(float(_numpy(v)) for v in mine.losses)
    assert len(ref) > 0
    np.testing.assert_allclose(got, ref, rtol=1e-5)
    histories = []
    for model, k in ((theirs, keras), (mine, gk)):
        model.compile(optimizer=k.optimizers.SGD(learning_rate=0.0), loss="mse")
        histories.append(model.fit(inputs, target, batch_size=4, epochs=1, shuffle=False, verbose=0).history["loss"])
    np.testing.assert_allclose(histories[1], histories[0], rtol=1e-5)
    assert histories[1][0] > float(np.mean((_numpy(mine(inputs)) - target) ** 2)) + 1e-4  # the penalties counted


CONSTRAINTS = {
    "max_norm_kernel_non_neg_bias": dict(kernel_constraint=keras.constraints.MaxNorm(0.5, axis=0),
                                         bias_constraint=keras.constraints.NonNeg()),
    "unit_norm_kernel": dict(kernel_constraint=keras.constraints.UnitNorm(axis=0)),
}


@pytest.mark.parametrize("case", CONSTRAINTS)
def test_constraints_apply_after_an_optimizer_step_as_keras(case):
    theirs, mine, inputs, target = _models(CONSTRAINTS[case], seed=7)
    before = mine.get_weights()
    for model, k in ((theirs, keras), (mine, gk)):
        model.compile(optimizer=k.optimizers.SGD(learning_rate=0.1), loss="mse")
        model.fit(inputs, target, batch_size=4, epochs=1, shuffle=False, verbose=0)
    for got, ref in zip(mine.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(got, _numpy(ref), atol=1e-5)
    kernel = mine.get_weights()[0]
    assert np.all(np.sqrt((kernel ** 2).sum(axis=0)) <= 1.0 + 1e-5)
    assert np.abs(np.sqrt((before[0] ** 2).sum(axis=0)) - np.sqrt((kernel ** 2).sum(axis=0))).max() > 0.05


def test_multi_head_attention_errors():
    layer = gk.layers.MultiHeadAttention(num_heads=2, key_dim=3)
    with pytest.raises(ValueError, match="batch, seq, features"):
        layer(np.zeros((2, 6), "float32"), np.zeros((2, 6), "float32"))
    for axes in ((0,), (2,), (1, 1)):
        with pytest.raises(ValueError, match=r"attention_axes=\(.*must name distinct axes"):
            gk.layers.MultiHeadAttention(num_heads=2, key_dim=3, attention_axes=axes)(
                np.zeros((2, 4, 6), "float32"), np.zeros((2, 4, 6), "float32"))
    with pytest.raises(ValueError, match="value and key except the last"):
        gk.layers.MultiHeadAttention(num_heads=2, key_dim=3)(
            np.zeros((2, 4, 6), "float32"), np.zeros((2, 5, 6), "float32"), key=np.zeros((2, 4, 6), "float32"))
