"""``GraphBuilder``: what an op mapping writes ONNX with. It names values, turns parameters, buffers and constants
into initializers, adds nodes, and knows each recorded tensor's dynamic shape (None for the batch-dependent dims).

A mapping (see ``ops/``) is ``mapping(g, node, *args) -> output name(s)``: it reads the node's arguments, asks
``g.value(arg)`` for the ONNX name of a tensor argument, adds nodes with ``g.add(...)`` and returns the names of
the node's outputs (one string, or a list with one entry per output of a multi-output node).
"""

import numpy as np
from onnx import helper, numpy_helper

from .. import backend
from ..tensor import Tensor
from .errors import UnsupportedOpError


class GraphBuilder:
    """ONNX nodes and initializers for one traced graph. ``comparison``: dynamic shapes; ``trace``: the first trace;
    ``names``: id(parameter, buffer or their array) -> the module's name for it; ``inputs``: id(input Tensor or
    array) -> graph input name."""

    def __init__(self, opset, comparison, trace, names, inputs):
        self.opset, self.comparison, self.trace, self.owners = opset, comparison, trace, trace.owners
        self.param_names, self.input_names = names, inputs
        self.nodes, self.initializers = [], []
        self.values = {}  # (Function node, output index) -> ONNX name
        self._leaves = {}  # id(constant or parameter Tensor / array) -> (ONNX name, the object, kept alive)
        self._used = set(inputs.values())
        self.current = None  # the node being mapped, named in errors

    # ----------------------------------------------------------------------------------------------- names
    def fresh(self, hint):
        """A new value name, ``hint`` or ``hint_2``, ``hint_3``, ..."""
        hint = hint.replace(".", "_") or "value"
        name, k = hint, 1
        while name in self._used:
            k += 1
            name = f"{hint}_{k}"
        self._used.add(name)
        return name

    def reserve(self, names):
        """Keep ``names`` (the graph's output names) from being given to other values."""
        self._used.update(names)

    def layer(self, node=None):
        return self.owners.get(self.current if node is None else node)

    def unsupported(self, detail):
        """The error for the node being mapped: its op and layer, and ``detail``."""
        return UnsupportedOpError(type(self.current).__name__, self.layer(), detail)

    # ---------------------------------------------------------------------------------------------- values
    def value(self, arg, dtype=None):
        """The ONNX name of ``arg``: a recorded tensor, a model input, a parameter or buffer (an initializer under
        its module name), any other Tensor or array (a constant initializer), or a Python number (a scalar constant
        of ``dtype``)."""
        if isinstance(arg, Tensor):
            if arg._node is not None:
                return self.values[(arg._node, arg._out_index)]
            if id(arg) in self.input_names:
                return self.input_names[id(arg)]
            return self._leaf(arg, arg.array)
        if id(arg) in self.input_names:
            return self.input_names[id(arg)]
        if hasattr(arg, "shape") and hasattr(arg, "dtype"):
            return self._leaf(arg, arg)
        if isinstance(arg, (bool, int, float)):
            return self.const(np.asarray(arg, dtype=dtype or np.float32))
        raise self.unsupported(f"an argument of type {type(arg).__name__} ({arg!r}) has no ONNX value")

    def _leaf(self, obj, array):
        entry = self._leaves.get(id(obj))
        if entry is None:
            array = backend.to_numpy(array)
            hint = self.param_names.get(id(obj)) or self.param_names.get(id(array)) or "const"
            if hint == "const" and obj is not array and self.comparison.shape(obj) != tuple(array.shape):
                raise self.unsupported(f"a constant of shape {tuple(array.shape)} changes with the batch size; "
                                       "export with dynamic_batch=False")
            entry = self._leaves[id(obj)] = (self.const(array, hint), obj)
        return entry[0]

    def const(self, array, hint="const"):
        """A new initializer holding ``array``; returns its name."""
        name = self.fresh(hint)
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def ints(self, values, hint="ints"):
        """An int64 1-D constant (shapes, axes, pads)."""
        return self.const(np.asarray(list(values), dtype=np.int64), hint)

    def array_of(self, arg):
        """The NumPy values of a parameter, buffer or constant argument (mappings that rearrange weights)."""
        if isinstance(arg, Tensor):
            if arg._node is not None or id(arg) in self.input_names:
                raise self.unsupported("a weight that is computed from the input cannot be exported (it must be a "
                                       "parameter or a constant)")
            return backend.to_numpy(arg.array)
        return backend.to_numpy(arg)

    def name_of(self, arg, suffix):
        """A name for an initializer derived from parameter ``arg``: its module name plus ``suffix``."""
        base = self.param_names.get(id(arg)) or "const"
        return f"{base}_{suffix}"

    def shape(self, t):
        """``t``'s shape with None for the dims that change with the batch."""
        return self.comparison.shape(t)

    def output_shape(self, node, k=0):
        """The dynamic shape of output ``k`` of recorded ``node``."""
        return self.shape(self.trace.values[(node, k)])

    # ----------------------------------------------------------------------------------------------- nodes
    def add(self, op_type, inputs, outputs=1, **attributes):
        """Add one ONNX node; returns its output name (or a list of ``outputs`` names when it is more than 1).
        An input of None is an omitted optional input."""
        count = outputs if isinstance(outputs, int) else len(outputs)
        names = [self.fresh(op_type.lower()) for _ in range(count)] if isinstance(outputs, int) else list(outputs)
        node_name = self.fresh(f"{op_type}_node")
        self.nodes.append(helper.make_node(op_type, ["" if i is None else i for i in inputs], names, name=node_name,
                                           **attributes))
        return names[0] if isinstance(outputs, int) and outputs == 1 else names

    def reduce(self, op_type, x, axes, keepdims=True):
        """A Reduce* node over ``axes`` (None: all): the axes are an input from opset 18 (ReduceSum: 13)."""
        keep = int(bool(keepdims))
        if axes is None:
            return self.add(op_type, [x], keepdims=keep)
        if op_type == "ReduceSum" or self.opset >= 18:
            return self.add(op_type, [x, self.ints(axes, "axes")], keepdims=keep)
        return self.add(op_type, [x], axes=list(axes), keepdims=keep)

    def unsqueeze(self, x, axes):
        return self.add("Unsqueeze", [x, self.ints(axes, "axes")])

    def squeeze(self, x, axes):
        return self.add("Squeeze", [x, self.ints(axes, "axes")])

    def reshape(self, x, dynamic_shape):
        """Reshape ``x`` to ``dynamic_shape`` (None for the one batch-dependent dim, written as -1)."""
        unknown = [i for i, d in enumerate(dynamic_shape) if d is None]
        if len(unknown) > 1:
            raise self.unsupported(f"a reshape to {tuple(dynamic_shape)} with {len(unknown)} dims that change with "
                                   "the batch size; export with dynamic_batch=False")
        return self.add("Reshape", [x, self.ints([-1 if d is None else d for d in dynamic_shape], "shape")])
