"""``Bidirectional``: run a recurrent layer over the sequence forwards and a copy of it backwards, then merge.

    y = merge(forward(x), backward(x))    merge: concat (last axis), sum, mul, ave, or None (a list of both)

The backward copy is the same layer rebuilt from its config with ``go_backwards`` flipped; with
``return_sequences`` its output is reversed in time again so that step t of both outputs belongs to input step t.
Keras names the copies ``forward_<name>`` and ``backward_<name>``; their weights are the forward layer's, then the
backward layer's. A mask reaches both copies; with ``return_sequences`` their masked steps output zeros (Keras'
``zero_output_for_mask``), so that a merged step is never half stale, and the output keeps the mask.
"""

from ...ops import cat
from .recurrent_base import call_with_sequence_mask, join_initial_state, split_initial_state
from .base import Layer

MERGE_MODES = ("concat", "sum", "mul", "ave", None)


def _copy(layer, **changes):
    """A fresh, unbuilt layer with ``layer``'s config, ``changes`` applied."""
    config = layer.get_config()
    config.pop("input_shape", None)
    config.update(changes)
    return type(layer).from_config(config)


class Bidirectional(Layer):
    """Bidirectional wrapper for SimpleRNN, LSTM, GRU (or any layer with ``go_backwards``, ``return_sequences``
    and ``return_state``). (batch, timesteps, features) -> the wrapped layer's output, last axis doubled for
    ``merge_mode="concat"``; with ``return_state``: [output(s), *forward states, *backward states]."""

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"Bidirectional: please initialize it with a keras Layer instance, got {layer!r}")
        for attr in ("go_backwards", "return_sequences", "return_state"):
            if not hasattr(layer, attr):
                raise ValueError(f"Bidirectional: the wrapped layer {layer.name!r} must be a recurrent layer with "
                                 f"`{attr}` (SimpleRNN, LSTM, GRU), got {type(layer).__name__}")
        if merge_mode not in MERGE_MODES:
            raise ValueError(f"Bidirectional: invalid merge_mode {merge_mode!r}; merge_mode should be one of "
                             f"{', '.join(repr(m) for m in MERGE_MODES)}")
        if kwargs.get("input_shape") is None and layer._input_shape_arg is not None:
            kwargs["input_shape"] = layer._input_shape_arg
        super().__init__(**kwargs)
        base = layer.name[len("forward_"):] if layer.name.startswith("forward_") else layer.name
        self.__dict__["_layer_config"] = {"class_name": type(layer).__name__, "config": layer.get_config()}
        self.forward_layer = _copy(layer, name="forward_" + base)
        if backward_layer is None:
            self.backward_layer = _copy(layer, name="backward_" + base, go_backwards=not layer.go_backwards)
            self.__dict__["_custom_backward"] = None
        else:
            if not isinstance(backward_layer, Layer):
                raise ValueError(f"Bidirectional: backward_layer must be a keras Layer, got {backward_layer!r}")
            for attr in ("return_sequences", "return_state"):
                if getattr(backward_layer, attr, None) != getattr(layer, attr):
                    raise ValueError(f"Bidirectional: forward layer and backward layer should have the same {attr}; "
                                     f"got {getattr(layer, attr)} and {getattr(backward_layer, attr, None)}")
            if getattr(backward_layer, "go_backwards", None) == layer.go_backwards:
                raise ValueError("Bidirectional: forward layer and backward layer must process the sequence in "
                                 f"opposite directions, but both have go_backwards={layer.go_backwards}")
            self.backward_layer = backward_layer
            self.__dict__["_custom_backward"] = {"class_name": type(backward_layer).__name__,
                                                 "config": backward_layer.get_config()}
        self.merge_mode = merge_mode
        self.return_sequences, self.return_state = layer.return_sequences, layer.return_state
        for sub in (self.forward_layer, self.backward_layer):
            if hasattr(sub, "zero_output_for_mask"):  # masked steps of merged sequences contribute zeros
                sub.zero_output_for_mask = self.return_sequences
        self.__dict__["_initial_weights"] = weights

    def build(self, input_shape):
        if isinstance(input_shape, list) and input_shape and isinstance(input_shape[0], (tuple, list)):
            input_shape = input_shape[0]  # [sequence, *initial states]
        self.forward_layer._maybe_build(input_shape)
        self.backward_layer._maybe_build(input_shape)
        self.built = True
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self.__dict__["_initial_weights"] = None

    def __call__(self, inputs, *args, **kwargs):
        return super().__call__(join_initial_state(self, inputs, kwargs), *args, **kwargs)

    def call(self, inputs, initial_state=None, training=None, mask=None):
        inputs, initial_state = split_initial_state(self, inputs, initial_state)
        forward_state = backward_state = None
        if initial_state is not None:
            states = list(initial_state)
            if len(states) % 2:
                raise ValueError(f"{self.name!r}: initial_state must hold the forward layer's states then the "
                                 f"backward layer's (an even count), got {len(states)}")
            forward_state, backward_state = states[: len(states) // 2], states[len(states) // 2:]
        extra = {"mask": mask} if mask is not None else {}
        y = self.forward_layer(inputs, initial_state=forward_state, training=training, **extra)
        y_rev = self.backward_layer(inputs, initial_state=backward_state, training=training, **extra)
        if self.return_state:
            (y, *states_fw), (y_rev, *states_bw) = y, y_rev
        if self.return_sequences:
            y_rev = y_rev[:, ::-1]
        merged = self._merge(y, y_rev)
        if not self.return_state:
            return merged
        outputs = merged if isinstance(merged, list) else [merged]
        return outputs + states_fw + states_bw

    def compute_mask(self, inputs, mask=None):
        """Keras': the sequence's mask for each output with return_sequences (none otherwise), listed before the
        states' (which have none) with return_state."""
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        if self.merge_mode is None:
            return [output_mask, output_mask]
        return [output_mask] if self.return_state else output_mask

    def _call_with_mask(self, inputs, input_mask, *args, **kwargs):
        return call_with_sequence_mask(self, super()._call_with_mask, inputs, input_mask, args, kwargs)

    def _merge(self, y, y_rev):
        if self.merge_mode == "concat":
            return cat([y, y_rev], -1)
        if self.merge_mode == "sum":
            return y + y_rev
        if self.merge_mode == "ave":
            return (y + y_rev) * 0.5
        if self.merge_mode == "mul":
            return y * y_rev
        return [y, y_rev]

    def reset_states(self, states=None):
        """Forget the carried states of stateful wrapped layers."""
        if states is not None:
            states = list(states)
            half = len(states) // 2
            self.forward_layer.reset_states(states[:half])
            self.backward_layer.reset_states(states[half:])
        else:
            self.forward_layer.reset_states()
            self.backward_layer.reset_states()

    reset_state = reset_states

    def get_config(self):
        config = super().get_config()
        config.update({"layer": self._layer_config, "merge_mode": self.merge_mode})
        if self._custom_backward is not None:
            config["backward_layer"] = self._custom_backward
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from ..saving.serialization import deserialize_layer

        config = dict(config)
        layer = deserialize_layer(config.pop("layer"), custom_objects)
        backward = config.pop("backward_layer", None)
        if backward is not None:
            backward = deserialize_layer(backward, custom_objects)
        return cls(layer, backward_layer=backward, **config)
