"""Activation functions. The element-wise ones the Tensor itself offers live in ``ganglion.ops``; this module is
their ``nn.functional`` face (and, with the nn issue, the home of the rest)."""

from ...ops import log_softmax, relu, sigmoid, softmax, tanh

__all__ = ["relu", "sigmoid", "tanh", "softmax", "log_softmax"]
