"""Fixtures for the nn tests. PyTorch (a test dependency) is the reference."""

import numpy as np
import pytest


@pytest.fixture
def rng():
    """A fresh seeded NumPy generator per test, so each test's data does not depend on the others."""
    return np.random.default_rng(0)
