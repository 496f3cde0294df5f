"""``new_*``, ``type_as``, ``__format__`` and the ``size=`` keyword of the factories, against PyTorch."""

import numpy as np
import pytest
import torch

import ganglion as G


@pytest.mark.parametrize("call", [
    lambda x: x.new_zeros(2, 3), lambda x: x.new_zeros((2,)), lambda x: x.new_ones(size=(1, 2)),
    lambda x: x.new_full((2,), 3), lambda x: x.new_full([2, 1], 1.5), lambda x: x.new_tensor([1, 2]),
    lambda x: x.new_tensor([[1.5]]), lambda x: x.new_ones(2, dtype=None),
    lambda x: x.new_empty(0, 2),
])
@pytest.mark.parametrize("dtype", ["float64", "int32"])
def test_new_tensors_take_dtype_from_self(call, dtype):
    g, t = G.zeros(1, dtype=dtype), torch.zeros(1, dtype=getattr(torch, dtype))
    got, expected = call(g), call(t)
    assert got.shape == tuple(expected.shape) and str(got.dtype) == str(expected.dtype).replace("torch.", "")
    if expected.numel() and "empty" not in repr(call):
        np.testing.assert_array_equal(got.numpy(), expected.numpy())


def test_new_tensor_copies_and_leaves_the_graph():
    src = G.tensor([1.0, 2.0], requires_grad=True)
    out = G.zeros(1).new_tensor(src)
    assert not out.requires_grad and not np.shares_memory(out.array, src.array)


def test_type_as():
    assert G.ones(2).type_as(G.zeros(1, dtype=G.int32)).dtype == G.int32


def test_format_of_0d_and_of_larger_tensors():
    loss = G.tensor(1.23456)
    assert f"{loss:.4f}" == f"{torch.tensor(1.23456):.4f}" == "1.2346"
    assert f"{G.tensor(7):>3d}" == "  7"
    assert f"{G.ones(2)}" == repr(G.ones(2))
    with pytest.raises(TypeError, match="unsupported format string"):
        f"{G.ones(2):.2f}"


@pytest.mark.parametrize("make", ["zeros", "ones", "empty", "rand", "randn"])
def test_factories_take_size_keyword(make):
    assert getattr(G, make)(size=(2, 3)).shape == tuple(getattr(torch, make)(size=(2, 3)).shape) == (2, 3)
    assert getattr(G, make)(size=[4]).shape == (4,)
    assert G.full(size=(2,), fill_value=1).tolist() == torch.full(size=(2,), fill_value=1).tolist()
