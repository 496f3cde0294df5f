"""Dataset combinators, random_split, samplers and default collation."""

import collections

import numpy as np
import pytest

import ganglion
from ganglion.data import (
    BatchSampler, ChainDataset, ConcatDataset, Dataset, IterableDataset, RandomSampler, SequentialSampler, Subset,
    SubsetRandomSampler, TensorDataset, WeightedRandomSampler, default_collate, default_convert, random_split,
)


class Squares(Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return i * i


class Count(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


# ------------------------------------------------------------------------------------------------------- datasets
def test_tensor_dataset_rows_of_tensors_and_arrays():
    x, y = ganglion.arange(12).reshape(6, 2), np.arange(6) * 10
    dataset = TensorDataset(x, y)
    a, b = dataset[4]
    assert isinstance(a, ganglion.Tensor) and a.tolist() == [8, 9] and b == 40 and len(dataset) == 6
    with pytest.raises(ValueError, match=r"same first dimension, got shapes \(6, 2\), \(5,\)"):
        TensorDataset(x, np.arange(5))
    with pytest.raises(TypeError, match="argument 0"):
        TensorDataset([1, 2, 3])


def test_tensor_dataset_keeps_the_graph_of_tensors_needing_grad():
    w = ganglion.ones(3, 2, requires_grad=True)
    (row,) = TensorDataset(w)[1]
    row.sum().backward()
    assert w.grad.tolist() == [[0, 0], [1, 1], [0, 0]]


def test_subset_concat_and_chain():
    subset = Subset(Squares(10), [7, 2, 5])
    assert [subset[i] for i in range(3)] == [49, 4, 25] and len(subset) == 3
    concat = Squares(3) + Squares(4)
    assert isinstance(concat, ConcatDataset) and concat.cumulative_sizes == [3, 7]
    assert [concat[i] for i in range(7)] == [0, 1, 4, 0, 1, 4, 9] and concat[-1] == 9 and concat[-7] == 0
    with pytest.raises(IndexError, match="out of range for length 7"):
        concat[7]
    with pytest.raises(IndexError):
        concat[-8]
    chain = Count(2) + Count(3)
    assert isinstance(chain, ChainDataset) and list(chain) == [0, 1, 0, 1, 2] and len(chain) == 5
    with pytest.raises(TypeError, match="IterableDataset"):
        ConcatDataset([Squares(2), Count(2)])
    with pytest.raises(ValueError, match="empty"):
        ConcatDataset([])


@pytest.mark.parametrize("lengths,expected", [([3, 7], [3, 7]), ([0.3, 0.7], [3, 7]), ([0.33, 0.33, 0.34], [4, 3, 3]),
                                              ([1.0, 0.0], [10, 0])])
def test_random_split_is_a_seeded_partition(lengths, expected):
    parts = random_split(Squares(10), lengths, generator=ganglion.Generator().manual_seed(3))
    assert [len(p) for p in parts] == expected
    seen = sorted(i for p in parts for i in p.indices)
    assert seen == list(range(10))
    again = random_split(Squares(10), lengths, generator=ganglion.Generator().manual_seed(3))
    assert [p.indices for p in parts] == [p.indices for p in again]


@pytest.mark.parametrize("lengths,match", [([3, 8], "does not equal the dataset length 10"),
                                           ([0.5, 0.6], "fractions must sum to 1"), ([-1, 11], "non-negative"),
                                           ([], "must not be empty")])
def test_random_split_bad_lengths(lengths, match):
    with pytest.raises(ValueError, match=match):
        random_split(Squares(10), lengths)


def test_random_split_follows_manual_seed():
    ganglion.manual_seed(11)
    a = random_split(Squares(20), [5, 15])[0].indices
    ganglion.manual_seed(11)
    assert random_split(Squares(20), [5, 15])[0].indices == a


# ------------------------------------------------------------------------------------------------------- samplers
def test_sequential_and_random_samplers():
    assert list(SequentialSampler(range(5))) == [0, 1, 2, 3, 4]
    g = ganglion.Generator().manual_seed(0)
    first = list(RandomSampler(range(50), generator=g))
    assert sorted(first) == list(range(50)) and first != list(range(50))
    second = list(RandomSampler(range(50), generator=g))
    assert first != second  # the stream moves on: a new order each epoch
    assert list(RandomSampler(range(50), generator=ganglion.Generator().manual_seed(0))) == first


def test_random_sampler_num_samples_and_replacement():
    more = list(RandomSampler(range(4), num_samples=10, generator=ganglion.Generator().manual_seed(1)))
    counts = collections.Counter(more)
    assert len(more) == 10 and all(counts[i] in (2, 3) for i in range(4))  # two full passes, then part of one
    drawn = list(RandomSampler(range(3), replacement=True, num_samples=200))
    assert len(drawn) == 200 and set(drawn) == {0, 1, 2}
    with pytest.raises(ValueError, match="num_samples must be a positive integer"):
        RandomSampler(range(3), num_samples=0)
    with pytest.raises(TypeError, match="replacement must be a bool"):
        RandomSampler(range(3), replacement=1)


def test_subset_random_sampler():
    order = list(SubsetRandomSampler([10, 20, 30, 40], generator=ganglion.Generator().manual_seed(2)))
    assert sorted(order) == [10, 20, 30, 40]


def test_weighted_random_sampler_follows_the_weights():
    g = ganglion.Generator().manual_seed(0)
    draws = list(WeightedRandomSampler([1.0, 0.0, 3.0], 4000, generator=g))
    counts = collections.Counter(draws)
    assert counts[1] == 0 and 0.70 < counts[2] / 4000 < 0.80
    unique = list(WeightedRandomSampler([1, 1, 1, 5], 4, replacement=False, generator=g))
    assert sorted(unique) == [0, 1, 2, 3]


@pytest.mark.parametrize("kwargs,match", [
    (dict(weights=[1, -1], num_samples=2), "finite and non-negative"),
    (dict(weights=[0, 0], num_samples=2), "sum to zero"),
    (dict(weights=[1, 0, 1], num_samples=3, replacement=False), "without replacement from 2 indices"),
    (dict(weights=[1, 1], num_samples=0), "num_samples must be a positive integer"),
    (dict(weights=[[1, 1]], num_samples=1), "1-d"),
])
def test_weighted_random_sampler_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        WeightedRandomSampler(**kwargs)


@pytest.mark.parametrize("n,batch,drop_last,sizes", [(10, 3, False, [3, 3, 3, 1]), (10, 3, True, [3, 3, 3]),
                                                     (9, 3, True, [3, 3, 3]), (2, 5, False, [2]), (2, 5, True, [])])
def test_batch_sampler_sizes_and_len(n, batch, drop_last, sizes):
    sampler = BatchSampler(SequentialSampler(range(n)), batch, drop_last)
    batches = list(sampler)
    assert [len(b) for b in batches] == sizes and len(sampler) == len(sizes)
    assert sum(batches, []) == list(range(sum(sizes)))


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, True, None])
def test_batch_sampler_rejects_bad_batch_size(batch_size):
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        BatchSampler(SequentialSampler(range(3)), batch_size, False)


