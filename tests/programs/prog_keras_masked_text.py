"""A Keras text classifier on padded token sequences: Embedding(mask_zero=True) -> LSTM -> Dense softmax.

Sentences of 1..10 tokens are padded with zeros at the end to one length; ``mask_zero=True`` tells the LSTM to skip
the padding, so a sentence must get the same prediction padded or not. The weights are set from a seeded NumPy
generator, so the untrained predictions are fixed by the program alone. Then the model learns which marker token
(1, 2 or 3) a sentence holds.
"""

import numpy as np
import keras
from keras import layers

VOCAB, MAX_LEN = 12, 10


def sentences(n, rng):
    """n token lists of 1..MAX_LEN tokens (fillers 4..11 and one marker 1..3 = label + 1) and their labels."""
    labels = rng.integers(0, 3, n)
    tokens = []
    for label in labels:
        sentence = rng.integers(4, VOCAB, rng.integers(1, MAX_LEN + 1))
        sentence[rng.integers(0, len(sentence))] = label + 1
        tokens.append(sentence)
    return tokens, labels


def pad(token_lists, length=MAX_LEN):
    """Zero-padding at the end, to ``length`` tokens."""
    out = np.zeros((len(token_lists), length), dtype="int64")
    for row, tokens in zip(out, token_lists):
        row[:len(tokens)] = tokens
    return out


def main():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    model = keras.Sequential([keras.Input(shape=(None,), dtype="int64"), layers.Embedding(VOCAB, 8, mask_zero=True),
                              layers.LSTM(16), layers.Dense(3, activation="softmax")])
    model.set_weights([rng.normal(0.0, 0.4, np.shape(w)).astype("float32") for w in model.get_weights()])

    probe, _ = sentences(6, rng)
    padded = model.predict(pad(probe), verbose=0)
    unpadded = np.concatenate([model.predict(np.array([tokens]), verbose=0) for tokens in probe])

    train_tokens, train_labels = sentences(300, rng)
    test_tokens, test_labels = sentences(100, rng)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(pad(train_tokens), train_labels, batch_size=16, epochs=4, verbose=0)
    _, accuracy = model.evaluate(pad(test_tokens), test_labels, verbose=0)

    return {
        "untrained_padded_prediction": padded.ravel().tolist(),
        "padded_vs_unpadded": float(np.abs(padded - unpadded).max()),
        "test_accuracy": float(accuracy),
    }


if __name__ == "__main__":
    print(main())
