"""Dynamic axes: which dim of each input is the batch (and the time steps), given or inferred, and the inputs of the
trace that varies each.

An axis is a name ("batch", "sequence") and one dim per input (None: the input has no such dim). The exporter
traces the model once more per axis, on inputs whose dim along that axis is one longer; the dims that changed become
symbolic in the ONNX file (named after the axis when they are the axis itself).
"""

import numpy as np

from ..nn.modules.attention import MultiheadAttention
from ..nn.modules.recurrent import RNNBase
from ..tensor import Tensor

AUTO = "auto"
SEQUENCE_LAYERS = (RNNBase, MultiheadAttention)  # the layers with a batch_first switch (Transformer layers hold MHA)


class DynamicAxis:
    """``name``: the ONNX dim name; ``dims``: per input, the dim that holds this axis, or None."""

    def __init__(self, name, dims):
        self.name, self.dims = name, tuple(dims)

    def size(self, inputs):
        """The axis' size in ``inputs`` (from the first input that has it)."""
        for t, d in zip(inputs, self.dims):
            if d is not None:
                return t.shape[d]
        return None

    def __repr__(self):
        return f"DynamicAxis({self.name!r}, dims={self.dims})"


def sequence_layout(model):
    """"time-major" when every sequence layer in ``model`` (nn.RNN/LSTM/GRU, nn.MultiheadAttention, so also the
    Transformer layers) has batch_first=False, "batch-first" when every one has batch_first=True, None without
    them; a ValueError when they disagree."""
    layers = [m for m in model.modules() if isinstance(m, SEQUENCE_LAYERS)]
    if not layers:
        return None
    firsts = {bool(m.batch_first) for m in layers}
    if len(firsts) > 1:
        raise ValueError("ganglion.onnx.export: the model mixes time-major and batch_first sequence layers, so the "
                         "batch and time dims of its inputs cannot be inferred; pass batch_dim= and sequence_dim= "
                         "(an int, None, or one per input)")
    return "batch-first" if firsts.pop() else "time-major"


def dynamic_axes(model, inputs, dynamic_batch, batch_dim, sequence_dim):
    """The axes to make dynamic, each a DynamicAxis (see ``export`` for the inference rules)."""
    layout = sequence_layout(model) if AUTO in (batch_dim, sequence_dim) else None
    axes = []
    if dynamic_batch:
        if batch_dim == AUTO:
            batch_dim = 1 if layout == "time-major" else 0
        dims = _per_input("batch_dim", batch_dim, inputs)
        if all(d is None for d in dims):
            raise ValueError("ganglion.onnx.export: dynamic_batch=True but batch_dim names no input dim; pass "
                             "dynamic_batch=False for a model with a fixed batch")
        axes.append(DynamicAxis("batch", dims))
    if sequence_dim == AUTO:
        if layout is None:
            sequence_dim = None
        else:  # the first input's time dim: the other one of (batch, time) in the sequence layers' layout
            sequence_dim = (0 if layout == "time-major" else 1,) + (None,) * (len(inputs) - 1)
    dims = _per_input("sequence_dim", sequence_dim, inputs)
    if any(d is not None for d in dims):
        if axes and any(d is not None and d == b for d, b in zip(dims, axes[0].dims)):
            raise ValueError(f"ganglion.onnx.export: sequence_dim {dims} and batch_dim {axes[0].dims} name the same "
                             "dim of an input")
        axes.append(DynamicAxis("sequence", dims))
    return axes


def _per_input(arg, value, inputs):
    """``value`` (an int or None for every input, or a tuple with one int-or-None per input) as one non-negative
    dim (or None) per input, each checked against its input's rank."""
    if value is None or isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (value,) * len(inputs)
    if not isinstance(value, (tuple, list)) or len(value) != len(inputs):
        raise ValueError(f"ganglion.onnx.export: {arg} must be an int, None or a tuple of {len(inputs)} (one per "
                         f"input) ints or None, got {value!r}")
    dims = []
    for k, (d, t) in enumerate(zip(value, inputs)):
        if d is None:
            dims.append(None)
            continue
        if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or not -t.ndim <= d < t.ndim:
            raise ValueError(f"ganglion.onnx.export: {arg} {d!r} is not a dim of input {k} of shape "
                             f"{tuple(t.shape)}; pass an int in [-{t.ndim}, {t.ndim}) or None")
        dims.append(int(d) % t.ndim)
    return dims


def stretched(inputs, axis):
    """Inputs for the trace that varies ``axis`` (None: only the values change): one more entry along the axis'
    dim (entries taken in reverse, cycling) and, for floats, other values (negated and rescaled), so that a forward
    pass that branches on the input's values or sizes records another graph. Integer inputs keep their values (they
    are indices into tables)."""
    out = []
    for k, t in enumerate(inputs):
        array = np.asarray(t.array)
        d = None if axis is None else axis.dims[k]
        if d is not None:
            n = array.shape[d]
            array = np.take(array, np.arange(n + 1)[::-1] % n, axis=d)
        array = (-1.5 * array + 0.25).astype(array.dtype) if array.dtype.kind == "f" else array.copy()
        out.append(Tensor(array, requires_grad=array.dtype.kind == "f"))
    return tuple(out)
