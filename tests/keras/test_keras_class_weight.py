"""class_weight: Keras 3's per-sample weights by class, for arrays, a keras.utils.PyDataset (batch by batch, as Keras'
PyDataset adapter) and generators of (x, y) batches; losses compared with Keras 3 (torch backend) on copied weights."""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import ganglion.keras as gk  # noqa: E402
from ganglion.keras.models.class_weight import class_weights_to_sample_weights  # noqa: E402

CLASS_WEIGHT = {0: 1.0, 1: 4.0, 2: 0.25}  # fixed weights


def _batch(index, sparse):
    rng = np.random.default_rng(index)
    x = rng.standard_normal((6, 4)).astype(np.float32)
    labels = rng.integers(0, 3, 6)
    return x, labels.astype(np.int64) if sparse else np.eye(3, dtype=np.float32)[labels]


def _dataset_class(base):
    class Batches(base):
        def __init__(self, sparse, weighted=False):
            super().__init__()
            self.sparse, self.weighted = sparse, weighted

        def __len__(self):
            return 4

        def __getitem__(self, index):
            x, y = _batch(index, self.sparse)
            return (x, y, np.ones(len(x), np.float32)) if self.weighted else (x, y)

    return Batches


KerasBatches, GanglionBatches = _dataset_class(keras.utils.PyDataset), _dataset_class(gk.utils.PyDataset)


def _models(sparse):
    loss = "sparse_categorical_crossentropy" if sparse else "categorical_crossentropy"
    theirs = keras.Sequential([keras.Input((4,)), keras.layers.Dense(5, activation="tanh"),
                               keras.layers.Dense(3, activation="softmax")])
    mine = gk.Sequential([gk.Input((4,)), gk.layers.Dense(5, activation="tanh"), gk.layers.Dense(3, activation="softmax")])
    mine.set_weights(theirs.get_weights())
    theirs.compile(optimizer=keras.optimizers.SGD(0.1), loss=loss)
    mine.compile(optimizer=gk.optimizers.SGD(0.1), loss=loss)
    return theirs, mine


@pytest.mark.parametrize("sparse", [True, False])
def test_py_dataset_class_weight_matches_keras(sparse):
    theirs, mine = _models(sparse)
    h_theirs = theirs.fit(KerasBatches(sparse), epochs=1, shuffle=False, class_weight=CLASS_WEIGHT, verbose=0)
    h_mine = mine.fit(GanglionBatches(sparse), epochs=1, shuffle=False, class_weight=CLASS_WEIGHT, verbose=0)
    np.testing.assert_allclose(h_mine.history["loss"], h_theirs.history["loss"], rtol=1e-5)
    unweighted = _models(sparse)[1].fit(GanglionBatches(sparse), epochs=1, shuffle=False, verbose=0)
    assert abs(unweighted.history["loss"][0] - h_mine.history["loss"][0]) > 1e-3  # the weights changed the loss
    for a, b in zip(mine.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_generator_class_weight_is_the_batches_sample_weight():
    batches = [_batch(i, True) for i in range(4)]
    _, weighted = _models(True)
    _, explicit = _models(True)
    explicit.set_weights(weighted.get_weights())
    loss_a = weighted.fit((b for b in batches), epochs=1, class_weight=CLASS_WEIGHT, verbose=0).history["loss"]
    loss_b = explicit.fit(((x, y, np.array([CLASS_WEIGHT[c] for c in y], np.float32)) for x, y in batches), epochs=1,
                          verbose=0).history["loss"]
    np.testing.assert_allclose(loss_a, loss_b, rtol=1e-6)


@pytest.mark.parametrize("y, expected", [
    (np.array([0, 1, 2, 3]), [1.0, 4.0, 0.25, 1.0]),                         # a class not in the dict weighs 1
    (np.array([[0.0], [1.0], [2.0], [1.4]]), [1.0, 4.0, 0.25, 4.0]),        # (n, 1) labels rounded
    (np.eye(3, dtype=np.float32)[[2, 0, 1, 1]], [0.25, 1.0, 4.0, 4.0]),     # one-hot: the argmax
])
def test_labels_to_weights_match_keras(y, expected):
    from keras.src.trainers.data_adapters.data_adapter_utils import class_weight_to_sample_weights

    np.testing.assert_allclose(class_weights_to_sample_weights(y, CLASS_WEIGHT), expected)
    np.testing.assert_allclose(class_weight_to_sample_weights(y, CLASS_WEIGHT), expected)


def test_refusals_as_keras():
    _, mine = _models(True)
    with pytest.raises(ValueError, match="class_weight` and `sample_weight"):
        mine.fit(GanglionBatches(True, weighted=True), class_weight=CLASS_WEIGHT, verbose=0)
    x, y = _batch(0, True)
    with pytest.raises(ValueError, match="class_weight` and `sample_weight"):
        mine.fit(x, y, sample_weight=np.ones(len(x)), class_weight=CLASS_WEIGHT, verbose=0)
    with pytest.raises(ValueError, match="targets"):
        mine.fit((b for b in [x]), class_weight=CLASS_WEIGHT, verbose=0)
    with pytest.raises(ValueError, match="dict"):
        mine.fit(GanglionBatches(True), class_weight=[1.0, 2.0], verbose=0)
