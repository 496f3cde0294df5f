"""``ganglion.nn.functional``: the math of every layer, as functions (PyTorch's ``torch.nn.functional``)."""

from ...ops import pad
from .activations import log_softmax, relu, sigmoid, softmax, tanh
from .linear import linear
from .losses import cross_entropy, nll_loss
