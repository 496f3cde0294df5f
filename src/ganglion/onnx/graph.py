"""``GraphBuilder``: what an op mapping writes ONNX with. It names values, turns parameters, buffers and constants
into initializers, adds nodes, and knows each recorded tensor's dynamic shape (None for the dims that change with a
dynamic axis: the batch, the sequence length). A size that changes with an axis is never written as a number: it
is read from a tensor's Shape when the file runs (``runtime_shape``), and a constant whose shape changes with an
axis is a small constant Expanded to its runtime shape.

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
        self._dims = {}  # (ONNX name, dim) -> the 1-element Shape node reading that dim
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
            dynamic = self.comparison.shape(obj)
            name = self._sized_constant(obj, array, dynamic) if None in dynamic else self.const(array, hint)
            entry = self._leaves[id(obj)] = (name, obj)
        return entry[0]

    def _sized_constant(self, obj, array, dynamic):
        """A constant whose shape changes with a dynamic axis (a zero initial state (L, N, H), a mask (N, 1)): its
        values must repeat along those dims; it is written as one slice of them, Expanded to the runtime shape."""
        axes = [i for i, d in enumerate(dynamic) if d is None]
        one = array[tuple(slice(0, 1) if i in axes else slice(None) for i in range(array.ndim))]
        if not np.array_equal(np.broadcast_to(one, array.shape), array, equal_nan=array.dtype.kind in "fc"):
            raise self.unsupported(f"a constant of shape {tuple(array.shape)} changes with a dynamic axis (dims "
                                   f"{axes}) and its values differ along those dims; compute it from the input with "
                                   "tensor ops, or export with dynamic_batch=False / sequence_dim=None")
        return self.add("Expand", [self.const(one, "const"), self.runtime_shape(obj)])

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

    def output(self, node, k=0):
        """Output ``k`` of recorded ``node`` (a Tensor of the first trace)."""
        return self.trace.values[(node, k)]

    def output_shape(self, node, k=0):
        """The dynamic shape of output ``k`` of recorded ``node``."""
        return self.shape(self.output(node, k))

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

    def reshape(self, x, target):
        """Reshape recorded tensor ``x`` to the shape of recorded tensor ``target`` (its runtime shape, with -1 for
        one dim that no tensor at hand has, such as T * N)."""
        return self.add("Reshape", [self.value(x), self.runtime_shape(target, like=x, infer_one=True)])

    # ---------------------------------------------------------------------------------------------- shapes
    def runtime_shape(self, t, like=None, infer_one=False):
        """An int64 1-D value holding recorded tensor ``t``'s shape when the file runs. Fixed dims are constants;
        a dim that changes with a dynamic axis is read (Shape with start/end) from a tensor with a dim of the same
        signature, ``like`` first, then the graph inputs. With ``infer_one``, a single dynamic dim is written -1,
        and so is one dim that no tensor has (a Reshape infers it)."""
        dynamic = self.shape(t)
        unknown = [i for i, d in enumerate(dynamic) if d is None]
        if not unknown or (infer_one and len(unknown) == 1):
            return self.ints([-1 if d is None else d for d in dynamic], "shape")
        sources = ([like] if like is not None else []) + list(self.trace.inputs)
        pieces, fixed, inferred = [], [], False
        for i, d in enumerate(dynamic):
            source = None if d is not None else self._dim_source(self.comparison.signature(t, i), sources)
            if source is None:
                if d is None:
                    if not infer_one or inferred:
                        raise self.unsupported(f"a shape {tuple(t.shape)} whose dim {i} changes with a dynamic axis "
                                               "and matches no dim of the inputs; export with dynamic_batch=False "
                                               "/ sequence_dim=None")
                    inferred = True
                fixed.append(-1 if d is None else d)
                continue
            if fixed:
                pieces.append(self.ints(fixed, "shape"))
                fixed = []
            pieces.append(self._dim(*source))
        if fixed:
            pieces.append(self.ints(fixed, "shape"))
        return pieces[0] if len(pieces) == 1 else self.add("Concat", pieces, axis=0)

    def _dim_source(self, signature, sources):
        """(tensor, dim) of the first of ``sources`` with a dim of ``signature`` (its sizes in every trace)."""
        for s in sources:
            for j in range(s.ndim):
                if self.comparison.signature(s, j) == signature:
                    return s, j
        return None

    def _dim(self, t, j):
        """A 1-element int64 value: dim ``j`` of ``t`` when the file runs (one Shape node per tensor and dim)."""
        name = self.value(t)
        if (name, j) not in self._dims:
            self._dims[(name, j)] = self.add("Shape", [name], start=j, end=j + 1)
        return self._dims[(name, j)]
