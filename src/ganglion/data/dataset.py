"""Datasets: the map-style ``Dataset`` (``len`` + ``__getitem__``), the stream-style ``IterableDataset``, and the
combinators ``TensorDataset``, ``Subset``, ``ConcatDataset``, ``ChainDataset`` and ``random_split``."""

import bisect
import math
import numbers

import numpy as np

from ..tensor import Tensor
from . import _random


class Dataset:
    """A map-style dataset: ``dataset[i]`` returns sample ``i`` for ``0 <= i < len(dataset)``.

    Subclasses implement ``__getitem__`` (and ``__len__`` for samplers that need it). ``a + b`` concatenates.
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__ (it subclasses Dataset)")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A stream-style dataset: ``iter(dataset)`` yields samples.

    With ``num_workers > 0`` every worker iterates its own copy; use ``ganglion.data.get_worker_info()`` inside
    ``__iter__`` to give each worker a different shard. ``a + b`` chains two streams.
    """

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__ (it subclasses IterableDataset)")

    def __add__(self, other):
        return ChainDataset([self, other])


def _take(item, index):
    """``item[index]`` for a Tensor (outside the graph unless it needs grad) or an array."""
    if isinstance(item, Tensor):
        return item[index] if item.requires_grad else Tensor._wrap(item.array[index])
    return item[index]


class TensorDataset(Dataset):
    """Samples are rows of tensors sharing their first dimension: ``dataset[i] = (t[i] for t in tensors)``.

    tensors: Tensors or arrays of shape (N, ...) -> each sample a tuple of (...)-shaped items.
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: expected at least one tensor")
        for i, t in enumerate(tensors):
            if not hasattr(t, "shape") or len(t.shape) == 0:
                raise TypeError(
                    f"TensorDataset: argument {i} must be a Tensor or array with a first (sample) dimension, "
                    f"got {type(t).__name__}{'' if not hasattr(t, 'shape') else ' of shape ()'}"
                )
        sizes = [t.shape[0] for t in tensors]
        if len(set(sizes)) != 1:
            shapes = ", ".join(str(tuple(t.shape)) for t in tensors)
            raise ValueError(f"TensorDataset: all tensors must have the same first dimension, got shapes {shapes}")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(_take(t, index) for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order: ``subset[i] = dataset[indices[i]]``."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = [int(i) for i in (indices.tolist() if hasattr(indices, "tolist") else indices)]

    def __getitem__(self, index):
        if isinstance(index, (list, tuple)):
            return [self.dataset[self.indices[i]] for i in index]
        return self.dataset[self.indices[index]]

    def __getitems__(self, indices):
        if hasattr(self.dataset, "__getitems__"):
            return self.dataset.__getitems__([self.indices[i] for i in indices])
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self):
        return len(self.indices)


class ConcatDataset(Dataset):
    """Several map-style datasets one after another: index ``i`` falls in the first dataset whose cumulative size
    exceeds it. ``cumulative_sizes[k]`` is the total length of datasets ``0..k``."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset does not take an IterableDataset (use ChainDataset for streams)")
        self.cumulative_sizes = []
        total = 0
        for d in self.datasets:
            total += len(d)
            self.cumulative_sizes.append(total)

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        n = len(self)
        if index < 0:
            if -index > n:
                raise IndexError(f"ConcatDataset: index {index} is out of range for length {n}")
            index += n
        if index >= n:
            raise IndexError(f"ConcatDataset: index {index} is out of range for length {n}")
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - start]


class ChainDataset(IterableDataset):
    """Several iterable datasets one after another, as one stream."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise TypeError(f"ChainDataset only takes IterableDatasets, got {type(d).__name__}")

    def __iter__(self):
        for d in self.datasets:
            yield from d

    def __len__(self):
        return sum(len(d) for d in self.datasets)


def _split_lengths(lengths, n):
    """Integer lengths from ``lengths`` (ints summing to ``n`` or fractions summing to 1)."""
    lengths = list(lengths)
    if not lengths:
        raise ValueError("random_split: lengths must not be empty")
    if all(isinstance(x, numbers.Integral) and not isinstance(x, bool) for x in lengths):
        if any(x < 0 for x in lengths):
            raise ValueError(f"random_split: lengths must be non-negative, got {lengths}")
        if sum(lengths) != n:
            raise ValueError(f"random_split: sum of lengths {sum(lengths)} does not equal the dataset length {n}")
        return lengths
    if any(not isinstance(x, numbers.Real) or isinstance(x, bool) or not 0 <= x <= 1 for x in lengths):
        raise ValueError(f"random_split: lengths must be ints summing to {n} or fractions in [0, 1], got {lengths}")
    if not math.isclose(sum(lengths), 1.0, abs_tol=1e-9):
        raise ValueError(f"random_split: fractions must sum to 1, got {lengths} (sum {sum(lengths)})")
    counts = [int(math.floor(n * f)) for f in lengths]
    for i in range(n - sum(counts)):  # hand out what flooring left over, one each, round-robin
        counts[i % len(counts)] += 1
    return counts


def random_split(dataset, lengths, generator=None):
    """Split ``dataset`` into non-overlapping random ``Subset``s of the given lengths (ints, or fractions of the
    dataset). The same ``generator`` seed gives the same split."""
    n = len(dataset)
    counts = _split_lengths(lengths, n)
    order = _random.rng(generator).permutation(n)
    bounds = np.cumsum([0] + counts)
    return [Subset(dataset, order[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
