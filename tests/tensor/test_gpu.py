"""The same tensors and graphs on 'cuda' (CuPy) as on the CPU. Skipped cleanly without CuPy or a GPU."""

import numpy as np
import pytest

import ganglion as g
from ganglion.autograd import Function, gradcheck

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not g.cuda.is_available(), reason="needs CuPy and a visible GPU"),
]


def _pair(data, dtype=g.float32):
    """The same leaf on the CPU and on the GPU, both requiring grad."""
    cpu = g.tensor(data, dtype=dtype, requires_grad=True)
    return cpu, g.tensor(data, dtype=dtype, device="cuda", requires_grad=True)


def test_factories_place_tensors_on_the_gpu():
    for t in (g.zeros(2, 3, device="cuda"), g.ones(4, device="cuda"), g.arange(5, device="cuda"),
              g.tensor([1.0, 2.0], device="cuda"), g.eye(3, device="cuda"), g.full((2,), 7, device="cuda")):
        assert t.device == "cuda:0" and t.is_cuda
    assert g.arange(5, device="cuda").tolist() == [0, 1, 2, 3, 4]
    assert g.zeros_like(g.ones(2, device="cuda")).device == "cuda:0"


def test_moving_to_the_gpu_and_back_keeps_values_and_dtype():
    cpu = g.tensor([[1.5, -2.0], [3.0, 0.25]], dtype=g.float64)
    gpu = cpu.cuda()
    assert gpu.device.type == "cuda" and gpu.dtype == g.float64 and cpu.device == "cpu"
    back = gpu.cpu()
    assert back.device == "cpu" and back.tolist() == cpu.tolist()
    assert gpu.to("cuda") is gpu
    assert gpu[0, 0].item() == 1.5
    np.testing.assert_array_equal(np.asarray(gpu), cpu.numpy())
    assert "device='cuda:0'" in repr(gpu)


def test_numpy_of_a_gpu_tensor_raises():
    with pytest.raises(TypeError, match=r"cpu\(\)"):
        g.ones(2, device="cuda").numpy()


def test_seeded_random_numbers_are_the_same_on_both_devices():
    g.manual_seed(3)
    cpu = g.randn(4, 5)
    g.manual_seed(3)
    gpu = g.randn(4, 5, device="cuda")
    assert gpu.device.type == "cuda" and gpu.tolist() == cpu.tolist()


@pytest.mark.parametrize(
    "fn",
    [
        lambda x, w: (x @ w).tanh().sum(),
        lambda x, w: (x.exp() * 0.5 + w.T.sigmoid()).mean(),
        lambda x, w: x.softmax(1).log().sum() + (w ** 2).sum(),
        lambda x, w: (x.reshape(-1)[1:4] * w.reshape(-1)[:3]).sum(),
        lambda x, w: g.where(x > 0, x, w.T).relu().amax() + (x / (w.T.abs() + 1)).var(),
    ],
    ids=["matmul_tanh", "exp_sigmoid", "softmax_log_pow", "reshape_getitem", "where_relu_div"],
)
def test_forward_and_backward_match_the_cpu(fn):
    x_data = [[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]
    w_data = [[1.0, -0.5], [0.3, 0.8], [-1.2, 0.6]]
    x, xg = _pair(x_data)
    w, wg = _pair(w_data)
    out, out_g = fn(x, w), fn(xg, wg)
    assert out_g.device.type == "cuda"
    np.testing.assert_allclose(out_g.item(), out.item(), rtol=1e-5)
    out.backward()
    out_g.backward()
    for cpu_leaf, gpu_leaf in ((x, xg), (w, wg)):
        assert gpu_leaf.grad.device.type == "cuda" and gpu_leaf.grad.dtype == g.float32
        np.testing.assert_allclose(gpu_leaf.grad.cpu().tolist(), cpu_leaf.grad.tolist(), rtol=1e-5, atol=1e-6)


def test_gradients_accumulate_on_the_gpu():
    _, x = _pair([1.0, 2.0])
    (x * x).sum().backward()
    (x * 3).sum().backward()
    assert x.grad.device.type == "cuda" and x.grad.cpu().tolist() == [5.0, 7.0]


def test_gradient_of_a_moved_leaf_returns_to_the_cpu():
    x = g.tensor([1.0, -2.0, 3.0], requires_grad=True)
    (x.cuda() ** 2).sum().backward()
    assert x.grad.device == "cpu" and x.grad.tolist() == [2.0, -4.0, 6.0]


def test_float64_is_kept_on_the_gpu_and_gradcheck_passes():
    x = g.tensor([0.3, -0.7, 1.1], dtype=g.float64, device="cuda", requires_grad=True)
    assert (x.exp() * 2 + 1).sum().dtype == g.float64
    assert gradcheck(lambda t: (t.tanh() * t).sum(), (x,))


def test_custom_function_gets_the_gpu_array_module():
    seen = []

    class Square(Function):
        def forward(self, x):
            seen.append(self.xp.__name__)
            self.save(x)
            return x * x

        def backward(self, dy):
            (x,) = self.saved
            return 2 * x * dy

    _, x = _pair([1.0, 3.0])
    Square.apply(x).sum().backward()
    assert seen == ["cupy"] and x.grad.cpu().tolist() == [2.0, 6.0]


def test_in_place_updates_on_the_gpu():
    _, x = _pair([1.0, 2.0])
    with g.no_grad():
        x.mul_(2).add_(1)
        x -= 0.5
    assert x.device.type == "cuda" and x.cpu().tolist() == [2.5, 4.5]


# -------------------------------------------------------------------------------------- mixed devices
def test_mixing_devices_in_one_op_raises_a_clear_error():
    a = g.ones(3, device="cuda")
    b = g.ones(3)
    for op in (lambda: a + b, lambda: b * a, lambda: g.cat([a, b]), lambda: g.ones(2, 3, device="cuda") @ g.ones(3)):
        with pytest.raises(RuntimeError, match=r"expected all tensors on one device.*cpu.*cuda:0"):
            op()


def test_mixing_devices_with_python_scalars_is_fine():
    a = g.ones(3, device="cuda")
    assert (a * 2.0 + 1).device.type == "cuda"
