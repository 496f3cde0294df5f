"""``ganglion.onnx``: export a model to an ONNX file that onnxruntime (or any ONNX runtime) can run.

    ganglion.onnx.export(model, example_input, "model.onnx")          # the PyTorch face
    keras_model.export("model.onnx", format="onnx")                   # the Keras face

How: the model runs once on the example input with the graph recorded (in evaluation mode: dropout is the identity,
batch norm uses its running statistics); the recorded ``Function`` nodes are walked from the inputs to the outputs
and each is written as ONNX nodes by its mapping in ``ops/`` (one file per family). A second run on another input
(another batch size with ``dynamic_batch``) must record the same graph, or the model's forward pass depends on the
input's values and cannot be a static graph. Needs the ``onnx`` package (``pip install ganglion[onnx]``).
"""

from .errors import DataDependentError, ExportError, UnsupportedOpError
from .export import export
from .keras_face import export_keras_model

__all__ = ["export", "export_keras_model", "ExportError", "UnsupportedOpError", "DataDependentError"]
