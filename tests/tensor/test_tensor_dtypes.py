"""Dtype rules: float32 by default, float64 kept end to end when asked for, int64/bool for indices and masks,
PyTorch's promotion for mixed int/float arithmetic, and clear errors for unknown dtype and device names."""

import numpy as np
import pytest
import torch

import ganglion as g


# ------------------------------------------------------------------------------------------ default float
def test_default_dtype_is_float32():
    assert g.get_default_dtype() == g.float32
    assert g.tensor([1.0]).dtype == g.float32
    assert g.zeros(2).dtype == g.ones(2).dtype == g.rand(2).dtype == g.randn(2).dtype == g.float32


def test_numpy_float64_becomes_float32_unless_asked():
    a = np.array([0.1, 0.2], dtype=np.float64)
    assert g.tensor(a).dtype == g.float32
    assert g.tensor(np.float64(0.5)).dtype == g.float32
    kept = g.tensor(a, dtype=g.float64)
    assert kept.dtype == g.float64 and kept.tolist() == [0.1, 0.2]  # exact: no detour through float32


def test_other_numpy_dtypes_are_kept_by_tensor():
    assert g.tensor(np.zeros(2, dtype=np.float32)).dtype == g.float32
    assert g.tensor(np.zeros(2, dtype=np.float16)).dtype == g.float16
    assert g.tensor(np.zeros(2, dtype=np.int32)).dtype == g.int32
    assert g.tensor(np.zeros(2, dtype=np.int64)).dtype == g.int64
    assert g.tensor(np.zeros(2, dtype=bool)).dtype == g.bool_


def test_dtype_aliases_match_torch_names():
    pairs = {
        g.float: torch.float, g.double: torch.double, g.half: torch.half, g.long: torch.long, g.int: torch.int,
        g.short: torch.short, g.bool: torch.bool, g.float32: torch.float32, g.int64: torch.int64, g.uint8: torch.uint8,
    }
    for ours, theirs in pairs.items():
        assert str(ours) == str(theirs).replace("torch.", "")


@pytest.mark.parametrize(
    "spec, expected",
    [("float64", "float64"), ("double", "float64"), ("torch.float16", "float16"), ("ganglion.int32", "int32"),
     ("long", "int64"), ("bool", "bool"), (float, "float32"), (int, "int64"), (bool, "bool"), (np.int16, "int16")],
    ids=str,
)
def test_dtype_may_be_given_by_name_or_python_type(spec, expected):
    assert str(g.zeros(2, dtype=spec).dtype) == expected


@pytest.mark.parametrize("bad", ["floaty", "complex64", "str"])
def test_unknown_dtype_name_raises_typeerror_listing_accepted_names(bad):
    with pytest.raises(TypeError, match=r"accepted names are .*float32.*int64") as info:
        g.zeros(2, dtype=bad)
    assert repr(bad) in str(info.value)
    with pytest.raises(TypeError, match="accepted names"):
        g.tensor([1.0]).to(dtype=bad)


def test_unsupported_numpy_dtype_raises_typeerror():
    with pytest.raises(TypeError, match="complex64"):
        g.ones(2, dtype=np.complex64)


@pytest.mark.parametrize("bad", ["tpu", "gpu", "cuda:x", "mps", "CPU"])
def test_unknown_device_raises_valueerror_listing_accepted_ones(bad):
    accepted = r"'cpu', 'cuda'.*'cuda:N'"
    with pytest.raises(ValueError, match=accepted):
        g.zeros(2, device=bad)
    with pytest.raises(ValueError, match=accepted):
        g.device(bad)
    with pytest.raises(ValueError, match=accepted):
        g.ones(2).to(bad)


def test_cpu_has_no_index_but_zero():
    assert g.device("cpu:0").index == 0 and g.device("cpu:0") != g.device("cpu")  # as torch
    t = g.ones(2)
    assert t.to("cpu:0") is t and t.to(g.device("cpu", 0)) is t  # the same placement: no new tensor
    with pytest.raises(ValueError, match="CPU has no index"):
        g.zeros(2, device="cpu:1")


def test_device_given_by_a_non_string_raises_typeerror():
    with pytest.raises(TypeError, match="device"):
        g.device(3)


