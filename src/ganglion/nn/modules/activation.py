"""Activation layers: modules that call ``nn.functional`` (only PReLU holds a weight). Any shape in, same shape out
(GLU halves ``dim``). They behave the same in train and eval mode.

``inplace`` is accepted wherever PyTorch has it, for compatibility: ganglion always computes the result out of place
and leaves the input unchanged.
"""

from ...arguments import positive_int
from ...factories import empty
from .. import functional as F
from .. import init
from ..functional.activations import GELU_APPROXIMATIONS
from ..module import Module
from ..parameter import Parameter


def _inplace_repr(module, text=""):
    if not module.inplace:
        return text
    return f"{text}, inplace=True" if text else "inplace=True"


class _Pointwise(Module):
    """An activation without arguments other than ``inplace``: y = fn(x)."""

    _fn = None

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return type(self)._fn(x)

    def extra_repr(self):
        return _inplace_repr(self)


class ReLU(_Pointwise):
    """y = max(x, 0), element-wise."""

    _fn = staticmethod(F.relu)


class ReLU6(_Pointwise):
    """y = min(max(x, 0), 6), element-wise."""

    _fn = staticmethod(F.relu6)


class SELU(_Pointwise):
    """y = scale (x if x > 0 else alpha (e^x - 1)), alpha = 1.6732632..., scale = 1.0507009..."""

    _fn = staticmethod(F.selu)


class Hardsigmoid(_Pointwise):
    """y = clamp(x + 3, 0, 6) / 6."""

    _fn = staticmethod(F.hardsigmoid)


class Hardswish(_Pointwise):
    """y = x clamp(x + 3, 0, 6) / 6."""

    _fn = staticmethod(F.hardswish)


class SiLU(_Pointwise):
    """SiLU (Swish): y = x sigmoid(x)."""

    _fn = staticmethod(F.silu)


Swish = SiLU


class Mish(_Pointwise):
    """y = x tanh(softplus(x))."""

    _fn = staticmethod(F.mish)


class _NoArgs(Module):
    """An activation without constructor arguments: y = fn(x)."""

    _fn = None

    def forward(self, x):
        return type(self)._fn(x)


class Sigmoid(_NoArgs):
    """y = 1 / (1 + e^-x), element-wise (finite and exact for any input)."""

    _fn = staticmethod(F.sigmoid)


class Tanh(_NoArgs):
    """y = tanh x, element-wise."""

    _fn = staticmethod(F.tanh)


class Softsign(_NoArgs):
    """y = x / (1 + |x|)."""

    _fn = staticmethod(F.softsign)


class Tanhshrink(_NoArgs):
    """y = x - tanh x."""

    _fn = staticmethod(F.tanhshrink)


class LogSigmoid(_NoArgs):
    """y = log sigmoid(x) = -softplus(-x)."""

    _fn = staticmethod(F.logsigmoid)


class LeakyReLU(Module):
    """y = x if x > 0 else negative_slope x."""

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return _inplace_repr(self, f"negative_slope={self.negative_slope}")


class PReLU(Module):
    """y = x if x > 0 else a x with a learned slope ``weight``: shape (num_parameters,), one slope shared by all
    channels (num_parameters=1) or one per channel (dim 1 of the input). Initialized to ``init``."""

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters, self.init = positive_int("PReLU", "num_parameters", num_parameters), init
        self.weight = Parameter(empty(num_parameters, dtype=dtype, device=device))
        self.reset_parameters()

    def reset_parameters(self):
        init.constant_(self.weight, self.init)

    def forward(self, x):
        channels = x.shape[1] if x.ndim >= 2 else 1
        if self.num_parameters not in (1, channels):
            raise ValueError(
                f"{self!r}: expected input with {self.num_parameters} channels (dim 1), got shape {tuple(x.shape)}"
            )
        return F.prelu(x, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class ELU(Module):
    """y = x if x > 0 else alpha (e^x - 1)."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, x):
        return F.elu(x, self.alpha)

    def extra_repr(self):
        return _inplace_repr(self, f"alpha={self.alpha}")


class CELU(Module):
    """y = max(0, x) + min(0, alpha (e^{x/alpha} - 1))."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        if alpha == 0:
            raise ValueError("CELU: alpha must not be 0 (the formula divides by it)")
        self.alpha, self.inplace = alpha, inplace

    def forward(self, x):
        return F.celu(x, self.alpha)

    def extra_repr(self):
        return _inplace_repr(self, f"alpha={self.alpha}")


class Hardtanh(Module):
    """y = clamp(x, min_val, max_val)."""

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False):
        super().__init__()
        if not max_val > min_val:
            raise ValueError(f"{type(self).__name__}: max_val ({max_val}) must be greater than min_val ({min_val})")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, x):
        return F.hardtanh(x, self.min_val, self.max_val)

    def extra_repr(self):
        return _inplace_repr(self, f"min_val={self.min_val}, max_val={self.max_val}")


class Softplus(Module):
    """y = log(1 + e^{beta x}) / beta, and y = x where beta x > threshold."""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        if beta == 0:
            raise ValueError("Softplus: beta must not be 0 (the formula divides by it)")
        self.beta, self.threshold = beta, threshold

    def forward(self, x):
        return F.softplus(x, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class GELU(Module):
    """y = x Phi(x) (``approximate="none"``, the exact erf form) or its tanh approximation (``"tanh"``)."""

    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in GELU_APPROXIMATIONS:
            raise ValueError(f"GELU: unknown approximate={approximate!r}; accepted values are 'none', 'tanh'")
        self.approximate = approximate

    def forward(self, x):
        return F.gelu(x, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class Threshold(Module):
    """y = x where x > threshold, else value."""

    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, x):
        return F.threshold(x, self.threshold, self.value)

    def extra_repr(self):
        return _inplace_repr(self, f"threshold={self.threshold}, value={self.value}")


class Hardshrink(Module):
    """y = x where |x| > lambd, else 0."""

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, x):
        return F.hardshrink(x, self.lambd)

    def extra_repr(self):
        return f"{self.lambd}"


class Softshrink(Hardshrink):
    """y = x - lambd sign(x) where |x| > lambd, else 0."""

    def forward(self, x):
        return F.softshrink(x, self.lambd)


class GLU(Module):
    """y = a sigmoid(b), a and b the halves of the input along ``dim``: (*, 2n, *) -> (*, n, *)."""

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.glu(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class _AlongDim(Module):
    """A normalization along ``dim`` (softmax and kin)."""

    _fn = None

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return type(self)._fn(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmax(_AlongDim):
    """y = softmax(x) along ``dim``: each slice along it sums to 1."""

    _fn = staticmethod(F.softmax)


class LogSoftmax(_AlongDim):
    """y = log softmax(x) along ``dim``."""

    _fn = staticmethod(F.log_softmax)


class Softmin(_AlongDim):
    """y = softmax(-x) along ``dim``."""

    _fn = staticmethod(F.softmin)


class Softmax2d(Module):
    """Softmax over the channels at every position: (N, C, H, W) or (C, H, W) -> same shape."""

    def forward(self, x):
        if x.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected input of shape (N, C, H, W) or (C, H, W), got {tuple(x.shape)}")
        return F.softmax(x, -3)
