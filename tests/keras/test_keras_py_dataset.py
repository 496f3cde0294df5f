"""keras.utils.PyDataset read by fit / evaluate / predict batch by batch: parity with Keras 3 (torch backend) for the
same dataset class and copied weights, the epoch hooks called as often as Keras calls them, steps_per_epoch over a
dataset with a huge __len__ staying bounded, thread workers, and Keras' errors."""

import os
import tracemalloc

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import ganglion.keras as gk  # noqa: E402


def _dataset_class(base):
    """One PyDataset written once, subclassing Keras' or ganglion's base: fixed batches from the index, counting
    the epoch hooks and the batches read."""

    class Batches(base):
        def __init__(self, n_batches=5, batch=4, weighted=False, **kwargs):
            super().__init__(**kwargs)
            self.n_batches, self.batch, self.weighted = n_batches, batch, weighted
            self.begins = self.ends = self.reads = 0

        def __len__(self):
            return self.n_batches

        def __getitem__(self, index):
            self.reads += 1
            rng = np.random.default_rng(index % 1000)
            x = rng.standard_normal((self.batch, 3)).astype(np.float32)
            y = (x @ np.array([[1.0], [-2.0], [0.5]], np.float32) + 0.3).astype(np.float32)
            if self.weighted:
                return x, y, rng.uniform(0.5, 2.0, self.batch).astype(np.float32)
            return x, y

        def on_epoch_begin(self):
            self.begins += 1

        def on_epoch_end(self):
            self.ends += 1

    return Batches


KerasBatches, GanglionBatches = _dataset_class(keras.utils.PyDataset), _dataset_class(gk.utils.PyDataset)


def _models():
    theirs = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="tanh"), keras.layers.Dense(1)])
    mine = gk.Sequential([gk.Input((3,)), gk.layers.Dense(4, activation="tanh"), gk.layers.Dense(1)])
    mine.set_weights(theirs.get_weights())
    theirs.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    mine.compile(optimizer=gk.optimizers.SGD(0.05), loss="mse")
    return theirs, mine


def test_sequence_is_an_alias():
    assert gk.utils.Sequence is gk.utils.PyDataset


@pytest.mark.parametrize("weighted", [False, True])
def test_fit_evaluate_predict_match_keras(weighted):
    theirs, mine = _models()
    kt, kv = KerasBatches(weighted=weighted), KerasBatches(n_batches=2, batch=3)
    gt, gv = GanglionBatches(weighted=weighted), GanglionBatches(n_batches=2, batch=3)
    h_theirs = theirs.fit(kt, epochs=3, validation_data=kv, shuffle=False, verbose=0).history
    h_mine = mine.fit(gt, epochs=3, validation_data=gv, shuffle=False, verbose=0).history
    for key in ("loss", "val_loss"):
        np.testing.assert_allclose(h_mine[key], h_theirs[key], rtol=1e-5, atol=1e-6)
    for a, b in zip(mine.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    # the same hooks, as often: Keras' reset before the first epoch, then one per epoch and per validation
    assert (gt.ends, gv.ends, gv.begins) == (kt.ends, kv.ends, kv.begins) == (4, 6, 3)
    assert gt.reads == 15  # each batch once per epoch (Keras reads one more to build its metrics)
    np.testing.assert_allclose(mine.evaluate(gv, verbose=0), theirs.evaluate(kv, verbose=0), rtol=1e-5)
    assert gv.ends == kv.ends == 8
    np.testing.assert_allclose(mine.predict(gv, verbose=0), theirs.predict(kv, verbose=0), rtol=1e-5, atol=1e-6)


def test_steps_per_epoch_carries_on_across_epochs_like_keras():
    theirs, mine = _models()
    kt, gt = KerasBatches(), GanglionBatches()
    h_theirs = theirs.fit(kt, epochs=3, steps_per_epoch=2, shuffle=False, verbose=0).history
    h_mine = mine.fit(gt, epochs=3, steps_per_epoch=2, shuffle=False, verbose=0).history
    np.testing.assert_allclose(h_mine["loss"], h_theirs["loss"], rtol=1e-5, atol=1e-6)
    assert gt.reads == 5 and gt.ends == kt.ends == 4  # the third epoch runs out after one batch, as in Keras


def test_huge_len_with_steps_per_epoch_reads_only_what_it_needs():
    mine = _models()[1]
    data = GanglionBatches(n_batches=10**12, batch=2)
    tracemalloc.start()
    try:
        mine.fit(data, epochs=2, steps_per_epoch=3, verbose=0)  # shuffle=True: no list of 10**12 indices
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert data.reads == 6
    assert peak < 20 * 2**20
    assert mine.evaluate(data, steps=2, verbose=0) > 0 and data.reads == 8


def test_shuffle_reorders_batches_and_reads_each_once():
    seen = []

    class Recording(GanglionBatches):
        def __getitem__(self, index):
            seen.append(index)
            return super().__getitem__(index)

    mine = _models()[1]
    mine.fit(Recording(n_batches=40), epochs=1, verbose=0)
    assert sorted(seen) == list(range(40)) and seen != list(range(40))


def test_thread_workers_give_the_same_training():
    _, a = _models()
    b = gk.Sequential([gk.Input((3,)), gk.layers.Dense(4, activation="tanh"), gk.layers.Dense(1)])
    b.set_weights(a.get_weights())
    b.compile(optimizer=gk.optimizers.SGD(0.05), loss="mse")
    la = a.fit(GanglionBatches(), epochs=2, shuffle=False, verbose=0).history["loss"]
    threaded = GanglionBatches(workers=3, use_multiprocessing=True, max_queue_size=2)
    lb = b.fit(threaded, epochs=2, shuffle=False, verbose=0).history["loss"]
    np.testing.assert_allclose(lb, la, rtol=1e-6)
    assert threaded.reads == 10 and threaded.ends == 3


def test_batch_size_is_ignored_and_targets_are_refused_as_in_keras():
    mine = _models()[1]
    data = GanglionBatches()
    mine.fit(data, batch_size=7, epochs=1, verbose=0)  # Keras 3 ignores batch_size for a PyDataset
    assert data.reads == 5
    with pytest.raises(ValueError, match="`y` should not be passed"):
        mine.fit(data, np.zeros((20, 1)), verbose=0)


def test_bad_batch_and_missing_super_init():
    class Bad(gk.utils.PyDataset):
        def __init__(self):  # forgets super().__init__()
            self.size = 1

        def __len__(self):
            return 1

        def __getitem__(self, index):
            return 1.0

    mine = _models()[1]
    with pytest.warns(UserWarning, match="super\\(\\).__init__"), pytest.raises(ValueError, match="must return a tuple"):
        mine.fit(Bad(), verbose=0)


def test_predict_calls_on_epoch_end_once_like_keras():
    import ganglion.keras as gk

    class Counting(gk.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.ends = 0

        def __len__(self):
            return 3

        def __getitem__(self, idx):
            return np.full((2, 4), float(idx), dtype="float32")

        def on_epoch_end(self):
            self.ends += 1

    model = gk.Sequential([gk.Input((4,)), gk.layers.Dense(1)])
    data = Counting()
    assert model.predict(data, verbose=0).shape == (6, 1)
    assert data.ends == 1
