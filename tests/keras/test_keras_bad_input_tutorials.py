"""Bad input met in the Keras tutorials: a Sequence-like object given to fit (refused before NumPy materializes it)
and a softmax/sigmoid output given to a from_logits=True loss (warned once)."""

import time
import tracemalloc
import warnings

import numpy as np
import pytest

import ganglion.keras as keras


class SequenceLike:
    """__len__ and __getitem__ only (not a Dataset, no __iter__), far too long to materialize."""

    def __len__(self):
        return 10**9

    def __getitem__(self, i):
        return np.zeros((32, 4), "float32"), np.zeros((32, 3), "float32")


def _model(activation=None, units=3):
    model = keras.Sequential([keras.layers.Input((4,)), keras.layers.Dense(units, activation=activation)])
    return model


@pytest.mark.parametrize("call", ["fit", "evaluate", "predict", "fit_y"])
def test_sequence_like_raises_keras_error_without_materializing(call):
    model = _model()
    model.compile(optimizer="sgd", loss="mse")
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(ValueError, match="Unrecognized data type") as info:
            if call == "fit_y":
                model.fit(np.zeros((8, 4), "float32"), SequenceLike(), verbose=0)
            else:
                getattr(model, call)(SequenceLike(), verbose=0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000
    assert time.perf_counter() - start < 5
    assert "SequenceLike" in str(info.value)
    assert ("y=" if call == "fit_y" else "x=") in str(info.value)


def test_arrays_and_nested_lists_still_train():
    model = _model()
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit([[0.0, 1.0, 2.0, 3.0]] * 8, np.zeros((8, 3), "float32"), epochs=1, verbose=0)
    assert len(history.history["loss"]) == 1


def _fit_recording(model, loss, y, epochs=2):
    model.compile(optimizer="sgd", loss=loss)
    x = np.random.default_rng(0).random((16, 4)).astype("float32")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(x, y, epochs=epochs, verbose=0)
    return [w for w in caught if "from_logits" in str(w.message)]


@pytest.mark.parametrize("loss, activation, units, y, kind", [
    (keras.losses.SparseCategoricalCrossentropy(from_logits=True), "softmax", 3, np.arange(16) % 3, "softmax"),
    (keras.losses.CategoricalCrossentropy(from_logits=True), "softmax", 3, np.eye(3, dtype="float32")[np.arange(16) % 3],
     "softmax"),
    (keras.losses.BinaryCrossentropy(from_logits=True), "sigmoid", 1, (np.arange(16) % 2).astype("float32")[:, None],
     "sigmoid"),
])
def test_probabilities_to_from_logits_loss_warn_once(loss, activation, units, y, kind):
    caught = _fit_recording(_model(activation, units), loss, y)
    assert len(caught) == 1
    message = str(caught[0].message)
    assert caught[0].category is UserWarning
    assert type(loss).__name__ in message and kind in message and "from_logits=True" in message
    assert not _fit_recording(_model(activation, units), loss, y)  # once per loss object


def test_layer_name_in_warning_when_known():
    loss = keras.losses.CategoricalCrossentropy(from_logits=True)
    loss.output_layer = "dense_2"
    probs = keras.activations.softmax(_model()(np.ones((2, 4), "float32")))
    with pytest.warns(UserWarning, match="layer 'dense_2'"):
        loss(np.eye(3, dtype="float32")[:2], probs)


@pytest.mark.parametrize("loss, activation, units, y", [
    (keras.losses.SparseCategoricalCrossentropy(from_logits=True), None, 3, np.arange(16) % 3),
    (keras.losses.SparseCategoricalCrossentropy(), "softmax", 3, np.arange(16) % 3),
    (keras.losses.BinaryCrossentropy(from_logits=True), "softmax", 1, np.zeros((16, 1), "float32")),
])
def test_no_warning_for_logits_or_matching_loss(loss, activation, units, y):
    assert not _fit_recording(_model(activation, units), loss, y, epochs=1)


def test_compile_names_the_output_layer_in_the_from_logits_warning():
    import ganglion.keras as k

    model = k.Sequential([k.Input((4,)), k.layers.Dense(3, activation="softmax", name="probs")])
    model.compile(loss=k.losses.CategoricalCrossentropy(from_logits=True), optimizer="sgd")
    with pytest.warns(UserWarning, match="softmax \\(layer 'probs'\\)"):
        model.fit(np.ones((4, 4), "float32"), np.eye(3)[[0, 1, 2, 0]].astype("float32"), verbose=0)
