"""exp-like functions of integer and bool tensors give the default float dtype, as PyTorch (not NumPy's float64)."""

import numpy as np
import pytest
import torch

import ganglion as g


@pytest.mark.parametrize("name", ["exp", "log", "log1p", "sqrt", "sin", "cos", "tanh", "sigmoid", "abs", "relu"])
@pytest.mark.parametrize("dtype", ["int32", "int64", "bool"])
def test_result_dtype_and_values_match_torch(name, dtype):
    if name in ("abs", "relu") and dtype == "bool":
        pytest.skip("torch refuses bool for abs and relu: no reference to compare with")
    data = np.array([0, 1, 3]).astype(dtype)
    ours = getattr(g, name)(g.tensor(data))
    theirs = getattr(torch, name)(torch.tensor(data))
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
    np.testing.assert_allclose(ours.numpy().astype(np.float64), theirs.numpy().astype(np.float64), rtol=1e-6)
