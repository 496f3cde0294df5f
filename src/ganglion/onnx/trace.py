"""Tracing: run the model once with the graph recorded and collect what it recorded.

The example inputs are float Tensors that require grad (so every op on them leaves a Function node) or integer
arrays (embedding indices, found again by identity in the ops that read them); every parameter requires grad while
tracing (a lookup into a frozen table of integer inputs would otherwise leave no node). The nodes that lead to the
outputs are listed parents first (``autograd.engine.topological_order``). Forward hooks on every submodule note
which module ran each node, so that an error can name the layer.
"""

import contextlib

import numpy as np

from .. import backend
from ..autograd.engine import topological_order
from ..autograd.grad_mode import set_grad_enabled
from ..tensor import Tensor
from .errors import ExportError


class Trace:
    """One recorded run. ``inputs``: the model's input Tensors; ``outputs``: its output Tensors (flattened);
    ``nodes``: the Function nodes leading to the outputs, parents first; ``owners``: node -> "name (Class)" of the
    innermost module that ran it; ``values``: (node, output index) -> one Tensor holding that output."""

    def __init__(self, inputs, outputs, nodes, owners):
        self.inputs, self.outputs, self.nodes, self.owners = inputs, outputs, nodes, owners
        self.values = {}
        for node in nodes:
            for arg in _tensor_args(node):
                if arg._node is not None:
                    self.values.setdefault((arg._node, arg._out_index), arg)
        for t in outputs:
            if t._node is not None:
                self.values.setdefault((t._node, t._out_index), t)


def node_arguments(node):
    """The node's positional inputs followed by the values of its keyword arguments, in a fixed order."""
    kwargs = node.__dict__.get("call_kwargs", {})
    return list(node.inputs) + [kwargs[k] for k in sorted(kwargs)]


def _tensor_args(node):
    found = []
    _flatten_outputs(node_arguments(node), found)
    return found


def as_example_inputs(example_input):
    """The example input(s) as a tuple of Tensors: float ones requiring grad (copies: the caller's tensors are
    untouched), integer ones as they are."""
    items = example_input if isinstance(example_input, (tuple, list)) else (example_input,)
    if not items:
        raise ExportError("ganglion.onnx.export: example_input is empty; give the model's input (a Tensor or an array)")
    tensors = []
    for k, item in enumerate(items):
        array = item.array if isinstance(item, Tensor) else item
        if not hasattr(array, "dtype"):
            array = np.asarray(array)
        if array.dtype.kind not in "fiu":
            raise ExportError(f"ganglion.onnx.export: example input {k} has dtype {array.dtype}; expected a float or "
                              "integer Tensor or array")
        array = backend.to_numpy(array).copy()
        tensors.append(Tensor(array, requires_grad=array.dtype.kind == "f"))
    return tuple(tensors)


@contextlib.contextmanager
def recording_eval_mode(model):
    """The model in evaluation mode with every parameter requiring grad for the duration; both restored after."""
    modes = [(m, m.training) for m in model.modules()]
    flags = [(p, p.requires_grad) for p in model.parameters()]
    model.eval()
    for p, _ in flags:
        p.requires_grad = True
    try:
        yield
    finally:
        for p, flag in flags:
            p.requires_grad = flag
        for m, mode in modes:
            m.__dict__["training"] = mode


def run_traced(model, inputs, describe):
    """Run ``model(*inputs)`` with the graph recorded; returns a Trace. ``describe``: words for the run in errors."""
    owners = {}
    handles = [m.register_forward_hook(_owner_hook(name, owners)) for name, m in model.named_modules() if name]
    try:
        with set_grad_enabled(True):
            result = model(*inputs)
    except Exception as e:
        shapes = ", ".join(str(tuple(t.shape)) for t in inputs)
        raise ExportError(f"ganglion.onnx.export: running {type(model).__name__} on {describe} of shape {shapes} "
                          f"failed: {type(e).__name__}: {e}") from e
    finally:
        for h in handles:
            h.remove()
    outputs = []
    _flatten_outputs(result, outputs)
    if not outputs:
        raise ExportError(f"ganglion.onnx.export: {type(model).__name__} returned {type(result).__name__}, which "
                          "holds no Tensor to export")
    input_ids = {id(t) for t in inputs}
    for k, t in enumerate(outputs):
        if t._node is None and id(t) not in input_ids:
            raise ExportError(
                f"ganglion.onnx.export: output {k} (shape {tuple(t.shape)}) of {type(model).__name__} does not depend "
                "on the inputs through recorded ops (made under no_grad, detached, or computed from NumPy arrays); "
                "ONNX would store it as a constant"
            )
    nodes = topological_order([t._node for t in outputs if t._node is not None])
    return Trace(inputs, outputs, nodes, owners)


def _flatten_outputs(result, found):
    """Append the Tensors in ``result`` (a Tensor, or tuples, lists and dicts of them, nested) to ``found``."""
    if isinstance(result, Tensor):
        found.append(result)
    elif isinstance(result, (tuple, list)):
        for r in result:
            _flatten_outputs(r, found)
    elif isinstance(result, dict):
        for key in result:
            _flatten_outputs(result[key], found)


def _owner_hook(name, owners):
    """A forward hook that gives the nodes between the module's inputs and its outputs, not yet owned by an inner
    module (whose hook ran first), to this module."""

    def hook(module, args, output):
        stop = set()
        for a in args:
            if isinstance(a, Tensor):
                stop.add(id(a))
        found = []
        _flatten_outputs(output, found)
        label = f"{name} ({type(module).__name__})"
        stack = [t._node for t in found if t._node is not None and id(t) not in stop]
        seen = set()
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            owners.setdefault(node, label)
            for arg in _tensor_args(node):
                if arg._node is not None and id(arg) not in stop:
                    stack.append(arg._node)

    return hook
