"""Every row of the op table against PyTorch (forward values, dtypes, shapes; input gradients for the same upstream
gradient) and through float64 ``gradcheck``. Nothing here names an op: add a row to ``op_table.py`` instead."""

import numpy as np
import pytest
import torch

import ganglion as G
from op_table import ROWS, cases, make_inputs


def _as_list(result):
    return list(result) if isinstance(result, (tuple, list)) else [result]


def _assert_same(actual, expected, row, what, exact=False):
    """``actual`` equals ``expected`` (NumPy arrays): exactly for bool/int or when ``exact``, else to the row's
    tolerance; shapes and dtypes must be PyTorch's."""
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape}, PyTorch {expected.shape}"
    assert actual.dtype == expected.dtype, f"{what}: dtype {actual.dtype}, PyTorch {expected.dtype}"
    if exact or expected.dtype.kind in "biu":
        np.testing.assert_array_equal(actual, expected, err_msg=what)
    else:
        np.testing.assert_allclose(actual, expected, rtol=row.rtol, atol=row.atol, equal_nan=True, err_msg=what)


@pytest.mark.parametrize("row, shapes", cases(ROWS))
def test_matches_torch(row, shapes):
    arrays = make_inputs(row, shapes, np.float32)
    g_inputs = [G.tensor(a, requires_grad=True) for a in arrays]
    t_inputs = [torch.tensor(a, requires_grad=True) for a in arrays]
    g_outputs, t_outputs = _as_list(row.fn(*g_inputs)), _as_list(row.ref(*t_inputs))

    assert len(g_outputs) == len(t_outputs)
    for k, (g, t) in enumerate(zip(g_outputs, t_outputs)):
        assert isinstance(g, G.Tensor), f"output {k} is a {type(g).__name__}, not a Tensor"
        _assert_same(g.array, t.detach().numpy(), row, f"forward output {k}", exact=row.exact)
        assert g.requires_grad == t.requires_grad, f"output {k}: requires_grad differs from PyTorch's"
    for x, a in zip(g_inputs, arrays):
        np.testing.assert_array_equal(x.array, a, err_msg="the op modified its input")
    if not row.differentiable:
        return

    rng = np.random.default_rng(7)
    pairs = [(g, t) for g, t in zip(g_outputs, t_outputs) if t.requires_grad]
    assert pairs, "a differentiable row must produce an output that requires grad"
    upstream = [np.asarray(rng.standard_normal(t.shape), dtype=np.float32) for _, t in pairs]
    G.autograd.backward([g for g, _ in pairs], [G.tensor(u) for u in upstream])
    torch.autograd.backward([t for _, t in pairs], [torch.from_numpy(u) for u in upstream])
    for i, (x, tx) in enumerate(zip(g_inputs, t_inputs)):
        expected = np.zeros(tx.shape, np.float32) if tx.grad is None else tx.grad.numpy()
        if x.grad is None:
            assert not expected.any(), f"input {i} got no gradient; PyTorch's is nonzero"
            continue
        _assert_same(x.grad.array, expected, row, f"gradient of input {i}")


@pytest.mark.parametrize("row, shapes", cases(ROWS, only_differentiable=True))
def test_gradcheck_float64(row, shapes):
    inputs = [G.tensor(a, dtype=G.float64, requires_grad=True) for a in make_inputs(row, shapes, np.float64)]
    assert G.autograd.gradcheck(row.fn, tuple(inputs))


@pytest.mark.parametrize("row, shapes", cases(ROWS, second_order=True))
def test_gradgradcheck_float64(row, shapes):
    """Double backward: the gradients that ``create_graph=True`` builds have the right derivatives themselves."""
    inputs = [G.tensor(a, dtype=G.float64, requires_grad=True) for a in make_inputs(row, shapes, np.float64)]
    assert G.autograd.gradgradcheck(row.fn, tuple(inputs))
