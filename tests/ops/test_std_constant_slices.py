"""std over a constant slice has a zero gradient (PyTorch masks 0/0), and NaN only where var itself is NaN."""

import warnings

import numpy as np
import pytest
import torch

import ganglion as g


@pytest.mark.parametrize("data, kwargs", [
    ([2.0, 2.0, 2.0], {}),
    ([[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]], {"dim": 1}),
    ([[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]], {"dim": 1, "keepdim": True, "correction": 0}),
    ([[5.0], [5.0]], {"dim": 0, "unbiased": False}),
    ([3.0], {}),  # n - correction = 0: NaN in both
])
def test_std_gradient_matches_torch_on_constant_slices(data, kwargs):
    x = g.tensor(data, dtype=g.float64, requires_grad=True)
    t = torch.tensor(data, dtype=torch.float64, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, theirs = x.std(**kwargs), t.std(**kwargs)
        ours.sum().backward()
        theirs.sum().backward()
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), equal_nan=True)
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), equal_nan=True)
