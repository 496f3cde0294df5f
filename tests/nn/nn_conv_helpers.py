"""Shared by the convolution route tests: one result list (y, then the gradients of x, W and b) held to others."""

import numpy as np


def assert_results_match(got, references, dtype):
    """Each array of ``got`` has ``dtype`` and equals the array at its place in every list of ``references`` (within
    1e-4 in float32, 1e-11 in float64); where a reference has None (no bias), ``got`` has None too."""
    tolerance = 1e-4 if dtype == np.float32 else 1e-11
    for place, mine in enumerate(got):
        wanted = [reference[place] for reference in references]
        if wanted[-1] is None:
            assert mine is None
            continue
        assert mine.dtype == dtype and mine.shape == wanted[-1].shape
        for want in wanted:
            np.testing.assert_allclose(mine, want, rtol=tolerance, atol=tolerance)
