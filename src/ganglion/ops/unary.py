"""Element-wise functions of one tensor: exp, expm1, log, log1p, sqrt, abs, sin, cos, tanh, sigmoid, clamp, sign,
and the rounding family floor, ceil, round, trunc, frac."""

from .. import backend
from ..autograd.function import Function
from ..kernels import elementwise as compiled_elementwise
from ..tensor import Tensor


class _Elementwise(Function):
    """y = f(x), element-wise: one of the functions of the table below, each given by its forward ``_value(xp, x)`` and
    its backward ``_derivative(xp, dy, v)``, v being the one array the derivative reads (x, or y where ``reads_output``; only
    that one is saved). Integer and bool inputs give the default float dtype, as PyTorch, unless ``keeps_dtype``."""

    backward_composes = True
    reads_output = False
    keeps_dtype = False

    def forward(self, x):
        if not self.keeps_dtype:
            x = _as_float(x)
        y = self._value(self.xp, x)
        self.save(y if self.reads_output else x)
        return y

    def backward(self, dy):
        (v,) = self.saved
        return self._derivative(self.xp, dy, v)


def _elementwise(name, formula, f, grad, reads="x", keeps_dtype=False):
    """The op ``name``: its Function class (``Exp``, named for ONNX export and error messages) and the public function
    (``exp(input)``). ``formula`` documents both; ``reads`` is "x" or "y", what ``grad`` takes after dy."""
    op = type(name.capitalize(), (_Elementwise,), {
        "__doc__": formula, "__module__": __name__, "_value": staticmethod(f), "_derivative": staticmethod(grad),
        "reads_output": reads == "y", "keeps_dtype": keeps_dtype,
    })

    def function(input):
        return op.apply(input)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"{formula} Element-wise; same shape" + (", same dtype." if keeps_dtype else
                                                                   " (integer and bool inputs give the default float).")
    return op, function


Exp, exp = _elementwise("exp", "y = e^x;  dy/dx = y.", lambda xp, x: xp.exp(x), lambda xp, dy, y: dy * y, reads="y")
Expm1, expm1 = _elementwise("expm1", "y = e^x - 1, accurate near 0;  dy/dx = e^x = y + 1.",
                            lambda xp, x: xp.expm1(x), lambda xp, dy, y: dy * (y + 1), reads="y")
Log, log = _elementwise("log", "y = ln x;  dy/dx = 1/x.", lambda xp, x: xp.log(x), lambda xp, dy, x: dy / x)
Log1p, log1p = _elementwise("log1p", "y = ln(1 + x), accurate near 0;  dy/dx = 1/(1 + x).",
                            lambda xp, x: xp.log1p(x), lambda xp, dy, x: dy / (1 + x))
Sqrt, sqrt = _elementwise("sqrt", "y = sqrt(x);  dy/dx = 1/(2 y).", lambda xp, x: xp.sqrt(x),
                          lambda xp, dy, y: dy / (2 * y), reads="y")
Abs, abs = _elementwise("abs", "y = |x|;  dy/dx = sign(x) (0 at 0, as PyTorch).", lambda xp, x: xp.abs(x),
                        lambda xp, dy, x: dy * xp.sign(x), keeps_dtype=True)
Sin, sin = _elementwise("sin", "y = sin x;  dy/dx = cos x.", lambda xp, x: xp.sin(x), lambda xp, dy, x: dy * xp.cos(x))
Cos, cos = _elementwise("cos", "y = cos x;  dy/dx = -sin x.", lambda xp, x: xp.cos(x),
                        lambda xp, dy, x: -dy * xp.sin(x))
Tanh, tanh = _elementwise("tanh", "y = tanh x;  dy/dx = 1 - y^2.", lambda xp, x: xp.tanh(x),
                          lambda xp, dy, y: dy * (1 - y * y), reads="y")


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
    """y = max(x, 0);  dy/dx = 1 where x > 0, else 0. Float NumPy arrays of 4096 elements and more take the compiled
    loops of ``kernels.elementwise`` (the same rule in one pass, shared over the cores when large). ``in_place``:
    y is written over x (``relu_``, through ``Function.apply_in_place``); backward reads only y."""

    backward_composes = True

    def forward(self, x, in_place=False):
        if in_place:
            y = compiled_elementwise.relu(x, out=x) if compiled_elementwise.covers(x) else self.xp.maximum(x, 0, out=x)
        else:
            y = compiled_elementwise.relu(x) if compiled_elementwise.covers(x) else _positive_part(self.xp, x)
        self.save(y)
        return y

    def backward(self, dy):
        (y,) = self.saved
        if compiled_elementwise.covers(dy, y):
            return compiled_elementwise.relu_backward(dy, y)
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
    """Piecewise-constant rounding by the array function named ``ufunc``: dy/dx = 0 wherever it exists (PyTorch's
    gradient everywhere). Integer inputs come back unchanged, as a copy (NumPy's floor/ceil/trunc would turn them into
    float64)."""

    backward_composes = True

    def forward(self, x):
        if x.dtype.kind in "iub":
            return x.copy()
        return self.rounded(x)

    def rounded(self, x):
        return getattr(self.xp, self.ufunc)(x)

    def backward(self, dy):
        return self.xp.zeros_like(dy)


class Floor(_Rounding):
    """y = floor x, the largest integer <= x;  dy/dx = 0."""

    ufunc = "floor"


class Ceil(_Rounding):
    """y = ceil x, the smallest integer >= x;  dy/dx = 0."""

    ufunc = "ceil"


class Trunc(_Rounding):
    """y = trunc x, x rounded toward zero;  dy/dx = 0."""

    ufunc = "trunc"


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


def sigmoid(input):
    """1 / (1 + e^-x), element-wise, finite and exact for any input; integer inputs give the default float."""
    return Sigmoid.apply(input)


def relu(input):
    """max(x, 0), element-wise; same shape and dtype (NaN stays NaN)."""
    return ReLU.apply(input)


def relu_(input):
    """max(x, 0) written over x itself, which is returned, as PyTorch's ``relu_``. It saves the new array a fresh
    output costs: the quarter-width ResNet-18's step (``nn.ReLU(inplace=True)``, as torchvision's) took 0.952x and
    0.954x the time of out-of-place ReLUs (``ab_pair.py``, A against A 0.987, 1.004; benchmarks/README.md). While the graph is recorded, ``x`` must not be a leaf
    that requires grad, a view, or an input of a recorded op already (``Function.apply_in_place`` says why)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"relu_(): argument 'input' must be a Tensor, not {type(input).__name__}")
    return ReLU.apply_in_place(input)


def sign(input):
    """-1, 0 or 1 by the sign of x, element-wise; same shape and dtype."""
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
