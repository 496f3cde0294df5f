"""Splitting data: ``train_test_split``, ``KFold`` and ``StratifiedKFold``.

With the same integer ``random_state`` the indices equal scikit-learn's: the draws come from a
``numpy.random.RandomState`` seeded the same way, taken in the same order. ``random_state=None`` draws the seed
from ganglion's default generator, so ``ganglion.manual_seed`` makes it reproducible.
"""

import math
import numbers
import warnings

import numpy as np

from .. import _random
from ._arrays import check_consistent_length, num_samples, take


def check_random_state(random_state):
    """A ``numpy.random.RandomState`` from None (seeded from ganglion's generator), an int, or an existing one."""
    if random_state is None:
        return np.random.RandomState(_random.draw_seed() % 2**32)
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        return np.random.RandomState(int(random_state))
    if isinstance(random_state, np.random.RandomState):
        return random_state
    raise ValueError(f"random_state must be None, an int or a numpy.random.RandomState, got {random_state!r}")


def _split_sizes(n, test_size, train_size, default_test=0.25):
    """(n_train, n_test) from fractions in (0, 1) or absolute counts."""
    if test_size is None and train_size is None:
        test_size = default_test
    for name, size in (("test_size", test_size), ("train_size", train_size)):
        if size is None:
            continue
        if isinstance(size, bool) or not isinstance(size, numbers.Real):
            raise ValueError(f"train_test_split: {name} must be a float in (0, 1) or an int, got {size!r}")
        if isinstance(size, numbers.Integral):
            if not 0 < size < n:
                raise ValueError(
                    f"train_test_split: {name}={size} must be between 1 and {n - 1} (the number of samples is {n}), "
                    f"or a float in (0, 1)"
                )
        elif not 0 < size < 1:
            raise ValueError(f"train_test_split: {name}={size} must be in (0, 1), or an int count of samples")
    fractions = [s for s in (test_size, train_size) if isinstance(s, float)]
    if len(fractions) == 2 and sum(fractions) > 1:
        raise ValueError(
            f"train_test_split: test_size + train_size = {sum(fractions)} is more than 1; reduce one of them"
        )
    n_test = n_train = None
    if test_size is not None:
        n_test = math.ceil(test_size * n) if isinstance(test_size, float) else test_size
    if train_size is not None:
        n_train = math.floor(train_size * n) if isinstance(train_size, float) else train_size
    if n_train is None:
        n_train = n - n_test
    elif n_test is None:
        n_test = n - n_train
    if n_train + n_test > n:
        raise ValueError(
            f"train_test_split: {n_train} train + {n_test} test samples is more than the {n} samples given"
        )
    if n_train == 0 or n_test == 0:
        raise ValueError(
            f"train_test_split: with {n} samples, test_size={test_size} and train_size={train_size} leave "
            f"{n_train} train and {n_test} test samples; adjust them so both are non-empty"
        )
    return int(n_train), int(n_test)


def _allocate(counts, n_draws, rng):
    """Split ``n_draws`` over classes in proportion to ``counts``: floor of the exact share, and the remaining draws
    to the classes with the largest remainders (ties broken at random)."""
    exact = counts / counts.sum() * n_draws
    taken = np.floor(exact)
    left = int(n_draws - taken.sum())
    if left > 0:
        remainder = exact - taken
        for value in np.sort(np.unique(remainder))[::-1]:
            (candidates,) = np.where(remainder == value)
            k = min(len(candidates), left)
            taken[rng.choice(candidates, size=k, replace=False)] += 1
            left -= k
            if left == 0:
                break
    return taken.astype(int)


def _stratified_indices(y, n_train, n_test, rng):
    classes, y_index = np.unique(np.asarray(y), return_inverse=True)
    counts = np.bincount(y_index)
    if counts.min() < 2:
        raise ValueError(
            "train_test_split: the least populated class in stratify has only 1 member; every class needs at least 2"
        )
    if n_train < len(classes) or n_test < len(classes):
        raise ValueError(
            f"train_test_split: with stratify, train ({n_train}) and test ({n_test}) sizes must be at least the number "
            f"of classes ({len(classes)})"
        )
    per_class = np.split(np.argsort(y_index, kind="mergesort"), np.cumsum(counts)[:-1])
    n_i = _allocate(counts, n_train, rng)
    t_i = _allocate(counts - n_i, n_test, rng)
    train, test = [], []
    for k in range(len(classes)):
        members = per_class[k].take(rng.permutation(counts[k]), mode="clip")
        train.extend(members[:n_i[k]])
        test.extend(members[n_i[k]:n_i[k] + t_i[k]])
    return rng.permutation(train), rng.permutation(test)


