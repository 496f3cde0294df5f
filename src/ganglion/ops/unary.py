"""Element-wise functions of one tensor: exp, expm1, log, log1p, sqrt, abs, sin, cos, tanh, sigmoid, clamp, sign,
and the rounding family floor, ceil, round, trunc, frac."""

from .. import backend
from ..autograd.function import Function
from ..tensor import Tensor


class Exp(Function):
    """y = e^x;  dy/dx = y."""

    backward_composes = True

    def forward(self, x):
        x = _as_float(x)  # integer input gives the default float dtype, as PyTorch
        y = self.xp.exp(x)
        self.save(y)
        return y

    def backward(self, dy):
        (y,) = self.saved
        return dy * y


class Expm1(Function):
    """y = e^x - 1, accurate for small x;  dy/dx = e^x = y + 1."""

    backward_composes = True

    def forward(self, x):
        y = self.xp.expm1(_as_float(x))
        self.save(y)
        return y

    def backward(self, dy):
        (y,) = self.saved
        return dy * (y + 1)


class Log(Function):
    """y = ln x;  dy/dx = 1/x."""

    backward_composes = True

    def forward(self, x):
        x = _as_float(x)  # integer input gives the default float dtype, as PyTorch
        self.save(x)
        return self.xp.log(x)

    def backward(self, dy):
        (x,) = self.saved
        return dy / x


class Log1p(Function):
    """y = ln(1 + x), accurate for small x;  dy/dx = 1/(1 + x)."""

    backward_composes = True

    def forward(self, x):
        x = _as_float(x)  # integer input gives the default float dtype, as PyTorch
        self.save(x)
        return self.xp.log1p(x)

    def backward(self, dy):
        (x,) = self.saved
        return dy / (1 + x)


class Sqrt(Function):
    """y = sqrt(x);  dy/dx = 1/(2 y)."""

    backward_composes = True

    def forward(self, x):
        x = _as_float(x)  # integer input gives the default float dtype, as PyTorch
        y = self.xp.sqrt(x)
        self.save(y)
        return y

    def backward(self, dy):
        (y,) = self.saved
        return dy / (2 * y)


class Abs(Function):
    """y = |x|;  dy/dx = sign(x) (0 at 0, as PyTorch)."""

    backward_composes = True

    def forward(self, x):
        self.save(x)
        return self.xp.abs(x)

    def backward(self, dy):
        (x,) = self.saved
        return dy * self.xp.sign(x)


class Sin(Function):
    """y = sin x;  dy/dx = cos x."""

    backward_composes = True

    def forward(self, x):
        x = _as_float(x)  # integer input gives the default float dtype, as PyTorch
        self.save(x)
        return self.xp.sin(x)

    def backward(self, dy):
        (x,) = self.saved
        return dy * self.xp.cos(x)


class Cos(Function):
    """y = cos x;  dy/dx = -sin x."""

    backward_composes = True

    def forward(self, x):
        x = _as_float(x)  # integer input gives the default float dtype, as PyTorch
        self.save(x)
        return self.xp.cos(x)

    def backward(self, dy):
        (x,) = self.saved
        return -dy * self.xp.sin(x)


class Tanh(Function):
    """y = tanh x;  dy/dx = 1 - y^2."""

    backward_composes = True

    def forward(self, x):
        x = _as_float(x)  # integer input gives the default float dtype, as PyTorch
        y = self.xp.tanh(x)
        self.save(y)
        return y

    def backward(self, dy):
        (y,) = self.saved
        return dy * (1 - y * y)


class Sigmoid(Function):
    """sigma(x) = 1 / (1 + e^-x);  d sigma/dx = sigma (1 - sigma)."""

    backward_composes = True

    def forward(self, x):
        x = _as_float(x)  # integer input gives the default float dtype, as PyTorch
        xp = self.xp
        e = xp.exp(-xp.abs(x))  # in (0, 1]: never overflows, and keeps full relative precision for x << 0
        r = 1 / (1 + e)
        y = xp.where(x >= 0, r, e * r)
        self.save(y)
        return y

    def backward(self, dy):
        (y,) = self.saved
        return dy * y * (1 - y)


_ZERO_BLOCKS = {}  # dtype -> a read-only block of zeros, the second operand of ``_positive_part``
_BLOCK = 1 << 16


def _positive_part(xp, x):
    """max(x, 0), NaN kept. NumPy's ``maximum`` runs without SIMD when one operand is a broadcast scalar (113 us
    against 40 us for 301k float32 here), so large contiguous arrays take it against a block of zeros instead,
    a block at a time (49 us)."""
    if xp is not backend.np or x.size < 4096 or x.dtype.kind != "f" or not x.flags.c_contiguous:
        return xp.maximum(x, 0)
    zeros = _ZERO_BLOCKS.get(x.dtype)
    if zeros is None:
        zeros = _ZERO_BLOCKS[x.dtype] = xp.zeros(_BLOCK, dtype=x.dtype)
        zeros.flags.writeable = False
    y = xp.empty_like(x)
    flat_x, flat_y = x.reshape(-1), y.reshape(-1)
    for start in range(0, x.size, _BLOCK):
        stop = min(start + _BLOCK, x.size)
        xp.maximum(flat_x[start:stop], zeros[: stop - start], out=flat_y[start:stop])
    return y


