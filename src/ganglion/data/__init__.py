"""``ganglion.data``: datasets, samplers and the DataLoader (the names of PyTorch's ``torch.utils.data``), image
transforms (``ganglion.data.transforms``), dataset classes and downloads (``ganglion.data.datasets``) and
scikit-learn-style preprocessing (``ganglion.data.preprocessing``)."""

from . import datasets
from . import preprocessing, transforms
from ._worker import WorkerInfo, get_worker_info
from .collate import default_collate, default_convert
from .dataloader import DataLoader
from .distributed import DistributedSampler
from .dataset import ChainDataset, ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset, random_split
from .sampler import (
    BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler, WeightedRandomSampler,
)
