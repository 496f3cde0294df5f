"""``export``: trace a model twice, check the two graphs agree, map every recorded op to ONNX, check the model with
``onnx.checker`` and write it atomically."""

import os

import onnx
from onnx import helper

from ..io import atomic_write_bytes
from ..nn.module import Module
from .compare import compare
from .errors import ExportError
from .graph import GraphBuilder
from .ops import MAPPINGS
from .trace import as_example_inputs, recording_eval_mode, perturbed, run_traced

MIN_OPSET = 17  # LayerNormalization


def export(model, example_input, path, dynamic_batch=True, opset=17, input_names=None, output_names=None):
    """Write ``model`` (an ``nn.Module``, in evaluation mode while it is traced) as an ONNX file at ``path``.

    ``example_input``: a Tensor or array, or a tuple of them (one per argument of ``forward``); float inputs are
    traced, integer ones (embedding indices) are read by the ops that take them. ``dynamic_batch``: the first dim of
    every input and of every output that follows it is named "batch" and may have any size. Returns ``path``.

    Raises ExportError for a model that fails on the example input (its own error attached), UnsupportedOpError
    naming an op (and layer) with no ONNX mapping, DataDependentError when the forward pass branches on the input's
    values (found by tracing a second, different input).
    """
    if not isinstance(model, Module):
        raise TypeError(f"ganglion.onnx.export: model must be an nn.Module, got {type(model).__name__}")
    newest = onnx.defs.onnx_opset_version()
    if isinstance(opset, bool) or not isinstance(opset, int) or not MIN_OPSET <= opset <= newest:
        raise ValueError(f"ganglion.onnx.export: opset must be an int from {MIN_OPSET} to {newest} (this onnx "
                         f"package's newest), got {opset!r}")
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"ganglion.onnx.export: path must be a str or os.PathLike, got {type(path).__name__}")
    inputs = as_example_inputs(example_input)
    input_names = _names("input_names", input_names, len(inputs), "input")
    model_name = type(model).__name__
    first = inputs[0].shape[0] if inputs[0].ndim else None
    if dynamic_batch and first is None:
        raise ValueError("ganglion.onnx.export: dynamic_batch=True needs inputs with a first (batch) dim; the first "
                         "example input is a scalar (pass dynamic_batch=False)")
    with recording_eval_mode(model):
        trace_a = run_traced(model, inputs, "the example input")
        second = first + 1 if dynamic_batch else first
        words = (f"a second input (batch {second}, to check that the batch size can change; pass dynamic_batch=False "
                 "for a model with a fixed batch)") if dynamic_batch else "a second input with other values"
        trace_b = run_traced(model, perturbed(inputs, second), words)
    comparison = compare(trace_a, trace_b, model_name)
    output_names = _names("output_names", output_names, len(trace_a.outputs), "output")
    proto = build_model(trace_a, comparison, model, opset, input_names, output_names, dynamic_batch)
    onnx.checker.check_model(proto, full_check=True)
    atomic_write_bytes(os.fspath(path), proto.SerializeToString())
    return path


def _names(arg, names, count, default):
    if names is None:
        return [default] if count == 1 else [f"{default}_{k}" for k in range(count)]
    names = list(names)
    if len(names) != count or not all(isinstance(n, str) and n for n in names) or len(set(names)) != count:
        raise ValueError(f"ganglion.onnx.export: {arg} must be {count} distinct non-empty strings (one per "
                         f"{default}), got {names!r}")
    return names


def _module_names(model):
    """id(parameter, buffer or its array) -> its name in ``model`` (initializers are named after them)."""
    names = {}
    for name, t in list(model.named_parameters()) + list(model.named_buffers()):
        names.setdefault(id(t), name)
        names.setdefault(id(t.array), name)
    return names


def build_model(trace, comparison, model, opset, input_names, output_names, dynamic_batch):
    """The ONNX ModelProto for ``trace``."""
    g = GraphBuilder(opset, comparison, trace, _module_names(model),
                     {**{id(t): n for t, n in zip(trace.inputs, input_names)},
                      **{id(t.array): n for t, n in zip(trace.inputs, input_names)}})
    g.reserve(output_names)
    for node in trace.nodes:
        g.current = node
        mapping = MAPPINGS.get(type(node).__name__)
        if mapping is None:
            raise g.unsupported("no ONNX mapping is known for it (ganglion.onnx.ops lists the mapped ops)")
        kwargs = node.__dict__.get("call_kwargs", {})
        names = mapping(g, node, *node.inputs, **kwargs)
        names = names if isinstance(names, list) else [names]
        for k, name in enumerate(names):
            g.values[(node, k)] = name
    outputs = []
    for t, name in zip(trace.outputs, output_names):
        g.nodes.append(helper.make_node("Identity", [g.value(t)], [name], name=g.fresh(f"{name}_identity")))
        outputs.append(_value_info(name, t, comparison.shape(t), dynamic_batch))
    inputs = [_value_info(n, t, (None,) + tuple(t.shape[1:]) if dynamic_batch else tuple(t.shape), dynamic_batch)
              for t, n in zip(trace.inputs, input_names)]
    graph = helper.make_graph(g.nodes, type(model).__name__, inputs, outputs, initializer=g.initializers)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="ganglion")
    proto.ir_version = min(proto.ir_version, _ir_version(opset))
    return proto


def _ir_version(opset):
    """The oldest IR version that carries ``opset`` (so that older runtimes load the file)."""
    return min(ir for _, ir, version, *_ in helper.VERSION_TABLE if version >= opset)


def _value_info(name, t, dynamic, dynamic_batch):
    """A graph input/output: its dtype and shape, "batch" for a first dim that changes with the batch."""
    dims = []
    for i, d in enumerate(dynamic):
        dims.append(("batch" if i == 0 and dynamic_batch else f"{name}_dim{i}") if d is None else d)
    return helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(t.array.dtype), dims)

