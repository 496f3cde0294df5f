"""The errors ``ganglion.onnx.export`` raises, each naming what to change."""


class ExportError(ValueError):
    """The model cannot be written as ONNX as it is (the message says why and what to change)."""


class UnsupportedOpError(ExportError):
    """An op recorded while tracing has no ONNX mapping, or one of its arguments has none.

    ``op``: the Function class name; ``layer``: the module that ran it (``"features.3 (Conv2d)"``), or None."""

    def __init__(self, op, layer, detail):
        self.op, self.layer = op, layer
        where = f" in layer {layer}" if layer else ""
        super().__init__(f"ganglion.onnx.export: op {op}{where} cannot be exported to ONNX: {detail}")


class DataDependentError(ExportError):
    """Two traces of the model on different inputs recorded different graphs: the forward pass takes decisions from
    the input's values (Python ``if`` on a tensor, ``.item()``, ``.numpy()``), which a static ONNX graph cannot
    replay."""
