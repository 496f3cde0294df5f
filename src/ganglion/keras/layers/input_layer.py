"""Symbolic tensors for the functional API: ``Input(shape)`` makes a ``KerasTensor`` (a shape with an unknown batch
size, and the layer call that produced it); calling a layer on KerasTensors records a ``Node`` and returns new
KerasTensors. ``Model(inputs, outputs)`` later replays the recorded nodes on real data."""

import numpy as np

from ... import backend
from ...autograd.grad_mode import no_grad
from .strings import STRING, dtype_name, dummy_text, is_string_dtype
from .base import Layer
from .structure import flatten_structure, map_structure


class KerasTensor:
    """A placeholder: ``shape`` (batch dimension None), ``dtype``, and the (layer, node, index) that made it."""

    def __init__(self, shape, dtype="float32", history=None, name=None):
        self.shape = tuple(shape)
        self.dtype = STRING if is_string_dtype(dtype) else np.dtype(dtype)
        self._keras_history = history
        self.name = name

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"


class Node:
    """One call of a layer in a functional graph: which KerasTensors went in (as inputs, or inside the extra
    arguments, such as ``mask=``), which came out, extra arguments."""

    def __init__(self, layer, inputs, outputs, args, kwargs):
        self.layer, self.inputs, self.outputs, self.args, self.kwargs = layer, inputs, outputs, args, kwargs
        self.input_tensors = [t for t in flatten_structure([inputs, list(args), kwargs]) if isinstance(t, KerasTensor)]
        self.output_tensors = flatten_structure(outputs)


def _dummy(shape, dtype, unknown=2):
    """A small real batch shaped like ``shape`` (batch size 2, unknown dims set to ``unknown``). Floats are drawn
    from [0.1, 0.9): valid for logs, roots and divisions, and index 0 once cast to integers (Embedding), so that
    running any layer on it only tells its output shape. Text is a Tensor-free array of ``unknown``-word strings
    (an output length that follows the text's is then found unknown)."""
    if is_string_dtype(dtype):
        return dummy_text((2,) + tuple(shape[1:]) if shape else (), unknown)
    concrete = (2 if shape[0] is None else shape[0],) + tuple(unknown if s is None else s for s in shape[1:]) \
        if shape else ()
    if np.dtype(dtype).kind in "iub":
        return np.zeros(concrete, dtype=dtype)
    return np.random.default_rng(0).uniform(0.1, 0.9, concrete).astype(dtype)


def infer_output_shape(layer, input_shape, args=(), kwargs=None, dtypes=None):
    """Run ``layer`` once on a small batch (no graph, inference mode) to learn its output shapes.

    Returns the output's nested structure of shapes with the batch dimension set to None.
    """
    from ...factories import tensor

    shapes = input_shape
    if dtypes is None:
        tree = _as_shape_tree(shapes)  # one shape (a tuple: not a structure to map over), or a list of them
        make = lambda s: tensor(_dummy(s, backend.float32))  # noqa: E731
        dummy = make(tree) if isinstance(tree, tuple) else [make(s) for s in tree]
    else:
        dummy = dtypes
    was_training = layer.training
    layer.eval()
    try:
        with no_grad():
            out = layer(dummy, *args, **(kwargs or {}))
    finally:
        layer.train(was_training)
    return map_structure(lambda t: (None,) + tuple(t.shape[1:]), out)


def _as_shape_tree(shape):
    """Tell a single shape (a tuple of ints/None) from a list of shapes."""
    if isinstance(shape, (list, tuple)) and shape and all(isinstance(s, (list, tuple)) for s in shape):
        return [tuple(s) for s in shape]
    return tuple(shape)


