"""Keras Bidirectional(LSTM) on sequences of any length, one step included.

A model over (time, 4) inputs of unknown length: Bidirectional(LSTM(6)) -> Dense(2). Its weights are set from a
seeded NumPy generator, so every prediction is fixed by the program alone (and must match across frameworks).
``predict`` runs on one sample of length 1, then on a longer batch, then on the length-1 sample again (which must give
what it gave the first time) and on a batch of length-1 samples (which must match them one by one). A short fit on
batches of lengths 1..9 follows.
"""

import numpy as np
import keras
from keras import layers


def main():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    inputs = keras.Input(shape=(None, 4))
    outputs = layers.Dense(2)(layers.Bidirectional(layers.LSTM(6))(inputs))
    model = keras.Model(inputs, outputs)
    model.set_weights([rng.normal(0.0, 0.4, np.shape(w)).astype("float32") for w in model.get_weights()])

    one_step = rng.normal(size=(1, 1, 4)).astype("float32")
    longer = rng.normal(size=(3, 7, 4)).astype("float32")
    first = model.predict(one_step, verbose=0)
    long_prediction = model.predict(longer, verbose=0)
    again = model.predict(one_step, verbose=0)
    steps = rng.normal(size=(5, 1, 4)).astype("float32")
    batch_of_ones = model.predict(steps, verbose=0)
    singly = np.concatenate([model.predict(steps[i:i + 1], verbose=0) for i in range(5)])

    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    losses = []
    for length in range(1, 10):
        x = rng.normal(size=(8, length, 4)).astype("float32")
        y = np.stack([x[:, :, 0].mean(axis=1), x[:, -1, 1]], axis=1)  # a mean over time and the last step
        losses.append(float(model.train_on_batch(x, y)))

    return {
        "length_one_prediction": first.ravel().tolist(),
        "longer_prediction": long_prediction.ravel().tolist(),
        "length_one_repeat_vs_first": float(np.abs(again - first).max()),
        "batch_of_ones_vs_singly": float(np.abs(batch_of_ones - singly).max()),
        "train_losses": losses,
        "prediction_after_training": model.predict(one_step, verbose=0).ravel().tolist(),
        "all_losses_finite": bool(np.all(np.isfinite(losses))),
    }


if __name__ == "__main__":
    print(main())
