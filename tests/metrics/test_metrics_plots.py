"""Plots render to PNG with the Agg backend (no display) and carry the expected labels and cells."""

import sys

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from ganglion.metrics import confusion_matrix  # noqa: E402
from ganglion.metrics.plots import plot_confusion_matrix, plot_history, plot_learning_curve  # noqa: E402
from ganglion.metrics.selection import LearningCurve  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def saved_png(ax, tmp_path):
    path = tmp_path / "plot.png"
    ax.figure.savefig(path)
    plt.close(ax.figure)
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and len(data) > 1000
    return data


@pytest.mark.parametrize("normalize,expected", [(False, ["2", "1", "0", "3"]), (True, ["0.67", "0.33", "0.00",
                                                                                        "1.00"])])
def test_confusion_matrix_plot(tmp_path, normalize, expected):
    cm = confusion_matrix(["cat", "cat", "cat", "dog", "dog", "dog"], ["cat", "cat", "dog", "dog", "dog", "dog"])
    ax = plot_confusion_matrix(cm, class_names=["cat", "dog"], normalize=normalize)
    assert [text.get_text() for text in ax.texts] == expected
    assert [label.get_text() for label in ax.get_xticklabels()] == ["cat", "dog"]
    assert ax.get_xlabel() == "Predicted label" and ax.get_ylabel() == "True label"
    assert ax.images[0].get_array().shape == (2, 2)
    saved_png(ax, tmp_path)


def test_learning_curve_plot(tmp_path):
    result = LearningCurve(np.array([5, 10, 20]), np.array([[0.0, 0.1], [0.05, 0.1], [0.1, 0.1]]),
                           np.array([[0.5, 0.4], [0.3, 0.3], [0.2, 0.2]]))
    fig, ax = plt.subplots()
    assert plot_learning_curve(result, ax=ax) is ax
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert set(lines) == {"training error", "validation error"}
    np.testing.assert_allclose(lines["validation error"].get_ydata(), [0.45, 0.3, 0.2])
    np.testing.assert_array_equal(lines["training error"].get_xdata(), [5, 10, 20])
    saved_png(ax, tmp_path)


def test_history_plot_from_a_keras_fit_and_a_dict(tmp_path):
    from ganglion import keras
    rng = np.random.default_rng(0)
    X = rng.normal(size=(16, 3)).astype("float32")
    model = keras.Sequential([keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(X, (X[:, 0] > 0).astype("int64"), epochs=3, validation_split=0.25, verbose=0)
    ax = plot_history(history, metrics=["loss"])
    assert [line.get_label() for line in ax.get_lines()] == ["loss", "val_loss"]
    np.testing.assert_allclose(ax.get_lines()[1].get_ydata(), history.history["val_loss"])
    np.testing.assert_array_equal(ax.get_lines()[1].get_xdata(), [1, 2, 3])
    saved_png(ax, tmp_path)
    ax = plot_history({"loss": [1.0, 0.5], "val_loss": [1.2, 0.9], "accuracy": [0.5, 0.7]})
    assert [line.get_label() for line in ax.get_lines()] == ["loss", "val_loss", "accuracy"]
    saved_png(ax, tmp_path)


@pytest.mark.parametrize("call,pattern", [
    (lambda: plot_confusion_matrix(np.zeros((2, 3))), r"square .* got shape \(2, 3\)"),
    (lambda: plot_confusion_matrix(np.eye(3), class_names=["a", "b"]), r"2 names for a 3x3"),
    (lambda: plot_history({"loss": [1.0]}, metrics=["accuracy"]), r"\['accuracy'\] are not in .*\['loss'\]"),
])
def test_bad_plot_arguments(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()


def test_missing_matplotlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r'pip install "ganglion\[viz\]"'):
        plot_confusion_matrix(np.eye(2))
