"""Element-wise arithmetic with NumPy broadcasting: + - * / **, negation, maximum, minimum, where.

Gradients come back in the broadcast shape; the engine sums them to each input's shape (``sum_to_shape``).
"""

from .. import backend
from ..autograd.function import Function
from ..tensor import Tensor
from .util import as_operand, keep_default_float


def _broadcast_error(op, a, b):
    return ValueError(
        f"{op}: shapes {tuple(getattr(a, 'shape', ()))} and {tuple(getattr(b, 'shape', ()))} cannot be broadcast "
        "together (sizes must match or be 1, aligned from the last dimension)"
    )


class Add(Function):
    """y = a + b;  dy/da = 1, dy/db = 1. ``in_place``: y written over a (``a += b`` while recording, through
    ``Function.apply_in_place``): backward reads neither input."""

    backward_composes = True

    def forward(self, a, b, in_place=False):
        try:
            y = self.xp.add(a, b, out=a) if in_place else a + b
        except ValueError:
            raise _broadcast_error("add", a, b) from None
        return y if in_place else keep_default_float(y, a, b)

    def backward(self, dy):
        return dy, dy


class Sub(Function):
    """y = a - b;  dy/da = 1, dy/db = -1. ``in_place``: y written over a (``a -= b`` while recording)."""

    backward_composes = True

    def forward(self, a, b, in_place=False):
        try:
            y = self.xp.subtract(a, b, out=a) if in_place else a - b
        except ValueError:
            raise _broadcast_error("sub", a, b) from None
        return y if in_place else keep_default_float(y, a, b)

    def backward(self, dy):
        return dy, (-dy if self.needs_input_grad[1] else None)


class Mul(Function):
    """y = a b;  dy/da = b, dy/db = a."""

    backward_composes = True

    def forward(self, a, b):
        try:
            y = a * b
        except ValueError:
            raise _broadcast_error("mul", a, b) from None
        self.save(a, b)
        return keep_default_float(y, a, b)

    def backward(self, dy):
        a, b = self.saved
        needs = self.needs_input_grad
        return (dy * b if needs[0] else None), (dy * a if needs[1] else None)


class Div(Function):
    """y = a / b;  dy/da = 1/b, dy/db = -a/b^2."""

    backward_composes = True

    def forward(self, a, b):
        try:
            y = a / b
        except ValueError:
            raise _broadcast_error("div", a, b) from None
        y = keep_default_float(y, a, b)
        self.save(b, y)
        return y

    def backward(self, dy):
        b, y = self.saved
        needs = self.needs_input_grad
        da = dy / b if needs[0] else None
        db = -dy * y / b if needs[1] else None
        return da, db


class Pow(Function):
    """y = a^b;  dy/da = b a^(b-1), dy/db = a^b ln a (only where a > 0 matters; 0 elsewhere when a == 0)."""

    backward_composes = True

    def forward(self, a, b):
        try:
            y = a ** b
        except ValueError:
            raise _broadcast_error("pow", a, b) from None
        y = keep_default_float(y, a, b)
        self.save(a, b, y)
        return y

    def backward(self, dy):
        a, b, y = self.saved
        xp = self.xp
        needs = self.needs_input_grad
        da = db = None
        if needs[0]:
            if isinstance(b, (int, float)) and b == 2:
                da = dy * (2 * a)
            else:
                da = dy * b * a ** (b - 1)
        if needs[1]:
            with backend.errstate(divide="ignore", invalid="ignore"):
                log_a = xp.log(a)
            db = dy * xp.where(xp.asarray(a) == 0, 0, y * log_a)
        return da, db


class Neg(Function):
    """y = -x."""

    backward_composes = True

    def forward(self, x):
        return -x

    def backward(self, dy):
        return -dy


class _Extremum(Function):
    """max(a, b) or min(a, b) element-wise; the gradient goes to the winning input, split in half on ties (as
    PyTorch). Subclasses name the NumPy function."""

    backward_composes = True

    pick = ""

    def forward(self, a, b):
        try:
            y = getattr(self.xp, self.pick)(a, b)
        except ValueError:
            raise _broadcast_error(self.pick, a, b) from None
        self.save(a, b)
        return y

    def backward(self, dy):
        a, b = self.saved
        wins = (a > b) if self.pick == "maximum" else (a < b)
        share_a = wins + 0.5 * (a == b)
        needs = self.needs_input_grad
        return (dy * share_a if needs[0] else None), (dy * (1 - share_a) if needs[1] else None)


class Maximum(_Extremum):
    """y = max(a, b) element-wise."""

    pick = "maximum"


class Minimum(_Extremum):
    """y = min(a, b) element-wise."""

    pick = "minimum"


class Where(Function):
    """y = a where condition else b; the gradient flows to the chosen input."""

    def forward(self, condition, a, b):
        xp = self.xp
        if getattr(condition, "dtype", None) is not None and condition.dtype.kind != "b":
            condition = condition != 0
        try:
            y = xp.where(condition, a, b)
        except ValueError:
            raise ValueError(
                f"where: condition {tuple(xp.shape(condition))}, input {tuple(xp.shape(a))} and other "
                f"{tuple(xp.shape(b))} cannot be broadcast together"
            ) from None
        self.save(condition)
        return y

    def backward(self, dy):
        (condition,) = self.saved
        needs = self.needs_input_grad
        zero = dy.dtype.type(0)
        return (
            None,
            self.xp.where(condition, dy, zero) if needs[1] else None,
            self.xp.where(condition, zero, dy) if needs[2] else None,
        )

    def backward_graph(self, dy):
        (condition,) = self.saved
        needs = self.needs_input_grad
        da = where(condition, dy, 0.0) if needs[1] else None
        db = where(condition, 0.0, dy) if needs[2] else None
        return None, da, db


def add(input, other, alpha=1):
    """input + alpha * other (broadcasting)."""
    other = as_operand(other, input)
    return Add.apply(input, other if alpha == 1 else Mul.apply(other, alpha))


def sub(input, other, alpha=1):
    """input - alpha * other (broadcasting)."""
    other = as_operand(other, input)
    return Sub.apply(input, other if alpha == 1 else Mul.apply(other, alpha))


def mul(input, other):
    return Mul.apply(input, as_operand(other, input))


def div(input, other):
    return Div.apply(input, as_operand(other, input))


def pow(input, exponent):
    return Pow.apply(input, as_operand(exponent, input))


def neg(input):
    return Neg.apply(input)


def maximum(input, other):
    return Maximum.apply(input, as_operand(other, input))


def minimum(input, other):
    return Minimum.apply(input, as_operand(other, input))


def where(condition, input, other):
    """``input`` where ``condition`` is true, ``other`` elsewhere (all three broadcast together)."""
    like = input if isinstance(input, Tensor) else other
    return Where.apply(as_operand(condition, like), as_operand(input, like), as_operand(other, like))


# reflected forms: scalar OP tensor
def radd(self, other):
    return Add.apply(as_operand(other, self), self)


def rsub(self, other):
    return Sub.apply(as_operand(other, self), self)


def rmul(self, other):
    return Mul.apply(as_operand(other, self), self)


def rdiv(self, other):
    return Div.apply(as_operand(other, self), self)


def rpow(self, other):
    return Pow.apply(as_operand(other, self), self)
