"""Keras' fit(distribute=True), run by test_distributed_keras.py: ``python dist_keras_worker.py EPOCHS DIR``, under
``mpiexec -n 2`` or alone. Trains the model of ``build()`` on ``data()`` with a BackupAndRestore in DIR/backup (kept
after fit) and a CSVLogger whose file names the rank, then writes DIR/rank<r>.npz (weights and history)."""

import os
import sys

import numpy as np

import ganglion
from ganglion import keras

BATCH_SIZE = 15  # 40 rows: batches of 15, 15, 10 rows, split 7 + 8, 7 + 8, 5 + 5 over two ranks


def data():
    rng = np.random.default_rng(0)
    return rng.standard_normal((40, 5)).astype(np.float32), rng.integers(0, 3, 40)


def build():
    ganglion.manual_seed(0)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(3)])
    model.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9), metrics=["accuracy"],
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def run(epochs, folder, distribute, callbacks=()):
    """(weights, history) after fit(epochs) on data()."""
    model = build()
    x, y = data()
    history = model.fit(x, y, batch_size=BATCH_SIZE, epochs=epochs, shuffle=False, verbose=0,
                        distribute=distribute, callbacks=list(callbacks))
    return [p.detach().numpy().copy() for p in model.parameters()], history.history


if __name__ == "__main__":
    import ganglion.distributed as dist

    epochs, folder = int(sys.argv[1]), sys.argv[2]
    dist.init_process_group(timeout=60)
    rank = dist.get_rank()
    callbacks = [keras.callbacks.BackupAndRestore(os.path.join(folder, "backup"), delete_checkpoint=False),
                 keras.callbacks.CSVLogger(os.path.join(folder, f"log_rank{rank}.csv"))]
    weights, history = run(epochs, folder, True, callbacks)
    np.savez(os.path.join(folder, f"rank{rank}.npz"), *weights, loss=np.array(history["loss"]),
             accuracy=np.array(history["accuracy"]))
    dist.destroy_process_group()
