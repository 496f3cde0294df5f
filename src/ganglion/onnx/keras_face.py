"""The Keras face of the export: ``Model.export(filepath, format="onnx")`` comes here.

Keras models know their input shapes (``model.inputs``: symbolic tensors with None for the batch), so the example
input can be made up: a small batch of random values of that shape."""

import numpy as np

from .errors import ExportError
from .export import export

FORMATS = ("onnx",)
EXAMPLE_BATCH = 2


def export_keras_model(model, filepath, format="onnx", example_input=None, **kwargs):
    """Write Keras ``model`` as ONNX at ``filepath``; ``kwargs`` go to ``ganglion.onnx.export`` (dynamic_batch,
    opset, input_names, output_names, batch_dim, sequence_dim). Without ``example_input`` the model's known input
    shapes are used. Keras inputs are batch-first and their declared shapes hold: batch_dim=0 and sequence_dim=None
    unless given."""
    if format not in FORMATS:
        raise ValueError(f"{model.name}.export: unknown format {format!r}; accepted formats are "
                         f"{', '.join(map(repr, FORMATS))}")
    if example_input is None:
        example_input = _example_from_shapes(model)
    kwargs.setdefault("input_names", _input_names(model, example_input))
    kwargs.setdefault("batch_dim", 0)
    kwargs.setdefault("sequence_dim", None)
    return export(model, example_input, filepath, **kwargs)


def _symbolic_inputs(model):
    return list(getattr(model, "inputs", None) or [])


def _example_from_shapes(model):
    symbolic = _symbolic_inputs(model)
    if not symbolic:
        raise ExportError(f"{model.name}.export: the model's input shape is not known yet; build it (an Input layer, "
                          "input_shape= on the first layer, or a call on data) or pass example_input=")
    rng = np.random.default_rng(0)
    examples = []
    for t in symbolic:
        shape = tuple(t.shape)
        if any(d is None for d in shape[1:]):
            raise ExportError(f"{model.name}.export: input {t.name!r} has unknown dims {shape}; pass example_input=")
        dtype = np.dtype(getattr(t, "dtype", "float32") or "float32")
        full = (EXAMPLE_BATCH,) + shape[1:]
        examples.append(rng.standard_normal(full).astype(dtype) if dtype.kind == "f" else np.zeros(full, dtype))
    return examples[0] if len(examples) == 1 else tuple(examples)


def _input_names(model, example_input):
    count = len(example_input) if isinstance(example_input, (tuple, list)) else 1
    names = [getattr(t, "name", None) for t in _symbolic_inputs(model)]
    return names if len(names) == count and all(names) and len(set(names)) == count else None
