"""What the Keras recurrent layers share (see ``recurrent.py`` for the layers and the weight mapping): the Keras
arguments, the engine module's weights seen in Keras' layout (``_GateLayout``, GRU's stacked bias), dropout masks,
initial and carried states, and the call that picks the fused engine op or the step loop."""

import numbers

import numpy as np

from ... import backend
from ...autograd.grad_mode import no_grad
from ...factories import tensor
from ...nn.functional.dropout import keep_mask
from ...ops import cat
from .. import activations as keras_activations
from .. import regularizers
from . import _masked_lengths, _recurrent_steps
from ._adapters import positive_int
from .base import Layer
from .keras_weight import KerasWeight
from .structure import as_tensor
from .weight_options import ActivityRegularization, WeightOptions, keras_weight


class _GateLayout:
    """Engine rows (G u, *) in the engine's gate order <-> Keras (*, G u) in Keras' order (transposed if 2-D).

    ``order[k]`` is the engine gate holding Keras gate k. Works on NumPy arrays and Tensors (constraints see
    Tensors)."""

    def __init__(self, units, order):
        self.units, self.order = units, tuple(order)
        self.inverse = tuple(self.order.index(k) for k in range(len(self.order)))

    def _blocks(self, a, order):
        u = self.units
        if list(order) == list(range(len(order))):
            return a
        parts = [a[k * u:(k + 1) * u] for k in order]
        return cat(parts, 0) if hasattr(a, "requires_grad") else np.concatenate(parts, axis=0)

    @staticmethod
    def _t(a):
        if a.ndim < 2:
            return a
        return a.transpose(0, 1) if hasattr(a, "requires_grad") else a.T

    def to_keras(self, a):
        return self._t(self._blocks(a, self.order))

    def from_keras(self, a):
        return self._blocks(self._t(a), self.inverse)


class _StackedBias(KerasWeight):
    """Keras' GRU bias (2, 3u) over the engine's two vectors: row 0 = bias_ih, row 1 = bias_hh."""

    def __init__(self, name, input_bias, recurrent_bias, layout):
        super().__init__(name, input_bias)
        self.recurrent_bias, self.layout = recurrent_bias, layout

    @property
    def shape(self):
        return (2,) + tuple(self.parameter.shape)

    def numpy(self):
        return np.stack([self.layout.to_keras(backend.to_numpy(p.array)) for p in (self.parameter,
                                                                                      self.recurrent_bias)])

    def assign(self, value):
        value = np.asarray(value.numpy() if hasattr(value, "numpy") else value)
        if value.shape != self.shape:
            raise ValueError(f"weight {self.name!r}: expected a value of shape {self.shape} (Keras layout), got "
                             f"{value.shape}")
        with no_grad():
            for row, p in zip(value, (self.parameter, self.recurrent_bias)):
                p.array[...] = backend.to_device(self.layout.from_keras(row).astype(p.dtype), p.device)


