"""``Model``: a Layer that trains. Three ways to make one, as in Keras:

- functional: ``Model(inputs=Input(...), outputs=...)`` replays the recorded layer calls on real data;
- subclassed: define layers in ``__init__`` and the forward pass in ``call(self, inputs, training=None)``;
- ``Sequential`` (in sequential.py), a stack of layers.
"""

import numpy as np

from ..layers.base import Layer
from ..layers.structure import as_mask, flatten_structure, map_structure, no_mask
from ..layers.input_layer import InputLayer, KerasTensor
from ..naming import unique_name
from .summary import print_summary
from .evaluation import Evaluation
from .training import Trainer


class Model(Trainer, Evaluation, Layer):
    """A trainable Keras model (see the module docstring for the three ways to build one)."""

    accepts_strings = True  # text goes on to the layers, which take it or refuse it

    def __init__(self, *args, **kwargs):
        inputs = kwargs.pop("inputs", None)
        outputs = kwargs.pop("outputs", None)
        if len(args) == 2 and inputs is None and outputs is None:
            inputs, outputs = args
        elif args:
            raise TypeError("Model() takes inputs and outputs (functional API) or only keyword arguments")
        if (inputs is not None or outputs is not None) and type(self) is Model and not kwargs.get("name"):
            kwargs["name"] = unique_name("functional")  # Keras' name for a model built from inputs and outputs
        super().__init__(**kwargs)
        self.__dict__["_functional"] = inputs is not None or outputs is not None
        if self._functional:
            if inputs is None or outputs is None:
                raise ValueError("a functional Model needs both inputs= and outputs=")
            self._init_graph(inputs, outputs)

    # -------------------------------------------------------------------------------------- functional graph
    def _init_graph(self, inputs, outputs):
        for t in flatten_structure(inputs) + flatten_structure(outputs):
            if not isinstance(t, KerasTensor):
                raise ValueError(f"Model inputs and outputs must be symbolic tensors from keras.Input and layer calls, "
                                 f"got {type(t).__name__}")
        d = self.__dict__
        d["_inputs_struct"], d["_outputs_struct"] = inputs, outputs
        d["inputs"], d["outputs"] = flatten_structure(inputs), flatten_structure(outputs)
        nodes = []
        seen = set()
        stack = [(t, False) for t in reversed(self.outputs)]
        while stack:  # depth-first post-order over the nodes that produced the outputs
            t, expanded = stack.pop()
            layer, node_index, _ = t._keras_history
            node = layer._inbound_nodes[node_index]
            if expanded:
                if id(node) not in seen:
                    seen.add(id(node))
                    nodes.append(node)
                continue
            if id(node) in seen:
                continue
            stack.append((t, True))
            for parent in reversed(node.input_tensors):
                stack.append((parent, False))
        input_ids = {id(t) for t in self.inputs}
        for node in nodes:
            if isinstance(node.layer, InputLayer) and id(node.outputs) not in input_ids:
                raise ValueError(f"Graph disconnected: the output needs input {node.layer.name!r}, which is not in "
                                 "the model's inputs")
        d["_nodes"] = nodes
        layers = _layers_by_depth(nodes, self.outputs)
        names = [layer.name for layer in layers]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"All layer names in a model should be unique; {duplicates} appear more than once")
        for layer in layers:
            self.add_module(layer.name, layer)
        d["_layer_list"] = layers
        d["output_names"] = (list(outputs) if isinstance(outputs, dict)
                             else [t._keras_history[0].name for t in self.outputs])
        d["input_names"] = list(inputs) if isinstance(inputs, dict) else [t.name for t in self.inputs]
        self.built = True

    def call(self, inputs, training=None, mask=None):
        if not self._functional:
            raise NotImplementedError(f"{type(self).__name__} must define call(self, inputs, training=None)")
        return self._run_graph(inputs, training, mask)[0]

    def _run_graph(self, inputs, training=None, mask=None):
        """Replay the recorded layer calls on real ``inputs`` (masks ``mask``, one per input, or None); returns
        (outputs, their masks), each in the structure the model was built with (the masks None when there are
        none). Each layer gets the masks of its inputs and gives its outputs theirs, as in Keras."""
        given = self._standardize_inputs(inputs)
        if len(given) != len(self.inputs):
            raise ValueError(f"{self.name} expects {len(self.inputs)} input(s), got {len(given)}")
        mask = as_mask(mask)
        input_masks = [None] * len(given) if mask is None else flatten_structure(mask)
        if len(input_masks) != len(given):
            raise ValueError(f"{self.name}: got {len(input_masks)} masks for {len(given)} input(s)")
        values, masks = {}, {}
        for t, value, value_mask in zip(self.inputs, given, input_masks):
            value = adjust_input_rank(value, t.shape)
            expected = t.shape[1:]
            got = tuple(value.shape[1:])
            if len(expected) != len(got) or any(e is not None and e != g for e, g in zip(expected, got)):
                raise ValueError(f"Input {t.name!r} of {self.name} expects shape {t.shape}, got {tuple(value.shape)}")
            values[id(t)] = value
            masks[id(t)] = value_mask

        def resolve(x):  # the values of the KerasTensors in x (inputs, or extra arguments such as mask=)
            return map_structure(lambda kt: values[id(kt)] if isinstance(kt, KerasTensor) else kt, x)

        for node in self._nodes:
            if isinstance(node.layer, InputLayer):
                continue
            arg_masks = map_structure(lambda kt: masks.get(id(kt)) if isinstance(kt, KerasTensor) else None, node.inputs)
            kwargs = resolve(dict(node.kwargs))
            if node.layer._call_takes_training:
                kwargs["training"] = training
            out, out_mask = node.layer._call_with_mask(resolve(node.inputs), arg_masks, *resolve(list(node.args)),
                                                       **kwargs)
            out_masks = [] if out_mask is None else flatten_structure(out_mask)
            for i, (kt, value) in enumerate(zip(node.output_tensors, flatten_structure(out))):
                values[id(kt)] = value
                masks[id(kt)] = out_masks[i] if i < len(out_masks) else None
        outputs = map_structure(lambda kt: values[id(kt)], self._outputs_struct)
        output_masks = map_structure(lambda kt: masks[id(kt)], self._outputs_struct)
        return outputs, None if no_mask(output_masks) else output_masks

    def _runs_own_graph(self):
        """True when ``call`` replays a graph of layers (functional, Sequential), so the outputs' masks are known."""
        return self._functional and type(self).call is Model.call

    def _call_with_mask(self, inputs, input_mask, *args, **kwargs):
        """A functional or Sequential model inside another model: its outputs' masks are those its layers gave
        (Keras keeps them on the output tensors). A subclassed model is a plain layer here."""
        if not self._runs_own_graph() or args or self._has_hooks or set(kwargs) - {"training", "mask"}:
            return super()._call_with_mask(inputs, input_mask, *args, **kwargs)
        mask = kwargs.pop("mask", None)
        inputs = self._prepare_call(inputs, kwargs)
        return self._run_graph(inputs, kwargs.get("training"), input_mask if mask is None else mask)

    def _standardize_inputs(self, inputs):
        """The given inputs in the order of ``self.inputs`` (a dict is matched by key, or by Input name)."""
        if not isinstance(inputs, dict):
            return flatten_structure(inputs)
        struct = self._inputs_struct
        keys = list(struct) if isinstance(struct, dict) else self.input_names
        missing = [k for k in keys if k not in inputs]
        if missing:
            raise ValueError(f"{self.name}: the input dict has no entry for {missing}; expected keys {keys}, got "
                             f"{list(inputs)}")
        return [inputs[k] for k in keys]

    @property
    def input_shape(self):
        """The input's shape (batch dimension None), a list of shapes for several inputs."""
        shapes = [t.shape for t in getattr(self, "inputs", None) or []]
        return shapes[0] if len(shapes) == 1 else shapes or None

    @property
    def output_shape(self):
        shapes = [t.shape for t in getattr(self, "outputs", None) or []]
        return shapes[0] if len(shapes) == 1 else shapes or None

    # ------------------------------------------------------------------------------------------------ layers
    @property
    def layers(self):
        if self._functional:
            return list(self._layer_list)
        return [m for m in self._modules.values() if isinstance(m, Layer)]

    def get_layer(self, name=None, index=None):
        """The layer called ``name`` (or at position ``index``)."""
        layers = self.layers
        if index is not None:
            if not -len(layers) <= index < len(layers):
                raise ValueError(f"get_layer: index {index} is out of range for {len(layers)} layers")
            return layers[index]
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name}. Existing layers are: {[l.name for l in layers]}")

    def _is_chain(self):
        """Keras' "sequential-like" test for the summary: every depth of the graph holds one node with at most one
        input, and no layer is called twice. Other graphs get the "Connected to" column."""
        if not self._functional:
            return True
        depth = {}
        for node in reversed(self._nodes):  # outputs first: a node is one deeper than its deepest consumer
            consumers = [depth[id(n)] for n in self._nodes if id(n) in depth
                         and any(t in n.input_tensors for t in node.output_tensors)]
            depth[id(node)] = max(consumers) + 1 if consumers else 0
        by_depth = {}
        for node in self._nodes:
            by_depth.setdefault(depth[id(node)], []).append(node)
        if any(len(nodes) > 1 or len(nodes[0].input_tensors) > 1 for nodes in by_depth.values()):
            return False
        return len({id(n.layer) for n in self._nodes}) == len(self._nodes)

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False, show_trainable=False,
                layer_range=None, show_flops=False):
        """Print Keras' table of layers, output shapes and parameter counts (see summary.py); ``show_flops=True``
        adds ganglion's FLOPs column (multiply-adds per sample)."""
        print_summary(self, line_length, positions, print_fn, show_trainable, layer_range, expand_nested,
                      show_flops)

    def count_params(self):
        """The number of weights (trainable or not) in the model."""
        if not self.built and not self.weights:
            raise ValueError(f"{self.name} is not built yet: call it on data, give its first layer an input_shape, "
                             "or call build(input_shape) before count_params()")
        return int(sum(int(np.prod(w.shape)) for w in {id(w.parameter): w for w in self.weights}.values()))

    # ------------------------------------------------------------------------------------------------ config
    def get_config(self):
        if not self._functional:
            return super().get_config()
        from ..saving.serialization import functional_config

        return functional_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        if "layers" in config and "input_layers" in config:
            from ..saving.serialization import functional_from_config

            return functional_from_config(cls, config, custom_objects)
        return cls(**config)

    def save(self, filepath, overwrite=True):
        """Write the model (config, weights, compile settings, optimizer state) to one ``.keras`` file, atomically."""
        from ..saving import save_model

        save_model(self, filepath, overwrite=overwrite)

    def export(self, filepath, format="onnx", example_input=None, **kwargs):
        """Write the model for other runtimes: ``format="onnx"`` (see ``ganglion.onnx.export`` for ``kwargs``:
        dynamic_batch, opset, input_names, output_names). The example input defaults to the model's input shape."""
        from ...onnx import export_keras_model

        return export_keras_model(self, filepath, format=format, example_input=example_input, **kwargs)

    def save_weights(self, filepath, overwrite=True):
        """Write the weights alone to a safetensors file (any name; Keras' ``.weights.h5`` is fine)."""
        from ..saving import save_weights

        save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, skip_mismatch=False):
        """Read weights from ``save_weights`` or from a ``.keras`` file into this model (same architecture)."""
        from ..saving import load_weights

        load_weights(self, filepath, skip_mismatch=skip_mismatch)


