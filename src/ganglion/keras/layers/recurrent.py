"""Recurrent layers: ``SimpleRNN``, ``LSTM``, ``GRU``, adapters over the engine's ``nn.RNN`` / ``nn.LSTM`` /
``nn.GRU`` (batch_first). Inputs (batch, timesteps, features); output (batch, units), or (batch, timesteps, units)
with ``return_sequences``, followed by the final states with ``return_state``.

Weights, Keras layout <-> engine layout (u = units, G gates):
    kernel (features, G u)      = weight_ih_l0^T      recurrent_kernel (u, G u) = weight_hh_l0^T
    bias   (G u,)               = bias_ih_l0          (SimpleRNN, LSTM, GRU with reset_after=False: no bias_hh)
    bias   (2, 3u)              = [bias_ih_l0, bias_hh_l0]                      (GRU, reset_after=True)
Gate order: LSTM i, f, c, o in both; GRU z, r, h in Keras and r, z, n in the engine, so GRU gate blocks are
swapped on the way.

The fused engine op runs whenever it computes Keras' function: LSTM/GRU with activation tanh and recurrent_activation
sigmoid (GRU with reset_after=True), SimpleRNN with tanh or relu, and no recurrent dropout in training. Other
settings (another activation, GRU reset_after=False, recurrent_dropout) run the per-step loop of
``_recurrent_steps``: the engine's cells (``nn.functional.recurrent_graph``) on the same engine parameters.

A ``mask`` (batch, timesteps), given or handed on by an ``Embedding(mask_zero=True)`` or ``Masking`` before the
layer: a False step keeps the states and repeats the previous output (Keras). Right padding runs on the fused op as
a packed sequence (``_masked_lengths``), as fast as no mask; any other mask runs the step loop.
"""

import numpy as np

from ...nn.modules.recurrent import GRU as EngineGRU
from ...nn.modules.recurrent import LSTM as EngineLSTM
from ...nn.modules.recurrent import RNN as EngineRNN
from .. import activations as keras_activations
from .recurrent_base import Recurrent


class SimpleRNN(Recurrent):
    """h_t = activation(x_t kernel + h_{t-1} recurrent_kernel + bias).  (batch, timesteps, features) -> (batch,
    units) or (batch, timesteps, units); the state is h. Arguments: ``Recurrent``'s, Keras' SimpleRNN's."""

    def _engine(self, features, kw):
        relu = self.activation is keras_activations.relu
        return EngineRNN(features, self.units, nonlinearity="relu" if relu else "tanh", bias=self.use_bias,
                         batch_first=True, **kw)

    def _uses_fused_op(self, training):
        if self._force_steps or (training and self.recurrent_dropout > 0):
            return False
        return self.activation is keras_activations.tanh or self.activation is keras_activations.relu


class GatedRecurrent(Recurrent):
    """What LSTM and GRU add to ``Recurrent``'s arguments: the gates' ``recurrent_activation``, and Keras'
    ``use_cudnn`` (kept for the config; the engine's fused op serves whenever it computes Keras' function)."""

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True, use_cudnn="auto",
                 **kwargs):
        super().__init__(units, activation, use_bias, **kwargs)
        self.recurrent_activation = keras_activations.get_optional(recurrent_activation)
        self.use_cudnn = use_cudnn

    def get_config(self):
        config = super().get_config()
        config.update({"recurrent_activation": keras_activations.serialize(self.recurrent_activation),
                       "use_cudnn": self.use_cudnn})
        return config


class LSTM(GatedRecurrent):
    """Long short-term memory. With z = x_t kernel + h_{t-1} recurrent_kernel + bias split into gates (i, f, c, o):
    i, f, o = recurrent_activation(z_i, z_f, z_o);  c_t = f c_{t-1} + i activation(z_c);  h_t = o activation(c_t).
    (batch, timesteps, features) -> (batch, units) or (batch, timesteps, units); states [h, c].
    ``unit_forget_bias=True`` starts the forget gate's bias at 1, as Keras."""

    _cell = "lstm"
    _gates = 4
    _order = (0, 1, 2, 3)

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True, unit_forget_bias=True,
                 **kwargs):
        super().__init__(units, activation, recurrent_activation, use_bias, **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)

    def _engine(self, features, kw):
        return EngineLSTM(features, self.units, bias=self.use_bias, batch_first=True, **kw)

    @property
    def _state_count(self):
        return 2

    def _fused_gates_ok(self):
        return self.recurrent_activation is keras_activations.sigmoid

    def _initial_bias(self):
        u = self.units
        if not self.unit_forget_bias:
            return self.bias_initializer.sample((4 * u,))
        # Keras: the forget gate's bias starts at 1, the others from bias_initializer
        return np.concatenate([self.bias_initializer.sample((u,)), np.ones(u),
                               self.bias_initializer.sample((2 * u,))])

    def get_config(self):
        config = super().get_config()
        config["unit_forget_bias"] = self.unit_forget_bias
        return config


class GRU(GatedRecurrent):
    """Gated recurrent unit. Gates (z, r, h) from x_t kernel + bias_in and h_{t-1} recurrent_kernel (+ bias_rec):
    z, r = recurrent_activation(...);  hh = activation(x_h + r (h_{t-1} U_h + b_rec_h))  (reset_after=True, Keras 3's
    default; with reset_after=False: activation(x_h + (r h_{t-1}) U_h));  h_t = z h_{t-1} + (1 - z) hh.
    (batch, timesteps, features) -> (batch, units) or (batch, timesteps, units); the state is h."""

    _cell = "gru"
    _gates = 3
    _order = (1, 0, 2)  # Keras' z is the engine's gate 1 (z), Keras' r its gate 0 (r)

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True, reset_after=True,
                 **kwargs):
        super().__init__(units, activation, recurrent_activation, use_bias, **kwargs)
        self.reset_after = bool(reset_after)

    def _engine(self, features, kw):
        return EngineGRU(features, self.units, bias=self.use_bias, batch_first=True, **kw)

    def _has_recurrent_bias(self):
        return self.reset_after

    def _fused_gates_ok(self):
        return self.reset_after and self.recurrent_activation is keras_activations.sigmoid

    def _initial_bias(self):
        shape = (2, 3 * self.units) if self.reset_after else (3 * self.units,)
        return self.bias_initializer.sample(shape)

    def get_config(self):
        config = super().get_config()
        config["reset_after"] = self.reset_after
        return config
