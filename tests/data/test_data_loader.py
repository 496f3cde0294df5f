"""DataLoader: batching, len, seeded shuffling, every sample once per epoch, parallel workers (threads and
processes) that give the same batches as none, IterableDatasets, and the argument errors."""

import gc
import multiprocessing
import os
import threading
import time

import numpy as np
import pytest

import ganglion
from ganglion.data import DataLoader, Dataset, IterableDataset, TensorDataset, get_worker_info
from ganglion.data import transforms as T

WORKERS = [(0, None), (2, "thread"), (2, "process")]


class Images(Dataset):
    """n random 8 x 8 uint8 images through a random augmentation; samples are (image, index)."""

    def __init__(self, n, transform=None):
        self.images = np.random.default_rng(0).integers(0, 256, (n, 8, 8), dtype=np.uint8)
        self.transform = transform or T.Compose([T.RandomCrop(8, padding=2), T.RandomHorizontalFlip(), T.ToTensor()])

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return self.transform(self.images[i]), i


class WhoLoads(Dataset):
    """Samples say which process, thread and worker built them."""

    def __len__(self):
        return 16

    def __getitem__(self, i):
        info = get_worker_info()
        return {"pid": os.getpid(), "thread": threading.get_ident(), "worker": -1 if info is None else info.id}


class Stream(IterableDataset):
    """0..n-1, split between workers by get_worker_info()."""

    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = get_worker_info()
        start, step = (0, 1) if info is None else (info.id, info.num_workers)
        return iter(range(start, self.n, step))

    def __len__(self):
        return self.n


