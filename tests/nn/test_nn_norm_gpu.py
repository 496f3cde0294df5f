"""Normalization layers on 'cuda' (CuPy) give what they give on the CPU, and their buffers move with the module.
Skipped cleanly without CuPy or a GPU."""

import numpy as np
import pytest

import ganglion as g
from ganglion import nn

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not g.cuda.is_available(), reason="needs CuPy and a visible GPU"),
]

LAYERS = [
    ("bn1d", lambda: nn.BatchNorm1d(4), (6, 4)),
    ("bn2d_cumulative", lambda: nn.BatchNorm2d(3, momentum=None), (2, 3, 4, 4)),
    ("in2d_tracked", lambda: nn.InstanceNorm2d(3, affine=True, track_running_stats=True), (2, 3, 4, 4)),
    ("ln", lambda: nn.LayerNorm((3, 4)), (2, 3, 4)),
    ("gn", lambda: nn.GroupNorm(2, 6), (2, 6, 5)),
    ("lrn", lambda: nn.LocalResponseNorm(3, alpha=0.5), (2, 5, 3)),
    ("spectral_norm", lambda: nn.utils.spectral_norm(nn.Linear(4, 3)), (5, 4)),
    ("weight_norm", lambda: nn.utils.weight_norm(nn.Linear(4, 3)), (5, 4)),
]


def _run(module, x, dy, device):
    xt = g.tensor(x, device=device, requires_grad=True)
    y = module(xt)
    y.backward(g.tensor(dy, device=device))
    return y.detach().cpu().numpy(), xt.grad.cpu().numpy()


@pytest.mark.parametrize("row", LAYERS, ids=[r[0] for r in LAYERS])
def test_same_results_on_the_gpu(row, rng):
    _, make, shape = row
    g.manual_seed(0)
    cpu = make()
    g.manual_seed(0)
    gpu = make().cuda()
    for b in gpu.buffers():
        assert b.device.type == "cuda"
    for step in range(3):
        x = (2 * rng.standard_normal(shape) + 1).astype(np.float32)
        dy = rng.standard_normal(shape).astype(np.float32)
        for a, b in zip(_run(cpu, x, dy, "cpu"), _run(gpu, x, dy, "cuda")):
            np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5, err_msg=f"step {step}")
    cpu_state = cpu.state_dict()
    for key, value in gpu.state_dict().items():
        np.testing.assert_allclose(value.cpu().numpy(), cpu_state[key].numpy(), rtol=1e-4, atol=1e-5, err_msg=key)
    gpu.eval(), cpu.eval()
    x = rng.standard_normal(shape).astype(np.float32)
    np.testing.assert_allclose(gpu(g.tensor(x, device="cuda")).detach().cpu().numpy(),
                               cpu(g.tensor(x)).detach().numpy(), rtol=1e-4, atol=1e-5)
    gpu.cpu()
    assert all(b.device.type == "cpu" for b in gpu.buffers())
