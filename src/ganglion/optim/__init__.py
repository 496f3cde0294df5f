"""``ganglion.optim``: optimizers with PyTorch's names, arguments and update rules."""

from .adam import Adam
from .optimizer import Optimizer
from .sgd import SGD