class Failing(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == 5:
            raise KeyError(f"no sample {i}")
        return i


def _epoch(loader):
    return [tuple(part.numpy() if isinstance(part, ganglion.Tensor) else part for part in batch) for batch in loader]


# ------------------------------------------------------------------------------------------------------- batching
@pytest.mark.parametrize("n,batch_size,drop_last,expected", [(10, 3, False, 4), (10, 3, True, 3), (9, 3, True, 3),
                                                             (9, 3, False, 3), (2, 4, True, 0), (1, 1, False, 1)])
def test_len_and_batch_sizes_with_and_without_drop_last(n, batch_size, drop_last, expected):
    loader = DataLoader(TensorDataset(np.arange(n)), batch_size=batch_size, drop_last=drop_last)
    batches = [b[0].tolist() for b in loader]
    assert len(loader) == len(batches) == expected
    assert all(len(b) == batch_size for b in batches[:-1])
    assert sum(batches, []) == list(range(n if not drop_last else expected * batch_size))


def test_default_batch_is_stacked_tensors():
    x = np.random.default_rng(0).standard_normal((10, 3)).astype(np.float32)
    loader = DataLoader(TensorDataset(x, np.arange(10)), batch_size=4)
    xb, yb = next(iter(loader))
    assert isinstance(xb, ganglion.Tensor) and xb.shape == (4, 3) and xb.dtype == ganglion.float32
    np.testing.assert_array_equal(xb.numpy(), x[:4])
    assert yb.tolist() == [0, 1, 2, 3]


def test_batch_size_none_yields_converted_single_samples():
    samples = list(DataLoader(TensorDataset(np.arange(6).reshape(3, 2)), batch_size=None))
    assert len(samples) == 3 and samples[1][0].tolist() == [2, 3] and isinstance(samples[1][0], ganglion.Tensor)


def test_custom_collate_sampler_and_batch_sampler():
    dataset = TensorDataset(np.arange(10))
    loader = DataLoader(dataset, batch_size=3, collate_fn=lambda batch: [int(s[0]) for s in batch],
                        sampler=[9, 8, 7, 6, 5])
    assert list(loader) == [[9, 8, 7], [6, 5]]
    loader = DataLoader(dataset, batch_sampler=[[1, 2], [0], [9, 3, 4]])
    assert [b[0].tolist() for b in loader] == [[1, 2], [0], [9, 3, 4]] and len(loader) == 3


# ------------------------------------------------------------------------------------------------------ shuffling
def test_shuffle_sees_every_sample_once_and_seed_reproduces_the_order():
    dataset = TensorDataset(np.arange(100))
    first = [int(i) for b in DataLoader(dataset, batch_size=7, shuffle=True, seed=3) for i in b[0].tolist()]
    assert sorted(first) == list(range(100)) and first != list(range(100))
    again = [int(i) for b in DataLoader(dataset, batch_size=7, shuffle=True, seed=3) for i in b[0].tolist()]
    other = [int(i) for b in DataLoader(dataset, batch_size=7, shuffle=True, seed=4) for i in b[0].tolist()]
    assert again == first and other != first


def test_each_epoch_is_a_new_permutation_and_manual_seed_reproduces_them():
    dataset = TensorDataset(np.arange(50))

    def two_epochs():
        loader = DataLoader(dataset, batch_size=50, shuffle=True)
        return [next(iter(loader))[0].tolist() for _ in range(2)]

    ganglion.manual_seed(7)
    a = two_epochs()
    ganglion.manual_seed(7)
    assert two_epochs() == a and a[0] != a[1] and sorted(a[0]) == sorted(a[1]) == list(range(50))


def test_generator_argument_drives_shuffle_and_augmentation():
    dataset = Images(20)
    run = lambda: _epoch(DataLoader(dataset, batch_size=6, shuffle=True,  # noqa: E731
                                    generator=ganglion.Generator().manual_seed(5)))
    a, b = run(), run()
    assert all(np.array_equal(x[0], y[0]) and np.array_equal(x[1], y[1]) for x, y in zip(a, b))


# -------------------------------------------------------------------------------------------------------- workers
@pytest.mark.parametrize("num_workers,worker_type", WORKERS[1:])
def test_workers_give_exactly_the_batches_of_no_workers(num_workers, worker_type):
    dataset = Images(45)  # random crops and flips: the per-batch streams must line up too
    reference = _epoch(DataLoader(dataset, batch_size=4, shuffle=True, seed=1))
    got = _epoch(DataLoader(dataset, batch_size=4, shuffle=True, seed=1, num_workers=num_workers,
                            worker_type=worker_type, prefetch_factor=3))
    assert len(got) == len(reference) == 12
    for (x, i), (rx, ri) in zip(got, reference):
        np.testing.assert_array_equal(i, ri)
        np.testing.assert_array_equal(x, rx)
    assert sorted(np.concatenate([i for _, i in got]).tolist()) == list(range(45))


@pytest.mark.parametrize("worker_type", ["thread", "process"])
def test_workers_really_load_in_parallel_elsewhere(worker_type):
    batches = list(DataLoader(WhoLoads(), batch_size=2, num_workers=2, worker_type=worker_type))
    workers = {int(w) for b in batches for w in b["worker"].tolist()}
    assert workers == {0, 1}
    assert [sorted(set(b["worker"].tolist())) for b in batches] == [[k % 2] for k in range(8)]  # round-robin
    if worker_type == "process":
        pids = {int(p) for b in batches for p in b["pid"].tolist()}
        assert len(pids) == 2 and os.getpid() not in pids
    else:
        threads = {int(t) for b in batches for t in b["thread"].tolist()}
        assert len(threads) == 2 and threading.get_ident() not in threads
    assert get_worker_info() is None


@pytest.mark.parametrize("worker_type", ["thread", "process"])
def test_worker_error_is_raised_with_its_type_and_worker(worker_type):
    loader = DataLoader(Failing(), batch_size=2, num_workers=2, worker_type=worker_type)
    with pytest.raises(KeyError, match=f"Caught KeyError in DataLoader worker {worker_type} 0") as info:
        list(loader)
    assert "no sample 5" in str(info.value)


def test_worker_init_fn_runs_in_each_worker():
    calls = []

    def init(worker_id):
        info = get_worker_info()
        calls.append((worker_id, info.id, info.num_workers))

    list(DataLoader(WhoLoads(), batch_size=4, num_workers=2, worker_type="thread", worker_init_fn=init))
    assert sorted(calls) == [(0, 0, 2), (1, 1, 2)]


def test_worker_init_fn_failure_is_reported():
    def init(worker_id):
        raise ValueError(f"cannot start worker {worker_id}")

    with pytest.raises(ValueError, match="cannot start worker"):
        list(DataLoader(WhoLoads(), batch_size=4, num_workers=1, worker_type="thread", worker_init_fn=init))


class Dies(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        os._exit(3)


class Slow(Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, i):
        time.sleep(0.5)
        return i


def test_dead_worker_process_is_a_clear_error():
    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid\(s\) \d+\) exited unexpectedly: worker 0 "
                                           r"\(pid \d+\) exited with exit code 3"):
        list(DataLoader(Dies(), batch_size=2, num_workers=1, worker_type="process"))


def test_timeout_names_the_seconds():
    with pytest.raises(RuntimeError, match="timed out after 0.05 seconds"):
        list(DataLoader(Slow(), batch_size=1, num_workers=1, worker_type="thread", timeout=0.05))


