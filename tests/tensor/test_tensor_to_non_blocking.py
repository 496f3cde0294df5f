"""``to(..., non_blocking=True)`` as current PyTorch examples write it, on tensors and modules."""

import numpy as np
import torch

import ganglion as g


def test_tensor_to_accepts_non_blocking_like_torch():
    for lib in (g, torch):
        x = lib.ones(2, 3)
        device = lib.device("cpu")
        assert lib.equal(x.to(device, non_blocking=True), x)
        y = x.to(device, lib.float64, True)  # positional non_blocking
        assert y.dtype == lib.float64
        assert x.to(lib.zeros(1, dtype=lib.float64)).dtype == lib.float64


def test_module_to_accepts_non_blocking_and_a_tensor():
    for lib in (g, torch):
        model = lib.nn.Linear(3, 2)
        assert model.to(lib.device("cpu"), non_blocking=True) is model
        model.to(lib.zeros(1, dtype=lib.float64))
        assert model.weight.dtype == lib.float64
    ours, theirs = g.nn.Linear(3, 2).to(g.float64), torch.nn.Linear(3, 2).double()
    assert np.dtype(ours.weight.dtype) == np.float64 and theirs.weight.dtype == torch.float64
