"""Merge layers: combine a list of tensors. ``Add``, ``Subtract``, ``Multiply``, ``Average``, ``Maximum``,
``Minimum`` (element-wise, same shapes or broadcastable: each dim equal, or 1 in one input) and ``Concatenate``
(along ``axis``, all other dims equal), over the engine's ops; with the functional forms ``add([a, b])`` etc.

Masks, as in Keras: an element-wise merge's output keeps a step if any input keeps it (no mask if some input has
none); ``Concatenate`` joins the masks along ``axis`` (an unmasked input counts as all kept) and keeps a position
if any of its entries along the last axis is kept."""

from functools import reduce

from ... import ops
from ...factories import ones
from ..naming import to_snake_case
from ._adapters import who
from .base import Layer


def _shape_text(shapes):
    return "[" + ", ".join(str(tuple(s)) for s in shapes) + "]"


class Merge(Layer):
    """Shared by the element-wise merges: the list check, shape validation, and a pairwise fold of ``_merge``."""

    _min_inputs = 1
    _max_inputs = None
    supports_masking = True

    def _shapes(self, inputs):
        if not isinstance(inputs, (list, tuple)) or not all(isinstance(s, (list, tuple)) for s in inputs):
            single = inputs if isinstance(inputs, (list, tuple)) else getattr(inputs, "shape", ())
            raise ValueError(f"{who(self)}: a merge layer takes a list of inputs, got one "
                             f"input of shape {tuple(single)}")
        shapes = [tuple(s) for s in inputs]
        n = len(shapes)
        if n < self._min_inputs or (self._max_inputs is not None and n > self._max_inputs):
            count = (f"exactly {self._min_inputs}" if self._min_inputs == self._max_inputs
                     else f"at least {self._min_inputs}")
            raise ValueError(f"{who(self)}: expected {count} inputs, got {n} "
                             f"(shapes {_shape_text(shapes)})")
        return shapes

    def _output_shape(self, shapes):
        """Broadcast the shapes dim by dim (None is unknown); ValueError naming them all if they do not fit."""
        rank = max(len(s) for s in shapes)
        if any(len(s) != rank for s in shapes):
            raise ValueError(f"{who(self)}: inputs must have the same rank, got shapes "
                             f"{_shape_text(shapes)}")
        out = []
        for dims in zip(*shapes):
            known = {d for d in dims if d is not None and d != 1}
            if len(known) > 1:
                raise ValueError(f"{who(self)}: inputs must have the same shape (or "
                                 f"broadcast: each dim equal, or 1), got shapes {_shape_text(shapes)}")
            out.append(known.pop() if known else (None if None in dims else 1))
        return tuple(out)

    def build(self, input_shape):
        self._output_shape(self._shapes(input_shape))
        self.built = True

    def call(self, inputs):
        self._output_shape(self._shapes([tuple(t.shape) for t in inputs] if isinstance(inputs, (list, tuple))
                                        else inputs))
        return self._combine(list(inputs))

    def _combine(self, tensors):
        return reduce(self._merge, tensors)

    def compute_output_shape(self, input_shape):
        return self._output_shape(self._shapes(input_shape))

    def compute_mask(self, inputs, mask=None):
        if mask is None:
            return None
        _check_masks(self, inputs, mask)
        if any(m is None for m in mask):
            return None
        return reduce(lambda a, b: a | b, mask)


class Add(Merge):
    """y = x_1 + x_2 + ... + x_n (same shapes)."""

    def _merge(self, a, b):
        return a + b


class Subtract(Merge):
    """y = x_1 - x_2 (exactly two inputs)."""

    _min_inputs = _max_inputs = 2

    def _merge(self, a, b):
        return a - b


class Multiply(Merge):
    """y = x_1 * x_2 * ... * x_n, element-wise."""

    def _merge(self, a, b):
        return a * b


class Average(Merge):
    """y = (x_1 + ... + x_n) / n."""

    def _combine(self, tensors):
        return reduce(lambda a, b: a + b, tensors) * (1.0 / len(tensors))


class Maximum(Merge):
    """y = max(x_1, ..., x_n), element-wise."""

    def _merge(self, a, b):
        return ops.maximum(a, b)


class Minimum(Merge):
    """y = min(x_1, ..., x_n), element-wise."""

    def _merge(self, a, b):
        return ops.minimum(a, b)


class Concatenate(Merge):
    """Join the inputs along ``axis`` (default -1, the features): every other dim must be equal."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(axis, int) or isinstance(axis, bool):
            raise ValueError(f"Concatenate: axis must be an int, got {axis!r}")
        self.axis = axis

    def _output_shape(self, shapes):
        rank = len(shapes[0])
        if any(len(s) != rank for s in shapes) or not -rank <= self.axis < rank:
            raise ValueError(f"{who(self)}: inputs must have the same rank, with axis={self.axis} "
                             f"inside it; got shapes {_shape_text(shapes)}")
        axis = self.axis % rank
        out = []
        for i, dims in enumerate(zip(*shapes)):
            if i == axis:
                out.append(None if None in dims else sum(dims))
                continue
            known = {d for d in dims if d is not None}
            if len(known) > 1:
                raise ValueError(f"{who(self)}: inputs must match in every dim except the "
                                 f"concatenation axis ({self.axis}), got shapes {_shape_text(shapes)}")
            out.append(known.pop() if known else None)
        return tuple(out)

    def _combine(self, tensors):
        return ops.cat(tensors, dim=self.axis)

    def compute_mask(self, inputs, mask=None):
        if mask is None:
            return None
        _check_masks(self, inputs, mask)
        full = []
        for x, m in zip(inputs, mask):
            if m is None:
                m = ones(*x.shape, dtype=bool, device=x.device)
            elif m.ndim < x.ndim:
                m = m.unsqueeze(-1).expand(*x.shape)
            full.append(m)
        return ops.cat(full, dim=self.axis).amax(-1)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


def _check_masks(layer, inputs, mask):
    if not isinstance(mask, (list, tuple)) or not isinstance(inputs, (list, tuple)) or len(mask) != len(inputs):
        raise ValueError(f"{who(layer)}: the inputs and their masks must be lists of the same length, got "
                         f"{type(inputs).__name__} inputs and mask={mask!r}")


def _functional_form(layer_class):
    """Keras' functional form of a merging layer: ``add([a, b], **kwargs)`` is ``Add(**kwargs)([a, b])``."""
    name = to_snake_case(layer_class.__name__)

    def merge(inputs, **kwargs):
        return layer_class(**kwargs)(inputs)

    merge.__name__ = merge.__qualname__ = name
    merge.__doc__ = f"Functional form of ``{layer_class.__name__}``: ``{name}([a, b])``."
    return merge


add, subtract, multiply, average, maximum, minimum = map(
    _functional_form, (Add, Subtract, Multiply, Average, Maximum, Minimum))


def concatenate(inputs, axis=-1, **kwargs):
    """Functional form of ``Concatenate``: ``concatenate([a, b], axis=-1)``."""
    return Concatenate(axis=axis, **kwargs)(inputs)
