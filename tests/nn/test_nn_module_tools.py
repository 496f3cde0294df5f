"""Module tools: apply, buffers (persistent or not), requires_grad_, moving dtype, as PyTorch does them."""

import numpy as np
import pytest
import torch

import ganglion as g
from ganglion import nn


class WithBuffers(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 2)
        self.register_buffer("count", g.zeros(1))
        self.register_buffer("scratch", g.ones(3), persistent=False)


class TorchWithBuffers(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(2, 2)
        self.register_buffer("count", torch.zeros(1))
        self.register_buffer("scratch", torch.ones(3), persistent=False)


def test_buffers_follow_pytorch_persistence_rules():
    ours, theirs = WithBuffers(), TorchWithBuffers()
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["count", "fc.weight", "fc.bias"]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]


def test_buffers_move_with_dtype_conversion_and_are_not_parameters():
    m = WithBuffers().double()
    assert m.count.dtype == g.float64 and m.scratch.dtype == g.float64 and m.fc.weight.dtype == g.float64
    assert all(p is not m.count for p in m.parameters())


def test_register_buffer_rejects_non_tensors_and_bad_names():
    m = nn.Module()
    with pytest.raises(TypeError, match="must be a Tensor"):
        m.register_buffer("x", np.zeros(2))
    with pytest.raises(KeyError, match="invalid attribute name"):
        m.register_buffer("a.b", g.zeros(1))


def test_apply_visits_children_first_and_can_reinitialize():
    order = []
    model = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.ReLU(), nn.Linear(3, 1)))
    model.apply(lambda m: order.append(type(m).__name__))
    torch_order = []
    torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Linear(3, 1))).apply(
        lambda m: torch_order.append(type(m).__name__)
    )
    assert order == torch_order

    def zero_linear(m):
        if isinstance(m, nn.Linear):
            nn.init.zeros_(m.weight)

    model.apply(zero_linear)
    assert all(float(abs(m.weight).sum().item()) == 0 for m in model.modules() if isinstance(m, nn.Linear))


def test_requires_grad_freezes_parameters_for_fine_tuning():
    model = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    model[0].requires_grad_(False)
    model(g.randn(4, 2)).sum().backward()
    assert model[0].weight.grad is None and model[0].bias.grad is None
    assert model[1].weight.grad is not None
