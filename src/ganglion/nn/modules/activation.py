"""Activation layers: modules that call ``nn.functional`` (only PReLU holds a weight). Any shape in, same shape out
(GLU halves ``dim``). They behave the same in train and eval mode.

``ReLU``, ``LeakyReLU``, ``Hardtanh``, ``ReLU6`` and ``Threshold`` with ``inplace=True`` write their result over the
input, as PyTorch's. Elsewhere ``inplace`` is accepted for compatibility: ganglion computes the result out of place
and leaves the input unchanged.
"""

from ...arguments import positive_int
from ...factories import empty
from .. import functional as F
from .. import init
from ..functional.activations import GELU_APPROXIMATIONS
from ..module import Module
from ..parameter import Parameter
from .functional_layer import FunctionalLayer


class _Pointwise(FunctionalLayer):
    """An activation whose only argument is PyTorch's ``inplace``."""

    def __init__(self, inplace=False):
        super().__init__(inplace=inplace)


class ReLU(_Pointwise):
    """y = max(x, 0), element-wise; ``inplace=True`` writes it over the input (``F.relu_``), as PyTorch's."""

    _fn = staticmethod(F.relu)
    _passes_inplace = True


class ReLU6(_Pointwise):
    """y = min(max(x, 0), 6), element-wise."""

    _fn = staticmethod(F.relu6)
    _passes_inplace = True


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


class Sigmoid(FunctionalLayer):
    """y = 1 / (1 + e^-x), element-wise (finite and exact for any input)."""

    _fn = staticmethod(F.sigmoid)


class Tanh(FunctionalLayer):
    """y = tanh x, element-wise."""

    _fn = staticmethod(F.tanh)


class Softsign(FunctionalLayer):
    """y = x / (1 + |x|)."""

    _fn = staticmethod(F.softsign)


class Tanhshrink(FunctionalLayer):
    """y = x - tanh x."""

    _fn = staticmethod(F.tanhshrink)


class LogSigmoid(FunctionalLayer):
    """y = log sigmoid(x) = -softplus(-x)."""

    _fn = staticmethod(F.logsigmoid)


class LeakyReLU(FunctionalLayer):
    """y = x if x > 0 else negative_slope x."""

    _fn = staticmethod(F.leaky_relu)
    _passes_inplace = True

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__(negative_slope=negative_slope, inplace=inplace)


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


class ELU(FunctionalLayer):
    """y = x if x > 0 else alpha (e^x - 1)."""

    _fn = staticmethod(F.elu)

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__(alpha=alpha, inplace=inplace)


class CELU(FunctionalLayer):
    """y = max(0, x) + min(0, alpha (e^{x/alpha} - 1))."""

    _fn = staticmethod(F.celu)

    def __init__(self, alpha=1.0, inplace=False):
        if alpha == 0:
            raise ValueError("CELU: alpha must not be 0 (the formula divides by it)")
        super().__init__(alpha=alpha, inplace=inplace)


class Hardtanh(FunctionalLayer):
    """y = clamp(x, min_val, max_val)."""

    _fn = staticmethod(F.hardtanh)
    _passes_inplace = True

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False):
        if not max_val > min_val:
            raise ValueError(f"{type(self).__name__}: max_val ({max_val}) must be greater than min_val ({min_val})")
        super().__init__(min_val=min_val, max_val=max_val, inplace=inplace)


class Softplus(FunctionalLayer):
    """y = log(1 + e^{beta x}) / beta, and y = x where beta x > threshold."""

    _fn = staticmethod(F.softplus)

    def __init__(self, beta=1.0, threshold=20.0):
        if beta == 0:
            raise ValueError("Softplus: beta must not be 0 (the formula divides by it)")
        super().__init__(beta=beta, threshold=threshold)


class GELU(FunctionalLayer):
    """y = x Phi(x) (``approximate="none"``, the exact erf form) or its tanh approximation (``"tanh"``)."""

    _fn = staticmethod(F.gelu)

    def __init__(self, approximate="none"):
        if approximate not in GELU_APPROXIMATIONS:
            raise ValueError(f"GELU: unknown approximate={approximate!r}; accepted values are 'none', 'tanh'")
        super().__init__(approximate=approximate)


class Threshold(FunctionalLayer):
    """y = x where x > threshold, else value."""

    _fn = staticmethod(F.threshold)
    _passes_inplace = True

    def __init__(self, threshold, value, inplace=False):
        super().__init__(threshold=threshold, value=value, inplace=inplace)


class Hardshrink(FunctionalLayer):
    """y = x where |x| > lambd, else 0."""

    _fn = staticmethod(F.hardshrink)

    def __init__(self, lambd=0.5):
        super().__init__(lambd=lambd)

    def extra_repr(self):
        return f"{self.lambd}"  # PyTorch shows the value alone: Hardshrink(0.5)


class Softshrink(Hardshrink):
    """y = x - lambd sign(x) where |x| > lambd, else 0."""

    _fn = staticmethod(F.softshrink)


class GLU(FunctionalLayer):
    """y = a sigmoid(b), a and b the halves of the input along ``dim``: (*, 2n, *) -> (*, n, *)."""

    _fn = staticmethod(F.glu)

    def __init__(self, dim=-1):
        super().__init__(dim=dim)


class _AlongDim(FunctionalLayer):
    """A normalization along ``dim`` (softmax and kin); ``dim=None`` is PyTorch's legacy implicit choice."""

    def __init__(self, dim=None):
        super().__init__(dim=dim)


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
