"""A Keras functional model with self-attention: MultiHeadAttention, a residual Add, LayerNormalization,
GlobalAveragePooling1D and a Dense head, trained with fit.

Each sample is 8 steps of 6 features; one step carries a "key" pattern (feature 0 high) and its class is which of
three values a second feature holds at that step, wherever it is in the sequence. The program also
asks the attention layer for its scores (``return_attention_scores=True``) and checks their shape and that they sum
to one over the keys.
"""

import numpy as np
import keras
from keras import layers

STEPS, FEATURES, CLASSES = 8, 6, 3


def make_data(n, rng):
    x = rng.normal(0.0, 0.5, (n, STEPS, FEATURES)).astype("float32")
    y = rng.integers(0, CLASSES, n)
    where = rng.integers(0, STEPS, n)
    rows = np.arange(n)
    x[rows, where, 0] = 3.0
    x[rows, where, 1] = (y - 1) * 2.0
    return x, y


def build_model():
    inputs = keras.Input(shape=(STEPS, FEATURES), name="sequence")
    h = layers.Dense(16, name="project")(inputs)
    attended = layers.MultiHeadAttention(num_heads=2, key_dim=8, name="self_attention")(h, h)
    h = layers.LayerNormalization(name="norm")(layers.Add(name="residual")([h, attended]))
    h = layers.Dense(16, activation="relu", name="feed_forward")(h)
    h = layers.GlobalAveragePooling1D(name="pool")(h)
    outputs = layers.Dense(CLASSES, activation="softmax", name="classes")(h)
    return keras.Model(inputs, outputs, name="attention_classifier")


def main():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x_train, y_train = make_data(800, rng)
    x_test, y_test = make_data(200, rng)

    model = build_model()
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=32, epochs=6, validation_split=0.1, verbose=0)
    test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
    probabilities = model.predict(x_test, verbose=0)

    attention = model.get_layer("self_attention")
    projected = model.get_layer("project")(x_test[:4])
    output, scores = attention(projected, projected, return_attention_scores=True)
    scores = keras.ops.convert_to_numpy(scores)

    return {
        "layer_names": [layer.name for layer in model.layers],
        "attention_weight_shapes": [list(w.shape) for w in attention.weights],
        "parameter_count": model.count_params(),
        "first_epoch_loss": history.history["loss"][0],
        "last_epoch_loss": history.history["loss"][-1],
        "test_loss": float(test_loss),
        "test_accuracy": float(test_accuracy),
        "predicted_accuracy": float(np.mean(probabilities.argmax(axis=1) == y_test)),
        "attention_output_shape": list(output.shape),
        "attention_scores_shape": list(scores.shape),
        "attention_scores_sum_to_one": float(np.abs(scores.sum(axis=-1) - 1.0).max()),
    }


if __name__ == "__main__":
    print(main())
