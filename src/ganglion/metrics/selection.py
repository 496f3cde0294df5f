"""Evaluation practice: k-fold splits, cross-validated error, choosing among candidate models, and learning curves
with a diagnosis of over- and underfitting.

Framework-neutral: a model is a *trainer*, a callable ``train(X_train, y_train)`` that fits a fresh model and returns
``error(X, y) -> float`` (lower is better: misclassification rate, MSE...). Anything fits: a ganglion module with a
hand-written loop, a Keras-face model, a closed-form solution.

>>> import numpy as np
>>> def train_mean(X, y):                      # the constant model: predict the training mean
...     mean = y.mean()
...     return lambda X_val, y_val: float(((y_val - mean) ** 2).mean())
>>> X, y = np.arange(10.0)[:, None], np.ones(10)
>>> cross_val_score(train_mean, X, y, cv=5).tolist()
[0.0, 0.0, 0.0, 0.0, 0.0]
"""

from dataclasses import dataclass, field

import numpy as np

from ._inputs import check_lengths, to_numpy


def kfold_indices(n_samples, n_splits=5, shuffle=False, random_state=None):
    """[(train_indices, val_indices)] for k folds: the first n_samples % n_splits folds hold one sample more
    (scikit-learn's fold sizes); without ``shuffle`` the folds are consecutive blocks."""
    if isinstance(n_splits, bool) or not isinstance(n_splits, (int, np.integer)) or n_splits < 2:
        raise ValueError(f"n_splits must be an int >= 2, got {n_splits!r}")
    if n_samples < n_splits:
        raise ValueError(f"n_splits={n_splits} folds need at least {n_splits} samples, got {n_samples}")
    order = np.random.default_rng(random_state).permutation(n_samples) if shuffle else np.arange(n_samples)
    sizes = np.full(n_splits, n_samples // n_splits)
    sizes[:n_samples % n_splits] += 1
    bounds = np.r_[0, np.cumsum(sizes)]
    return [(np.concatenate([order[:start], order[stop:]]), order[start:stop])
            for start, stop in zip(bounds[:-1], bounds[1:])]


class KFold:
    """k-fold cross-validation splits. ``split(X)`` yields (train_indices, val_indices) ``n_splits`` times; every
    sample is validated exactly once. ``random_state`` seeds the shuffle (only used with ``shuffle=True``)."""

    def __init__(self, n_splits=5, shuffle=False, random_state=None):
        if isinstance(n_splits, bool) or not isinstance(n_splits, (int, np.integer)) or n_splits < 2:
            raise ValueError(f"KFold: n_splits must be an int >= 2, got {n_splits!r}")
        self.n_splits, self.shuffle, self.random_state = int(n_splits), shuffle, random_state

    def get_n_splits(self, X=None, y=None):
        return self.n_splits

    def split(self, X, y=None):
        yield from kfold_indices(len(X), self.n_splits, self.shuffle, self.random_state)

    def __repr__(self):
        return f"KFold(n_splits={self.n_splits}, shuffle={self.shuffle}, random_state={self.random_state})"


def _splits(cv, X):
    """The (train, val) index pairs of ``cv``: an int (k unshuffled folds), an object with ``split(X)``, or a list."""
    if isinstance(cv, (int, np.integer)) and not isinstance(cv, bool):
        return kfold_indices(len(X), cv)
    if hasattr(cv, "split"):
        return list(cv.split(X))
    try:
        return [(np.asarray(train), np.asarray(val)) for train, val in cv]
    except (TypeError, ValueError):
        raise ValueError(f"cv must be an int, an object with split(X) or a list of (train, val) index pairs, got "
                         f"{cv!r}") from None


def _data(X, y):
    X, y = to_numpy("X", X), to_numpy("y", y)
    if X.ndim == 0 or len(X) == 0:
        raise ValueError(f"X must hold at least one sample, got shape {X.shape}")
    check_lengths(X=X, y=y)
    return X, y


def _fit(train, X_train, y_train, what):
    """``train(X_train, y_train)``, checked to return the error function."""
    error_of = train(X_train, y_train)
    if not callable(error_of):
        raise ValueError(f"{what}: the trainer must return error(X, y) -> float, it returned {type(error_of).__name__}")
    return error_of


def cross_val_score(train, X, y, cv=5):
    """The validation error of each fold: ``train(X[train_idx], y[train_idx])(X[val_idx], y[val_idx])``.
    cv: number of folds, a ``KFold`` (or anything with ``split(X)``), or a list of (train, val) index pairs.
    -> (folds,) float64."""
    X, y = _data(X, y)
    return np.array([float(_fit(train, X[tr], y[tr], "cross_val_score")(X[va], y[va])) for tr, va in _splits(cv, X)])


@dataclass
class ModelSelection:
    """The result of ``select_model``: the chosen name, and every candidate's fold errors and their mean."""

    best: str
    fold_errors: dict
    mean_errors: dict = field(init=False)

    def __post_init__(self):
        self.mean_errors = {name: float(np.mean(errors)) for name, errors in self.fold_errors.items()}

    def __str__(self):
        width = max(len(name) for name in self.fold_errors)
        lines = [f"{'model':<{width}}  mean error   std"]
        for name in sorted(self.mean_errors, key=self.mean_errors.get):
            mark = "  <- selected" if name == self.best else ""
            lines.append(f"{name:<{width}}  {self.mean_errors[name]:10.4f}  {np.std(self.fold_errors[name]):.4f}{mark}")
        return "\n".join(lines)


def select_model(candidates, X, y, cv=5):
    """Cross-validate every candidate trainer on the same folds and pick the lowest mean validation error (the first
    listed among equals). candidates: {name: train}. -> ModelSelection (``str()`` gives a ranked table)."""
    if not candidates:
        raise ValueError("select_model needs at least one candidate, got an empty dict")
    X, y = _data(X, y)
    folds = _splits(cv, X)
    fold_errors = {name: cross_val_score(train, X, y, cv=folds) for name, train in candidates.items()}
    means = {name: float(np.mean(errors)) for name, errors in fold_errors.items()}
    best = min(means, key=means.get)
    return ModelSelection(best=best, fold_errors=fold_errors)


@dataclass
class FitDiagnosis:
    """Training against validation error: "overfitting" when validation error exceeds training error by more than
    ``max_gap``, "underfitting" when the training error itself is above ``acceptable_error``, else "good fit"."""

    verdict: str
    train_error: float
    val_error: float
    max_gap: float
    acceptable_error: float = None

    @property
    def overfitting(self):
        return self.verdict == "overfitting"

    @property
    def underfitting(self):
        return self.verdict == "underfitting"

    @property
    def message(self):
        numbers = f"training error {self.train_error:.4g}, validation error {self.val_error:.4g}"
        if self.overfitting:
            return (f"overfitting: {numbers} (gap {self.val_error - self.train_error:.4g} > {self.max_gap:.4g}); "
                    "the model memorises its training set: more data, a smaller model or regularisation may help")
        if self.underfitting:
            return (f"underfitting: {numbers} (training error above the acceptable {self.acceptable_error:.4g}); "
                    "the model is too simple or trained too little")
        return f"good fit: {numbers}"

    def __str__(self):
        return self.message


def diagnose_fit(train_error, val_error, max_gap=0.1, acceptable_error=None):
    """The ``FitDiagnosis`` of a model from its training and validation errors (overfitting is judged first)."""
    train_error, val_error = float(train_error), float(val_error)
    if val_error - train_error > max_gap:
        verdict = "overfitting"
    elif acceptable_error is not None and train_error > acceptable_error:
        verdict = "underfitting"
    else:
        verdict = "good fit"
    return FitDiagnosis(verdict, train_error, val_error, float(max_gap), acceptable_error)


@dataclass
class LearningCurve:
    """Errors of models trained on growing training sets. train_sizes: (S,) sample counts; train_errors,
    val_errors: (S, folds)."""

    train_sizes: np.ndarray
    train_errors: np.ndarray
    val_errors: np.ndarray

    @property
    def mean_train_errors(self):
        return self.train_errors.mean(axis=1)

    @property
    def mean_val_errors(self):
        return self.val_errors.mean(axis=1)

    def diagnose(self, max_gap=0.1, acceptable_error=None):
        """``diagnose_fit`` at the largest training size (mean over folds)."""
        return diagnose_fit(self.mean_train_errors[-1], self.mean_val_errors[-1], max_gap, acceptable_error)


def learning_curve(train, X, y, train_sizes=(0.1, 0.325, 0.55, 0.775, 1.0), cv=5):
    """For each training size m and fold: train on the first m samples of the fold's training part, record the
    error on those m samples and on the fold's validation part. train_sizes: fractions in (0, 1] of the training
    part, or sample counts (ints). Shuffle through ``cv=KFold(..., shuffle=True)`` when the data are ordered.
    -> LearningCurve."""
    X, y = _data(X, y)
    folds = _splits(cv, X)
    available = min(len(tr) for tr, _ in folds)
    sizes = np.asarray(train_sizes)
    if sizes.ndim != 1 or sizes.size == 0:
        raise ValueError(f"train_sizes must be a non-empty 1-D list, got {train_sizes!r}")
    if sizes.dtype.kind == "f":
        if np.any((sizes <= 0) | (sizes > 1)):
            raise ValueError(f"fractional train_sizes must be in (0, 1], got {sizes.tolist()}")
        sizes = np.maximum(1, (sizes * available).astype(np.int64))
    elif np.any((sizes < 1) | (sizes > available)):
        raise ValueError(f"train_sizes must be between 1 and {available} samples (the smallest training part), got "
                         f"{sizes.tolist()}")
    sizes = np.unique(sizes)
    train_errors, val_errors = np.empty((len(sizes), len(folds))), np.empty((len(sizes), len(folds)))
    for j, (tr, va) in enumerate(folds):
        for i, m in enumerate(sizes):
            error_of = _fit(train, X[tr[:m]], y[tr[:m]], "learning_curve")
            train_errors[i, j] = float(error_of(X[tr[:m]], y[tr[:m]]))
            val_errors[i, j] = float(error_of(X[va], y[va]))
    return LearningCurve(sizes, train_errors, val_errors)
