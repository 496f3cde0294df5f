"""``DistributedSampler``: each rank's share of a dataset for data-parallel training (torch's semantics).

All ranks compute the same order of indices (from the same ``seed + epoch``), make its length a multiple of the
number of replicas, and rank r takes every ``num_replicas``-th index starting at r: the shards are disjoint and
equal, together one pass over the data.
"""

import math
import numbers

import numpy as np

from ..distributed import get_rank, get_world_size
from .sampler import Sampler


def _check_int(name, value, low):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"DistributedSampler: {name} must be an int >= {low}, got {value!r}")
    return int(value)


class DistributedSampler(Sampler):
    """Indices of rank ``rank``'s shard of ``dataset`` among ``num_replicas`` ranks (the default process group's
    rank and world size when not given).

    Each shard has ``num_samples`` = ceil(len / num_replicas) indices; the order is padded by repeating its first
    indices up to ``num_samples * num_replicas``. With ``drop_last=True`` the tail is dropped instead:
    ceil((len - num_replicas) / num_replicas) indices per rank when len is not a multiple. ``shuffle``: a fresh
    permutation every epoch, the same on every rank, drawn from ``seed + epoch`` (call ``set_epoch(epoch)`` before
    each epoch, as with PyTorch). The unshuffled order equals PyTorch's; the shuffled one is a different permutation
    (NumPy's PCG64 generator, not PyTorch's Mersenne Twister randperm), with the same properties.
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        num_replicas = get_world_size() if num_replicas is None else _check_int("num_replicas", num_replicas, 1)
        rank = get_rank() if rank is None else rank
        if isinstance(rank, bool) or not isinstance(rank, numbers.Integral) or not 0 <= rank < num_replicas:
            raise ValueError(f"DistributedSampler: invalid rank {rank!r}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank = dataset, num_replicas, int(rank)
        self.shuffle, self.seed, self.drop_last = bool(shuffle), _check_int("seed", seed, 0), bool(drop_last)
        self.epoch = 0
        n = len(dataset)
        if self.drop_last and n % num_replicas != 0:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            order = np.random.default_rng(self.seed + self.epoch).permutation(n)
        else:
            order = np.arange(n)
        if self.drop_last:
            order = order[:self.total_size]
        elif self.total_size > n:  # pad with the first indices, repeated as often as needed
            order = np.resize(order, self.total_size)
        return iter(order[self.rank:self.total_size:self.num_replicas].tolist())

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """Use ``epoch`` for the next shuffle, so each epoch visits the data in a new order (the same on every
        rank)."""
        self.epoch = _check_int("epoch", epoch, 0)
