"""L1, L2 and L1 + L2 (elastic net) penalties on selected parameters: a Tensor to add to the loss.

    loss = criterion(model(x), y) + l2_penalty([layer.weight for layer in layers], 1e-4)

The coefficients follow Keras' regularizers: ``l1_penalty(w, c) = c sum |w|`` and ``l2_penalty(w, c) = c sum w^2``
(no factor 1/2), so d/dw of the L2 term is 2 c w. An optimizer's ``weight_decay=wd`` (plain SGD: g + wd w) therefore
equals adding ``l2_penalty(params, wd / 2)``, i.e. 0.5 wd ||w||^2, to the loss. Unlike ``weight_decay``, a penalty
is part of the loss: it shows in the loss value, and it can cover any subset of the parameters (weights but not
biases, one layer more than another).
"""

import numbers

from ... import backend
from ...autograd.function import Function
from ...tensor import Tensor


class ElasticNet(Function):
    """p = l1 sum_i |w_i| + l2 sum_i w_i^2 over every element of every input;  dp/dw = l1 sign(w) + 2 l2 w
    (sign(0) = 0, the subgradient PyTorch's abs uses)."""

    def forward(self, *weights, l1, l2):
        xp = self.xp
        dtype = xp.result_type(*weights) if weights else backend.get_default_dtype()
        total = xp.zeros((), dtype=dtype)
        for w in weights:
            if l1:
                total = total + l1 * xp.abs(w).sum(dtype=dtype)
            if l2:
                total = total + l2 * (w * w).sum(dtype=dtype)
        self.save(weights, l1, l2)
        return total

    def backward(self, dy):
        weights, l1, l2 = self.saved
        xp = self.xp
        grads = []
        for w, needed in zip(weights, self.needs_input_grad):
            if not needed:
                grads.append(None)
                continue
            g = xp.zeros_like(w)
            if l1:
                g += l1 * xp.sign(w)
            if l2:
                g += (2 * l2) * w
            grads.append(g * dy)
        return tuple(grads)

    def forward_graph(self, *weights, l1, l2):
        """The same penalty from ops, for double backward."""
        total = 0
        for w in weights:
            if l1:
                total = total + l1 * w.abs().sum()
            if l2:
                total = total + l2 * (w * w).sum()
        return total


def _tensors(op, parameters):
    """A Tensor or an iterable of them (``model.parameters()``, a list) as a list, each checked."""
    items = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    for i, t in enumerate(items):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: parameters must be Tensors, got {type(t).__name__} at position {i}")
        if t.dtype.kind != "f":
            raise TypeError(f"{op}: parameters must be floating-point, got {t.dtype} at position {i}")
    return items


def _coefficient(op, name, value):
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{op}: {name} must be a real number, got {type(value).__name__}")
    if not value >= 0:
        raise ValueError(f"{op}: {name} must be >= 0, got {value}")
    return float(value)


def l1_penalty(parameters, weight):
    """weight * sum |w| over all elements of ``parameters`` (a Tensor or an iterable of them): a 0-d Tensor.

    Its gradient is weight * sign(w): it pushes weights to exactly zero (sparsity).
    """
    weight = _coefficient("l1_penalty", "weight", weight)
    return ElasticNet.apply(*_tensors("l1_penalty", parameters), l1=weight, l2=0.0)


def l2_penalty(parameters, weight):
    """weight * sum w^2 over all elements of ``parameters`` (a Tensor or an iterable of them): a 0-d Tensor.

    Keras' convention (no 1/2): the gradient is 2 weight w, so ``l2_penalty(params, wd / 2)`` in the loss equals
    SGD's ``weight_decay=wd``.
    """
    weight = _coefficient("l2_penalty", "weight", weight)
    return ElasticNet.apply(*_tensors("l2_penalty", parameters), l1=0.0, l2=weight)


def l1_l2_penalty(parameters, l1=0.0, l2=0.0):
    """Elastic net: l1 * sum |w| + l2 * sum w^2 over all elements of ``parameters``: a 0-d Tensor.

    The gradient is l1 sign(w) + 2 l2 w. Same coefficients as ``l1_penalty`` and ``l2_penalty`` (Keras' ``L1L2``).
    """
    l1 = _coefficient("l1_l2_penalty", "l1", l1)
    l2 = _coefficient("l1_l2_penalty", "l2", l2)
    return ElasticNet.apply(*_tensors("l1_l2_penalty", parameters), l1=l1, l2=l2)
