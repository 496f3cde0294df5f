"""The Tensor object itself: shape attributes, conversions to Python and NumPy, devices, printing, hashing,
iteration and truth values, checked against PyTorch where it has the same method."""

import numpy as np
import pytest
import torch

import ganglion as g

DATA = [[1.5, -2.0, 3.25], [1.0, 4.0, -0.5]]


# ------------------------------------------------------------------------------------------ shape attributes
def test_shape_ndim_size_numel_match_torch():
    t, ref = g.tensor(DATA), torch.tensor(DATA)
    assert t.shape == tuple(ref.shape) == (2, 3)
    assert t.ndim == ref.ndim == t.dim() == 2
    assert t.size() == tuple(ref.size())
    for dim in (0, 1, -1, -2):
        assert t.size(dim) == ref.size(dim)
    assert t.numel() == ref.numel() == 6
    assert g.tensor(5.0).shape == () and g.tensor(5.0).numel() == 1 and g.tensor(5.0).ndim == 0
    assert g.zeros(0, 4).numel() == 0


def test_size_with_bad_dim_raises_indexerror():
    with pytest.raises(IndexError, match="out of range"):
        g.zeros(2, 3).size(2)
    with pytest.raises(IndexError, match="out of range"):
        g.zeros(2, 3).size(-3)


def test_dtype_attribute():
    assert g.tensor(DATA).dtype == g.float32
    assert g.tensor([1]).dtype == g.int64
    assert g.tensor([True]).dtype == g.bool_


# --------------------------------------------------------------------------------------------- conversions
def test_numpy_shares_memory_and_keeps_dtype():
    t = g.tensor(DATA)
    a = t.numpy()
    assert isinstance(a, np.ndarray) and a.dtype == np.float32 and a.shape == (2, 3)
    a[0, 0] = 9.0
    assert t[0, 0].item() == 9.0


def test_numpy_of_a_tensor_that_requires_grad_raises():
    t = g.tensor(DATA, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"detach\(\)\.numpy\(\)"):
        t.numpy()
    np.testing.assert_array_equal(t.detach().numpy(), np.array(DATA, dtype=np.float32))


def test_item_returns_python_scalars_like_torch():
    for data in ([2.5], 7, [[True]], -3.0):
        ours, ref = g.tensor(data).item(), torch.tensor(data).item()
        assert ours == ref and type(ours) is type(ref)


def test_item_of_many_elements_raises():
    with pytest.raises(ValueError, match="2 elements"):
        g.tensor([1.0, 2.0]).item()


def test_tolist_matches_torch():
    for data in (DATA, [1, 2, 3], 4.5, [[True, False]], [[]]):
        assert g.tensor(data).tolist() == torch.tensor(data).tolist()


def test_python_number_conversions():
    assert float(g.tensor([2.5])) == 2.5
    assert int(g.tensor(3.9)) == 3
    assert [10, 20, 30][g.tensor(1)] == 20  # __index__ for int tensors
    with pytest.raises(TypeError, match="integer"):
        [10, 20][g.tensor(1.0)]


def test_data_is_a_detached_view():
    t = g.tensor([1.0, 2.0], requires_grad=True)
    d = t.data
    assert isinstance(d, g.Tensor) and not d.requires_grad and d.is_leaf
    d.mul_(2)  # outside the graph: allowed, and visible through t
    assert t.tolist() == [2.0, 4.0]
    t.data = g.tensor([5.0, 6.0])
    assert t.tolist() == [5.0, 6.0] and t.requires_grad
    with pytest.raises(TypeError, match="Tensor.data"):
        t.data = [1.0, 2.0]


# ------------------------------------------------------------------------------------------------ devices
def test_device_is_cpu():
    t = g.ones(2)
    assert t.device == g.device("cpu") and t.device == "cpu" and str(t.device) == "cpu"
    assert t.device.type == "cpu" and t.device.index is None and not t.is_cuda
    assert repr(t.device) == "device(type='cpu')"


