"""A Keras bag-of-embeddings text classifier: Embedding -> GlobalAveragePooling1D -> Dense, on padded token lists.

Synthetic "reviews" of 3..20 tokens: a positive review draws most of its sentiment words from one set of ids, a
negative one from another, among neutral fillers. ``keras.utils.pad_sequences`` pads (and truncates) them to one
length the way the text-classification tutorials do, before and after the tokens; the model averages the token
embeddings and reads the label off the average.
"""

import numpy as np
import keras
from keras import layers

VOCAB, MAX_LEN = 40, 16
POSITIVE, NEGATIVE, FILLERS = range(2, 8), range(8, 14), range(14, VOCAB)


def reviews(n, rng):
    """n token lists (ids from 2, 0 for padding and 1 unused) and their 0/1 labels."""
    labels = rng.integers(0, 2, n)
    texts = []
    for label in labels:
        length = int(rng.integers(3, 21))
        tokens = rng.choice(list(FILLERS), length)
        n_sentiment = int(rng.integers(1, max(2, length // 3) + 1))
        good, bad = (POSITIVE, NEGATIVE) if label else (NEGATIVE, POSITIVE)
        words = [rng.choice(list(good)) if rng.random() < 0.85 else rng.choice(list(bad)) for _ in range(n_sentiment)]
        tokens[rng.choice(length, n_sentiment, replace=False)] = words
        texts.append(tokens.tolist())
    return texts, labels


def main():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    train_texts, y_train = reviews(600, rng)
    test_texts, y_test = reviews(200, rng)

    x_train = keras.utils.pad_sequences(train_texts, maxlen=MAX_LEN)
    x_test = keras.utils.pad_sequences(test_texts, maxlen=MAX_LEN)
    x_test_post = keras.utils.pad_sequences(test_texts, maxlen=MAX_LEN, padding="post", truncating="post")
    example = keras.utils.pad_sequences([[5, 6, 7], [1, 2, 3, 4, 5]], maxlen=4, value=0)

    model = keras.Sequential([
        keras.Input(shape=(MAX_LEN,), dtype="int32"),
        layers.Embedding(VOCAB, 16),
        layers.GlobalAveragePooling1D(),
        layers.Dense(16, activation="relu"),
        layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=32, epochs=8, validation_split=0.2, verbose=0)
    test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
    _, post_accuracy = model.evaluate(x_test_post, y_test, verbose=0)
    probabilities = model.predict(x_test, verbose=0)

    return {
        "padded_shape": list(x_train.shape),
        "padded_dtype": str(x_train.dtype),
        "longest_text": max(len(t) for t in train_texts),
        "pad_example": example.tolist(),
        "first_epoch_loss": history.history["loss"][0],
        "last_epoch_loss": history.history["loss"][-1],
        "last_val_accuracy": history.history["val_accuracy"][-1],
        "history_keys": sorted(history.history),
        "test_loss": float(test_loss),
        "test_accuracy": float(test_accuracy),
        "post_padding_accuracy": float(post_accuracy),
        "predicted_accuracy": float(np.mean((probabilities[:, 0] > 0.5) == y_test)),
        "output_shape": list(probabilities.shape),
    }


if __name__ == "__main__":
    print(main())
