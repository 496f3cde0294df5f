"""Shared helpers for the optimizer tests: a small MLP built twice (ganglion and PyTorch) with the same weights, the
same data, and a loop that trains either one (the optimizers and their PyTorch references: optim_table.py)."""

import numpy as np
import pytest
import torch

import ganglion as g
from ganglion import nn
from optim_table import optimizer_pair


class Pair:
    """The same 3-8-2 tanh MLP in ganglion and PyTorch (initial weights drawn from ``seed``), plus a regression
    batch that is the same for every seed."""

    def __init__(self, dtype=np.float64, seed=0, branch=False):
        rng = np.random.default_rng(seed)
        self.dtype = np.dtype(dtype)
        self.ours = _GanglionMLP(branch, self.dtype)
        self.theirs = _TorchMLP(branch, getattr(torch, self.dtype.name))
        for name, p in self.ours.named_parameters():
            p.array[...] = rng.uniform(-0.6, 0.6, p.shape).astype(self.dtype)
        self.theirs.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in self.ours.state_dict().items()})
        data = np.random.default_rng(1234)
        self.x = data.standard_normal((16, 3)).astype(self.dtype)
        self.y = data.standard_normal((16, 2)).astype(self.dtype)

    def loss_ours(self, use_branch=True, sign=1.0):
        out = self.ours(g.from_numpy(self.x), use_branch)
        return ((out - g.from_numpy(self.y)) ** 2).mean() * sign

    def loss_theirs(self, use_branch=True, sign=1.0):
        out = self.theirs(torch.from_numpy(self.x), use_branch)
        return ((out - torch.from_numpy(self.y)) ** 2).mean() * sign

    def params_ours(self):
        return {k: v.detach().numpy().copy() for k, v in self.ours.named_parameters()}

    def params_theirs(self):
        return {k: v.detach().numpy().copy() for k, v in self.theirs.named_parameters()}


class _GanglionMLP(nn.Module):
    def __init__(self, branch, dtype):
        super().__init__()
        self.fc1 = nn.Linear(3, 8, dtype=dtype)
        self.fc2 = nn.Linear(8, 2, dtype=dtype)
        self.extra = nn.Linear(8, 2, dtype=dtype) if branch else None

    def forward(self, x, use_branch=True):
        h = self.fc1(x).tanh()
        out = self.fc2(h)
        if self.extra is not None and use_branch:
            out = out + self.extra(h)
        return out


class _TorchMLP(torch.nn.Module):
    def __init__(self, branch, dtype):
        super().__init__()
        self.fc1 = torch.nn.Linear(3, 8, dtype=dtype)
        self.fc2 = torch.nn.Linear(8, 2, dtype=dtype)
        self.extra = torch.nn.Linear(8, 2, dtype=dtype) if branch else None

    def forward(self, x, use_branch=True):
        h = self.fc1(x).tanh()
        out = self.fc2(h)
        if self.extra is not None and use_branch:
            out = out + self.extra(h)
        return out


@pytest.fixture
def make_pair():
    """make_pair(dtype=np.float64, seed=0, branch=False) -> Pair."""
    return Pair


def assert_params_close(ours, theirs, dtype):
    """Every parameter equal within 1e-5 (float32) or 1e-10 (float64), relative to its size."""
    rtol = 1e-5 if np.dtype(dtype) == np.float32 else 1e-10
    assert list(ours) == list(theirs)
    for k in ours:
        scale = max(np.abs(theirs[k]).max(), 1e-3)
        np.testing.assert_allclose(ours[k], theirs[k], rtol=rtol, atol=rtol * scale, err_msg=k)


@pytest.fixture
def params_close():
    return assert_params_close


@pytest.fixture(name="optimizer_pair")
def _optimizer_pair_fixture():
    """optimizer_pair(name, kwargs, pair) -> (ganglion optimizer, PyTorch optimizer)."""
    return optimizer_pair