def train_test_split(*arrays, test_size=None, train_size=None, random_state=None, shuffle=True, stratify=None):
    """Split arrays (same first dimension) into random train and test parts:
    ``X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)``.

    ``test_size``/``train_size``: a fraction in (0, 1) or a count (default: test 0.25). ``stratify``: labels whose
    class proportions both parts keep. ``shuffle=False`` takes the first rows for training.
    """
    if not arrays:
        raise ValueError("train_test_split: at least one array is required")
    check_consistent_length("train_test_split", arrays)
    n = num_samples(arrays[0])
    n_train, n_test = _split_sizes(n, test_size, train_size)
    if not shuffle:
        if stratify is not None:
            raise ValueError("train_test_split: stratify needs shuffle=True")
        train, test = np.arange(n_train), np.arange(n_train, n_train + n_test)
    else:
        rng = check_random_state(random_state)
        if stratify is not None:
            if num_samples(stratify) != n:
                raise ValueError(f"train_test_split: stratify has {num_samples(stratify)} labels for {n} samples")
            train, test = _stratified_indices(stratify, n_train, n_test, rng)
        else:
            order = rng.permutation(n)
            test, train = order[:n_test], order[n_test:n_test + n_train]
    out = []
    for a in arrays:
        out.extend([take(a, train), take(a, test)])
    return out


class KFold:
    """K consecutive folds (shuffled first if ``shuffle``): each fold is the test set once. The first
    ``n % n_splits`` folds hold one sample more."""

    def __init__(self, n_splits=5, *, shuffle=False, random_state=None):
        if not isinstance(n_splits, numbers.Integral) or isinstance(n_splits, bool) or n_splits < 2:
            raise ValueError(f"{type(self).__name__}: n_splits must be an integer of at least 2, got {n_splits!r}")
        if not isinstance(shuffle, bool):
            raise TypeError(f"{type(self).__name__}: shuffle must be a bool, got {shuffle!r}")
        if not shuffle and random_state is not None:
            raise ValueError(f"{type(self).__name__}: random_state has no effect without shuffle=True")
        self.n_splits, self.shuffle, self.random_state = int(n_splits), shuffle, random_state

    def get_n_splits(self, X=None, y=None, groups=None):
        return self.n_splits

    def _check_n(self, n):
        if self.n_splits > n:
            raise ValueError(f"{type(self).__name__}: cannot have n_splits={self.n_splits} greater than the number "
                             f"of samples n_samples={n}")

    def _test_folds(self, X, y):
        n = num_samples(X)
        self._check_n(n)
        order = np.arange(n)
        if self.shuffle:
            check_random_state(self.random_state).shuffle(order)
        sizes = np.full(self.n_splits, n // self.n_splits)
        sizes[:n % self.n_splits] += 1
        folds = np.empty(n, dtype=np.int64)
        folds[order] = np.repeat(np.arange(self.n_splits), sizes)
        return folds

    def split(self, X, y=None, groups=None):
        """Yield (train_indices, test_indices) for each fold, both in increasing order."""
        folds = self._test_folds(X, y)
        for k in range(self.n_splits):
            yield np.flatnonzero(folds != k), np.flatnonzero(folds == k)

    def __repr__(self):
        return (f"{type(self).__name__}(n_splits={self.n_splits}, random_state={self.random_state}, "
                f"shuffle={self.shuffle})")


class StratifiedKFold(KFold):
    """K folds that each keep the class proportions of ``y``: the sorted labels are dealt to the folds in turn, and
    each class's share is laid out in data order (shuffled per class if ``shuffle``)."""

    def _test_folds(self, X, y):
        if y is None:
            raise ValueError("StratifiedKFold: split needs the labels y")
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1:
            raise ValueError(f"StratifiedKFold: y must be a 1-d array of class labels, got shape {y.shape}")
        if y.dtype.kind == "f" and not np.all(np.mod(y, 1) == 0):
            raise ValueError("StratifiedKFold: y must hold class labels, got continuous (non-integer) values")
        check_consistent_length("StratifiedKFold", (X, y))
        self._check_n(len(y))
        rng = check_random_state(self.random_state) if self.shuffle else None
        _, first_seen, inverse = np.unique(y, return_index=True, return_inverse=True)
        # classes numbered by order of first appearance, as the allocation below depends on it
        encoded = np.argsort(np.argsort(first_seen))[inverse]
        counts = np.bincount(encoded)
        if np.all(self.n_splits > counts):
            raise ValueError(f"StratifiedKFold: n_splits={self.n_splits} cannot be greater than the number of members "
                             f"in each class")
        if self.n_splits > counts.min():
            warnings.warn(f"StratifiedKFold: the least populated class in y has only {counts.min()} members, which is "
                          f"less than n_splits={self.n_splits}")
        dealt = np.sort(encoded)
        per_fold = np.array([np.bincount(dealt[k::self.n_splits], minlength=len(counts))
                             for k in range(self.n_splits)])
        folds = np.empty(len(y), dtype=np.int64)
        for c in range(len(counts)):
            assignment = np.repeat(np.arange(self.n_splits), per_fold[:, c])
            if rng is not None:
                rng.shuffle(assignment)
            folds[encoded == c] = assignment
        return folds

    def split(self, X, y, groups=None):
        """Yield (train_indices, test_indices) for each fold, both in increasing order."""
        return super().split(X, y, groups)
