"""keras.layers.TextVectorization: Keras 3's vocabulary rules and outputs, checked by hand (Keras' own layer needs
TensorFlow, which this environment lacks); the first two cases are the examples from Keras' docstring."""

import math

import numpy as np
import pytest

from ganglion.data.dataloader import DataLoader
from ganglion.keras import layers
from ganglion.keras.layers import TextVectorization
from ganglion.tensor import Tensor


def ids(layer, texts):
    out = layer(texts)
    assert isinstance(out, Tensor)
    return out.numpy()


def test_keras_docstring_adapt_example():
    layer = TextVectorization(max_tokens=5000, output_mode="int", output_sequence_length=4)
    layer.adapt(["foo bar", "bar baz", "baz bada boom"])
    assert layer.get_vocabulary() == ["", "[UNK]", "baz", "bar", "foo", "boom", "bada"]
    out = ids(layer, [["foo qux bar"], ["qux baz"]])
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out, [[4, 1, 3, 0], [1, 2, 0, 0]])


def test_keras_docstring_vocabulary_example():
    layer = TextVectorization(output_sequence_length=4, vocabulary=["earth", "wind", "and", "fire"])
    assert layer.get_vocabulary() == ["", "[UNK]", "earth", "wind", "and", "fire"]
    np.testing.assert_array_equal(ids(layer, [["earth wind and also fire"], ["fire and earth"]]),
                                  [[2, 3, 4, 1], [5, 4, 2, 0]])


def test_vocabulary_by_count_then_token_descending_with_standardization():
    layer = TextVectorization()
    layer.adapt(np.array(["The cat sat.", "the dog, the CAT!", "a bird"]))
    # the: 3, cat: 2, then the count-1 ties in descending order
    assert layer.get_vocabulary() == ["", "[UNK]", "the", "cat", "sat", "dog", "bird", "a"]
    assert layer.get_vocabulary(include_special_tokens=False) == ["the", "cat", "sat", "dog", "bird", "a"]
    assert layer.vocabulary_size() == 8
    # unknown -> 1; padded to the longest row when output_sequence_length is None
    np.testing.assert_array_equal(ids(layer, ["THE cat flew", "bird"]), [[2, 3, 1], [6, 0, 0]])
    np.testing.assert_array_equal(ids(layer, "the cat"), [2, 3])


def test_max_tokens_counts_the_special_tokens():
    layer = TextVectorization(max_tokens=4)
    layer.adapt(["a a a b b c", "d"])
    assert layer.get_vocabulary() == ["", "[UNK]", "a", "b"]
    np.testing.assert_array_equal(ids(layer, ["c b a"]), [[1, 3, 2]])
    multi = TextVectorization(max_tokens=4, output_mode="multi_hot")
    multi.adapt(["a a a b b c", "d"])
    assert multi.get_vocabulary() == ["[UNK]", "a", "b", "d"]  # c and d tie: the larger token first


def test_output_sequence_length_pads_and_truncates():
    layer = TextVectorization(output_sequence_length=3, vocabulary=["a", "b", "c", "d"])
    np.testing.assert_array_equal(ids(layer, ["a b c d", "d", ""]), [[2, 3, 4], [5, 0, 0], [0, 0, 0]])


@pytest.mark.parametrize("mode, expected", [
    ("multi_hot", [[1, 1, 0, 1], [0, 0, 0, 0]]),
    ("count", [[1, 2, 0, 1], [0, 0, 0, 0]]),
])
def test_bag_modes(mode, expected):
    layer = TextVectorization(output_mode=mode)
    layer.adapt(["a b b", "c"])
    assert layer.get_vocabulary() == ["[UNK]", "b", "c", "a"]
    out = ids(layer, ["b z b a", ""])
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, expected)


def test_tf_idf_weights_follow_keras_formula():
    layer = TextVectorization(output_mode="tf_idf")
    layer.adapt(["a b b", "c", "a"])
    assert layer.get_vocabulary() == ["[UNK]", "b", "a", "c"]
    idf = {t: math.log(1 + 3 / (1 + df)) for t, df in {"b": 1, "a": 2, "c": 1}.items()}
    unk = (idf["b"] + idf["a"] + idf["c"]) / 3
    np.testing.assert_allclose(ids(layer, ["b b z a"]), [[unk, 2 * idf["b"], idf["a"], 0]], rtol=1e-6)


