"""Dropout layers: active in training mode (``module.train()``), the identity in evaluation mode (``module.eval()``).
They hold no parameters and no buffers; masks come from ``ganglion.manual_seed``'s default generator."""

from .. import functional as F
from ..functional.dropout import check_p
from ..module import Module


class _DropoutNd(Module):
    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        self.p = check_p(type(self).__name__, p)
        self.inplace = bool(inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Inverted dropout: each element is zeroed with probability p and the rest are scaled by 1 / (1 - p).

    Any shape in, same shape out. The identity in eval mode.
    """

    def forward(self, input):
        return F.dropout(input, self.p, self.training, self.inplace)


class Dropout1d(_DropoutNd):
    """Channel-wise dropout: (N, C, L) or (C, L) in, same shape out; whole channels are zeroed with probability p
    and the rest scaled by 1 / (1 - p). The identity in eval mode."""

    def forward(self, input):
        return F.dropout1d(input, self.p, self.training, self.inplace)


class Dropout2d(_DropoutNd):
    """Channel-wise dropout: (N, C, H, W) in, same shape out; whole feature maps are zeroed with probability p and
    the rest scaled by 1 / (1 - p). The identity in eval mode. (A 3-d input is read as (N, C, L), as PyTorch does.)"""

    def forward(self, input):
        return F.dropout2d(input, self.p, self.training, self.inplace)


class AlphaDropout(_DropoutNd):
    """Dropout for SELU networks: dropped units take SELU's saturation value and an affine map keeps the mean and
    variance of zero-mean, unit-variance inputs. Any shape in, same shape out. The identity in eval mode."""

    def forward(self, input):
        return F.alpha_dropout(input, self.p, self.training, self.inplace)
