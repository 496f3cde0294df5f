"""Models fed raw text: TextVectorization first in a Sequential or functional model, fit / predict on arrays and
lists of strings, .keras save and load keeping the adapted vocabulary (assets) and idf weights (own variables).
Keras' own TextVectorization needs TensorFlow, absent here: the flows follow Keras' text-classification tutorial,
and the rank rule (texts of shape (n,) for Input(shape=(1,))) is compared with Keras 3 on a numeric model."""

import os
import zipfile

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import ganglion.keras as gk  # noqa: E402
from ganglion.keras import layers  # noqa: E402

TEXTS = np.array(["The cat sat.", "a dog ran fast", "the cat ran", "dogs bark loud", "cat naps", "a dog sat!"])
LABELS = np.array([1, 0, 1, 0, 1, 0], "float32")
NEW = ["the cat barks", "unknown words only", "A DOG"]


def _input(kind):
    return {"shape1": [gk.Input(shape=(1,), dtype="string")], "scalar": [gk.Input(shape=(), dtype="string")],
            "none": []}[kind]


@pytest.mark.parametrize("kind", ["shape1", "scalar", "none"])
def test_adapt_fit_save_load_predicts_the_same(kind, tmp_path):
    vectorize = layers.TextVectorization(max_tokens=30, output_sequence_length=6)
    vectorize.adapt(TEXTS)
    model = gk.Sequential(_input(kind) + [vectorize, layers.Embedding(30, 8), layers.GlobalAveragePooling1D(),
                                          layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=gk.optimizers.Adam(0.05), loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(TEXTS, LABELS, epochs=2, batch_size=4, verbose=0)
    assert len(history.history["loss"]) == 2
    before = model.predict(np.array(NEW), verbose=0)
    assert before.shape == (3, 1)
    np.testing.assert_allclose(model.predict(NEW, verbose=0), before)  # a list of str is the same data
    np.testing.assert_allclose(model.predict(np.array(NEW, dtype=object)[:, None], verbose=0), before, rtol=1e-6)
    path = str(tmp_path / "text.keras")
    model.save(path)
    assert "assets/text_vectorization/vocabulary.txt" in zipfile.ZipFile(path).namelist()
    loaded = gk.models.load_model(path)
    assert loaded.layers[0].get_vocabulary() == vectorize.get_vocabulary()
    np.testing.assert_allclose(loaded.predict(NEW, verbose=0), before, rtol=1e-6)
    loaded.fit(TEXTS, LABELS, epochs=1, verbose=0)  # the optimizer state came back too


def test_functional_tf_idf_model_keeps_its_idf_weights(tmp_path):
    vectorize = layers.TextVectorization(output_mode="tf_idf")
    vectorize.adapt(TEXTS)
    inputs = gk.Input(shape=(), dtype="string")
    outputs = layers.Dense(2, activation="softmax")(vectorize(inputs))
    model = gk.Model(inputs, outputs)
    assert model.outputs[0].shape == (None, 2)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.fit(TEXTS, LABELS.astype(np.int64), epochs=2, verbose=0)
    path = str(tmp_path / "tfidf.keras")
    model.save(path)
    assert "layer_variables.safetensors" in zipfile.ZipFile(path).namelist()
    loaded = gk.models.load_model(path)
    np.testing.assert_allclose(loaded.layers[1]._idf, vectorize._idf, rtol=1e-6)
    np.testing.assert_allclose(loaded.predict(NEW, verbose=0), model.predict(NEW, verbose=0), rtol=1e-6)


def test_symbolic_shapes_follow_the_layer():
    inputs = gk.Input(shape=(1,), dtype="string")
    assert inputs.dtype == np.dtype(object)
    assert layers.TextVectorization(vocabulary=["a"])(inputs).shape == (None, None)  # length follows the text
    assert layers.TextVectorization(vocabulary=["a"], output_sequence_length=4)(inputs).shape == (None, 4)
    assert layers.TextVectorization(vocabulary=["a", "b"], output_mode="count")(inputs).shape == (None, 3)


def test_generator_of_text_batches_trains():
    vectorize = layers.TextVectorization(output_mode="multi_hot")
    vectorize.adapt(TEXTS)
    model = gk.Sequential([vectorize, layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=gk.optimizers.Adam(0.1), loss="binary_crossentropy")
    batches = [(list(TEXTS[i:i + 2]), LABELS[i:i + 2]) for i in range(0, 6, 2)]
    losses = [model.fit(iter(batches), epochs=1, verbose=0).history["loss"][0] for _ in range(15)]
    assert losses[-1] < losses[0]


def test_layers_that_compute_on_numbers_refuse_text_by_name():
    with pytest.raises(TypeError, match=r"'dense_text' \(of type Dense\) cannot take strings.*shape \(6,\)"):
        layers.Dense(2, name="dense_text")(TEXTS)
    model = gk.Sequential([layers.Embedding(10, 2, name="embedding_text")])
    with pytest.raises(TypeError, match="'embedding_text'.*TextVectorization"):
        model.predict(TEXTS, verbose=0)


def test_a_foreign_asset_member_is_refused(tmp_path):
    vectorize = layers.TextVectorization(vocabulary=["a", "b"])
    model = gk.Sequential([gk.Input(shape=(1,), dtype="string"), vectorize, layers.Embedding(4, 2)])
    path = str(tmp_path / "m.keras")
    model.save(path)
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("assets/no_such_layer/vocabulary.txt", "x")
    with pytest.raises(ValueError, match="no_such_layer.*belongs to no layer"):
        gk.models.load_model(path)


def test_rank_of_a_trailing_one_is_adjusted_as_in_keras():
    keras = pytest.importorskip("keras")
    x = np.linspace(-1, 1, 5).astype(np.float32)
    theirs = keras.Model(inp := keras.Input(shape=(1,)), keras.layers.Dense(2)(inp))
    mine = gk.Model(gin := gk.Input(shape=(1,)), layers.Dense(2)(gin))
    mine.set_weights(theirs.get_weights())
    np.testing.assert_allclose(mine.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=1e-6)
    np.testing.assert_allclose(mine.predict(x[:, None, None], verbose=0), theirs.predict(x[:, None, None], verbose=0),
                               rtol=1e-6)
