"""VGG-style blocks with Keras: the lecture notes' convolutional example.

Two blocks of Conv2D -> BatchNormalization -> MaxPool2D on 28 x 28 single-channel images, then a small dense head,
trained with ``fit`` at batch 64 for 25 epochs of 4 steps (the last one 48 images) and a validation pass after each.
The images are the bundled 8 x 8 digits (classes 0-4) stretched to 28 x 28 by bilinear interpolation.
"""

import numpy as np
import keras
from keras import layers

from ganglion.data import datasets  # the digits table ships with ganglion (no download); plain NumPy arrays
from digits_images import stretch  # 8 x 8 -> larger, NumPy alone


def vgg_block(filters):
    # momentum 0.9 rather than Keras' 0.99: after only 100 steps 0.99 would leave 37% of the moving statistics at
    # their initial values, and evaluation (which uses them) would measure that rather than the training
    return [layers.Conv2D(filters, 3, padding="same", activation="relu"), layers.BatchNormalization(momentum=0.9),
            layers.MaxPool2D(2)]


def main():
    keras.utils.set_random_seed(0)
    digits = datasets.load_digits(n_class=5)
    order = np.random.default_rng(0).permutation(len(digits.target))[:360]
    images = (stretch(digits.images[order], 28) / 16.0).astype("float32")[..., None]  # (n, 28, 28, 1)
    labels = digits.target[order]
    x_train, y_train, x_test, y_test = images[:300], labels[:300], images[300:], labels[300:]

    model = keras.Sequential([keras.Input(shape=(28, 28, 1)), *vgg_block(8), *vgg_block(16), layers.Flatten(),
                              layers.Dense(32, activation="relu"), layers.Dense(5, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=64, epochs=25, validation_split=0.2, verbose=0)
    test_loss, test_accuracy = model.evaluate(x_test, y_test, batch_size=64, verbose=0)

    return {
        "epochs_run": len(history.history["loss"]),
        "train_loss": float(history.history["loss"][-1]),
        "val_accuracy": float(history.history["val_accuracy"][-1]),
        "test_loss": float(test_loss),
        "test_accuracy": float(test_accuracy),
    }


if __name__ == "__main__":
    print(main())
