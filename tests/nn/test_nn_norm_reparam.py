"""nn.utils.spectral_norm and nn.utils.weight_norm against PyTorch's (legacy) versions: the same state_dict keys and
shapes, the same outputs and gradients over several steps (u and v follow the same power iteration), gradcheck of
the weight they compute, and removal. The parity tests run on the GPU too (the ``device`` fixture)."""

import numpy as np
import pytest
import torch

import ganglion as g
from ganglion import nn
from ganglion.autograd import gradcheck
from ganglion.nn.utils.spectral_norm import SpectralNorm
from ganglion.nn.utils.weight_norm import _weight_norm

# PyTorch deprecates its legacy weight_norm (the reference here) in favour of parametrizations
pytestmark = pytest.mark.filterwarnings("ignore:.*weight_norm.*deprecated:FutureWarning")


def _copy_into_torch(ours, theirs):
    theirs.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in ours.state_dict().items()})


def _close(actual, expected, tol, message=""):
    """allclose with the absolute tolerance scaled to the largest entry: these are float32 sums of terms up to that
    entry's size, so a far smaller entry carries an absolute error relative to it (seen: 46.2893 against 46.2873
    beside entries of 1e4, for 5 random draws in 300)."""
    scale = max(1.0, float(np.abs(expected).max()))
    np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol * scale, err_msg=message)


def _compare_steps(ours, theirs, shape, rng, steps=3, tol=2e-5, device="cpu"):
    """Run both modules on the same inputs (ours on ``device``); compare outputs, input and parameter gradients and
    all state."""
    for step in range(steps):
        x = rng.standard_normal(shape).astype(np.float32)
        xg, xt = g.tensor(x, device=device, requires_grad=True), torch.from_numpy(x.copy()).requires_grad_(True)
        y, yt = ours(xg), theirs(xt)
        dy = rng.standard_normal(tuple(y.shape)).astype(np.float32)
        y.backward(g.tensor(dy, device=device))
        yt.backward(torch.from_numpy(dy))
        _close(y.detach().cpu().numpy(), yt.detach().numpy(), tol, f"step {step}")
        _close(xg.grad.cpu().numpy(), xt.grad.numpy(), tol, f"step {step}: input gradient")
        their_params = dict(theirs.named_parameters())
        for name, p in ours.named_parameters():
            _close(p.grad.cpu().numpy(), their_params[name].grad.numpy(), tol, f"step {step}: gradient of {name}")
        their_state = theirs.state_dict()
        for key, value in ours.state_dict().items():
            assert value.device.type == device, f"step {step}: {key} left the device"
            np.testing.assert_allclose(value.cpu().numpy(), their_state[key].numpy(), rtol=tol, atol=tol,
                                       err_msg=f"step {step}: {key}")
        ours.zero_grad(), theirs.zero_grad()


# ------------------------------------------------------------------------------------------------ spectral norm
@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("n_power_iterations", [1, 3])
def test_spectral_norm_linear_matches_torch(mode, n_power_iterations, rng, device):
    ours = nn.utils.spectral_norm(nn.Linear(5, 4), n_power_iterations=n_power_iterations)
    theirs = torch.nn.utils.spectral_norm(torch.nn.Linear(5, 4), n_power_iterations=n_power_iterations)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["bias", "weight_orig", "weight_u", "weight_v"]
    assert [n for n, _ in ours.named_parameters()] == ["bias", "weight_orig"]
    _copy_into_torch(ours, theirs)
    ours.to(device)
    ours.train(mode == "train"), theirs.train(mode == "train")
    u_before = ours.weight_u.cpu().numpy().copy()
    _compare_steps(ours, theirs, (3, 5), rng, device=device)
    # u moves only in training
    assert np.array_equal(ours.weight_u.cpu().numpy(), u_before) == (mode == "eval")


def test_spectral_norm_converges_to_the_largest_singular_value(rng):
    g.manual_seed(0)  # power iteration's speed depends on the gap between singular values: a fixed draw, not luck
    lin = nn.utils.spectral_norm(nn.Linear(6, 5, dtype=g.float64), n_power_iterations=50)
    lin(g.ones(1, 6, dtype=g.float64))
    w = lin.weight.detach().numpy()
    np.testing.assert_allclose(np.linalg.svd(w, compute_uv=False)[0], 1.0, rtol=1e-8)
    np.testing.assert_allclose(np.linalg.norm(lin.weight_u.numpy()), 1.0, rtol=1e-12)


