"""Callbacks that write files: ModelCheckpoint (formatted names, save_best_only, weights only), CSVLogger (rows,
append) and BackupAndRestore (a crash in the middle of fit, then a new fit that resumes: same weights and optimizer
state as an uninterrupted run)."""

import csv
import os

import numpy as np
import pytest

import ganglion.keras as keras
from ganglion.keras import callbacks, layers, optimizers


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(32, 4)).astype(np.float32), rng.integers(0, 3, 32)


def make_model(seed=1, lr=0.01):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([layers.Dense(8, activation="relu", input_shape=(4,)),
                              layers.Dense(3, activation="softmax")])
    model.compile(optimizer=optimizers.Adam(lr), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


class CrashAt(callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise RuntimeError(f"simulated crash at epoch {epoch}")


# ------------------------------------------------------------------------------------------------ ModelCheckpoint
def test_checkpoint_names_every_epoch_from_the_logs(tmp_path, data):
    x, y = data
    pattern = str(tmp_path / "ckpt" / "w-{epoch:02d}-{val_loss:.2f}.weights.h5")
    model = make_model()
    seen = []
    record = callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(logs["val_loss"]))
    model.fit(x, y, epochs=3, batch_size=8, validation_split=0.25, verbose=0,
              callbacks=[record, callbacks.ModelCheckpoint(pattern, save_weights_only=True)])
    expected = {f"w-{e + 1:02d}-{v:.2f}.weights.h5" for e, v in enumerate(seen)}
    assert set(os.listdir(tmp_path / "ckpt")) == expected
    final = model.get_weights()
    model.set_weights([np.zeros_like(w) for w in final])
    model.load_weights(str(tmp_path / "ckpt" / sorted(expected)[-1]))
    _same(model.get_weights(), final)


def test_checkpoint_save_best_only_keeps_the_best_epoch(tmp_path, data):
    x, y = data
    path = str(tmp_path / "best.weights.h5")
    model = make_model(lr=0.05)
    history_weights = []
    record = callbacks.LambdaCallback(on_epoch_end=lambda e, logs: history_weights.append(
        (logs["val_accuracy"], model.get_weights())))
    checkpoint = callbacks.ModelCheckpoint(path, monitor="val_accuracy", save_best_only=True, save_weights_only=True)
    model.fit(x, y, epochs=6, batch_size=8, validation_split=0.25, verbose=0, callbacks=[record, checkpoint])
    best = max(range(len(history_weights)), key=lambda i: (history_weights[i][0], -i))  # first epoch of the maximum
    model.load_weights(path)
    _same(model.get_weights(), history_weights[best][1])
    assert checkpoint.best == history_weights[best][0]


def test_checkpoint_every_n_batches_and_whole_model(tmp_path, data):
    x, y = data
    pattern = str(tmp_path / "m-{epoch}-{batch}.keras")
    model = make_model()
    model.fit(x, y, epochs=1, batch_size=8, verbose=0, callbacks=[callbacks.ModelCheckpoint(pattern, save_freq=2)])
    assert sorted(os.listdir(tmp_path)) == ["m-1-2.keras", "m-1-4.keras"]
    loaded = keras.models.load_model(str(tmp_path / "m-1-4.keras"))
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


def test_checkpoint_argument_errors(tmp_path):
    with pytest.raises(ValueError, match=r"must end in `.weights.h5`"):
        callbacks.ModelCheckpoint(str(tmp_path / "w.keras"), save_weights_only=True)
    with pytest.raises(ValueError, match=r"must end in `.keras`"):
        callbacks.ModelCheckpoint(str(tmp_path / "model.h6"))
    with pytest.raises(ValueError, match="save_freq must be 'epoch' or a positive int"):
        callbacks.ModelCheckpoint(str(tmp_path / "m.keras"), save_freq="batch")
    checkpoint = callbacks.ModelCheckpoint(str(tmp_path / "m-{nope}.keras"))
    with pytest.raises(KeyError, match="no value for 'nope'"):
        checkpoint._file_path(0, None, {"loss": 1.0})


# ------------------------------------------------------------------------------------------------------ CSVLogger
def test_csv_logger_rows_and_append(tmp_path, data):
    x, y = data
    path = str(tmp_path / "logs" / "train.csv")
    model = make_model()
    history = model.fit(x, y, epochs=2, batch_size=8, validation_split=0.25, verbose=0,
                        callbacks=[callbacks.CSVLogger(path)])
    with open(path) as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["epoch", "accuracy", "loss", "val_accuracy", "val_loss"]
    assert [int(r["epoch"]) for r in rows] == [0, 1]
    for key in ("loss", "val_accuracy"):
        np.testing.assert_allclose([float(r[key]) for r in rows], history.history[key], rtol=1e-12)
    model.fit(x, y, epochs=3, initial_epoch=2, batch_size=8, validation_split=0.25, verbose=0,
              callbacks=[callbacks.CSVLogger(path, append=True)])
    with open(path) as f:
        lines = f.read().splitlines()
    assert len(lines) == 4 and lines[0].startswith("epoch,") and lines[3].startswith("2,")


def test_csv_logger_separator_and_missing_values(tmp_path):
    logger = callbacks.CSVLogger(str(tmp_path / "t.csv"), separator=";")
    logger.set_model(None)
    logger.on_train_begin({})
    logger.on_epoch_end(0, {"loss": 0.5, "val_loss": 0.7})
    logger.on_epoch_end(1, {"loss": 0.4})
    logger.on_train_end({})
    assert (tmp_path / "t.csv").read_text().splitlines() == ["epoch;loss;val_loss", "0;0.5;0.7", "1;0.4;NA"]


# ----------------------------------------------------------------------------------------------- BackupAndRestore
def _same(a_weights, b_weights):
    for a, b in zip(a_weights, b_weights):
        np.testing.assert_array_equal(a, b)


def test_backup_restores_weights_optimizer_and_epoch(tmp_path, data):
    x, y = data
    reference = make_model()
    reference.fit(x, y, epochs=5, batch_size=8, shuffle=False, verbose=0)
    backup_dir = str(tmp_path / "backup")
    crashed = make_model()
    with pytest.raises(RuntimeError, match="simulated crash at epoch 3"):
        crashed.fit(x, y, epochs=5, batch_size=8, shuffle=False, verbose=0,
                    callbacks=[callbacks.BackupAndRestore(backup_dir), CrashAt(3)])
    assert os.listdir(backup_dir) == ["latest.backup.safetensors"]
    # a new process would build the model again: other layer names, fresh weights, an unbuilt optimizer
    resumed = make_model(seed=5)
    restore = callbacks.BackupAndRestore(backup_dir)
    restore.set_model(resumed)
    restore.on_train_begin({})
    assert resumed._initial_epoch == 3 and resumed.optimizer.iterations == 3 * 4
    _same(resumed.get_weights(), crashed.get_weights())
    # continuing from epoch 3 reproduces the uninterrupted run exactly (weights, Adam moments, step count)
    resumed.fit(x, y, epochs=5, initial_epoch=3, batch_size=8, shuffle=False, verbose=0,
                callbacks=[callbacks.BackupAndRestore(backup_dir)])
    _same(resumed.get_weights(), reference.get_weights())
    assert resumed.optimizer.iterations == reference.optimizer.iterations
    assert not os.path.exists(backup_dir)  # a completed fit deletes the backup


def test_fit_resumes_at_the_first_unfinished_epoch(tmp_path, data):
    """fit reads model._initial_epoch after on_train_begin (Keras' hook for BackupAndRestore)."""
    x, y = data
    reference = make_model()
    reference.fit(x, y, epochs=5, batch_size=8, shuffle=False, verbose=0)
    backup_dir = str(tmp_path / "backup")
    crashed = make_model()
    with pytest.raises(RuntimeError):
        crashed.fit(x, y, epochs=5, batch_size=8, shuffle=False, verbose=0,
                    callbacks=[callbacks.BackupAndRestore(backup_dir), CrashAt(3)])
    resumed = make_model(seed=5)
    history = resumed.fit(x, y, epochs=5, batch_size=8, shuffle=False, verbose=0,
                          callbacks=[callbacks.BackupAndRestore(backup_dir)])
    assert history.epoch == [3, 4]
    _same(resumed.get_weights(), reference.get_weights())


def test_backup_every_n_batches_and_a_backup_that_does_not_fit(tmp_path, data):
    x, y = data
    backup_dir = str(tmp_path / "b")
    model = make_model()
    with pytest.raises(RuntimeError):
        model.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0,
                  callbacks=[callbacks.BackupAndRestore(backup_dir, save_freq=3, delete_checkpoint=False),
                             CrashAt(1)])
    restore = callbacks.BackupAndRestore(backup_dir)
    other = keras.Sequential([layers.Dense(5, input_shape=(4,))])
    other.compile(optimizer="sgd", loss="mse")
    restore.set_model(other)
    with pytest.raises(ValueError, match="does not fit model"):
        restore.on_train_begin({})
    with pytest.raises(ValueError, match="save_freq must be 'epoch' or a positive int"):
        callbacks.BackupAndRestore(backup_dir, save_freq=0)
    with pytest.raises(ValueError, match="backup_dir must be a folder path"):
        callbacks.BackupAndRestore("")
