"""What the op table cannot express for the rounding ops and ganglion.linalg: integer inputs and the errors, each
against PyTorch's behaviour."""

import numpy as np
import pytest
import torch

import ganglion as G

INTS = np.array([[3, -2, 0], [7, -5, 1]], dtype=np.int64)


@pytest.mark.parametrize("name", ["floor", "ceil", "round", "trunc", "sign"])
def test_rounding_integer_input_returns_a_copy_of_the_ints(name):
    x = G.tensor(INTS)
    y = getattr(G, name)(x)
    expected = getattr(torch, name)(torch.tensor(INTS)).numpy()
    assert y.dtype == expected.dtype and not y.requires_grad
    np.testing.assert_array_equal(y.array, expected)
    y.array[0, 0] = 99  # a copy, as PyTorch's: the input is untouched
    assert x.array[0, 0] == INTS[0, 0]


def test_expm1_of_ints_is_default_float():
    y = G.tensor(INTS).expm1()
    expected = torch.expm1(torch.tensor(INTS)).numpy()
    assert y.dtype == expected.dtype
    np.testing.assert_allclose(y.array, expected, rtol=1e-6)


@pytest.mark.parametrize("call", [lambda x: x.frac(), lambda x: x.round(decimals=1)])
def test_frac_and_round_decimals_reject_ints_as_torch(call):
    with pytest.raises(NotImplementedError):
        call(torch.tensor(INTS))
    with pytest.raises(NotImplementedError, match="integer"):
        call(G.tensor(INTS))


def test_round_decimals_must_be_an_int():
    with pytest.raises(TypeError, match="decimals"):
        G.round(G.tensor([1.25]), decimals=1.5)


def test_rounding_gradients_are_zero_and_frac_passes_them():
    x = G.tensor([0.3, -1.7, 2.2], requires_grad=True)
    (x.floor() + x.ceil() + x.round() + x.trunc() + 2 * x.frac()).sum().backward()
    np.testing.assert_array_equal(x.grad.array, [2.0, 2.0, 2.0])


@pytest.mark.parametrize("name", ["inv", "det", "slogdet"])
def test_non_square_input_is_rejected_naming_function_and_shape(name):
    with pytest.raises(RuntimeError, match=rf"linalg\.{name}: .*square.*2 by 3.*\(4, 2, 3\)"):
        getattr(G.linalg, name)(G.ones(4, 2, 3))
    with pytest.raises(RuntimeError, match=rf"linalg\.{name}: .*at least 2 dimensions.*\(3,\)"):
        getattr(G.linalg, name)(G.ones(3))


def test_integer_matrix_is_rejected():
    with pytest.raises(RuntimeError, match="linalg.inv: Expected a floating point"):
        G.linalg.inv(G.tensor(np.eye(2, dtype=np.int64)))


@pytest.mark.parametrize("call", [lambda m: G.linalg.inv(m), lambda m: G.linalg.solve(m, G.ones(2))])
def test_singular_matrix_raises_linalg_error(call):
    singular = G.tensor([[1.0, 2.0], [2.0, 4.0]])
    with pytest.raises(G.linalg.LinAlgError, match="singular"):
        call(singular)
    assert issubclass(G.linalg.LinAlgError, RuntimeError)  # as torch.linalg.LinAlgError


def test_solve_incompatible_shapes():
    with pytest.raises(RuntimeError, match=r"linalg.solve: Incompatible shapes .*\(2x2 and 3x1\)"):
        G.linalg.solve(G.eye(2), G.ones(3))
    with pytest.raises(RuntimeError, match=r"\(2x2 and 3x4\)"):
        G.linalg.solve(G.eye(2), G.ones(3, 4))


def test_solve_batch_of_vectors_follows_torch_rule():
    a = np.random.default_rng(0).standard_normal((3, 2, 2)) + 3 * np.eye(2)
    b = np.ones((3, 2))  # shape A.shape[:-1]: three vectors, not one 3x2 matrix
    got = G.linalg.solve(G.tensor(a, dtype=G.float64), G.tensor(b, dtype=G.float64))
    expected = torch.linalg.solve(torch.tensor(a), torch.tensor(b)).numpy()
    assert got.shape == expected.shape == (3, 2)
    np.testing.assert_allclose(got.array, expected, rtol=1e-10)


def test_norm_errors_as_torch():
    with pytest.raises(RuntimeError, match="linalg.norm: If dim is not specified but ord is, the input must be 1D"):
        G.linalg.norm(G.ones(2, 3, 4), ord=2)
    with pytest.raises(RuntimeError, match="linalg.matrix_norm: Order 3 not supported"):
        G.linalg.matrix_norm(G.ones(3, 3), ord=3)
    with pytest.raises(RuntimeError, match="linalg.matrix_norm: The input tensor A must have at least 2 dimensions"):
        G.linalg.matrix_norm(G.ones(3))
    with pytest.raises(RuntimeError, match="linalg.vector_norm: Expected a floating point"):
        G.linalg.vector_norm(G.tensor(INTS))


@pytest.mark.parametrize("ord", [float("inf"), float("-inf")])
@pytest.mark.parametrize("shape,dim", [((0, 3), 1), ((3, 0), 0), ((3, 0), 1), ((0,), None), ((0, 3), None), ((), None)])
def test_an_infinite_norm_over_no_elements_raises_as_torch(shape, dim, ord):
    """max and min of nothing have no value: a +-inf norm over an empty reduced dimension raises PyTorch's
    RuntimeError; over non-empty dimensions of an empty tensor it is an empty result."""
    try:
        expected = torch.linalg.vector_norm(torch.zeros(shape), ord, dim=dim)
    except RuntimeError:
        with pytest.raises(RuntimeError, match=r"cannot compute the -?inf norm on (an empty tensor|the dimension)"):
            G.linalg.vector_norm(G.zeros(*shape), ord, dim=dim)
        return
    got = G.linalg.vector_norm(G.zeros(*shape), ord, dim=dim)
    assert tuple(got.shape) == tuple(expected.shape)
    np.testing.assert_array_equal(got.numpy(), expected.numpy())