def test_spectral_norm_of_a_4d_weight_with_dim_1_matches_torch(rng):
    """A conv-shaped weight (out, in, kh, kw) seen along dim=1, as for transposed convolutions."""

    class Kernel(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(g.tensor(rng.standard_normal((3, 4, 2, 2)), dtype=g.float32))

        def forward(self, x):
            return (self.weight * x).sum()

    class TorchKernel(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = torch.nn.Parameter(torch.zeros(3, 4, 2, 2))

        def forward(self, x):
            return (self.weight * x).sum()

    ours = nn.utils.spectral_norm(Kernel(), dim=1)
    theirs = torch.nn.utils.spectral_norm(TorchKernel(), dim=1)
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == {
        k: tuple(v.shape) for k, v in theirs.state_dict().items()
    } == {"weight_orig": (3, 4, 2, 2), "weight_u": (4,), "weight_v": (12,)}
    _copy_into_torch(ours, theirs)
    _compare_steps(ours, theirs, (3, 4, 2, 2), rng)


def test_spectral_norm_weight_gradcheck(rng):
    fn = SpectralNorm("weight", n_power_iterations=1, dim=0, eps=1e-12)

    class Holder(nn.Module):
        pass

    holder = Holder()
    holder.register_buffer("weight_u", g.tensor(rng.standard_normal(3), dtype=g.float64))
    holder.register_buffer("weight_v", g.tensor(rng.standard_normal(4), dtype=g.float64))

    def weight_of(w):
        holder.__dict__["weight_orig"] = w
        return fn.compute_weight(holder, do_power_iteration=False)

    w = g.tensor(rng.standard_normal((3, 4)), dtype=g.float64, requires_grad=True)
    assert gradcheck(weight_of, (w,))


def test_remove_spectral_norm_restores_a_plain_weight(rng):
    lin = nn.utils.spectral_norm(nn.Linear(4, 3))
    x = g.tensor(rng.standard_normal((2, 4)), dtype=g.float32)
    lin.eval()
    y = lin(x).detach().numpy()
    nn.utils.remove_spectral_norm(lin)
    assert list(lin.state_dict()) == ["bias", "weight"] and isinstance(lin.weight, nn.Parameter)
    np.testing.assert_allclose(lin(x).detach().numpy(), y, rtol=1e-6)
    with pytest.raises(ValueError, match="spectral_norm of 'weight' not found"):
        nn.utils.remove_spectral_norm(lin)


def test_spectral_norm_errors():
    lin = nn.utils.spectral_norm(nn.Linear(4, 3))
    with pytest.raises(RuntimeError, match="two spectral_norm hooks"):
        nn.utils.spectral_norm(lin)
    with pytest.raises(ValueError, match="no parameter 'kernel'.*weight, bias"):
        nn.utils.spectral_norm(nn.Linear(4, 3), name="kernel")
    with pytest.raises(ValueError, match="n_power_iterations to be positive"):
        nn.utils.spectral_norm(nn.Linear(4, 3), n_power_iterations=0)


# -------------------------------------------------------------------------------------------------- weight norm
@pytest.mark.parametrize("dim", [0, 1, None, -1])
def test_weight_norm_linear_matches_torch(dim, rng, device):
    ours = nn.utils.weight_norm(nn.Linear(5, 4), dim=dim)
    theirs = torch.nn.utils.weight_norm(torch.nn.Linear(5, 4), dim=dim)
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == {
        k: tuple(v.shape) for k, v in theirs.state_dict().items()
    }
    assert list(ours.state_dict()) == ["bias", "weight_g", "weight_v"]
    _copy_into_torch(ours, theirs)
    ours.to(device)
    _compare_steps(ours, theirs, (3, 5), rng, device=device)


def test_weight_norm_starts_at_the_original_weight_and_g_is_its_norm(rng):
    lin = nn.Linear(5, 4)
    w = lin.weight.detach().numpy().copy()
    nn.utils.weight_norm(lin)
    np.testing.assert_allclose(lin.weight_g.detach().numpy(), np.linalg.norm(w, axis=1, keepdims=True), rtol=1e-6)
    np.testing.assert_allclose(lin.weight.detach().numpy(), w, rtol=1e-6)
    # scaling v leaves the weight unchanged: only its direction counts
    lin.weight_v.array *= 3.0
    np.testing.assert_allclose(lin(g.ones(1, 5)).detach().numpy(), g.ones(1, 5).numpy() @ w.T + lin.bias.detach().numpy(),
                               rtol=1e-5)


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_weight_norm_gradcheck(dim, rng):
    v = g.tensor(rng.standard_normal((3, 2, 4)), dtype=g.float64, requires_grad=True)
    axes = tuple(a for a in range(3) if a != dim) if dim != -1 else None
    g_shape = () if dim == -1 else tuple(s if a == dim else 1 for a, s in enumerate(v.shape))
    gain = g.tensor(rng.uniform(0.5, 2.0, g_shape), dtype=g.float64, requires_grad=True)
    assert gradcheck(lambda v, gain: _weight_norm(v, gain, dim), (v, gain))
    w = _weight_norm(v, gain, dim).detach().numpy()
    norms = np.sqrt((w**2).sum(axis=axes, keepdims=dim != -1))
    np.testing.assert_allclose(norms, gain.detach().numpy(), rtol=1e-12)


@pytest.mark.parametrize("dtype", [g.float32, g.float64])
def test_weight_norm_keeps_the_dtype(dtype):
    lin = nn.utils.weight_norm(nn.Linear(3, 2, dtype=dtype), dim=None)
    assert lin.weight_g.dtype == lin.weight_v.dtype == lin.weight.dtype == dtype
    lin = nn.utils.spectral_norm(nn.Linear(3, 2, dtype=dtype))
    assert lin.weight_u.dtype == lin.weight_v.dtype == lin.weight_orig.dtype == dtype
    assert lin(g.ones(1, 3, dtype=dtype)).dtype == dtype


def test_remove_weight_norm_and_errors(rng):
    lin = nn.utils.weight_norm(nn.Linear(4, 3))
    x = g.tensor(rng.standard_normal((2, 4)), dtype=g.float32)
    y = lin(x).detach().numpy()
    with pytest.raises(RuntimeError, match="two weight_norm hooks"):
        nn.utils.weight_norm(lin)
    nn.utils.remove_weight_norm(lin)
    assert list(lin.state_dict()) == ["bias", "weight"] and isinstance(lin.weight, nn.Parameter)
    np.testing.assert_allclose(lin(x).detach().numpy(), y, rtol=1e-6)
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found"):
        nn.utils.remove_weight_norm(lin)
    with pytest.raises(ValueError, match="dim=2 is out of range"):
        nn.utils.weight_norm(nn.Linear(4, 3), dim=2)
