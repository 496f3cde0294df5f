"""Fixtures for the Tensor tests: a PyTorch comparison helper (global state is put back by tests/conftest.py)."""

import numpy as np
import pytest

import ganglion


@pytest.fixture
def same_as_torch():
    """``check(ganglion_tensor, torch_tensor)``: same shape, dtype name and values (exact for ints and bools)."""

    def check(t, ref, rtol=1e-6, atol=1e-7):
        assert isinstance(t, ganglion.Tensor), f"expected a ganglion.Tensor, got {type(t).__name__}"
        assert tuple(t.shape) == tuple(ref.shape)
        assert str(t.dtype) == str(ref.dtype).replace("torch.", "")
        if t.dtype.kind == "f":
            np.testing.assert_allclose(np.asarray(t), ref.detach().cpu().numpy(), rtol=rtol, atol=atol)
        else:
            assert t.tolist() == ref.tolist()

    return check
