"""``KerasWeight``: a weight of a built-in layer as Keras sees it (a Keras ``Variable``): its Keras name, the engine
parameter behind it, and the layout change between the two (a Dense kernel is stored transposed)."""

import numpy as np

from ... import backend
from ...autograd.grad_mode import no_grad
from ...tensor import Tensor
from ..variables import VariableAPI


class KerasWeight(VariableAPI):
    """A Keras-visible weight of a built-in layer, as a Keras ``Variable``: its name, the engine parameter behind it,
    and the layout change between the two (a Dense kernel is stored transposed)."""

    __array_ufunc__ = None  # `ndarray @ weight` defers to the weight's reflected operators, as for a Tensor

    def __init__(self, name, parameter, to_keras=None, from_keras=None):
        self.name, self.parameter = name, parameter
        self.to_keras = to_keras or _same
        self.from_keras = from_keras or _same

    @property
    def shape(self):
        return tuple(self._read().shape)

    def _read(self):
        return np.array(self.to_keras(backend.to_numpy(self.parameter.array)))

    def _write(self, array):
        value = self.from_keras(np.asarray(array))
        if tuple(value.shape) != tuple(self.parameter.shape):
            raise ValueError(
                f"weight {self.name!r}: expected a value of shape {self.shape} (Keras layout), got {np.shape(array)}"
            )
        with no_grad():
            self.parameter.array[...] = backend.to_device(value.astype(self.parameter.dtype), self.parameter.device)
        self.parameter._bump_version()

    @property
    def value(self):
        """The weight as a Tensor: the parameter itself when the layouts agree (gradients reach it), else a copy in
        Keras' layout whose ``.grad`` is the parameter's gradient in that layout at the time of reading (what Keras
        3's torch-backend ``train_step`` reads as ``v.value.grad`` after ``backward``)."""
        if self.to_keras is _same:
            return self.parameter
        snapshot = Tensor._wrap(backend.to_device(self._read(), self.parameter.device))
        snapshot.grad = self.grad
        return snapshot

    @property
    def grad(self):
        """The parameter's gradient in Keras' layout (what ``optimizer.apply(grads, weights)`` expects), or None."""
        g = self.parameter.grad
        return None if g is None else Tensor._wrap(self.to_keras(g.array))

    @property
    def trainable(self):
        return bool(self.parameter.requires_grad)

    @trainable.setter
    def trainable(self, value):
        self.parameter.requires_grad = bool(value)

    def __len__(self):
        return self.shape[0]

    def __repr__(self):
        return f"<KerasWeight path={self.path}, shape={self.shape}, dtype={self.dtype}>"


def _same(a):
    return a


def _value_op(name):
    def op(self, *args):
        return getattr(self.value, name)(*args)

    op.__name__ = name
    return op


for _name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__", "__rtruediv__",
              "__matmul__", "__rmatmul__", "__pow__", "__neg__", "__getitem__", "__lt__", "__le__", "__gt__",
              "__ge__"):
    setattr(KerasWeight, _name, _value_op(_name))  # arithmetic on a weight is arithmetic on its value