def test_tf_idf_with_given_vocabulary_pads_oov_with_mean_and_back_with_zeros():
    layer = TextVectorization(output_mode="tf_idf", max_tokens=5, pad_to_max_tokens=True, vocabulary=["x", "y"],
                              idf_weights=[1.0, 3.0])
    np.testing.assert_allclose(ids(layer, ["x y y q"]), [[2.0, 1.0, 6.0, 0.0, 0.0]])


def test_pad_to_max_tokens_widens_bag_output():
    layer = TextVectorization(max_tokens=6, pad_to_max_tokens=True, output_mode="count")
    layer.adapt(["a b"])
    assert ids(layer, ["a a"]).shape == (1, 6)


def test_ngrams_append_bigrams_after_unigrams():
    layer = TextVectorization(ngrams=2, output_sequence_length=6)
    layer.adapt(["a b c"])
    # all counts are 1: descending byte order puts "b c" between "c" and "b"
    assert layer.get_vocabulary() == ["", "[UNK]", "c", "b c", "b", "a b", "a"]
    np.testing.assert_array_equal(ids(layer, ["a b c d"]), [[6, 4, 2, 1, 5, 3]])
    only_bigrams = TextVectorization(ngrams=(2,), vocabulary=["a b"])
    np.testing.assert_array_equal(ids(only_bigrams, ["a b c", "a"]), [[2, 1], [0, 0]])


@pytest.mark.parametrize("standardize, vocabulary", [
    ("lower", ["", "[UNK]", "hi!", "ÉtÉ", "a,b"]),
    ("strip_punctuation", ["", "[UNK]", "Hi", "ÉTÉ", "AB"]),
    (None, ["", "[UNK]", "Hi!", "ÉTÉ", "A,B"]),
])
def test_standardize_variants(standardize, vocabulary):
    layer = TextVectorization(standardize=standardize)
    layer.adapt(["Hi! A,B ÉTÉ Hi!"])
    # lowering is ASCII-only, as tf.strings.lower
    assert layer.get_vocabulary() == vocabulary


def test_callable_standardize_and_split_get_numpy_strings():
    seen = []

    def standardize(strings):
        seen.append(strings.dtype.kind)
        return np.char.upper(strings)

    layer = TextVectorization(standardize=standardize, split=lambda s: [t.split("-") for t in s])
    layer.adapt(["a-b-b"])
    assert seen == ["U"]
    assert layer.get_vocabulary() == ["", "[UNK]", "B", "A"]
    np.testing.assert_array_equal(ids(layer, ["b-a-c"]), [[2, 3, 1]])


def test_character_split_and_no_split():
    chars = TextVectorization(split="character", standardize=None)
    chars.adapt(["abca"])
    assert chars.get_vocabulary() == ["", "[UNK]", "a", "c", "b"]
    whole = TextVectorization(split=None, vocabulary=["new york", "paris"])
    np.testing.assert_array_equal(ids(whole, ["New York", "rome", ""]), [2, 1, 0])
    np.testing.assert_array_equal(ids(whole, [["paris"], ["new york"]]), [[3], [2]])
    one_hot = TextVectorization(split=None, output_mode="one_hot", vocabulary=["x", "y"])
    np.testing.assert_array_equal(ids(one_hot, ["y", "q"]), [[0, 0, 1], [1, 0, 0]])


def test_bytes_inputs_are_decoded():
    layer = TextVectorization(vocabulary=["été"])
    np.testing.assert_array_equal(ids(layer, np.array(["été x".encode()], dtype=object)), [[2, 1]])


def test_adapt_from_dataloader_of_text_label_pairs_and_generators():
    texts, labels = ["b a", "b", "c c c"], [0, 1, 0]
    layer = TextVectorization()
    layer.adapt(DataLoader(list(zip(texts, labels)), batch_size=2))
    assert layer.get_vocabulary() == ["", "[UNK]", "c", "b", "a"]
    steps = TextVectorization()
    steps.adapt((batch for batch in (["x"], ["y y"])), steps=1)
    assert steps.get_vocabulary() == ["", "[UNK]", "x"]