def test_to_cpu_and_cpu_return_the_same_tensor():
    t = g.ones(2)
    assert t.to("cpu") is t and t.cpu() is t and t.to(g.device("cpu")) is t
    assert t.to(device="cpu") is t
    c = t.to("cpu", copy=True)
    assert c is not t and c.tolist() == t.tolist() and not np.shares_memory(c.array, t.array)


def test_device_objects():
    d = g.device("cuda:1")
    assert d.type == "cuda" and d.index == 1 and str(d) == "cuda:1"
    assert g.device("cuda", 0) == "cuda:0" and g.device("cuda") != g.device("cuda", 0)  # torch: no index != index 0
    assert len({g.device("cpu"), g.device("cpu"), g.device("cuda:0")}) == 2


def test_cuda_is_available_is_a_bool():
    assert isinstance(g.cuda.is_available(), bool)
    assert isinstance(g.cuda.device_count(), int)
    assert (g.cuda.device_count() > 0) == g.cuda.is_available()


@pytest.mark.skipif(g.cuda.is_available(), reason="checks the error given when there is no GPU")
def test_cuda_without_a_gpu_raises_a_clear_runtimeerror():
    t = g.ones(2)
    for move in (t.cuda, lambda: t.to("cuda"), lambda: t.to("cuda:0"), lambda: g.zeros(2, device="cuda"),
                 lambda: g.tensor([1.0], device="cuda")):
        with pytest.raises(RuntimeError, match=r"CuPy is not installed or no GPU.*is_available"):
            move()
    assert t.device == "cpu"  # nothing moved


