"""``ganglion.utils.data``: the names of ``torch.utils.data``, re-exported from ``ganglion.data``.

The objects are the same (``ganglion.utils.data.DataLoader is ganglion.data.DataLoader``), so a tutorial that
imports ``torch.utils.data`` runs with only its import prefix changed; the datasets, samplers and loader live in
one place, ``ganglion.data``.
"""

from ..data import (
    BatchSampler, ChainDataset, ConcatDataset, DataLoader, Dataset, IterableDataset, RandomSampler, Sampler,
    SequentialSampler, Subset, SubsetRandomSampler, TensorDataset, WeightedRandomSampler,
    default_collate, default_convert, get_worker_info, random_split,
)

__all__ = [
    "BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset", "IterableDataset", "RandomSampler",
    "Sampler", "SequentialSampler", "Subset", "SubsetRandomSampler", "TensorDataset", "WeightedRandomSampler",
    "default_collate", "default_convert", "get_worker_info", "random_split",
]