def _layers_by_depth(nodes, outputs):
    """The graph's layers in Keras' order: deepest first (a node is one deeper than its deepest consumer; a layer
    as deep as its deepest node), ties in the order a depth-first walk from the outputs first meets them."""
    depth = {}
    for node in reversed(nodes):  # ``nodes`` is post-order: consumers come after their inputs
        consumers = [depth[id(n)] for n in nodes if id(n) in depth
                     and any(t is o for t in n.input_tensors for o in node.output_tensors)]
        depth[id(node)] = max(consumers) + 1 if consumers else 0
    first_seen = {}
    stack = list(reversed(outputs))
    visited = set()
    while stack:  # pre-order from the outputs, inputs in order
        t = stack.pop()
        layer, node_index, _ = t._keras_history
        node = layer._inbound_nodes[node_index]
        first_seen.setdefault(id(layer), len(first_seen))
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.extend(reversed(node.input_tensors))
    layer_depth, layers = {}, []
    for node in nodes:
        if id(node.layer) not in layer_depth:
            layers.append(node.layer)
        layer_depth[id(node.layer)] = max(layer_depth.get(id(node.layer), 0), depth[id(node)])
    return sorted(layers, key=lambda la: (-layer_depth[id(la)], first_seen[id(la)]))


def adjust_input_rank(value, expected):
    """``value`` with a trailing axis of size 1 added or dropped to match the rank of ``expected``, as Keras'
    functional models do (texts of shape (n,) fed to ``Input(shape=(1,), dtype="string")``); otherwise as it is."""
    shape = tuple(value.shape)
    if len(shape) == len(expected) - 1 and expected[-1] == 1:
        return value.reshape(shape + (1,))
    if len(shape) == len(expected) + 1 and shape[-1] == 1:
        return value.reshape(shape[:-1])
    return value