# --------------------------------------------------------------------------------------- set_default_dtype
def test_set_default_dtype_float64_changes_what_floats_become():
    g.set_default_dtype(g.float64)
    assert g.get_default_dtype() == g.float64
    assert g.tensor([1.5]).dtype == g.float64
    assert g.tensor(np.zeros(2)).dtype == g.float64
    for t in (g.zeros(2), g.ones(2), g.empty(2), g.rand(2), g.randn(2), g.full((2,), 0.5), g.arange(0.0, 2.0),
              g.linspace(0, 1, 3), g.eye(2)):
        assert t.dtype == g.float64
    assert g.tensor([1, 2]).dtype == g.int64  # ints are not floats
    assert (g.tensor([1, 2]) / g.tensor([2, 4])).dtype == g.float64
    assert torch.get_default_dtype() == torch.float32  # ganglion's setting is its own
    g.set_default_dtype("float32")
    assert g.get_default_dtype() == g.float32 and g.tensor([1.5]).dtype == g.float32


@pytest.mark.parametrize("bad", [g.int64, g.float16, "bool"])
def test_set_default_dtype_rejects_non_float32_64(bad):
    with pytest.raises(TypeError, match="float32 and float64"):
        g.set_default_dtype(bad)
    assert g.get_default_dtype() == g.float32


# ------------------------------------------------------------------------------------------- float64 path
def _float64_ops():
    a = g.tensor([[0.5, 1.5, 2.0], [1.0, 0.25, 3.0]], dtype=g.float64)
    b = g.tensor([[1.0, 2.0, 0.5], [0.75, 1.25, 2.5]], dtype=g.float64)
    return a, b, {
        "add": lambda: a + b, "add_scalar": lambda: a + 1.5, "radd_int": lambda: 2 + a, "sub": lambda: a - b,
        "mul": lambda: a * b, "mul_scalar": lambda: a * 0.1, "div": lambda: a / b, "rdiv": lambda: 1 / a,
        "pow": lambda: a ** 2, "rpow": lambda: 2.0 ** a, "neg": lambda: -a, "exp": lambda: a.exp(),
        "log": lambda: a.log(), "sqrt": lambda: a.sqrt(), "tanh": lambda: a.tanh(), "sigmoid": lambda: a.sigmoid(),
        "relu": lambda: a.relu(), "abs": lambda: a.abs(), "clamp": lambda: a.clamp(0.5, 1.5),
        "sum": lambda: a.sum(), "mean": lambda: a.mean(dim=0), "max": lambda: a.amax(), "var": lambda: a.var(),
        "std": lambda: a.std(), "logsumexp": lambda: a.logsumexp(1), "softmax": lambda: a.softmax(1),
        "log_softmax": lambda: a.log_softmax(1), "matmul": lambda: a @ b.T, "reshape": lambda: a.reshape(3, 2),
        "transpose": lambda: a.transpose(0, 1), "cat": lambda: g.cat([a, b]), "stack": lambda: g.stack([a, b]),
        "where": lambda: g.where(a > b, a, b), "getitem": lambda: a[0, 1:], "maximum": lambda: g.maximum(a, b),
        "with_float32": lambda: a + g.ones(3), "with_int64": lambda: a * g.tensor([1, 2, 3]),
    }


@pytest.mark.parametrize("name", sorted(_float64_ops()[2]))
def test_float64_is_kept_by_ops(name):
    a, b, ops = _float64_ops()
    out = ops[name]()
    assert out.dtype == g.float64, f"{name} turned float64 into {out.dtype}"


def test_float64_values_match_torch_to_full_precision():
    x = np.array([0.1, 0.7, 1.3], dtype=np.float64)
    ours = (g.tensor(x, dtype=g.float64).exp() * 1e-3 + 1.0).log().sum()
    ref = (torch.tensor(x, dtype=torch.float64).exp() * 1e-3 + 1.0).log().sum()
    assert ours.dtype == g.float64
    assert abs(ours.item() - ref.item()) < 1e-15


def test_float64_backward_gives_float64_grads():
    x = g.tensor([0.3, -1.2], dtype=g.float64, requires_grad=True)
    w = g.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=g.float64, requires_grad=True)
    ((w @ x).tanh() * 0.5).sum().backward()
    assert x.grad.dtype == g.float64 and w.grad.dtype == g.float64
    tx = torch.tensor([0.3, -1.2], dtype=torch.float64, requires_grad=True)
    tw = torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=torch.float64, requires_grad=True)
    ((tw @ tx).tanh() * 0.5).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-12)


