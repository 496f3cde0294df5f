"""``ganglion.nn``: modules (layers with state) over ``nn.functional`` (the math), with PyTorch's names."""

from . import functional, init
from .module import Module
from .modules import CrossEntropyLoss, Identity, Linear, LogSoftmax, NLLLoss, ReLU, Sequential, Sigmoid, Softmax, Tanh
from .parameter import Parameter
from .modules import Flatten, ModuleDict, ModuleList, Unflatten
from .hooks import RemovableHandle
