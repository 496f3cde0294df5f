"""Fixtures for the autograd tests: global state is restored after every test."""

import pytest

import ganglion


@pytest.fixture(autouse=True)
def _restore_global_state():
    """A test that turns grad mode off or changes the default dtype (and fails halfway) must not leak it."""
    dtype, grad_enabled = ganglion.get_default_dtype(), ganglion.is_grad_enabled()
    yield
    ganglion.set_default_dtype(dtype)
    ganglion.set_grad_enabled(grad_enabled)