class ReLU(Function):
    """y = max(x, 0);  dy/dx = 1 where x > 0, else 0."""

    backward_composes = True

    def forward(self, x):
        y = _positive_part(self.xp, x)
        self.save(y)
        return y

    def backward(self, dy):
        (y,) = self.saved
        return dy * (y != 0)  # y is 0, positive or NaN; NaN passes the gradient, as PyTorch's (y <= 0 ? 0 : dy)


class Clamp(Function):
    """y = min(max(x, lo), hi);  dy/dx = 1 where lo <= x <= hi, else 0 (as PyTorch)."""

    def forward(self, x, lo=None, hi=None):
        self.save(x, lo, hi)
        return self.xp.clip(x, lo, hi)

    def backward(self, dy):
        return dy * self._inside()

    def backward_graph(self, dy):
        return dy * self._inside()  # the mask is piecewise constant: no derivative of its own

    def _inside(self):
        x, lo, hi = self.saved
        mask = True
        if lo is not None:
            mask = x >= lo
        if hi is not None:
            mask = mask & (x <= hi)
        return mask


class Sign(Function):
    """y = sign x;  dy/dx = 0 everywhere it exists."""

    backward_composes = True

    def forward(self, x):
        self.save(x)
        return self.xp.sign(x)

    def backward(self, dy):
        return self.xp.zeros_like(dy)


class _Rounding(Function):
    """Piecewise-constant rounding: dy/dx = 0 wherever it exists (PyTorch's gradient everywhere). Integer inputs
    come back unchanged, as a copy (NumPy's floor/ceil/trunc would turn them into float64)."""

    backward_composes = True

    def forward(self, x):
        if x.dtype.kind in "iub":
            return x.copy()
        return self.rounded(x)

    def backward(self, dy):
        return self.xp.zeros_like(dy)


class Floor(_Rounding):
    """y = floor x, the largest integer <= x;  dy/dx = 0."""

    def rounded(self, x):
        return self.xp.floor(x)


class Ceil(_Rounding):
    """y = ceil x, the smallest integer >= x;  dy/dx = 0."""

    def rounded(self, x):
        return self.xp.ceil(x)


class Trunc(_Rounding):
    """y = trunc x, x rounded toward zero;  dy/dx = 0."""

    def rounded(self, x):
        return self.xp.trunc(x)


class Round(_Rounding):
    """y = x rounded to ``decimals`` places, halves to even (as PyTorch and NumPy): rint(x 10^d) / 10^d, or for
    d < 0 rint(x / 10^-d) 10^-d, so that the scale is an exact integer either way;  dy/dx = 0."""

    def forward(self, x, decimals=0):
        self.decimals = decimals
        return super().forward(x)

    def rounded(self, x):
        xp, d = self.xp, self.decimals
        if d == 0:
            return xp.rint(x)
        scale = x.dtype.type(10.0 ** abs(d))
        return xp.rint(x * scale) / scale if d > 0 else xp.rint(x / scale) * scale


class Frac(Function):
    """y = x - trunc x, the fractional part with the sign of x;  dy/dx = 1."""

    backward_composes = True

    def forward(self, x):
        return x - self.xp.trunc(x)

    def backward(self, dy):
        return dy


def _as_float(x):
    """Integer and bool arrays as the default float dtype (PyTorch's type promotion for exp-like functions)."""
    return x.astype(backend.get_default_dtype()) if x.dtype.kind in "iub" else x


def _require_float(name, input, what="integer tensors"):
    if input.dtype.kind not in "fc":
        raise NotImplementedError(f'"{name}" not implemented for {what} (got {input.dtype}); convert with .float()')


def floor(input):
    """Largest integer <= x, element-wise; same shape and dtype (integer tensors are returned as a copy)."""
    return Floor.apply(input)


def ceil(input):
    """Smallest integer >= x, element-wise; same shape and dtype."""
    return Ceil.apply(input)


def trunc(input):
    """x rounded toward zero, element-wise; same shape and dtype."""
    return Trunc.apply(input)


fix = trunc


def round(input, *, decimals=0):
    """x rounded to ``decimals`` decimal places (negative: to tens, hundreds...), halves to even; same shape."""
    if isinstance(decimals, bool) or not isinstance(decimals, int):
        raise TypeError(f"round(): argument 'decimals' must be int, not {type(decimals).__name__}")
    if decimals != 0:
        _require_float("round", input, "integer tensors with decimals != 0")
    return Round.apply(input, decimals=decimals)


def frac(input):
    """x - trunc(x): the fractional part, with the sign of x; float tensors only, as PyTorch."""
    _require_float("frac", input)
    return Frac.apply(input)


def expm1(input):
    """e^x - 1, accurate near 0; integer inputs give the default float dtype."""
    return Expm1.apply(input)


def exp(input):
    return Exp.apply(input)


def log(input):
    return Log.apply(input)


def log1p(input):
    return Log1p.apply(input)


def sqrt(input):
    return Sqrt.apply(input)


def abs(input):
    return Abs.apply(input)


def sin(input):
    return Sin.apply(input)


def cos(input):
    return Cos.apply(input)


def tanh(input):
    return Tanh.apply(input)


def sigmoid(input):
    return Sigmoid.apply(input)


def relu(input):
    return ReLU.apply(input)


def sign(input):
    return Sign.apply(input)


def clamp(input, min=None, max=None):
    """Limit values to [min, max] (either bound may be None; tensors are accepted as bounds)."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        from .arithmetic import maximum, minimum

        out = input
        if min is not None:
            out = maximum(out, min)
        if max is not None:
            out = minimum(out, max)
        return out
    return Clamp.apply(input, min, max)


clip = clamp