# ------------------------------------------------------------------------------------------------------ collation
Point = collections.namedtuple("Point", "x y")

COLLATE_CASES = [
    # (name, samples, check)
    ("arrays", [np.ones((2, 3), np.float32) * i for i in range(4)],
     lambda b: isinstance(b, ganglion.Tensor) and b.shape == (4, 2, 3) and b.dtype == ganglion.float32
     and b[3].tolist() == [[3] * 3] * 2),
    ("tensors", [ganglion.full((2,), i, dtype=ganglion.int32) for i in range(3)],
     lambda b: b.shape == (3, 2) and b.dtype == ganglion.int32 and b.tolist() == [[0, 0], [1, 1], [2, 2]]),
    ("ints", [1, 2, 3], lambda b: b.dtype == ganglion.int64 and b.tolist() == [1, 2, 3]),
    ("floats", [1.5, 2, 3], lambda b: b.dtype == ganglion.float64 and b.tolist() == [1.5, 2.0, 3.0]),
    ("bools", [True, False], lambda b: b.dtype == ganglion.bool_ and b.tolist() == [True, False]),
    ("numpy scalars", [np.float32(1), np.float32(2)], lambda b: b.dtype == ganglion.float32 and b.shape == (2,)),
    ("strings", ["a", "b"], lambda b: b == ["a", "b"]),
    ("tuples", [(np.zeros(2), 1), (np.ones(2), 2)],
     lambda b: isinstance(b, list) and b[0].shape == (2, 2) and b[1].tolist() == [1, 2]),
    ("dicts", [{"x": np.zeros(3), "label": "a"}, {"x": np.ones(3), "label": "b"}],
     lambda b: b["x"].shape == (2, 3) and b["label"] == ["a", "b"]),
    ("namedtuples", [Point(1, 2.0), Point(3, 4.0)],
     lambda b: isinstance(b, Point) and b.x.tolist() == [1, 3] and b.y.dtype == ganglion.float64),
    ("nested", [{"pair": (np.zeros(1), {"k": 1})}] * 3,
     lambda b: b["pair"][0].shape == (3, 1) and b["pair"][1]["k"].tolist() == [1, 1, 1]),
]


@pytest.mark.parametrize("name,samples,check", COLLATE_CASES, ids=[c[0] for c in COLLATE_CASES])
def test_default_collate(name, samples, check):
    assert check(default_collate(samples))


@pytest.mark.parametrize("samples,error,match", [
    ([np.zeros((3, 28, 28)), np.zeros((3, 32, 32))], ValueError,
     r"sample 0 has \(3, 28, 28\), sample 1 has \(3, 32, 32\)"),
    ([(1, 2), (1, 2, 3)], ValueError, "sample 0 has 2, sample 1 has 3"),
    ([{"a": 1}, {"b": 1}], ValueError, r"sample 0 has keys \['a'\], sample 1 has \['b'\]"),
    ([object(), object()], TypeError, "cannot collate samples of type object"),
    ([np.array(["x"]), np.array(["y"])], TypeError, "dtype <U1 cannot become a Tensor"),
    ([1, "a"], TypeError, "sample 0 is a number but another sample is str"),
    ([], ValueError, "empty batch"),
])
def test_default_collate_errors(samples, error, match):
    with pytest.raises(error, match=match):
        default_collate(samples)


def test_default_convert_turns_arrays_into_tensors_only():
    out = default_convert({"x": np.arange(3), "n": 4, "t": (np.zeros(2), "s")})
    assert isinstance(out["x"], ganglion.Tensor) and out["n"] == 4
    assert isinstance(out["t"][0], ganglion.Tensor) and out["t"][1] == "s"
