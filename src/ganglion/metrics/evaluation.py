"""The notes' evaluation practice for a trained classifier: training error beside test error, and what the gap says.

``evaluate(model, train=(X, y), test=(X, y))`` predicts both sets with either face's model (a PyTorch-style
``nn.Module`` called in eval mode without recording, or a Keras-style model's ``predict``), and reports the
misclassification rate of each with ``diagnose_fit``'s verdict. ``epoch_errors(history)`` reads the same two errors
per epoch from a training history and finds the epoch where validation error was lowest (where training beyond it
started to overfit).
"""

from dataclasses import dataclass

import numpy as np

from ._inputs import as_1d, check_lengths, to_numpy
from .classification import misclassification_rate
from .selection import FitDiagnosis, diagnose_fit


@dataclass
class Evaluation:
    """Errors (misclassification rates) on the training and the test set, and the fit diagnosis."""

    train_error: float
    test_error: float
    n_train: int
    n_test: int
    diagnosis: FitDiagnosis

    @property
    def train_accuracy(self):
        return 1.0 - self.train_error

    @property
    def test_accuracy(self):
        return 1.0 - self.test_error

    def __str__(self):
        return (f"{'':10}{'error':>10}{'accuracy':>10}{'samples':>9}\n"
                f"{'training':10}{self.train_error:>10.4f}{self.train_accuracy:>10.4f}{self.n_train:>9}\n"
                f"{'test':10}{self.test_error:>10.4f}{self.test_accuracy:>10.4f}{self.n_test:>9}\n"
                f"{self.diagnosis.message}")


def predict_classes(model, X, batch_size=256):
    """Class predictions (n,) of either face's classifier for the inputs X (n, ...).

    Outputs (n, C) with C > 1 give their argmax; (n,) or (n, 1) outputs are one binary score: probabilities (all in
    [0, 1]) are thresholded at 0.5, logits at 0.
    """
    if hasattr(model, "predict") and hasattr(model, "compile"):  # the Keras face
        scores = to_numpy("model output", model.predict(X, batch_size=batch_size, verbose=0))
    else:
        scores = _module_scores(model, X, batch_size)
    if scores.ndim == 2 and scores.shape[1] > 1:
        return scores.argmax(axis=1)
    scores = scores.reshape(len(scores))
    threshold = 0.5 if scores.size and scores.min() >= 0 and scores.max() <= 1 else 0.0
    return (scores > threshold).astype(np.int64)


def _module_scores(module, X, batch_size):
    """A PyTorch-style module's outputs for X in eval mode, without recording; its mode is restored after."""
    from ..autograd import no_grad
    from ..tensor import Tensor

    if not callable(module):
        raise TypeError(f"evaluate: model must be an nn.Module or a Keras-style model, got {type(module).__name__}")
    x = X if isinstance(X, Tensor) else Tensor(to_numpy("X", X))
    was_training = getattr(module, "training", False)
    if hasattr(module, "eval"):
        module.eval()
    try:
        with no_grad():
            parts = [to_numpy("model output", module(x[i:i + batch_size])) for i in range(0, len(x), batch_size)]
    finally:
        if was_training:
            module.train()
    return np.concatenate(parts) if parts else np.zeros((0,))


def evaluate(model, train, test, max_gap=0.1, acceptable_error=None, batch_size=256):
    """Training error beside test error of a trained classifier, with the verdict ``diagnose_fit`` gives
    (overfitting when the test error exceeds the training error by more than ``max_gap``).

    train, test: (X, y) pairs; y holds class indices (n,). -> Evaluation (print it for a small table).
    """
    errors = []
    for name, pair in (("train", train), ("test", test)):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ValueError(f"evaluate: {name} must be an (X, y) pair, got {type(pair).__name__}")
        X, y = pair
        y = as_1d(f"{name} y", y)
        if len(y) == 0:
            raise ValueError(f"evaluate: the {name} set is empty")
        predicted = predict_classes(model, X, batch_size)
        check_lengths(**{f"{name}_y": y, f"{name}_predictions": predicted})
        errors.append((misclassification_rate(y, predicted), len(y)))
    (train_error, n_train), (test_error, n_test) = errors
    diagnosis = diagnose_fit(train_error, test_error, max_gap, acceptable_error)
    return Evaluation(train_error, test_error, n_train, n_test, diagnosis)


@dataclass
class EpochErrors:
    """Training and validation error per epoch (from accuracies, or losses when no accuracy was logged)."""

    train: np.ndarray
    val: np.ndarray
    measure: str  # "error" (1 - accuracy) or the loss name

    @property
    def best_epoch(self):
        """The epoch (0-based) with the lowest validation error: training past it fits the training set better
        but generalises worse."""
        return int(np.argmin(self.val))

    def diagnose(self, max_gap=0.1, acceptable_error=None):
        """``diagnose_fit`` at the last epoch."""
        return diagnose_fit(self.train[-1], self.val[-1], max_gap, acceptable_error)


def epoch_errors(history):
    """Per-epoch training and validation errors from a Keras-face ``History`` (or its ``.history`` dict, or any
    dict of per-epoch lists): ``1 - accuracy`` / ``1 - val_accuracy`` when logged, else ``loss`` / ``val_loss``.
    """
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict):
        raise TypeError(f"epoch_errors: expected a History or a dict of per-epoch lists, got {type(history).__name__}")
    for train_key, val_key, measure in (("accuracy", "val_accuracy", "error"), ("acc", "val_acc", "error"),
                                        ("loss", "val_loss", "loss")):
        if train_key in logs and val_key in logs:
            train, val = np.asarray(logs[train_key], float), np.asarray(logs[val_key], float)
            if measure == "error":
                train, val = 1.0 - train, 1.0 - val
            if len(train) == 0 or len(train) != len(val):
                raise ValueError(f"epoch_errors: {train_key} has {len(train)} epochs and {val_key} {len(val)}; "
                                 "both must have the same number, at least one")
            return EpochErrors(train, val, measure)
    raise ValueError(f"epoch_errors: the history has no validation entries (keys: {sorted(logs)}); train with "
                     "validation_data or validation_split")