def test_float32_leaf_through_a_float64_cast_gets_a_float32_grad():
    x = g.tensor([1.0, 2.0], requires_grad=True)
    (x.double() * 3).sum().backward()
    assert x.grad.dtype == g.float32 and x.grad.tolist() == [3.0, 3.0]


# ---------------------------------------------------------------------------------------- indices, masks
def test_comparisons_give_bool_masks_that_select():
    x = g.tensor([-1.0, 2.0, -3.0, 4.0])
    mask = x > 0
    assert mask.dtype == g.bool_ and mask.tolist() == [False, True, False, True]
    assert x[mask].tolist() == [2.0, 4.0]
    assert (x == 2.0).tolist() == [False, True, False, False]


def test_argmax_gives_int64_indices_that_index():
    x = g.tensor([[0.1, 0.9, 0.3], [0.8, 0.2, 0.5]])
    idx = x.argmax(dim=1)
    assert idx.dtype == g.int64 and idx.tolist() == torch.tensor(x.tolist()).argmax(dim=1).tolist()
    assert x[g.arange(2), idx].tolist() == pytest.approx([0.9, 0.8])
    assert g.tensor([10, 20, 30])[g.tensor([2, 0])].tolist() == [30, 10]


def test_requires_grad_is_only_for_floating_tensors():
    with pytest.raises(RuntimeError, match="floating point"):
        g.tensor([1, 2]).requires_grad_()
    with pytest.raises(RuntimeError, match="floating point"):
        g.tensor([True], requires_grad=True)


# ------------------------------------------------------------------------------------ mixed int / float
def test_int_tensor_divided_by_int_tensor_is_float32_like_torch(same_as_torch):
    same_as_torch(g.tensor([1, 2, 3]) / g.tensor([2, 2, 2]), torch.tensor([1, 2, 3]) / torch.tensor([2, 2, 2]))


def test_int_tensor_plus_float_tensor_is_float32_like_torch(same_as_torch):
    same_as_torch(g.tensor([1, 2]) + g.tensor([0.5, 0.25]), torch.tensor([1, 2]) + torch.tensor([0.5, 0.25]))


def test_int_arithmetic_stays_int64_like_torch(same_as_torch):
    a, ta = g.tensor([1, 2, 3]), torch.tensor([1, 2, 3])
    same_as_torch(a * 3, ta * 3)
    same_as_torch(a + a, ta + ta)
    same_as_torch(a - 1, ta - 1)


@pytest.mark.parametrize(
    "op", [lambda t: t / 2, lambda t: t + 1.5, lambda t: 2 / t, lambda t: t * 0.5, lambda t: t - 0.25],
    ids=["div_int", "add_float", "rdiv_int", "mul_float", "sub_float"],
)
def test_int_tensor_with_python_scalar_gives_float32_like_torch(op, same_as_torch):
    same_as_torch(op(g.tensor([1, 2, 4])), op(torch.tensor([1, 2, 4])))


def test_float32_tensor_with_numpy_float64_scalar_stays_float32(same_as_torch):
    same_as_torch(g.tensor([1.0, 2.0]) * np.float64(1.5), torch.tensor([1.0, 2.0]) * np.float64(1.5))


# ------------------------------------------------------------------------------------------- conversions
@pytest.mark.parametrize("method", ["float", "double", "half", "long", "int", "bool"])
def test_cast_methods_match_torch(method, same_as_torch):
    data = [[-1.7, 0.0, 2.5], [3.2, -0.4, 1.0]]
    same_as_torch(getattr(g.tensor(data), method)(), getattr(torch.tensor(data), method)(), rtol=1e-3)


def test_to_dtype_forms():
    t = g.tensor([1.5, -2.5])
    assert t.to(g.float64).dtype == g.float64
    assert t.to("float64").dtype == g.float64
    assert t.to(dtype=g.int64).tolist() == [1, -2]
    assert t.to("cpu", g.float64).dtype == g.float64
    assert t.to(g.tensor([1])).dtype == g.int64  # to(other): other's dtype and device
    assert t.to(g.float32) is t  # nothing to do: the same tensor
    assert t.type() == "ganglion.float32" and t.type(g.float16).dtype == g.float16
