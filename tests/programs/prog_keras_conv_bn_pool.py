"""Conv -> BatchNormalization -> MaxPooling with Keras, channels-last, under changing batch sizes.

Three kinds of noisy 20 x 20 RGB texture (horizontal stripes, vertical stripes, a checkerboard) are told apart by a
two-block convolutional network. Training runs a few hundred steps: ``fit`` with a different batch size each round
(so every round ends on a ragged batch) and ``train_on_batch`` on single images; then ``predict`` with the whole
set, one image at a time and odd batch sizes, which must all agree; then ``fit`` again, and the predictions returned
before it must still hold the values they had.
"""

import numpy as np
import keras
from keras import layers


def textures(n, rng):
    """n images (n, 20, 20, 3) and their labels: 0 horizontal stripes, 1 vertical stripes, 2 checkerboard."""
    labels = rng.integers(0, 3, n)
    rows, cols = np.meshgrid(np.arange(20), np.arange(20), indexing="ij")
    period = rng.integers(2, 5, n)[:, None, None]
    phase = rng.integers(0, 4, n)[:, None, None]
    horizontal = (rows + phase) // period % 2
    vertical = (cols + phase) // period % 2
    checker = ((rows + phase) // period + (cols + phase) // period) % 2
    pattern = np.choose(labels[:, None, None], [horizontal, vertical, checker]).astype(np.float32)
    colour = rng.uniform(0.5, 1.5, (n, 1, 1, 3))
    noise = rng.normal(0.0, 0.4, (n, 20, 20, 3))
    return (pattern[..., None] * colour + noise).astype("float32"), labels


def block(filters):
    return [layers.Conv2D(filters, 3, padding="same", activation="relu"), layers.BatchNormalization(momentum=0.9),
            layers.MaxPooling2D(2)]


def main():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x_train, y_train = textures(300, rng)
    x_test, y_test = textures(101, rng)

    model = keras.Sequential([keras.Input(shape=(20, 20, 3)), *block(16), *block(12), layers.Flatten(),
                              layers.Dense(3, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.003), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])

    steps = 0
    for batch_size in (32, 7, 19, 64, 5, 50):
        model.fit(x_train, y_train, batch_size=batch_size, epochs=1, verbose=0)
        steps += -(-len(x_train) // batch_size)
        for i in range(4):  # a few single-image steps between rounds
            model.train_on_batch(x_train[i:i + 1], y_train[i:i + 1])
            steps += 1

    whole = model.predict(x_test, batch_size=len(x_test), verbose=0)
    kept = whole.copy()
    singles = np.concatenate([model.predict(x_test[i:i + 1], verbose=0) for i in range(9)])
    odd = model.predict(x_test, batch_size=7, verbose=0)
    on_batch = np.asarray(model.predict_on_batch(x_test[:13]))
    accuracy_first = float(np.mean(whole.argmax(axis=1) == y_test))

    model.fit(x_train, y_train, batch_size=32, epochs=4, verbose=0)  # fit, predict, fit again
    steps += 4 * -(-len(x_train) // 32)
    again = model.predict(x_test, batch_size=17, verbose=0)
    _, accuracy_second = model.evaluate(x_test, y_test, batch_size=23, verbose=0)

    return {
        "train_steps": steps,
        "accuracy_after_first_fit": accuracy_first,
        "accuracy_after_second_fit": float(accuracy_second),
        "predict_accuracy_after_second_fit": float(np.mean(again.argmax(axis=1) == y_test)),
        "single_vs_whole": float(np.abs(singles - whole[:9]).max()),
        "odd_batches_vs_whole": float(np.abs(odd - whole).max()),
        "predict_on_batch_vs_whole": float(np.abs(on_batch - whole[:13]).max()),
        "kept_predictions_changed_by": float(np.abs(whole - kept).max()),
        "probabilities_sum_to_one": float(np.abs(again.sum(axis=1) - 1).max()),
    }


if __name__ == "__main__":
    print(main())