def test_persistent_workers_are_reused_and_an_abandoned_epoch_does_not_leak():
    dataset = Images(30)
    loader = DataLoader(dataset, batch_size=4, shuffle=True, seed=2, num_workers=2, worker_type="process",
                        persistent_workers=True)
    it = iter(loader)
    next(it)  # leave the first epoch early: its prefetched batches are still in flight
    pool = loader._iterator._pool
    second = _epoch(loader)
    assert iter(loader) is it and loader._iterator._pool is pool and sorted(np.concatenate([i for _, i in second]).tolist()) == list(range(30))
    reference = DataLoader(dataset, batch_size=4, shuffle=True, seed=2)
    iter(reference)  # the reference must be at its second epoch too
    for (x, i), (rx, ri) in zip(second, _epoch(reference)):
        np.testing.assert_array_equal(i, ri)
        np.testing.assert_array_equal(x, rx)
    pool.shutdown()


def test_breaking_out_of_an_epoch_stops_the_worker_processes():
    loader = DataLoader(Images(40), batch_size=2, num_workers=2, worker_type="process")
    for _ in loader:
        break
    gc.collect()
    names = [p.name for p in multiprocessing.active_children()]
    assert not any(name.startswith("ganglion-data-worker") for name in names)


def test_out_of_order_delivery_still_covers_the_epoch():
    loader = DataLoader(TensorDataset(np.arange(40)), batch_size=3, num_workers=2, worker_type="thread",
                        in_order=False)
    assert sorted(i for b in loader for i in b[0].tolist()) == list(range(40))


# ----------------------------------------------------------------------------------------------- iterable datasets
@pytest.mark.parametrize("num_workers,worker_type", WORKERS)
def test_iterable_dataset_batches(num_workers, worker_type):
    loader = DataLoader(Stream(11), batch_size=3, num_workers=num_workers, worker_type=worker_type)
    batches = [b.tolist() for b in loader]
    assert sorted(sum(batches, [])) == list(range(11)) and len(loader) == 4
    if num_workers == 0:
        assert batches == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 10]]
    else:  # worker 0 has the even numbers, worker 1 the odd ones; batches alternate between them
        assert batches == [[0, 2, 4], [1, 3, 5], [6, 8, 10], [7, 9]]


def test_iterable_dataset_drop_last_and_single_samples():
    assert [b.tolist() for b in DataLoader(Stream(7), batch_size=3, drop_last=True)] == [[0, 1, 2], [3, 4, 5]]
    assert len(DataLoader(Stream(7), batch_size=3, drop_last=True)) == 2
    assert list(DataLoader(Stream(3), batch_size=None)) == [0, 1, 2]


# ---------------------------------------------------------------------------------------------------------- errors
@pytest.mark.parametrize("kwargs,error,match", [
    (dict(batch_size=0), ValueError, "batch_size must be a positive integer or None, got 0"),
    (dict(batch_size=-2), ValueError, "batch_size must be a positive integer"),
    (dict(batch_size=2.0), ValueError, "batch_size must be a positive integer"),
    (dict(num_workers=-1), ValueError, "num_workers must be a non-negative integer"),
    (dict(shuffle=True, sampler=[0, 1]), ValueError, "sampler is mutually exclusive with shuffle"),
    (dict(batch_sampler=[[0]], batch_size=2), ValueError, "batch_sampler is mutually exclusive"),
    (dict(batch_sampler=[[0]], drop_last=True), ValueError, "batch_sampler is mutually exclusive"),
    (dict(batch_size=None, drop_last=True), ValueError, "drop_last=True needs a batch_size"),
    (dict(prefetch_factor=2), ValueError, "prefetch_factor .* needs num_workers > 0"),
    (dict(persistent_workers=True), ValueError, "persistent_workers=True needs num_workers > 0"),
    (dict(num_workers=1, worker_type="greenlet"), ValueError,
     "unknown worker_type 'greenlet'; accepted: process, thread"),
    (dict(seed=1, generator=ganglion.Generator()), ValueError, "either generator or seed"),
    (dict(timeout=-1), ValueError, "timeout must be a non-negative number"),
    (dict(drop_last=1), TypeError, "drop_last must be a bool"),
])
def test_bad_arguments_are_named(kwargs, error, match):
    with pytest.raises(error, match=match):
        DataLoader(TensorDataset(np.arange(4)), **kwargs)


def test_iterable_dataset_refuses_shuffle_and_samplers():
    with pytest.raises(ValueError, match="cannot be shuffled"):
        DataLoader(Stream(3), shuffle=True)
    with pytest.raises(ValueError, match="no sampler"):
        DataLoader(Stream(3), sampler=[0])
    with pytest.raises(TypeError, match="must define __getitem__ or __iter__"):
        DataLoader(42)


def test_pin_memory_without_a_gpu_warns_and_still_loads():
    if ganglion.cuda.is_available():
        pytest.skip("a GPU is visible")
    with pytest.warns(UserWarning, match="no GPU is visible"):
        loader = DataLoader(TensorDataset(np.arange(4)), batch_size=2, pin_memory=True)
    assert [b[0].tolist() for b in loader] == [[0, 1], [2, 3]]
