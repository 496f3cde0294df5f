"""Keras training callbacks: EarlyStopping, ModelCheckpoint, ReduceLROnPlateau and CSVLogger in one fit.

A small MLP over-fits a noisy regression with few samples, so the validation loss turns up and training stops early.
``EarlyStopping(restore_best_weights=True)`` must leave the model at its best epoch, ``ModelCheckpoint(
save_best_only=True)`` must have saved that same model into a temporary directory (reloaded with
``keras.models.load_model``), ``ReduceLROnPlateau`` must have lowered the learning rate along the way, and
``CSVLogger`` must have written one row per epoch run, matching the History.
"""

import csv
import os
import tempfile

import numpy as np
import keras
from keras import layers


def make_data(n, rng):
    x = rng.normal(size=(n, 4)).astype("float32")
    y = (x[:, :1] - 0.5 * x[:, 1:2] + 0.8 * rng.normal(size=(n, 1))).astype("float32")
    return x, y


def main():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x_train, y_train = make_data(48, rng)
    x_val, y_val = make_data(64, rng)

    model = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(64, activation="relu"),
                              layers.Dense(64, activation="relu"), layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse", metrics=["mae"])

    with tempfile.TemporaryDirectory() as folder:
        best_path = os.path.join(folder, "best.keras")
        log_path = os.path.join(folder, "training.csv")
        early = keras.callbacks.EarlyStopping(monitor="val_loss", patience=6, restore_best_weights=True)
        callbacks = [
            early,
            keras.callbacks.ModelCheckpoint(best_path, monitor="val_loss", save_best_only=True),
            keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2, min_lr=1e-4),
            keras.callbacks.CSVLogger(log_path),
        ]
        history = model.fit(x_train, y_train, validation_data=(x_val, y_val), batch_size=16, epochs=80,
                            callbacks=callbacks, verbose=0)
        files = sorted(os.listdir(folder))
        with open(log_path, newline="") as f:
            rows = list(csv.DictReader(f))
        restored_loss, _ = model.evaluate(x_val, y_val, verbose=0)
        reloaded = keras.models.load_model(best_path)
        reloaded_loss, _ = reloaded.evaluate(x_val, y_val, verbose=0)
        predictions_gap = float(np.abs(reloaded.predict(x_val, verbose=0) - model.predict(x_val, verbose=0)).max())

    val_losses = history.history["val_loss"]
    epochs_run = len(val_losses)
    return {
        "files": files,
        "epochs_run": epochs_run,
        "stopped_early": epochs_run < 80,
        "stopped_epoch_matches": early.stopped_epoch == epochs_run - 1,
        "best_epoch_is_patience_before_end": int(np.argmin(val_losses)) == epochs_run - 1 - 6,
        "best_val_loss": float(min(val_losses)),
        "restored_vs_best": abs(float(restored_loss) - float(min(val_losses))),
        "reloaded_vs_best": abs(float(reloaded_loss) - float(min(val_losses))),
        "reloaded_vs_restored_predictions": predictions_gap,
        "csv_rows_match_epochs": len(rows) == epochs_run,
        "csv_columns": sorted(rows[0]),
        "csv_vs_history_val_loss": float(np.abs(np.array([float(r["val_loss"]) for r in rows]) - val_losses).max()),
        "first_lr": float(history.history["learning_rate"][0]),
        "lr_was_reduced": float(history.history["learning_rate"][-1]) < 0.01,
        "history_keys": sorted(history.history),
    }


if __name__ == "__main__":
    print(main())
