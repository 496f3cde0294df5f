"""While ``load_model`` rebuilds a model, each built-in layer is compared with the weights file *before* it creates
its weights: a small config naming ``Dense(20000)`` over a 20000-wide input, beside a weights file holding a (3, 4)
kernel, is refused before 1.6 GB is allocated.

How: ``checking(header, plan)`` makes the check active for the calling thread. ``deserialize_layer`` hands each layer
it creates to ``guard_layer``, which looks up the layer's weights path in the plan (from config_checks, by config
entry) and wraps the ``build`` of it and of any sublayer it already holds (a subclassed model's attributes), so that
``build(input_shape)`` first computes the Keras weights the layer is about to make (``keras_weight_shapes``) and
compares their number of values with the file's tensors under that path. Layers of other classes (custom ones) are
built first and compared after, with every other weight (``assign_weights``). The wrappers are removed when the
block ends.
"""

import contextlib
import math
import threading
from collections import OrderedDict

from .weight_names import child_names


class _Active(threading.local):
    def __init__(self):
        self.stack = []


_ACTIVE = _Active()


class _Check:
    def __init__(self, shapes, where, plan):
        self.shapes, self.where, self.plan = shapes, where, plan
        self.guarded = []


@contextlib.contextmanager
def checking(header, plan):
    """Within the block, layers built from config entries in ``plan`` are checked against ``header``'s tensors."""
    check = _Check(header.shapes(), header.where, plan)
    _ACTIVE.stack.append(check)
    try:
        yield check
    finally:
        _ACTIVE.stack.pop()
        for layer in check.guarded:
            layer.__dict__.pop("build", None)


def guard_layer(entry, layer):
    """Called by ``deserialize_layer`` with each layer it creates; a no-op unless a ``checking`` block is active."""
    if not _ACTIVE.stack:
        return
    check = _ACTIVE.stack[-1]
    prefix = check.plan.get(id(entry))
    if prefix is None:
        return
    stack = [(layer, prefix)]
    while stack:
        current, at = stack.pop()
        if at and not current.built and "build" not in current.__dict__ and _rule(current) is not None:
            _wrap_build(current, at, check)
        names = child_names(current)
        stack.extend((child, f"{at}{names[key]}.") for key, child in current._modules.items()
                     if child is not None and hasattr(child, "built"))


def _wrap_build(layer, prefix, check):
    original = layer.build

    def build(input_shape):
        expected = keras_weight_shapes(layer, input_shape)
        if expected is not None:
            _compare(layer, input_shape, expected, prefix, check)
        return original(input_shape)

    layer.__dict__["build"] = build
    check.guarded.append(layer)


def _compare(layer, input_shape, expected, prefix, check):
    found = OrderedDict((name, shape) for name, shape in check.shapes.items() if name.startswith(prefix))
    wanted = sum(math.prod(s) for s in expected.values())
    held = sum(math.prod(s) for s in found.values())
    if wanted != held:
        def listing(shapes):
            return ", ".join(f"{name} {tuple(shape)}" for name, shape in shapes.items()) or "no tensors"

        shape = tuple(input_shape) if isinstance(input_shape, (list, tuple)) else input_shape
        raise ValueError(f"layer {layer.name!r} ({type(layer).__name__}) would create {listing(expected)} "
                         f"({wanted} values) for input shape {shape}, but the weights file {check.where!r} holds "
                         f"{listing(found)} under {prefix.rstrip('.')!r} ({held} values)")


# ------------------------------------------------------------------------------------------------ the rules
def _rule(layer):
    """The function giving ``layer``'s Keras weight shapes from its input shape, or None for other classes."""
    from ..layers.recurrent_base import Recurrent
    from ..layers.conv_transpose import ConvTranspose
    from ..layers.convolutional import Conv
    from ..layers.core import Dense
    from ..layers.depthwise_conv import DepthwiseConv, SeparableConv
    from ..layers.embedding import Embedding

    rules = ((Dense, _dense), (Embedding, _embedding), (Conv, _conv), (ConvTranspose, _conv_transpose),
             (DepthwiseConv, _depthwise), (SeparableConv, _separable), (Recurrent, _recurrent))
    return next((rule for cls, rule in rules if isinstance(layer, cls)), None)


def keras_weight_shapes(layer, input_shape):
    """{Keras weight name: shape} that ``layer.build(input_shape)`` will create, for the built-in layers whose
    weights follow from their config and input shape (Dense, Embedding, the convolutions, the recurrent layers);
    None for other layers or an input shape the layer's own build will refuse."""
    rule = _rule(layer)
    if rule is None or not isinstance(input_shape, (list, tuple)) or not input_shape:
        return None
    return rule(layer, tuple(input_shape))


def _with_bias(layer, shapes, bias):
    if layer.use_bias:
        shapes["bias"] = bias
    return shapes


def _dense(layer, shape):
    if not isinstance(shape[-1], int):
        return None
    return _with_bias(layer, OrderedDict(kernel=(shape[-1], layer.units)), (layer.units,))


def _embedding(layer, shape):
    return OrderedDict(embeddings=(layer.input_dim, layer.output_dim))


def _conv(layer, shape):
    channels = layer._input_channels(shape)
    return _with_bias(layer, OrderedDict(kernel=tuple(layer.kernel_size) + (channels // layer.groups,
                                                                            layer.filters)), (layer.filters,))


def _conv_transpose(layer, shape):
    channels = layer._input_channels(shape)
    return _with_bias(layer, OrderedDict(kernel=tuple(layer.kernel_size) + (layer.filters, channels)),
                      (layer.filters,))


def _depthwise(layer, shape):
    channels = layer._input_channels(shape)
    return _with_bias(layer, OrderedDict(kernel=tuple(layer.kernel_size) + (channels, layer.depth_multiplier)),
                      (channels * layer.depth_multiplier,))


def _separable(layer, shape):
    channels = layer._input_channels(shape)
    middle = channels * layer.depth_multiplier
    return _with_bias(layer, OrderedDict(depthwise_kernel=tuple(layer.kernel_size) + (channels, layer.depth_multiplier),
                                         pointwise_kernel=(1,) * layer.rank + (middle, layer.filters)),
                      (layer.filters,))


def _recurrent(layer, shape):
    if not isinstance(shape[-1], int):
        return None
    units, gates = layer.units, layer._gates
    bias = (2, gates * units) if layer._has_recurrent_bias() else (gates * units,)
    return _with_bias(layer, OrderedDict(kernel=(shape[-1], gates * units), recurrent_kernel=(units, gates * units)),
                      bias)
