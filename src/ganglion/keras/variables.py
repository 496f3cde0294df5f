"""``keras.Variable``: a weight as Keras 3 shows it. Keras code reads ``.value``, ``.numpy()``, ``.shape``, ``.dtype``
(a name such as "float32"), ``.trainable``, ``.name``, ``.path`` and writes with ``.assign``, ``.assign_add`` and
``.assign_sub``, each returning the variable.

Two faces share that API (``VariableAPI``):

- ``Variable`` *is* an engine ``Parameter``, so a layer that made it with ``add_weight`` registers, trains and saves it
  as any parameter, and ``inputs @ self.w`` builds the graph.
- ``KerasWeight`` (layers/base.py) is a view of a parameter of a built-in layer whose engine layout differs from
  Keras' (a Dense kernel is stored transposed): it reads and writes through the layout change.
"""

import numpy as np

from .. import backend
from ..nn.parameter import Parameter
from ..tensor import Tensor


class DtypeName(str):
    """A dtype as Keras names it ("float32") that still serves the engine as a NumPy dtype: it compares equal to the
    name and to the dtype, and answers the dtype's attributes (``kind``, ``itemsize``)."""

    def __eq__(self, other):
        if isinstance(other, str):
            return str.__eq__(self, other)
        try:
            return np.dtype(str(self)) == other
        except TypeError:
            return NotImplemented

    def __ne__(self, other):
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = str.__hash__

    def __getattr__(self, name):
        return getattr(np.dtype(str(self)), name)


def _as_numpy(value):
    """A Variable, Tensor, torch tensor, array, list or number as a NumPy array."""
    if isinstance(value, VariableAPI) and not isinstance(value, Tensor):
        return value.numpy()
    if isinstance(value, Tensor):
        return backend.to_numpy(value.array)
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor
        return value.detach().cpu().numpy()
    return np.asarray(value)


class VariableAPI:
    """What a Keras variable offers, written once over four primitives a face provides: ``_read()`` (a NumPy copy in
    Keras' layout), ``_write(array)`` (store an array of Keras' shape in place), ``value`` and ``trainable``."""

    _path = None

    @property
    def path(self):
        """"layer_name/weight_name" for a layer's weight (as Keras 3), the name for a standalone variable."""
        return self._path or self.name

    @property
    def dtype(self):
        return DtypeName(str(self._read().dtype))

    def numpy(self):
        """The values as a fresh NumPy array (Keras' layout)."""
        return self._read()

    def __array__(self, dtype=None, copy=None):
        array = self._read()
        return array if dtype is None else array.astype(dtype)

    def assign(self, value):
        """Overwrite the values with ``value`` (same shape); returns the variable."""
        value = _as_numpy(value)
        shape = tuple(self.shape)
        if tuple(np.shape(value)) != shape:
            raise ValueError(f"weight {self.name!r}: expected a value of shape {shape} (Keras layout), "
                             f"got {np.shape(value)}")
        self._write(value)
        return self

    def assign_add(self, value):
        """Add ``value`` (broadcast to the variable's shape) in place; returns the variable."""
        return self.assign(self._read() + np.broadcast_to(_as_numpy(value), tuple(self.shape)))

    def assign_sub(self, value):
        """Subtract ``value`` (broadcast to the variable's shape) in place; returns the variable."""
        return self.assign(self._read() - np.broadcast_to(_as_numpy(value), tuple(self.shape)))


class Variable(VariableAPI, Parameter):
    """``keras.Variable(initializer, shape=None, dtype=None, trainable=True, name=None)``: a Parameter with Keras'
    variable API. ``initializer`` is the initial value (array, list, number, Tensor) or an initializer (a name such as
    "zeros", an Initializer, a callable) together with ``shape``."""

    name = "variable"

    def __init__(self, initializer, shape=None, dtype=None, trainable=True, autocast=True, aggregation="none",
                 synchronization="auto", name=None):
        value = _initial_value(initializer, shape, dtype)
        super().__init__(requires_grad=False)
        self.array = value  # set directly: Parameter() would turn float64 into float32, Keras keeps it
        self.requires_grad = bool(trainable) and value.dtype.kind in "fc"
        if name is not None:
            if not isinstance(name, str) or "/" in name:
                raise ValueError(f"Variable: name must be a string without '/', got {name!r}")
            self.name = name
        self.aggregation = aggregation

    @property
    def value(self):
        """The variable as a Tensor for math (it is one: gradients reach it)."""
        return self

    @property
    def trainable(self):
        return bool(self.requires_grad)

    @trainable.setter
    def trainable(self, value):
        self.requires_grad = bool(value)

    @property
    def dtype(self):
        return DtypeName(str(self.array.dtype))

    def _read(self):
        return np.array(backend.to_numpy(self.array))

    def _write(self, array):
        self.array[...] = backend.to_device(np.asarray(array).astype(self.array.dtype), self.device)
        self._bump_version()

    # the engine's view of a Keras weight (``parameter`` and identity layouts), shared with KerasWeight
    @property
    def parameter(self):
        return self

    @staticmethod
    def to_keras(a):
        return a

    from_keras = to_keras

    def __repr__(self):
        return (f"<Variable path={self.path}, shape={tuple(self.shape)}, dtype={self.dtype}, "
                f"value={self._read()}>")


def _initial_value(initializer, shape, dtype):
    """The first value of a variable as an array: an initializer called with ``shape`` (required then), or a value
    (whose shape, when given, must match)."""
    from .initializers import Initializer
    from .initializers import get as get_initializer

    dtype = backend.resolve_dtype(dtype)
    if isinstance(initializer, (str, Initializer)) or (callable(initializer) and not isinstance(initializer, Tensor)):
        if shape is None:
            raise ValueError("Variable: an initializer needs a shape, e.g. Variable('zeros', shape=(3,))")
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        value = _as_numpy(get_initializer(initializer)(shape, dtype=dtype or backend.float32))
    else:
        value = _as_numpy(initializer)
        if not isinstance(initializer, (np.ndarray, Tensor)):  # Python numbers and lists: Keras' float32 / int32
            value = value.astype(np.float32 if value.dtype.kind == "f" else
                                 np.int32 if value.dtype.kind in "iu" else value.dtype)
        if shape is not None and tuple(value.shape) != ((shape,) if isinstance(shape, int) else tuple(shape)):
            raise ValueError(f"Variable: the initial value has shape {value.shape}, not the given shape {shape}")
    if dtype is not None:
        value = value.astype(dtype)
    return np.array(value)