# ------------------------------------------------------------------------------------------------ printing
def test_repr_shows_values_and_extras():
    assert repr(g.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(g.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(g.tensor([True])) == "tensor([ True])"
    assert repr(g.tensor(3.5)) == "tensor(3.5)"
    assert repr(g.tensor([1.0], dtype=g.float64)) == "tensor([1.], dtype=ganglion.float64)"
    assert repr(g.tensor([1], dtype=g.int32)) == "tensor([1], dtype=ganglion.int32)"
    x = g.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x) == "tensor([1., 2.], requires_grad=True)"
    assert repr(x * 2) == "tensor([2., 4.], grad_fn=<MulBackward>)"
    assert str(g.tensor([[1, 2], [3, 4]])) == "tensor([[1, 2],\n        [3, 4]])"


def test_repr_follows_the_default_dtype():
    g.set_default_dtype(g.float64)
    assert repr(g.tensor([1.0])) == "tensor([1.])"
    assert repr(g.tensor([1.0], dtype=g.float32)) == "tensor([1.], dtype=ganglion.float32)"


def test_repr_of_a_large_tensor_is_summarized():
    text = repr(g.arange(100000))
    assert "..." in text and len(text) < 200


# ------------------------------------------------------------------------------- hashing, iteration, truth
def test_tensors_are_hashable_by_identity():
    a, b = g.tensor([1.0]), g.tensor([1.0])
    table = {a: "a", b: "b"}
    assert table[a] == "a" and table[b] == "b" and len(table) == 2
    assert len({a, b, a}) == 2
    assert hash(a) == hash(a) and hash(a) != hash(b)


def test_iteration_yields_rows_like_torch():
    t, ref = g.tensor(DATA), torch.tensor(DATA)
    rows = list(t)
    assert len(rows) == 2 and all(isinstance(r, g.Tensor) for r in rows)
    assert [r.tolist() for r in rows] == [r.tolist() for r in ref]
    assert [x.item() for x in g.tensor([3, 1, 2])] == [3, 1, 2]


def test_iteration_keeps_the_graph():
    x = g.tensor([1.0, 2.0, 3.0], requires_grad=True)
    total = sum(v * v for v in x)
    total.backward()
    assert x.grad.tolist() == [2.0, 4.0, 6.0]


def test_len():
    assert len(g.zeros(4, 2)) == 4 == len(torch.zeros(4, 2))
    assert len(g.zeros(0)) == 0
    with pytest.raises(TypeError, match="0-d"):
        len(g.tensor(1.0))
    with pytest.raises(TypeError, match="0-d"):
        iter(g.tensor(1.0))


@pytest.mark.parametrize("data", [[0.0], [2.0], 0, 1, [[True]], [[False]], -0.5])
def test_bool_of_one_element_tensor_matches_torch(data):
    assert bool(g.tensor(data)) is bool(torch.tensor(data))


def test_bool_of_many_elements_is_ambiguous():
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(g.tensor([1.0, 0.0]))
    with pytest.raises(RuntimeError, match="ambiguous"):
        if g.zeros(0):
            pass


# ---------------------------------------------------------------------------------------- NumPy interop
def test_np_asarray_gives_the_values():
    t = g.tensor(DATA)
    a = np.asarray(t)
    assert isinstance(a, np.ndarray) and a.dtype == np.float32
    np.testing.assert_array_equal(a, np.array(DATA, dtype=np.float32))
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    assert np.array(g.tensor([1, 2])).dtype == np.int64


def test_numpy_functions_accept_tensors():
    t = g.tensor(DATA)
    assert np.sum(np.asarray(t)) == pytest.approx(7.25)
    np.testing.assert_allclose(np.stack([np.asarray(t), np.asarray(t)]).shape, (2, 2, 3))


@pytest.mark.parametrize(
    "op",
    [lambda a, b: a + b, lambda a, b: a * b, lambda a, b: a - b, lambda a, b: a / b],
    ids=["add", "mul", "sub", "div"],
)
def test_ndarray_op_tensor_returns_a_tensor(op):
    a = np.array([[1.0, 2.0, 4.0]], dtype=np.float32)
    t = g.tensor(DATA)
    out = op(a, t)
    assert isinstance(out, g.Tensor) and out.shape == (2, 3) and out.dtype == g.float32
    np.testing.assert_allclose(np.asarray(out), op(a, np.array(DATA, dtype=np.float32)), rtol=1e-6)


def test_ndarray_op_tensor_keeps_the_graph():
    x = g.tensor([1.0, 2.0], requires_grad=True)
    y = np.array([3.0, 4.0]) * x
    assert isinstance(y, g.Tensor) and y.requires_grad and y.dtype == g.float32
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 4.0]


def test_tensor_op_ndarray_returns_a_tensor():
    out = g.tensor([1.0, 2.0]) + np.array([0.5, 0.5])
    assert isinstance(out, g.Tensor) and out.tolist() == [1.5, 2.5]


# ------------------------------------------------------------------------------------------ 0-d results
@pytest.mark.parametrize(
    "make", [lambda: g.tensor([1.0, 2.0]).sum(), lambda: g.tensor(1.5) * 2, lambda: g.tensor([[3.0]]).mean(),
             lambda: g.tensor(2.0).exp()],
    ids=["sum", "scalar_mul", "mean", "exp"],
)
def test_zero_dim_results_are_arrays_like_torch(make):
    t = make()
    assert t.shape == () and isinstance(t.numpy(), np.ndarray) and t.numpy().ndim == 0
    before = t.item()
    t.mul_(2)  # in place works on a 0-d result, as on any other
    assert t.item() == 2 * before
    t.zero_()
    assert t.item() == 0.0


def test_zero_dim_leaf_grad_can_be_zeroed_in_place():
    x = g.tensor(2.0, requires_grad=True)
    (x * x).backward()
    assert isinstance(x.grad.numpy(), np.ndarray) and x.grad.item() == 4.0
    x.grad.zero_()
    assert x.grad.item() == 0.0
    (x * 3).backward()
    assert x.grad.item() == 3.0
