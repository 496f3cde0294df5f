"""Tensor factories against PyTorch's: values, shapes and the dtypes they infer."""

import numpy as np
import pytest
import torch

import ganglion as g


# --------------------------------------------------------------------------------------------- tensor(data)
@pytest.mark.parametrize(
    "data",
    [
        [1, 2, 3],                      # Python ints -> int64
        [1.0, 2.5],                     # Python floats -> float32
        [True, False],                  # bools -> bool
        [[1, 2], [3, 4]],
        [1, 2.5],                       # mixed int/float -> float32
        3,                              # 0-d int
        -0.5,                           # 0-d float
        True,
        [],                             # empty -> float32
        [[1.5], [2.5], [3.5]],
    ],
    ids=repr,
)
def test_tensor_matches_torch_tensor(data, same_as_torch):
    same_as_torch(g.tensor(data), torch.tensor(data))


@pytest.mark.parametrize("name", ["float16", "float32", "float64", "int8", "uint8", "int16", "int32", "int64", "bool"])
def test_tensor_with_explicit_dtype(name, same_as_torch):
    data = [[0, 1, 2], [3, 0, 1]]
    t = g.tensor(data, dtype=getattr(g, name if name != "bool" else "bool_"))
    same_as_torch(t, torch.tensor(data, dtype=getattr(torch, name)))


def test_tensor_copies_its_data():
    a = np.array([1.0, 2.0], dtype=np.float32)
    t = g.tensor(a)
    a[0] = 100.0
    assert t.tolist() == [1.0, 2.0]
    u = g.tensor(t)
    t.array[1] = -1.0
    assert u.tolist() == [1.0, 2.0]


def test_tensor_from_list_of_tensors():
    t = g.tensor([g.tensor(1.0), g.tensor(2.5)])
    assert t.shape == (2,) and t.dtype == g.float32 and t.tolist() == [1.0, 2.5]


def test_tensor_class_constructor_behaves_like_tensor_function():
    t = g.Tensor([[1.0, 2.0]], requires_grad=True)
    assert t.shape == (1, 2) and t.dtype == g.float32 and t.requires_grad and t.is_leaf


def test_ragged_data_raises_a_clear_valueerror():
    with pytest.raises(ValueError, match="rectangular"):
        g.tensor([[1, 2], [3]])


@pytest.mark.parametrize("data", [["a", "b"], [1 + 2j]])
def test_non_numeric_data_raises_typeerror(data):
    with pytest.raises(TypeError):
        g.tensor(data)


# ------------------------------------------------------------------------------------- filled factories
@pytest.mark.parametrize("name", ["zeros", "ones"])
@pytest.mark.parametrize("size", [(2, 3), ((2, 3),), ([4],), (0,), ((),)])
def test_zeros_ones_match_torch(name, size, same_as_torch):
    same_as_torch(getattr(g, name)(*size), getattr(torch, name)(*size))


@pytest.mark.parametrize("dtype", ["float64", "int64", "int32", "bool"])
def test_zeros_ones_with_dtype(dtype, same_as_torch):
    gd = g.bool_ if dtype == "bool" else getattr(g, dtype)
    same_as_torch(g.ones(2, 2, dtype=gd), torch.ones(2, 2, dtype=getattr(torch, dtype)))
    same_as_torch(g.zeros(3, dtype=gd), torch.zeros(3, dtype=getattr(torch, dtype)))


def test_negative_size_raises_valueerror():
    with pytest.raises(ValueError, match="non-negative"):
        g.zeros(2, -1)


@pytest.mark.parametrize("fill", [3, 2.5, True, -7, 0.0])
def test_full_infers_dtype_like_torch(fill, same_as_torch):
    same_as_torch(g.full((2, 3), fill), torch.full((2, 3), fill))


def test_full_with_int_size_and_dtype():
    t = g.full(4, 1, dtype=g.float64)
    assert t.shape == (4,) and t.dtype == g.float64 and t.tolist() == [1.0] * 4


def test_empty_has_shape_and_default_dtype():
    t = g.empty(2, 5)
    assert t.shape == (2, 5) and t.dtype == g.float32
    assert g.empty((3,), dtype=g.int64).dtype == g.int64


@pytest.mark.parametrize(
    "args", [(5,), (2, 9), (0, 10, 3), (5, 0, -1), (2.5,), (0, 1, 0.25), (0.5, 3), (1, 2.5, 0.5), (-1.0, 1.0, 0.1)],
    ids=repr,
)
def test_arange_matches_torch(args, same_as_torch):
    same_as_torch(g.arange(*args), torch.arange(*args), atol=1e-6)


def test_arange_int_is_int64_and_float_is_default_float():
    assert g.arange(4).dtype == g.int64
    assert g.arange(4.0).dtype == g.float32
    assert g.arange(0, 4, dtype=g.float64).dtype == g.float64


def test_arange_zero_step_raises():
    with pytest.raises(ValueError, match="step"):
        g.arange(0, 5, 0)


@pytest.mark.parametrize("args", [(0, 1, 5), (-2, 3, 11), (1, 0, 4), (3, 3, 1), (0, 1, 0)], ids=repr)
def test_linspace_matches_torch(args, same_as_torch):
    same_as_torch(g.linspace(*args), torch.linspace(*args))


def test_linspace_negative_steps_raise():
    with pytest.raises(ValueError, match="steps"):
        g.linspace(0, 1, -1)


@pytest.mark.parametrize("args", [(3,), (2, 4), (4, 2), (0,)], ids=repr)
def test_eye_matches_torch(args, same_as_torch):
    same_as_torch(g.eye(*args), torch.eye(*args))
    same_as_torch(g.eye(*args, dtype=g.int64), torch.eye(*args, dtype=torch.int64))


