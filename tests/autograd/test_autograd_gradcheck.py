"""``gradcheck`` itself: it passes correct gradients, catches wrong ones and refuses checks that mean nothing."""

import numpy as np
import pytest

import ganglion as g
from ganglion.autograd import Function, GradcheckError, gradcheck


def _x(data=((0.5, -1.25, 2.0), (1.5, 0.75, -0.5))):
    return g.tensor([list(row) for row in data], dtype=g.float64, requires_grad=True)


class WrongSquare(Function):
    """y = x^2 with a deliberately wrong backward (x instead of 2x)."""

    def forward(self, x):
        self.save(x)
        return x * x

    def backward(self, dy):
        (x,) = self.saved
        return dy * x


class WrongSecondInput(Function):
    """y = a b with the gradient of b off by a sign."""

    def forward(self, a, b):
        self.save(a, b)
        return a * b

    def backward(self, dy):
        a, b = self.saved
        return dy * b, -dy * a


@pytest.mark.parametrize(
    "fn",
    [lambda x: x.exp(), lambda x: (x * x).sum(), lambda x: x.tanh() @ x.T, lambda x: x.softmax(1),
     lambda x: (x ** 3).mean(dim=0), lambda x: x.reshape(3, 2)[1:].sigmoid()],
    ids=["exp", "square_sum", "tanh_matmul", "softmax", "cube_mean", "reshape_slice_sigmoid"],
)
def test_passes_for_correct_ops(fn):
    assert gradcheck(fn, (_x(),)) is True


def test_passes_with_several_inputs_and_outputs():
    a, b = _x(), _x(((1.0, 2.0, 3.0), (0.5, -0.5, 0.25)))
    assert gradcheck(lambda p, q: (p * q, p - q.exp()), (a, b))


def test_non_tensor_and_non_grad_inputs_are_passed_through():
    x = _x()
    c = g.tensor([1.0, 2.0, 3.0], dtype=g.float64)
    assert gradcheck(lambda t, k, const: (t * k + const).sin(), (x, 3.0, c))
    assert c.grad is None


def test_accepts_a_single_tensor_instead_of_a_tuple():
    assert gradcheck(lambda t: t.log(), g.tensor([0.5, 2.0], dtype=g.float64, requires_grad=True))


def test_raises_gradcheck_error_for_a_wrong_backward():
    with pytest.raises(GradcheckError, match=r"gradient of input 0 .*analytical .* vs numerical"):
        gradcheck(WrongSquare.apply, (_x(),))
    assert issubclass(GradcheckError, RuntimeError)


def test_names_the_input_whose_gradient_is_wrong():
    a, b = _x(), _x(((1.0, 2.0, 3.0), (0.5, -0.5, 0.25)))
    with pytest.raises(GradcheckError, match="gradient of input 1"):
        gradcheck(WrongSecondInput.apply, (a, b))
    b.requires_grad_(False)  # only a is checked, and its gradient is right
    assert gradcheck(WrongSecondInput.apply, (a, b))


def test_returns_false_instead_of_raising_when_asked():
    assert gradcheck(WrongSquare.apply, (_x(),), raise_exception=False) is False
    assert gradcheck(lambda t: t * t, (_x(),), raise_exception=False) is True


def test_catches_a_small_error_but_tolerates_float64_rounding():
    class SlightlyOff(Function):
        def forward(self, x):
            return x * 2

        def backward(self, dy):
            return dy * 2.01  # 0.5% off: above rtol=1e-3

    with pytest.raises(GradcheckError):
        gradcheck(SlightlyOff.apply, (_x(),))
    assert gradcheck(SlightlyOff.apply, (_x(),), rtol=1e-2)


def test_rejects_float32_inputs():
    x = g.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="input 0 is float32.*float64"):
        gradcheck(lambda t: t * t, (x,))


def test_rejects_inputs_that_do_not_require_grad():
    with pytest.raises(ValueError, match="no input requires grad"):
        gradcheck(lambda t: t * t, (g.tensor([1.0], dtype=g.float64),))


def test_leaves_inputs_and_grads_untouched():
    x = _x()
    before = x.detach().numpy().copy()
    gradcheck(lambda t: (t * t).sum(), (x,))
    np.testing.assert_array_equal(x.detach().numpy(), before)
    assert x.grad is None


@pytest.mark.parametrize("layout", ["transposed", "fortran", "strided"])
def test_non_contiguous_inputs_are_perturbed_in_place(layout):
    base = np.arange(1.0, 13.0).reshape(3, 4) / 4
    array = {"transposed": base.T, "fortran": np.asfortranarray(base), "strided": base[:, ::2]}[layout]
    x = g.from_numpy(array).requires_grad_()
    assert not x.array.flags.c_contiguous
    assert gradcheck(lambda t: (t.exp() * t).sum(dim=0), (x,))
    with pytest.raises(GradcheckError):
        gradcheck(WrongSquare.apply, (x,))


def test_zero_dim_input():
    assert gradcheck(lambda t: t.sin() * t, (g.tensor(0.7, dtype=g.float64, requires_grad=True),))
