"""``layer_cost(module, input_shapes, output_shape)``: the FLOPs of one call of an engine layer, as multiply-adds.

The convention (one multiply followed by one add counts 1; the whole input given, batch included, is costed, so a
batch of 1 gives the per-sample cost):

=============================================  ==========================================================
Linear                                          output elements x in_features       (= N * in * out)
Conv1d/2d/3d                                    output elements x in_channels / groups x prod(kernel_size)
ConvTranspose1d/2d/3d                           input elements x out_channels / groups x prod(kernel_size)
RNN / LSTM / GRU (and their cells)              per step, layer and direction: gates x hidden x (in + hidden)
                                                (gates: RNN 1, GRU 3, LSTM 4; a projection adds hidden x proj);
                                                only the gate matmuls count, not the element-wise gate products
BatchNorm / LayerNorm / GroupNorm / InstanceNorm output elements (y = x * scale + shift, folded)
Max/Avg/LP pooling                              output elements x window size
Adaptive pooling                                input elements (each read once)
activations, softmax                            output elements (one op each)
Dropout, Flatten, Identity, Embedding, ...      0 (copies and look-ups, no arithmetic)
anything else                                   None: unknown, shown as "?" and left out of the totals
=============================================  ==========================================================

Shapes are tuples including the batch dim. ``input_shapes`` is a tuple of the call's input shapes (only the
transposed convolutions and the recurrent layers read it); ``output_shape`` is the shape of the call's first output.
Both faces use this one function: ``model_summary`` for ``nn.Module`` models and the Keras ``summary(show_flops=True)``
for the engine modules a Keras layer holds.
"""

import math

from ..nn.modules import activation as _activation
from ..nn.modules import conv as _conv
from ..nn.modules import dropout as _dropout
from ..nn.modules import embedding as _embedding
from ..nn.modules import flatten as _flatten
from ..nn.modules import linear as _linear
from ..nn.modules import normalization as _norm
from ..nn.modules import pooling as _pool
from ..nn.modules import recurrent as _rnn

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "RNN": 1, "LSTM": 4, "GRU": 3}
_FREE = (_dropout.Dropout, _dropout.Dropout1d, _dropout.Dropout2d, _dropout.AlphaDropout, _flatten.Flatten,
         _flatten.Unflatten, _linear.Identity, _embedding.Embedding)
_NORMS = (_norm.BatchNorm1d, _norm.BatchNorm2d, _norm.BatchNorm3d, _norm.LayerNorm, _norm.GroupNorm,
          _norm.InstanceNorm1d, _norm.InstanceNorm2d, _norm.InstanceNorm3d, _norm.LocalResponseNorm)
_WINDOW_POOLS = (_pool.MaxPool1d, _pool.MaxPool2d, _pool.MaxPool3d, _pool.AvgPool1d, _pool.AvgPool2d, _pool.AvgPool3d)
_ADAPTIVE_POOLS = (_pool.AdaptiveAvgPool1d, _pool.AdaptiveAvgPool2d, _pool.AdaptiveAvgPool3d,
                   _pool.AdaptiveMaxPool1d, _pool.AdaptiveMaxPool2d, _pool.AdaptiveMaxPool3d)
_CONVS = (_conv.Conv1d, _conv.Conv2d, _conv.Conv3d)
_CONV_TRANSPOSES = (_conv.ConvTranspose1d, _conv.ConvTranspose2d, _conv.ConvTranspose3d)
_ACTIVATIONS = tuple(cls for cls in vars(_activation).values()
                     if isinstance(cls, type) and cls.__module__ == _activation.__name__
                     and any(b.__name__ == "Module" for b in cls.__mro__))


def elements(shape):
    """Number of elements of a shape: elements((2, 3, 4)) == 24."""
    return math.prod(int(d) for d in shape)


def _window(module, nd):
    kernel = module.kernel_size
    return math.prod(kernel) if isinstance(kernel, (tuple, list)) else int(kernel) ** nd


def _pool_rank(module):
    return int(type(module).__name__[-2])  # MaxPool2d -> 2


def _recurrent_cost(module, input_shape):
    """Gate matmuls of every step, layer and direction (see the module doc)."""
    if isinstance(module, _rnn.RNNCellBase):
        gates = {"RNNCell": 1, "GRUCell": 3, "LSTMCell": 4}[type(module).__name__]
        batch = input_shape[0] if len(input_shape) == 2 else 1
        return batch * gates * module.hidden_size * (module.input_size + module.hidden_size)
    gates = _GATES[module.mode]
    if len(input_shape) == 2:  # unbatched (steps, features)
        steps, batch = input_shape[0], 1
    elif module.batch_first:
        batch, steps = input_shape[0], input_shape[1]
    else:
        steps, batch = input_shape[0], input_shape[1]
    directions = 2 if module.bidirectional else 1
    hidden, proj = module.hidden_size, module.proj_size or 0
    state = proj or hidden
    per_step = 0
    for layer in range(module.num_layers):
        layer_in = module.input_size if layer == 0 else state * directions
        per_step += directions * (gates * hidden * (layer_in + state) + hidden * proj)
    return steps * batch * per_step


def layer_cost(module, input_shapes, output_shape):
    """FLOPs (multiply-adds) of one call of ``module`` on inputs of ``input_shapes`` giving ``output_shape``;
    None for a module type this table does not know (see the module doc for the convention)."""
    if isinstance(module, _linear.Linear):
        return elements(output_shape) * module.in_features
    if isinstance(module, _CONVS):
        return elements(output_shape) * (module.in_channels // module.groups) * math.prod(module.kernel_size)
    if isinstance(module, _CONV_TRANSPOSES):
        if not input_shapes:
            raise ValueError(f"layer_cost: {type(module).__name__} needs the input shape, got {input_shapes!r}")
        return elements(input_shapes[0]) * (module.out_channels // module.groups) * math.prod(module.kernel_size)
    if isinstance(module, (_rnn.RNNBase, _rnn.RNNCellBase)):
        if not input_shapes:
            raise ValueError(f"layer_cost: {type(module).__name__} needs the input shape, got {input_shapes!r}")
        return _recurrent_cost(module, tuple(input_shapes[0]))
    if isinstance(module, _NORMS):
        return elements(output_shape)
    if isinstance(module, _WINDOW_POOLS):
        return elements(output_shape) * _window(module, _pool_rank(module))
    if isinstance(module, _ADAPTIVE_POOLS):
        return elements(input_shapes[0]) if input_shapes else elements(output_shape)
    if isinstance(module, _FREE):
        return 0
    if isinstance(module, _ACTIVATIONS):
        return elements(output_shape)
    return None
