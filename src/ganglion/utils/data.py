"""``ganglion.utils.data``: the names of ``torch.utils.data``, re-exported from ``ganglion.data``.

The objects are the same (``ganglion.utils.data.DataLoader is ganglion.data.DataLoader``), so a tutorial that
imports ``torch.utils.data`` runs with only its import prefix changed; the datasets, samplers and loader live in
one place, ``ganglion.data``.
"""

import sys

from ..data import (
    BatchSampler, ChainDataset, ConcatDataset, DataLoader, Dataset, DistributedSampler, IterableDataset, RandomSampler,
    Sampler,
    SequentialSampler, Subset, SubsetRandomSampler, TensorDataset, WeightedRandomSampler,
    default_collate, default_convert, get_worker_info, random_split,
)

from ..data import distributed  # noqa: E402  (torch.utils.data.distributed's path, below)

# ``from ganglion.utils.data.distributed import DistributedSampler`` as with torch: this module is not a package,
# so the submodule's path is made an alias of ganglion.data.distributed
sys.modules[__name__ + ".distributed"] = distributed

__all__ = [
    "BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset", "DistributedSampler", "IterableDataset",
    "RandomSampler",
    "Sampler", "SequentialSampler", "Subset", "SubsetRandomSampler", "TensorDataset", "WeightedRandomSampler",
    "default_collate", "default_convert", "get_worker_info", "random_split",
]
