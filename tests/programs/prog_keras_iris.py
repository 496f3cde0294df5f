"""Iris with Keras: the lecture notes' first example.

A Sequential network (4 -> Dense 8 relu -> Dense 6 relu -> Dense 3 softmax) learns the three species from the four
measurements: one-hot labels, categorical cross-entropy, Adam, batches of 2, an 80/20 split, accuracy on the 20%.
"""

import numpy as np
import keras
from keras import layers

from ganglion.data import datasets  # the iris table ships with ganglion (no download); plain NumPy arrays


def main():
    keras.utils.set_random_seed(0)
    features, species = datasets.load_iris(return_X_y=True)

    order = np.random.default_rng(0).permutation(len(features))
    n_train = int(0.8 * len(features))
    train, test = order[:n_train], order[n_train:]
    mean, std = features[train].mean(axis=0), features[train].std(axis=0)
    x = ((features - mean) / std).astype("float32")
    y = keras.utils.to_categorical(species, num_classes=3)

    model = keras.Sequential([
        keras.Input(shape=(4,)),
        layers.Dense(8, activation="relu"),
        layers.Dense(6, activation="relu"),
        layers.Dense(3, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.005), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x[train], y[train], batch_size=2, epochs=12, verbose=0)
    test_loss, test_accuracy = model.evaluate(x[test], y[test], verbose=0)
    predicted = model.predict(x[test], verbose=0).argmax(axis=1)

    return {
        "first_epoch_loss": float(history.history["loss"][0]),
        "train_loss": float(history.history["loss"][-1]),
        "train_accuracy": float(history.history["accuracy"][-1]),
        "test_loss": float(test_loss),
        "test_accuracy": float(test_accuracy),
        "predict_accuracy": float(np.mean(predicted == species[test])),
    }


if __name__ == "__main__":
    print(main())
