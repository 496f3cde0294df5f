"""The models, data and training loop that the multi-rank tests run under ``mpiexec`` (dist_worker.py) and, as the
reference, in one process with the whole batch (test_distributed_mpi.py)."""

import numpy as np

import ganglion
from ganglion import nn

GLOBAL_BATCH = 16
STEPS = 20
KINDS = ("mlp", "cnn", "lstm", "mlp_accumulate")


class LastStep(nn.Module):
    """LSTM over (N, T, 3), classify from the last hidden state."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 8, batch_first=True)
        self.head = nn.Linear(8, 3)

    def forward(self, x):
        output, _ = self.lstm(x)
        return self.head(output[:, -1])


def build(kind, sync_batchnorm=False):
    """The model of ``kind``, with the same initial weights in every process (seeded)."""
    ganglion.manual_seed(0)
    if kind in ("mlp", "mlp_accumulate"):
        return nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 3))
    if kind in ("cnn", "cnn_local_bn"):
        model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3))
        return nn.SyncBatchNorm.convert_sync_batchnorm(model) if sync_batchnorm else model
    if kind == "lstm":
        return LastStep()
    raise ValueError(f"unknown kind {kind!r}")


def batches(kind):
    """STEPS global batches (x, y) of GLOBAL_BATCH rows."""
    rng = np.random.default_rng(1)
    shape = {"mlp": (6,), "mlp_accumulate": (6,), "cnn": (1, 8, 8), "lstm": (5, 3)}[kind]
    for _ in range(STEPS):
        x = rng.standard_normal((GLOBAL_BATCH,) + shape).astype(np.float32)
        y = rng.integers(0, 3, GLOBAL_BATCH)
        yield x, y


def train(kind, model, rank=0, world_size=1, wrapped=None):
    """Train ``model`` (through ``wrapped``, its DistributedDataParallel, if given) on this rank's rows of each
    global batch; returns {name: array} of its state. ``mlp_accumulate`` splits each rank's rows in two halves and
    accumulates the first one's gradient under ``no_sync``."""
    runner = model if wrapped is None else wrapped
    optimizer = ganglion.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    share = GLOBAL_BATCH // world_size
    for x, y in batches(kind):
        x, y = x[rank * share:(rank + 1) * share], y[rank * share:(rank + 1) * share]
        optimizer.zero_grad()
        if kind == "mlp_accumulate":
            half = share // 2
            with (wrapped.no_sync() if wrapped is not None else _nothing()):
                (loss_fn(runner(ganglion.tensor(x[:half])), ganglion.tensor(y[:half])) / 2).backward()
            (loss_fn(runner(ganglion.tensor(x[half:])), ganglion.tensor(y[half:])) / 2).backward()
        else:
            loss_fn(runner(ganglion.tensor(x)), ganglion.tensor(y)).backward()
        optimizer.step()
    return {name: t.numpy().copy() for name, t in model.state_dict().items()}


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
