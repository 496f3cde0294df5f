"""``export``: trace a model twice, check the two graphs agree, map every recorded op to ONNX, check the model with
``onnx.checker`` and write it atomically."""

import os

import onnx
from onnx import helper

from ..io import atomic_write_bytes
from ..nn.module import Module
from .axes import AUTO, dynamic_axes, stretched
from .compare import compare
from .errors import ExportError
from .graph import GraphBuilder
from .ops import MAPPINGS, REFUSALS
from .trace import as_example_inputs, recording_eval_mode, run_traced

MIN_OPSET = 17  # LayerNormalization


def export(model, example_input, path, dynamic_batch=True, opset=17, input_names=None, output_names=None,
           batch_dim=AUTO, sequence_dim=AUTO):
    """Write ``model`` (an ``nn.Module``, in evaluation mode while it is traced) as an ONNX file at ``path``.

    ``example_input``: a Tensor or array, or a tuple of them (one per argument of ``forward``); float inputs are
    traced, integer ones (embedding indices) are read by the ops that take them. Returns ``path``.

    ``dynamic_batch``: the batch dim of the inputs may have any size in the file: it is named "batch" there, and
    every size computed from it (the batch dim of the outputs, a reshape to (N, -1) or (T * N, H), a constant such
    as an initial state of shape (L, N, H)) is computed from the input's Shape when the file runs.
    ``batch_dim``: which dim of each input is the batch: an int (every input), None (no input: as
    ``dynamic_batch=False``), or a tuple with an int or None per input. Inferred by default ("auto"): 1 when the
    model's sequence layers (nn.RNN, nn.LSTM, nn.GRU, nn.MultiheadAttention and so the Transformer layers, anywhere
    in it) are all time-major (batch_first=False), so its inputs are (T, N, ...); otherwise 0. ``sequence_dim``:
    likewise the dim of the time steps, made dynamic as "sequence"; inferred ("auto") only for a model with sequence
    layers: the first input's time dim (0 time-major, 1 batch_first); None keeps every length fixed (needed when the
    model's shapes fix the length, as a Flatten after the recurrent layer does). A model that mixes time-major and
    batch_first layers must be given both.

    Raises ExportError for a model that fails on the example input or on the stretched inputs (its own error
    attached), UnsupportedOpError naming an op (and layer) with no ONNX mapping, DataDependentError when the forward
    pass branches on the input's values or sizes (found by tracing it again on other values, and once more with
    each dynamic axis one entry longer).
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
    if dynamic_batch and batch_dim == AUTO and inputs[0].ndim == 0:
        raise ValueError("ganglion.onnx.export: dynamic_batch=True needs inputs with a batch dim; the first example "
                         "input is a scalar (pass dynamic_batch=False)")
    axes = dynamic_axes(model, inputs, dynamic_batch, batch_dim, sequence_dim)
    with recording_eval_mode(model):
        first = run_traced(model, inputs, "the example input")
        others = [] if axes else [(run_traced(model, stretched(inputs, None), "a second input with other values"),
                                   None, None)]
        for axis in axes:
            stretched_inputs = stretched(inputs, axis)
            size, longer = axis.size(inputs), axis.size(stretched_inputs)
            words = (f"a second input ({axis.name} {longer}, to check that the {axis.name} size can change; pass "
                     f"{_fix_advice(axis.name)} for a model with a fixed {axis.name} size)")
            others.append((run_traced(model, stretched_inputs, words), axis.name, (size, longer)))
    comparison = compare(first, others, model_name)
    output_names = _names("output_names", output_names, len(first.outputs), "output")
    proto = build_model(first, comparison, model, opset, input_names, output_names, axes)
    onnx.checker.check_model(proto, full_check=True)
    atomic_write_bytes(os.fspath(path), proto.SerializeToString())
    return path


def _fix_advice(axis_name):
    return "dynamic_batch=False" if axis_name == "batch" else "sequence_dim=None"


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


def build_model(trace, comparison, model, opset, input_names, output_names, axes):
    """The ONNX ModelProto for ``trace``; ``axes``: the DynamicAxis list (the dims of the inputs left symbolic)."""
    g = GraphBuilder(opset, comparison, trace, _module_names(model),
                     {**{id(t): n for t, n in zip(trace.inputs, input_names)},
                      **{id(t.array): n for t, n in zip(trace.inputs, input_names)}})
    g.reserve(output_names)
    for node in trace.nodes:
        g.current = node
        mapping = MAPPINGS.get(type(node).__name__)
        if mapping is None:
            raise g.unsupported(REFUSALS.get(type(node).__name__, "no ONNX mapping is known for it "
                                             "(ganglion.onnx.ops lists the mapped ops)"))
        kwargs = node.__dict__.get("call_kwargs", {})
        names = mapping(g, node, *node.inputs, **kwargs)
        names = names if isinstance(names, list) else [names]
        for k, name in enumerate(names):
            g.values[(node, k)] = name
    outputs = []
    for t, name in zip(trace.outputs, output_names):
        g.nodes.append(helper.make_node("Identity", [g.value(t)], [name], name=g.fresh(f"{name}_identity")))
        outputs.append(_value_info(name, t, _dim_names(comparison, t, name)))
    inputs = []
    for k, (t, name) in enumerate(zip(trace.inputs, input_names)):
        dims = list(t.shape)
        for axis in axes:
            if axis.dims[k] is not None:
                dims[axis.dims[k]] = axis.name
        inputs.append(_value_info(name, t, dims))
    graph = helper.make_graph(g.nodes, type(model).__name__, inputs, outputs, initializer=g.initializers)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="ganglion")
    proto.ir_version = min(proto.ir_version, _ir_version(opset))
    return proto


def _ir_version(opset):
    """The oldest IR version that carries ``opset`` (so that older runtimes load the file)."""
    return min(ir for _, ir, version, *_ in helper.VERSION_TABLE if version >= opset)


def _dim_names(comparison, t, name):
    """``t``'s dims for its value info: the size of a fixed dim, the axis' name ("batch") for a dim that is a dynamic
    axis, ``name_dim<i>`` for another dim that changes with one (a product such as T * N)."""
    dims = []
    for i, d in enumerate(comparison.shape(t)):
        dims.append(d if d is not None else comparison.axis_name(comparison.signature(t, i)) or f"{name}_dim{i}")
    return dims


def _value_info(name, t, dims):
    """A graph input/output of ``t``'s dtype with ``dims`` (ints, or names of symbolic dims)."""
    return helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(t.array.dtype), dims)
