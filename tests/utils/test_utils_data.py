"""``ganglion.utils.data`` is ``ganglion.data`` under torch.utils.data's import path: the same objects, and a
tutorial's loader loop runs with only its import prefix changed."""

import importlib
import subprocess
import sys

import numpy as np
import torch.utils.data

import ganglion
import ganglion.data
import ganglion.utils.data
from ganglion.utils.data import DataLoader, TensorDataset, random_split

NAMES = [
    "Dataset", "DataLoader", "TensorDataset", "random_split", "Subset", "ConcatDataset", "IterableDataset",
    "ChainDataset", "Sampler", "SequentialSampler", "RandomSampler", "BatchSampler", "SubsetRandomSampler",
    "WeightedRandomSampler", "DistributedSampler", "default_collate", "default_convert", "get_worker_info",
]


def test_every_name_is_the_ganglion_data_object():
    for name in NAMES:
        assert getattr(ganglion.utils.data, name) is getattr(ganglion.data, name), name
        assert hasattr(torch.utils.data, name), name  # the list holds only PyTorch's names


def test_all_lists_exactly_the_reexported_names():
    assert sorted(ganglion.utils.data.__all__) == sorted(NAMES)


def test_reachable_after_plain_import_ganglion():
    code = "import ganglion; print(ganglion.utils.data.DataLoader is ganglion.data.DataLoader)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


def test_import_module_path():
    module = importlib.import_module("ganglion.utils.data")
    assert module is ganglion.utils.data and ganglion.utils.data is ganglion.utils.data


def test_tutorial_loop_matches_torch_batches():
    x = np.arange(20, dtype=np.float32).reshape(10, 2)
    y = np.arange(10)
    loader = DataLoader(TensorDataset(ganglion.tensor(x), ganglion.tensor(y)), batch_size=4)
    reference = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.tensor(x), torch.tensor(y)), batch_size=4
    )
    got = [(xb.numpy(), yb.numpy()) for xb, yb in loader]
    want = [(xb.numpy(), yb.numpy()) for xb, yb in reference]
    assert len(got) == len(want) == 3
    for (gx, gy), (wx, wy) in zip(got, want):
        np.testing.assert_array_equal(gx, wx)
        np.testing.assert_array_equal(gy, wy)


def test_random_split_lengths():
    parts = random_split(TensorDataset(ganglion.zeros(10, 2)), [7, 3])
    assert [len(p) for p in parts] == [7, 3]