# --------------------------------------------------------------------------------------- random factories
def test_rand_is_uniform_in_unit_interval():
    g.manual_seed(0)
    t = g.rand(20000)
    assert t.shape == (20000,) and t.dtype == g.float32
    a = t.numpy()
    assert a.min() >= 0.0 and a.max() < 1.0
    assert abs(a.mean() - 0.5) < 0.02 and abs(a.var() - 1 / 12) < 0.01


def test_randn_is_standard_normal():
    g.manual_seed(0)
    a = g.randn(100, 200).numpy()
    assert a.shape == (100, 200) and a.dtype == np.float32
    assert abs(a.mean()) < 0.03 and abs(a.std() - 1.0) < 0.03


def test_random_factories_accept_dtype_and_requires_grad():
    t = g.randn(3, dtype=g.float64, requires_grad=True)
    assert t.dtype == g.float64 and t.requires_grad and t.is_leaf
    assert g.rand((2, 2), dtype=g.float64).dtype == g.float64


@pytest.mark.parametrize("args", [(0, 5, (1000,)), (10, (1000,)), (-3, 3, (10, 100))], ids=repr)
def test_randint_range_and_dtype(args):
    g.manual_seed(1)
    t = g.randint(*args)
    low, high = (0, args[0]) if len(args) == 2 else args[:2]
    assert t.dtype == g.int64 and t.shape == args[-1]
    values = set(t.numpy().ravel().tolist())
    assert values == set(range(low, high))  # every value in [low, high) drawn, none outside


def test_randint_errors():
    with pytest.raises(ValueError, match="high"):
        g.randint(5, 5, (2,))
    with pytest.raises(TypeError, match="size"):
        g.randint(5)


def test_randperm_is_a_permutation():
    g.manual_seed(2)
    p = g.randperm(50)
    assert p.dtype == g.int64 and p.shape == (50,)
    assert sorted(p.tolist()) == list(range(50))
    assert p.tolist() != list(range(50))
    assert g.randperm(0).shape == (0,)


# ------------------------------------------------------------------------------------------- *_like forms
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32"])
@pytest.mark.parametrize("name", ["zeros_like", "ones_like", "empty_like"])
def test_like_forms_keep_shape_and_dtype(name, dtype, same_as_torch):
    src = g.tensor([[1, 2, 3], [4, 5, 6]], dtype=getattr(g, dtype))
    ref = torch.tensor([[1, 2, 3], [4, 5, 6]], dtype=getattr(torch, dtype))
    out, ref_out = getattr(g, name)(src), getattr(torch, name)(ref)
    if name == "empty_like":
        assert out.shape == ref_out.shape and str(out.dtype) == dtype
    else:
        same_as_torch(out, ref_out)


def test_like_forms_override_dtype_and_requires_grad():
    src = g.tensor([1, 2, 3])
    z = g.zeros_like(src, dtype=g.float64, requires_grad=True)
    assert z.dtype == g.float64 and z.requires_grad and z.tolist() == [0.0, 0.0, 0.0]
    assert g.zeros_like(src).requires_grad is False


@pytest.mark.parametrize("fill", [2.5, 7, True])
def test_full_like_matches_torch(fill, same_as_torch):
    for dtype in ("int64", "float32"):
        src, ref = g.zeros(2, 3, dtype=getattr(g, dtype)), torch.zeros(2, 3, dtype=getattr(torch, dtype))
        same_as_torch(g.full_like(src, fill), torch.full_like(ref, fill))


def test_random_like_forms():
    src = g.zeros(4, 5, dtype=g.float64)
    r = g.rand_like(src)
    assert r.shape == (4, 5) and r.dtype == g.float64 and 0 <= r.numpy().min() and r.numpy().max() < 1
    n = g.randn_like(src)
    assert n.shape == (4, 5) and n.dtype == g.float64 and n.numpy().std() > 0
    i = g.randint_like(g.zeros(100, dtype=g.int64), 3)
    assert i.dtype == g.int64 and set(i.tolist()) <= {0, 1, 2} and len(set(i.tolist())) == 3
    j = g.randint_like(g.zeros(100, dtype=g.int64), 5, 8)
    assert set(j.tolist()) <= {5, 6, 7}


# ---------------------------------------------------------------------------------------------- from_numpy
@pytest.mark.parametrize("np_dtype", [np.float64, np.float32, np.float16, np.int32, np.int64, np.uint8, np.bool_])
def test_from_numpy_keeps_dtype_like_torch(np_dtype, same_as_torch):
    a = np.arange(6).reshape(2, 3).astype(np_dtype)
    same_as_torch(g.from_numpy(a), torch.from_numpy(a))


def test_from_numpy_shares_memory_both_ways():
    a = np.zeros(3, dtype=np.float64)
    t = g.from_numpy(a)
    a[0] = 5.0
    assert t.tolist() == [5.0, 0.0, 0.0]
    t.add_(1.0)
    assert a.tolist() == [6.0, 1.0, 1.0]
    assert np.shares_memory(t.numpy(), a)


def test_from_numpy_rejects_non_arrays_and_unsupported_dtypes():
    with pytest.raises(TypeError, match="numpy.ndarray"):
        g.from_numpy([1.0, 2.0])
    with pytest.raises(TypeError, match="complex"):
        g.from_numpy(np.zeros(2, dtype=np.complex64))


def test_as_tensor_does_not_copy_a_matching_tensor():
    t = g.ones(3)
    assert g.as_tensor(t) is t
    assert g.as_tensor([1, 2]).dtype == g.int64
