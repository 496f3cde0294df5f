"""Unknown names of optimizers, losses, metrics, activations, initializers, regularizers and schedules: the error
lists the accepted names and suggests the closest one (``difflib``), through ``get`` and through ``compile``."""

import pytest

from ganglion import keras as gk


@pytest.mark.parametrize("get, name, kind, suggestion", [
    (gk.optimizers.get, "adamm", "optimizer", "adam"),
    (gk.optimizers.get, "rmsporp", "optimizer", "rmsprop"),
    (gk.losses.get, "categorical_crossentropi", "loss", "categorical_crossentropy"),
    (gk.metrics.get, "acuracy", "metric", "accuracy"),
    (gk.activations.get, "rel", "activation", "relu"),
    (gk.activations.get, "Sigmod", "activation", "sigmoid"),
    (gk.initializers.get, "glorot_unifrom", "initializer", "glorot_uniform"),
])
def test_a_close_name_is_suggested_after_the_accepted_names(get, name, kind, suggestion):
    with pytest.raises(ValueError) as info:
        get(name)
    message = str(info.value)
    assert message.startswith(f"unknown {kind} {name!r}; accepted names are: ")
    assert f", {suggestion}," in message or f" {suggestion}, " in message  # listed
    assert message.endswith(f"Did you mean {suggestion!r}?")


def test_no_suggestion_when_nothing_is_close():
    with pytest.raises(ValueError) as info:
        gk.optimizers.get("zzzzqq")
    assert "Did you mean" not in str(info.value) and "sgd" in str(info.value)


def test_compile_reports_the_suggestion():
    model = gk.Sequential([gk.Input((3,)), gk.layers.Dense(2)])
    with pytest.raises(ValueError, match="Did you mean 'mse'"):
        model.compile(optimizer="sgd", loss="mse_")
    with pytest.raises(ValueError, match="Did you mean 'sgd'"):
        model.compile(optimizer="sdg", loss="mse")


def test_unknown_schedule_class_suggests_the_closest():
    with pytest.raises(ValueError, match="unknown learning rate schedule 'ExponentialDecai'.*Did you mean "
                                         "'ExponentialDecay'"):
        gk.optimizers.schedules.deserialize({"class_name": "ExponentialDecai", "config": {}})


def test_activations_get_none_is_linear_as_in_keras():
    import os

    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    assert keras.activations.get(None) is keras.activations.linear
    assert gk.activations.get(None) is gk.activations.linear
