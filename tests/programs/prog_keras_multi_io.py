"""A Keras functional model with two inputs and two outputs.

Two inputs (a 6-number "measurements" vector and a 4-number "context" vector) are encoded separately, concatenated,
and feed two named heads: ``price`` (regression, mean squared error, tracked by MAE) and ``category`` (three classes,
sparse categorical cross-entropy, tracked by accuracy). ``compile`` takes dicts keyed by output name for the losses,
the loss weights and the metrics; ``fit`` and ``evaluate`` take dicts keyed by input and output name.
"""

import numpy as np
import keras
from keras import layers


def make_data(n, rng):
    measurements = rng.normal(size=(n, 6)).astype("float32")
    context = rng.normal(size=(n, 4)).astype("float32")
    price = (measurements[:, :3].sum(axis=1) - context[:, 0] + 0.1 * rng.normal(size=n)).astype("float32")
    score = measurements[:, 3] + context[:, 1]
    category = np.digitize(score, [-0.6, 0.6]).astype("int64")  # three roughly equal classes
    return {"measurements": measurements, "context": context}, {"price": price[:, None], "category": category}


def main():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x_train, y_train = make_data(600, rng)
    x_test, y_test = make_data(200, rng)

    measurements = keras.Input(shape=(6,), name="measurements")
    context = keras.Input(shape=(4,), name="context")
    a = layers.Dense(16, activation="relu")(measurements)
    b = layers.Dense(8, activation="relu")(context)
    merged = layers.Concatenate()([a, b])
    shared = layers.Dense(32, activation="relu")(merged)
    price = layers.Dense(1, name="price")(shared)
    category = layers.Dense(3, activation="softmax", name="category")(shared)
    model = keras.Model(inputs=[measurements, context], outputs=[price, category])

    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=0.01),
        loss={"price": "mse", "category": "sparse_categorical_crossentropy"},
        loss_weights={"price": 0.5, "category": 1.0},
        metrics={"price": ["mae"], "category": ["accuracy"]},
    )
    history = model.fit(x_train, y_train, batch_size=32, epochs=8, verbose=0)
    results = model.evaluate(x_test, y_test, verbose=0, return_dict=True)
    predicted_price, predicted_probabilities = model.predict(x_test, verbose=0)

    return {
        "first_loss": float(history.history["loss"][0]),
        "last_loss": float(history.history["loss"][-1]),
        "history_keys": sorted(history.history),
        "evaluate_keys": sorted(results),
        "test_loss": float(results["loss"]),
        "test_price_mae": float(results["price_mae"]),
        "test_category_accuracy": float(results["category_accuracy"]),
        "predicted_price_mae": float(np.mean(np.abs(predicted_price - y_test["price"]))),
        "predicted_accuracy": float(np.mean(predicted_probabilities.argmax(axis=1) == y_test["category"])),
        "output_shapes": [list(predicted_price.shape), list(predicted_probabilities.shape)],
        "weighted_total_vs_parts": abs(float(results["loss"]) - (0.5 * float(results["price_loss"])
                                                                 + float(results["category_loss"]))),
    }


if __name__ == "__main__":
    print(main())
