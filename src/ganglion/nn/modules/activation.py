"""Activation layers: modules that hold no weights and call ``nn.functional``."""

from .. import functional as F
from ..module import Module


class ReLU(Module):
    """y = max(x, 0), element-wise. Any shape in, same shape out."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace  # accepted for PyTorch compatibility; ganglion always computes out of place

    def forward(self, x):
        return F.relu(x)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class Sigmoid(Module):
    """y = 1 / (1 + e^-x), element-wise."""

    def forward(self, x):
        return F.sigmoid(x)


class Tanh(Module):
    """y = tanh x, element-wise."""

    def forward(self, x):
        return F.tanh(x)


class Softmax(Module):
    """y = softmax(x) along ``dim``: each slice along it sums to 1."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.softmax(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """y = log softmax(x) along ``dim``."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.log_softmax(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"
