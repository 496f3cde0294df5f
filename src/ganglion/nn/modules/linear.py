"""Fully connected layers: ``Linear`` and ``Identity``."""

from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter
from ...factories import empty
from ._checks import check_last_dim


class Linear(Module):
    """y = x W^T + b.  x: (*, in_features) -> (*, out_features). W: (out_features, in_features), as PyTorch.

    Initialized like PyTorch: W and b drawn from U(-1/sqrt(in_features), 1/sqrt(in_features)).
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"Linear: {name} must be a non-negative int, got {value!r}")
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(empty(out_features, in_features, dtype=dtype, device=device))
        self.bias = Parameter(empty(out_features, dtype=dtype, device=device)) if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        init.standard_uniform_(self.weight, self.in_features)
        if self.bias is not None:
            init.standard_uniform_(self.bias, self.in_features)

    def forward(self, x):
        check_last_dim(self, x, self.in_features)
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Identity(Module):
    """Returns its input unchanged (a placeholder layer)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x