def symbolic_call(layer, inputs, args, kwargs):
    """Record ``layer(inputs)`` for the functional API and return KerasTensors shaped like its outputs."""
    from ...factories import tensor

    layer._maybe_build(map_structure(lambda t: t.shape if isinstance(t, KerasTensor) else tuple(t.shape), inputs))
    symbolic = [t for t in flatten_structure([inputs, list(args), kwargs]) if isinstance(t, KerasTensor)]
    has_unknown = any(s is None for t in symbolic for s in t.shape[1:]) or any(t.dtype == STRING for t in symbolic)

    def placeholder(t, unknown):
        value = _dummy(t.shape, t.dtype, unknown)
        return value if t.dtype == STRING else tensor(value)

    def run(unknown):
        def concrete(x):
            return map_structure(lambda t: placeholder(t, unknown) if isinstance(t, KerasTensor) else t, x)

        was_training = layer.training
        layer.eval()
        try:
            with no_grad():
                return Layer.__call__(layer, concrete(inputs), *concrete(list(args)), **concrete(kwargs))
        finally:
            layer.train(was_training)

    # unknown (None) dims: run with two sizes; output dims that change with them are unknown too
    out = run(16 if has_unknown else 2)
    other = flatten_structure(run(17)) if has_unknown else None
    node_index = len(layer._inbound_nodes)
    counter = iter(range(10**9))

    def to_symbolic(t):
        i = next(counter)
        shape = tuple(t.shape[1:])
        if other is not None:
            shape = tuple(None if a != b else a for a, b in zip(shape, other[i].shape[1:]))
        return KerasTensor((None,) + shape, t.dtype, history=(layer, node_index, i), name=layer.name)

    outputs = map_structure(to_symbolic, out)
    layer._inbound_nodes.append(Node(layer, inputs, outputs, args, kwargs))
    return outputs


class InputLayer(Layer):
    """The entry of a functional graph or a Sequential: holds the input shape (without the batch dimension) and
    dtype, and passes data through."""

    accepts_strings = True  # it passes data through, text included

    def __init__(self, shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None, input_tensor=None,
                 name=None, input_shape=None, **kwargs):
        if sparse:
            raise ValueError("InputLayer: sparse inputs are not supported by ganglion.keras")
        if input_tensor is not None:
            raise ValueError("InputLayer: input_tensor is not supported; give shape (and dtype) instead")
        if batch_shape is not None:
            batch_size, shape = batch_shape[0], tuple(batch_shape[1:])
        shape = input_shape if shape is None else shape
        if shape is None:
            raise ValueError("InputLayer: shape is required, e.g. InputLayer(shape=(4,))")
        if isinstance(shape, int):
            shape = (shape,)
        if not all(s is None or (isinstance(s, (int, np.integer)) and s > 0) for s in shape):
            raise ValueError(f"InputLayer: shape must hold positive ints (or None), got {tuple(shape)}")
        text = is_string_dtype(dtype)
        super().__init__(name=name or None, dtype=None if text else dtype, **kwargs)
        self.shape = tuple(None if s is None else int(s) for s in shape)
        self.batch_size = batch_size
        self.built = True
        self.output = KerasTensor((batch_size,) + self.shape, dtype or "float32", history=(self, 0, 0),
                                  name=self.name)
        self._inbound_nodes.append(Node(self, [], self.output, (), {}))

    @property
    def batch_shape(self):
        return (self.batch_size,) + self.shape

    def call(self, inputs):
        return inputs

    def get_config(self):
        config = super().get_config()
        config.update({"shape": list(self.shape), "batch_size": self.batch_size,
                       "dtype": dtype_name(self.output.dtype)})
        return config


def Input(shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None, name=None, tensor=None):
    """A symbolic input of ``shape`` (without the batch dimension): ``x = Input(shape=(4,))``; returns the
    ``KerasTensor`` that layers are called on."""
    if shape is None and batch_shape is None:
        raise ValueError("Input: shape is required, e.g. Input(shape=(4,))")
    return InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, sparse=sparse, batch_shape=batch_shape,
                      input_tensor=tensor, name=name).output
