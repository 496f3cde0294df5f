"""Samplers: which dataset indices a DataLoader visits, in what order, and how they are grouped into batches.

Random samplers draw from their ``generator`` (a ``ganglion.Generator``) when given one, so the same seed gives the
same order; without one, each epoch seeds a fresh stream from ganglion's default generator (``ganglion.manual_seed``
makes that reproducible too).
"""

import numbers

import numpy as np

from . import _random


def _check_positive_int(owner, name, value, allow_none=False):
    if value is None and allow_none:
        return
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{owner}: {name} must be a positive integer, got {value!r}")


def _check_bool(owner, name, value):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{owner}: {name} must be a bool, got {value!r}")


def _epoch_rng(generator):
    """The stream one epoch of a random sampler draws from."""
    if generator is not None:
        return _random.rng(generator)
    return np.random.default_rng(_random.draw_seed())


class Sampler:
    """Base class: ``iter(sampler)`` yields dataset indices (or, for a batch sampler, lists of them)."""

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__ (it subclasses Sampler)")


class SequentialSampler(Sampler):
    """Indices ``0, 1, ..., len(data_source) - 1`` in order."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random order of the indices: a permutation per pass (every index exactly once), or, with
    ``replacement=True``, ``num_samples`` independent uniform draws."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        _check_bool("RandomSampler", "replacement", replacement)
        _check_positive_int("RandomSampler", "num_samples", num_samples, allow_none=True)
        self.data_source, self.replacement, self._num_samples, self.generator = (
            data_source, bool(replacement), num_samples, generator)

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n, total = len(self.data_source), self.num_samples
        rng = _epoch_rng(self.generator)
        if self.replacement:
            return iter(rng.integers(0, n, total).tolist())
        # more samples than rows: whole permutations first, then part of one more
        full, rest = divmod(total, n) if n else (0, 0)
        parts = [rng.permutation(n) for _ in range(full)] + ([rng.permutation(n)[:rest]] if rest else [])
        return iter(np.concatenate(parts).tolist() if parts else [])

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a random order (a fresh permutation each pass)."""

    def __init__(self, indices, generator=None):
        self.indices, self.generator = list(indices), generator

    def __iter__(self):
        order = _epoch_rng(self.generator).permutation(len(self.indices))
        return iter([self.indices[i] for i in order])

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probability ``weights[i] / sum(weights)``: with replacement by default,
    or each index at most once with ``replacement=False``."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        _check_positive_int("WeightedRandomSampler", "num_samples", num_samples)
        _check_bool("WeightedRandomSampler", "replacement", replacement)
        w = np.asarray(weights, dtype=np.float64)
        if w.ndim != 1 or w.size == 0:
            raise ValueError(f"WeightedRandomSampler: weights must be a non-empty 1-d sequence, got shape {w.shape}")
        if not np.all(np.isfinite(w)) or np.any(w < 0):
            raise ValueError("WeightedRandomSampler: weights must be finite and non-negative")
        if w.sum() == 0:
            raise ValueError("WeightedRandomSampler: weights sum to zero, so no index can be drawn")
        if not replacement and num_samples > np.count_nonzero(w):
            raise ValueError(
                f"WeightedRandomSampler: cannot draw num_samples={num_samples} without replacement from "
                f"{np.count_nonzero(w)} indices of non-zero weight"
            )
        self.weights, self.num_samples, self.replacement, self.generator = w, num_samples, bool(replacement), generator

    def __iter__(self):
        p = self.weights / self.weights.sum()
        rng = _epoch_rng(self.generator)
        return iter(rng.choice(p.size, size=self.num_samples, replace=self.replacement, p=p).tolist())

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size``; the last, shorter one is dropped when
    ``drop_last``. ``len = floor(n / batch_size)`` with ``drop_last``, ``ceil(n / batch_size)`` without."""

    def __init__(self, sampler, batch_size, drop_last):
        _check_positive_int("BatchSampler", "batch_size", batch_size)
        _check_bool("BatchSampler", "drop_last", drop_last)
        self.sampler, self.batch_size, self.drop_last = sampler, int(batch_size), bool(drop_last)

    def __iter__(self):
        # start the sampler now, so a random order is drawn when the epoch starts, not at its first batch
        return self._batches(iter(self.sampler))

    def _batches(self, indices):
        batch = []
        for index in indices:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