def _probability(owner, name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 <= value < 1.0:
        raise ValueError(f"{owner}: {name} must be a number in [0, 1), got {value!r}")
    return float(value)


class Recurrent(WeightOptions, ActivityRegularization, Layer):
    """What SimpleRNN, LSTM and GRU share: arguments, weights and their layouts, masks, states, the call."""

    _cell = "simple"
    _gates = 1
    _order = (0,)
    _fused_activation = "tanh"

    def __init__(self, units, activation="tanh", use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0,
                 return_sequences=False, return_state=False, go_backwards=False, stateful=False, unroll=False,
                 seed=None, **kwargs):
        """Keras' arguments shared by the recurrent layers (SimpleRNN's signature)."""
        super().__init__(**kwargs)
        kind = type(self).__name__
        self.units = positive_int(units, "units", kind)
        self.activation = keras_activations.get_optional(activation)
        self.recurrent_activation = None  # the gated layers' (LSTM, GRU)
        self.use_bias = bool(use_bias)
        self._init_weight_options(kernel=(kernel_initializer, kernel_regularizer, kernel_constraint),
                                  recurrent=(recurrent_initializer, recurrent_regularizer, recurrent_constraint),
                                  bias=(bias_initializer, bias_regularizer, bias_constraint))
        self.dropout = _probability(kind, "dropout", dropout)
        self.recurrent_dropout = _probability(kind, "recurrent_dropout", recurrent_dropout)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
            raise ValueError(f"{kind}: seed must be an int or None, got {seed!r}")
        self.seed = seed
        self.__dict__["_generator"] = None if seed is None else backend.Generator().manual_seed(int(seed))
        self.return_sequences, self.return_state = bool(return_sequences), bool(return_state)
        self.go_backwards, self.stateful, self.unroll = bool(go_backwards), bool(stateful), bool(unroll)
        self.__dict__["_states"] = None
        self.__dict__["_force_steps"] = False  # tests run the step loop where the fused op would serve
        self.zero_output_for_mask = False  # masked steps output zeros instead of the previous output
        self._init_activity(activity_regularizer)

    # ------------------------------------------------------------------------------------------------ build
    def _has_recurrent_bias(self):
        return False

    def build(self, input_shape):
        if isinstance(input_shape, list) and input_shape and isinstance(input_shape[0], (tuple, list)):
            input_shape = input_shape[0]  # [sequence, *initial states]
        if len(input_shape) != 3:
            raise ValueError(f"Input 0 of layer {self.name!r} ({type(self).__name__}) is incompatible with the layer: "
                             f"expected ndim=3 (batch, timesteps, features), found ndim={len(input_shape)}. Full "
                             f"shape received: {tuple(input_shape)}")
        features = input_shape[-1]
        if features is None:
            raise ValueError(f"{self.name!r}: the last dimension (features) of the input must be known, got shape "
                             f"{tuple(input_shape)}")
        kw = {"dtype": self.dtype_policy} if self.dtype_policy is not None else {}
        self.rnn = self._engine(int(features), kw)
        if self.use_bias and not self._has_recurrent_bias():
            self.rnn.bias_hh_l0 = None  # Keras has one bias; the engine adds bias_hh only when there is one
        self.__dict__["_features"] = int(features)
        u, g = self.units, self._gates
        layout = _GateLayout(u, self._order)
        self.__dict__["_layout"] = layout
        values = {"kernel": self.kernel_initializer.sample((features, g * u)),
                  "recurrent_kernel": self.recurrent_initializer.sample((u, g * u))}
        if self.use_bias:
            values["bias"] = self._initial_bias()
        for w in self._weights():
            w.assign(values[w.name])
        self._attach_weight_options("kernel", "kernel", layout)
        self._attach_weight_options("recurrent", "recurrent_kernel", layout)
        if self.use_bias:  # GRU's (2, 3u) bias is constrained row by row, each row one engine vector
            rows = ("bias_input", "bias_recurrent") if self._has_recurrent_bias() else ("bias_input",)
            self._attach_weight_options("bias", "bias", layout, constrained=rows)
        self.built = True

    def _initial_bias(self):
        return self.bias_initializer.sample((self._gates * self.units,))

    # ---------------------------------------------------------------------------------------------- weights
    def keras_weights(self):
        return self._weights() if self.built else []

    def _weights(self):
        layout = self._layout
        out = [KerasWeight("kernel", self.rnn.weight_ih_l0, layout.to_keras, layout.from_keras),
               KerasWeight("recurrent_kernel", self.rnn.weight_hh_l0, layout.to_keras, layout.from_keras)]
        if self.use_bias:
            if self._has_recurrent_bias():
                out.append(_StackedBias("bias", self.rnn.bias_ih_l0, self.rnn.bias_hh_l0, layout))
            else:
                out.append(KerasWeight("bias", self.rnn.bias_ih_l0, layout.to_keras, layout.from_keras))
        return out

    def _penalty_target(self, name):
        if name == "__activity__":
            return self._activity_target()
        if name == "kernel":
            return self.rnn.weight_ih_l0
        if name == "recurrent_kernel":
            return self.rnn.weight_hh_l0
        if name == "bias_recurrent":
            return self.rnn.bias_hh_l0
        if name == "bias_input":
            return self.rnn.bias_ih_l0
        if self._has_recurrent_bias():  # a penalty is a sum, so both vectors together are the (2, 3u) bias
            return cat([self.rnn.bias_ih_l0, self.rnn.bias_hh_l0], 0)
        return self.rnn.bias_ih_l0

    def _keras_weight(self, name):
        return next((w for w in self.keras_weights() if w.name == name), None)

    kernel, recurrent_kernel, bias = keras_weight("kernel"), keras_weight("recurrent_kernel"), keras_weight("bias")

    # ------------------------------------------------------------------------------------------------ call
    @property
    def _state_count(self):
        return 1

    def _uses_fused_op(self, training):
        if self._force_steps or (training and self.recurrent_dropout > 0):
            return False
        return self.activation is getattr(keras_activations, self._fused_activation) and self._fused_gates_ok()

    def _fused_gates_ok(self):
        return True

    def dropout_masks(self, count, shape, p, like):
        """``count`` inverted-dropout masks of ``shape`` (0 or 1 / (1 - p)) with ``like``'s dtype and device, one
        per gate where Keras draws one per gate; each is reused at every time step, as Keras does."""
        masks = []
        for _ in range(count):
            keep = keep_mask(shape, p, backend.float64, "cpu", self._generator) * (1.0 / (1.0 - p))
            masks.append(tensor(keep, dtype=like.dtype, device=like.device))
        return masks

    def _check_sequence(self, x):
        if x.ndim != 3:
            raise ValueError(f"Input 0 of layer {self.name!r} ({type(self).__name__}) is incompatible with the layer: "
                             f"expected ndim=3 (batch, timesteps, features), found ndim={x.ndim}. Full shape "
                             f"received: {tuple(x.shape)}")
        if x.shape[-1] != self._features:
            raise ValueError(f"Input 0 of layer {self.name!r} ({type(self).__name__}) is incompatible with the layer: "
                             f"expected axis -1 of input shape to have value {self._features}, got shape "
                             f"{tuple(x.shape)}")
        if x.shape[1] == 0:
            raise ValueError(f"{self.name!r}: the input sequence has no time steps, shape {tuple(x.shape)}")

    def _initial_states(self, initial_state, x):
        batch = x.shape[0]
        if initial_state is None:
            if self.stateful and self._states is not None:
                if self._states[0].shape[0] != batch:
                    raise ValueError(f"{self.name!r} is stateful with states for batches of {self._states[0].shape[0]}"
                                     f", got a batch of {batch}; call reset_states() first")
                return list(self._states)
            return None
        states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
        if len(states) != self._state_count:
            raise ValueError(f"{self.name!r} ({type(self).__name__}) expects {self._state_count} initial state "
                             f"tensor(s) of shape (batch, {self.units}), got {len(states)}")
        states = [as_tensor(s).type(x.dtype) for s in states]
        for s in states:
            if tuple(s.shape) != (batch, self.units):
                raise ValueError(f"{self.name!r}: expected initial states of shape ({batch}, {self.units}), got "
                                 f"{tuple(s.shape)}")
        return states

    def __call__(self, inputs, *args, **kwargs):
        return super().__call__(join_initial_state(self, inputs, kwargs), *args, **kwargs)

    def call(self, inputs, initial_state=None, training=None, mask=None):
        x, initial_state = split_initial_state(self, inputs, initial_state)
        self._check_sequence(x)
        states = self._initial_states(initial_state, x)
        mask = self._check_mask(mask, x)
        fused = self._uses_fused_op(training)
        lengths = _masked_lengths.right_padded(mask) if mask is not None and fused else None
        if lengths is not None and bool((lengths == x.shape[1]).all()):
            mask = None  # nothing is masked
        if fused and (mask is None or lengths is not None) and training and self.dropout > 0:
            (keep,) = self.dropout_masks(1, (x.shape[0], 1, x.shape[2]), self.dropout, x)
            x = x * keep
        if fused and mask is None:
            out, finals = self._run_fused(x[:, ::-1] if self.go_backwards else x, states)
        elif fused and lengths is not None:
            out, finals = _masked_lengths.run_packed(self, x, states, lengths)
        else:
            if self.go_backwards:
                x = x[:, ::-1]
                mask = mask[:, ::-1] if mask is not None else None
            out, finals = _recurrent_steps.run(self, x, states, training, mask)
        if self.stateful:
            self.__dict__["_states"] = [f.detach() for f in finals]
        y = out if self.return_sequences else out[:, -1]
        result = [y] + finals if self.return_state else y
        if self.activity_regularizer is not None:
            self._record_activity(cat([t.reshape(-1) for t in ([y] + finals if self.return_state else [y])], 0))
        return result

    def _check_mask(self, mask, x):
        """Keras' mask (batch, timesteps): False skips a step (states kept, previous output repeated). A list of
        masks (the inputs' with initial states) gives the sequence's, the first."""
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if mask is None:
            return None
        mask = as_tensor(mask)
        if tuple(mask.shape) != tuple(x.shape[:2]):
            raise ValueError(f"{self.name!r}: mask must have shape (batch, timesteps) = {tuple(x.shape[:2])}, got "
                             f"{tuple(mask.shape)}")
        return mask if mask.dtype == backend.bool_ else mask != 0

    def compute_mask(self, inputs, mask=None):
        """The sequence's mask goes on with return_sequences (the states have none), as in Keras."""
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        return [output_mask] + [None] * self._state_count if self.return_state else output_mask

    def _call_with_mask(self, inputs, input_mask, *args, **kwargs):
        return call_with_sequence_mask(self, super()._call_with_mask, inputs, input_mask, args, kwargs)

    def _run_fused(self, x, states):
        hx = None
        if states is not None:
            hx = tuple(s.unsqueeze(0) for s in states) if self._state_count == 2 else states[0].unsqueeze(0)
        out, h_n = self.rnn(x, hx)
        finals = [h.squeeze(0) for h in h_n] if self._state_count == 2 else [h_n.squeeze(0)]
        return out, finals

    def reset_states(self, states=None):
        """Forget the carried states of a stateful layer (or set them to ``states``)."""
        self.__dict__["_states"] = None if states is None else [as_tensor(s) for s in _as_list(states)]

    reset_state = reset_states

    # ---------------------------------------------------------------------------------------------- config
    def get_config(self):
        config = super().get_config()
        config.update({
            "units": self.units, "activation": keras_activations.serialize(self.activation),
            "use_bias": self.use_bias, **self._weight_options_config(),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout, "seed": self.seed,
            "return_sequences": self.return_sequences, "return_state": self.return_state,
            "go_backwards": self.go_backwards, "stateful": self.stateful, "unroll": self.unroll,
        })
        return config


def join_initial_state(layer, inputs, kwargs):
    """``__call__``'s inputs with ``kwargs``' ``initial_state`` (popped) appended: [sequence, *states]. Initial
    states travel in the inputs list, so the functional API records them as graph inputs."""
    initial_state = kwargs.pop("initial_state", None)
    if initial_state is None:
        return inputs
    if isinstance(inputs, (list, tuple)):
        raise ValueError(f"{layer.name!r}: initial states were given both in the inputs list and as initial_state")
    return [inputs] + _as_list(initial_state)


def split_initial_state(layer, inputs, initial_state):
    """``call``'s (sequence, initial states): an inputs list [sequence, *states] gives both."""
    if isinstance(inputs, (list, tuple)):
        if not inputs:
            raise ValueError(f"{layer.name!r}: got an empty list of inputs")
        inputs, extra = inputs[0], list(inputs[1:])
        if extra:
            if initial_state is not None:
                raise ValueError(f"{layer.name!r}: initial states were given both in the inputs list and as "
                                 "initial_state")
            initial_state = extra
    return inputs, initial_state


def call_with_sequence_mask(layer, call_with_mask, inputs, input_mask, args, kwargs):
    """Keras gives a recurrent layer its input's mask only when the call has no other tensor argument: called with
    initial states (here the inputs list [sequence, *states]), it runs unmasked unless ``mask=`` is given, while its
    output still carries the sequence's mask (compute_mask sees it)."""
    if not isinstance(inputs, (list, tuple)) or kwargs.get("mask") is not None:
        return call_with_mask(inputs, input_mask, *args, **kwargs)
    sequence_mask = input_mask[0] if isinstance(input_mask, (list, tuple)) else input_mask
    return layer(inputs, *args, **kwargs), layer._output_mask(inputs, sequence_mask)


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]
