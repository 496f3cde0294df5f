"""A state_dict moves between ganglion and PyTorch: an MLP with BatchNorm1d, LayerNorm and Dropout, trained a few
steps on one side (so weights and running statistics are not their initial values), loads into the equivalent model
on the other side, converted array for array (in memory, and through a safetensors file) with the same keys, shapes
and dtypes, and gives the same outputs in eval mode. Both directions."""

import numpy as np
import pytest
import torch
from safetensors.torch import load_file as torch_load_file
from safetensors.torch import save_file as torch_save_file

import ganglion as g
from ganglion import nn


def _ganglion_mlp():
    return nn.Sequential(
        nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.3),
        nn.Linear(8, 8), nn.LayerNorm(8), nn.ReLU(), nn.Dropout(0.3),
        nn.Linear(8, 3),
    )


def _torch_mlp():
    T = torch.nn
    return T.Sequential(
        T.Linear(6, 8), T.BatchNorm1d(8), T.ReLU(), T.Dropout(0.3),
        T.Linear(8, 8), T.LayerNorm(8), T.ReLU(), T.Dropout(0.3),
        T.Linear(8, 3),
    )


EXPECTED_KEYS = [
    "0.weight", "0.bias",
    "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked",
    "4.weight", "4.bias",
    "5.weight", "5.bias",
    "8.weight", "8.bias",
]


def _data(rng, n=16):
    x = (2 * rng.standard_normal((n, 6)) + 1).astype(np.float32)
    return x, rng.integers(0, 3, n)


def _train_ganglion(model, rng, steps=4):
    opt = g.optim.SGD(model.parameters(), lr=0.1)
    model.train()
    for _ in range(steps):
        x, y = _data(rng)
        loss = nn.functional.cross_entropy(model(g.tensor(x)), g.tensor(y))
        opt.zero_grad()
        loss.backward()
        opt.step()


def _train_torch(model, rng, steps=4):
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    model.train()
    for _ in range(steps):
        x, y = _data(rng)
        loss = torch.nn.functional.cross_entropy(model(torch.from_numpy(x)), torch.from_numpy(y))
        opt.zero_grad()
        loss.backward()
        opt.step()


def _assert_same_layout(ours_sd, theirs_sd):
    assert list(ours_sd) == list(theirs_sd) == EXPECTED_KEYS
    for key, value in ours_sd.items():
        assert tuple(value.shape) == tuple(theirs_sd[key].shape), key
        assert value.dtype.name == str(theirs_sd[key].dtype).replace("torch.", ""), key


def _assert_same_eval_outputs(ours, theirs, rng):
    ours.eval(), theirs.eval()
    x, _ = _data(rng, 10)
    y = ours(g.tensor(x)).detach().numpy()
    yt = theirs(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(y, yt, rtol=1e-5, atol=1e-5)
    # eval mode is deterministic on both sides: dropout is the identity and batch norm reads its running statistics
    np.testing.assert_array_equal(ours(g.tensor(x)).detach().numpy(), y)


def _assert_values_equal(ours_sd, theirs_sd):
    for key, value in ours_sd.items():
        np.testing.assert_array_equal(value.numpy(), theirs_sd[key].numpy(), err_msg=key)


@pytest.mark.parametrize("via", ["memory", "safetensors_file"])
def test_ganglion_state_dict_loads_into_torch(via, rng, tmp_path):
    g.manual_seed(0)
    ours = _ganglion_mlp()
    _train_ganglion(ours, rng)
    assert ours[1].num_batches_tracked.item() == 4 and not np.allclose(ours[1].running_var.numpy(), 1)
    sd = ours.state_dict()
    if via == "memory":
        converted = {k: torch.from_numpy(v.numpy().copy()) for k, v in sd.items()}
    else:
        g.save(sd, tmp_path / "mlp.safetensors")
        converted = torch_load_file(str(tmp_path / "mlp.safetensors"))
    theirs = _torch_mlp()
    _assert_same_layout(sd, theirs.state_dict())
    theirs.load_state_dict(converted, strict=True)
    _assert_values_equal(sd, theirs.state_dict())
    _assert_same_eval_outputs(ours, theirs, rng)


@pytest.mark.parametrize("via", ["memory", "safetensors_file"])
def test_torch_state_dict_loads_into_ganglion(via, rng, tmp_path):
    torch.manual_seed(0)
    theirs = _torch_mlp()
    _train_torch(theirs, rng)
    sd = theirs.state_dict()
    if via == "memory":
        converted = {k: v.numpy() for k, v in sd.items()}
    else:
        torch_save_file(dict(sd), str(tmp_path / "mlp.safetensors"))
        converted = g.load(tmp_path / "mlp.safetensors")
    ours = _ganglion_mlp()
    _assert_same_layout(ours.state_dict(), sd)
    result = ours.load_state_dict(converted, strict=True)
    assert list(result.missing_keys) == [] and list(result.unexpected_keys) == []
    assert ours[1].num_batches_tracked.item() == 4 and ours[1].num_batches_tracked.dtype == g.int64
    _assert_values_equal(ours.state_dict(), sd)
    _assert_same_eval_outputs(ours, theirs, rng)


def test_training_continues_identically_after_the_transfer(rng):
    """After loading torch's state, one more training step on the same batch updates the running statistics and
    the weights alike (dropout off, since its masks come from different generators)."""
    theirs = _torch_mlp()
    _train_torch(theirs, rng, steps=2)
    ours = _ganglion_mlp()
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    for model in (ours, theirs):
        model[3].p = model[7].p = 0.0
    _train_ganglion(ours, np.random.default_rng(5), steps=1)
    _train_torch(theirs, np.random.default_rng(5), steps=1)
    theirs_sd = theirs.state_dict()
    for key, value in ours.state_dict().items():
        np.testing.assert_allclose(value.numpy(), theirs_sd[key].numpy(), rtol=1e-5, atol=1e-6, err_msg=key)