def test_set_vocabulary_accepts_special_tokens_and_files(tmp_path):
    layer = TextVectorization()
    layer.set_vocabulary(["", "[UNK]", "p", "q"])
    assert layer.get_vocabulary() == ["", "[UNK]", "p", "q"]
    layer.adapt(["z"])  # a vocabulary set afterwards does not forbid adapt (Keras)
    assert layer.get_vocabulary() == ["", "[UNK]", "z"]
    path = tmp_path / "vocab.txt"
    path.write_text("one\ntwo\n", encoding="utf-8")
    from_file = TextVectorization(vocabulary=str(path))
    np.testing.assert_array_equal(ids(from_file, ["two one three"]), [[3, 2, 1]])


def test_config_round_trip():
    layer = TextVectorization(max_tokens=10, standardize="lower", split="character", ngrams=2,
                              output_sequence_length=5, vocabulary=["a", "b"], name="vec")
    config = layer.get_config()
    assert config["vocabulary_size"] == 4 and config["ngrams"] == 2 and config["name"] == "vec"
    clone = TextVectorization.from_config(config)
    assert clone.get_config() == config
    np.testing.assert_array_equal(ids(clone, ["ab"]), ids(layer, ["ab"]))
    adapted = TextVectorization(output_mode="count")
    adapted.adapt(["a"])
    assert adapted.get_config()["vocabulary"] is None  # Keras keeps an adapted vocabulary in the assets


def test_assets_round_trip(tmp_path):
    layer = TextVectorization(output_mode="tf_idf")
    layer.adapt(["a b", "a"])
    store = {}
    layer.save_assets(str(tmp_path))
    layer.save_own_variables(store)
    clone = TextVectorization.from_config(layer.get_config())
    clone.load_assets(str(tmp_path))
    clone.load_own_variables(store)
    assert clone.get_vocabulary() == layer.get_vocabulary()
    np.testing.assert_allclose(ids(clone, ["a b q"]), ids(layer, ["a b q"]), rtol=1e-6)


def test_vectorized_text_trains_a_model():
    from ganglion import keras

    texts = ["good great fine", "bad awful", "great good", "awful bad bad"]
    labels = np.array([1, 0, 1, 0], dtype=np.float32)
    vectorize = TextVectorization(output_mode="multi_hot")
    vectorize.adapt(texts)
    model = keras.Sequential([keras.Input(shape=(vectorize.vocabulary_size(),)), layers.Dense(1, "sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(0.1), loss="binary_crossentropy")
    history = model.fit(vectorize(texts), labels, epochs=20, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


@pytest.mark.parametrize("kwargs, argument", [
    ({"output_mode": "bag"}, "output_mode"),
    ({"standardize": "upper"}, "standardize"),
    ({"split": "comma"}, "split"),
    ({"max_tokens": 1}, "max_tokens"),
    ({"pad_to_max_tokens": True}, "max_tokens"),
    ({"ngrams": "2"}, "ngrams"),
    ({"output_sequence_length": 4, "output_mode": "count"}, "output_sequence_length"),
    ({"output_sequence_length": 2.5}, "output_sequence_length"),
    ({"idf_weights": [1.0], "vocabulary": ["a"]}, "idf_weights"),
    ({"output_mode": "tf_idf", "vocabulary": ["a"]}, "idf_weights"),
    ({"sparse": True}, "sparse"),
])
def test_bad_arguments_name_the_argument(kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        TextVectorization(**kwargs)


def test_bad_vocabularies_and_calls():
    with pytest.raises(ValueError, match="repeated"):
        TextVectorization(vocabulary=["a", "a"])
    with pytest.raises(ValueError, match="mask token"):
        TextVectorization(vocabulary=["a", ""])
    with pytest.raises(ValueError, match="max_tokens"):
        TextVectorization(max_tokens=3, vocabulary=["a", "b"])
    with pytest.raises(ValueError, match="static vocabulary"):
        TextVectorization(vocabulary=["a"]).adapt(["a"])
    with pytest.raises(RuntimeError, match="vocabulary"):
        TextVectorization(output_mode="multi_hot")(["a"])
    with pytest.raises(ValueError, match="last shape dimension must be 1"):
        TextVectorization(vocabulary=["a"])([["a", "b"]])
    with pytest.raises(TypeError, match="strings"):
        TextVectorization(vocabulary=["a"])([1, 2])
