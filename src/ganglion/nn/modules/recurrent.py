"""Recurrent layers with PyTorch's names, arguments, outputs and parameter layouts: RNN, LSTM, GRU (stacked,
bidirectional, packed sequences) and the cells RNNCell, LSTMCell, GRUCell.

Parameters per layer k and direction (suffix ``_reverse`` for the backward one), exactly as PyTorch:
``weight_ih_lk`` (G*H, I_k), ``weight_hh_lk`` (G*H, P), ``bias_ih_lk`` (G*H,), ``bias_hh_lk`` (G*H,) and, for an LSTM
with ``proj_size``, ``weight_hr_lk`` (P, H); G = 1 (RNN), 4 (LSTM: i, f, g, o) or 3 (GRU: r, z, n), P = proj_size or
H, I_0 = input_size and I_k = D*P above. All are drawn from U(-1/sqrt(H), 1/sqrt(H)). The math is
``nn.functional.recurrent``.
"""

import math
import numbers
import warnings

from ... import backend
from ...factories import empty
from ...ops import cat, index_select, stack
from ...tensor import Tensor
from .. import init
from ..functional import recurrent as R
from ..module import Module
from ..parameter import Parameter
from ..functional.dropout import dropout as _dropout
from ..utils.rnn import PackedSequence, packed_to_padded, padded_to_packed

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}
_NONLINEARITIES = {"tanh": "RNN_TANH", "relu": "RNN_RELU"}


def _check_size(owner, name, value, minimum):
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{owner}: {name} must be an int >= {minimum}, got {value!r}")


def _check_nonlinearity(owner, nonlinearity):
    if nonlinearity not in _NONLINEARITIES:
        raise ValueError(
            f"{owner}: unknown nonlinearity {nonlinearity!r}; accepted: {', '.join(repr(k) for k in _NONLINEARITIES)}"
        )


def _reset_uniform(module):
    """Every parameter of a recurrent layer or cell drawn from U(-1/sqrt(H), 1/sqrt(H)), as PyTorch."""
    bound = 1.0 / math.sqrt(module.hidden_size)
    for p in module.parameters():
        init.uniform_(p, -bound, bound)


def _check_input_tensor(module, x):
    if not isinstance(x, Tensor):
        raise TypeError(f"{module!r}: input must be a Tensor or a PackedSequence, got {type(x).__name__}")
    if x.dtype != module._weight_dtype():
        raise TypeError(
            f"{module!r}: input dtype {x.dtype} does not match the weights' {module._weight_dtype()}; convert one "
            "(x.float(), x.double(), module.double())"
        )


def _check_state(module, name, h, expected):
    if not isinstance(h, Tensor):
        raise TypeError(f"{module!r}: {name} must be a Tensor, got {type(h).__name__}")
    if tuple(h.shape) != expected:
        raise ValueError(f"{module!r}: expected {name} of shape {expected}, got {tuple(h.shape)}")
    if h.dtype != module._weight_dtype():
        raise TypeError(f"{module!r}: {name} dtype {h.dtype} does not match the weights' {module._weight_dtype()}")


def recurrent_stack(mode, x, hx, weights, num_layers, bidirectional=False, dropout=0.0, training=False,
                    batch_sizes=None):
    """Run ``num_layers`` stacked recurrent layers (each one or two directions) over a time-major sequence.

    x: (T, B, I). hx: one initial state per layer and direction, layer-major (forward before reverse): h (B, P), or
    (h, c) for LSTM. weights: per layer and direction, (w_ih, w_hh, b_ih, b_hh) plus w_hr for LSTM (None without a
    projection). Dropout with probability ``dropout`` is applied to every layer's output but the last, in training.
    Returns the last layer's output (T, B, D * P) (directions concatenated) and the final states in hx's order.
    """
    directions = 2 if bidirectional else 1
    layer_input, finals = x, []
    for layer in range(num_layers):
        outs = []
        for d in range(directions):
            k = layer * directions + d
            opts = {"batch_sizes": batch_sizes, "reverse": d == 1}
            if mode == "LSTM":
                out, h, c = R.LSTMSequence.apply(layer_input, hx[k][0], hx[k][1], *weights[k], **opts)
                finals.append((h, c))
            elif mode == "GRU":
                out, h = R.GRUSequence.apply(layer_input, hx[k], *weights[k], **opts)
                finals.append(h)
            else:
                nonlinearity = "tanh" if mode == "RNN_TANH" else "relu"
                out, h = R.RNNSequence.apply(layer_input, hx[k], *weights[k], nonlinearity=nonlinearity, **opts)
                finals.append(h)
            outs.append(out)
        layer_input = outs[0] if directions == 1 else cat(outs, dim=2)
        if dropout > 0 and training and layer < num_layers - 1:
            layer_input = _dropout(layer_input, dropout, training=True)
    return layer_input, finals


class RNNBase(Module):
    """The stacked recurrent layer all three share; ``mode`` is one of RNN_TANH, RNN_RELU, LSTM, GRU."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        name = "RNN" if mode.startswith("RNN") else mode
        if mode not in _GATES:
            raise ValueError(f"RNNBase: unknown mode {mode!r}; accepted modes are {', '.join(_GATES)}")
        _check_size(name, "input_size", input_size, 0)
        _check_size(name, "hidden_size", hidden_size, 1)
        _check_size(name, "num_layers", num_layers, 1)
        _check_size(name, "proj_size", proj_size, 0)
        if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real) or not 0 <= dropout <= 1:
            raise ValueError(
                f"{name}: dropout should be a number in range [0, 1] representing the probability of an element "
                f"being zeroed, got {dropout!r}"
            )
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                f"{name}: dropout is applied after every recurrent layer but the last, so dropout={dropout} does "
                "nothing with num_layers=1", stacklevel=3,
            )
        if proj_size and mode != "LSTM":
            raise ValueError(f"{name}: proj_size is only supported by LSTM, got proj_size={proj_size}")
        if proj_size >= hidden_size:
            raise ValueError(f"{name}: proj_size ({proj_size}) must be smaller than hidden_size ({hidden_size})")
        self.mode, self.input_size, self.hidden_size, self.num_layers = mode, input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.proj_size = bidirectional, proj_size
        gates = _GATES[mode] * hidden_size
        out_size = proj_size or hidden_size
        self._flat_weights_names = []
        for layer in range(num_layers):
            for suffix in ("", "_reverse") if bidirectional else ("",):
                shapes = [("weight_ih", (gates, input_size if layer == 0 else out_size * self._directions)),
                          ("weight_hh", (gates, out_size))]
                if bias:
                    shapes += [("bias_ih", (gates,)), ("bias_hh", (gates,))]
                if proj_size:
                    shapes.append(("weight_hr", (proj_size, hidden_size)))
                for kind, shape in shapes:
                    full = f"{kind}_l{layer}{suffix}"
                    setattr(self, full, Parameter(empty(*shape, dtype=dtype, device=device)))
                    self._flat_weights_names.append(full)
        self.reset_parameters()

    @property
    def _directions(self):
        return 2 if self.bidirectional else 1

    def reset_parameters(self):
        _reset_uniform(self)

    def _weight_dtype(self):
        return self.weight_ih_l0.dtype

    def flatten_parameters(self):
        """Nothing to do, kept for code written for PyTorch: the ops read each weight in place, in any layout."""

    @property
    def _flat_weights(self):
        return [getattr(self, n) for n in self._flat_weights_names]

    @property
    def all_weights(self):
        """The parameters grouped per layer and direction, as PyTorch's ``all_weights``."""
        per = len(self._flat_weights_names) // (self.num_layers * self._directions)
        flat = self._flat_weights
        return [flat[i : i + per] for i in range(0, len(flat), per)]

    def _layer_weights(self, k):
        layer, suffix = divmod(k, self._directions)
        tag = f"_l{layer}{'_reverse' if suffix else ''}"
        get = lambda kind: getattr(self, kind + tag, None)  # noqa: E731
        weights = (get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh"))
        return weights + (get("weight_hr"),) if self.mode == "LSTM" else weights

    # --------------------------------------------------------------------------------------------- forward
    def _check_input(self, x):
        _check_input_tensor(self, x)
        f = self.input_size
        layout = "(N, L, {f})" if self.batch_first else "(L, N, {f})"
        if x.ndim not in (2, 3) or x.shape[-1] != f or x.shape[0 if x.ndim == 2 or not self.batch_first else 1] == 0:
            raise ValueError(
                f"{self!r}: expected input of shape {layout.format(f=f)} or (L, {f}) unbatched, with L >= 1, "
                f"got {tuple(x.shape)}"
            )

    def _initial_states(self, hx, batch, batched, sorted_indices, x):
        """One initial state per layer and direction (h, or (h, c) for an LSTM), in the sorted batch order."""
        count = self.num_layers * self._directions
        out_size = self.proj_size or self.hidden_size
        kinds = [("h0", out_size)] + ([("c0", self.hidden_size)] if self.mode == "LSTM" else [])
        if hx is None:
            xp = backend.get_array_module(x.array)
            zeros = [xp.zeros((batch, size), dtype=x.dtype) for _, size in kinds]
            per_layer = [tuple(zeros) if self.mode == "LSTM" else zeros[0]] * count
            return per_layer
        if self.mode == "LSTM":
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError(f"{self!r}: hx must be a tuple (h0, c0), got {type(hx).__name__}")
            states = list(hx)
        else:
            states = [hx]
        prepared = []
        for (name, size), h in zip(kinds, states):
            expected = (count, batch, size) if batched else (count, size)
            _check_state(self, name, h, expected)
            if not batched:
                h = h.unsqueeze(1)
            if sorted_indices is not None:
                h = index_select(h, 1, sorted_indices)
            prepared.append([h[k] for k in range(count)])
        return list(zip(*prepared)) if self.mode == "LSTM" else prepared[0]

    def forward(self, input, hx=None):
        """input (L, N, I) ((N, L, I) with batch_first; (L, I) unbatched; or a PackedSequence) -> (output, h_n),
        or (output, (h_n, c_n)) for an LSTM. output: (L, N, D*P) in input's layout (a PackedSequence for one);
        h_n: (D*num_layers, N, P), c_n: (D*num_layers, N, H), ordered layer by layer, forward before reverse."""
        sorted_indices = unsorted_indices = sizes = None
        if isinstance(input, PackedSequence):
            data, batch_sizes, sorted_indices, unsorted_indices = input
            _check_input_tensor(self, data)
            if data.ndim != 2 or data.shape[1] != self.input_size:
                raise ValueError(
                    f"{self!r}: expected packed data of shape (sum(lengths), {self.input_size}), "
                    f"got {tuple(data.shape)}"
                )
            sizes = [int(b) for b in backend.to_numpy(batch_sizes.array)]
            x, batched = packed_to_padded(data, sizes), True
        else:
            self._check_input(input)
            batched = input.ndim == 3
            x = input if batched else input.unsqueeze(1)
            if batched and self.batch_first:
                x = x.transpose(0, 1)
        states = self._initial_states(hx, x.shape[1], batched, sorted_indices, x)
        weights = [self._layer_weights(k) for k in range(self.num_layers * self._directions)]
        out, finals = recurrent_stack(
            self.mode, x, states, weights, self.num_layers, self.bidirectional, self.dropout, self.training, sizes
        )
        finals = [list(s) for s in zip(*finals)] if self.mode == "LSTM" else [finals]
        finals = [stack(f, 0) for f in finals]
        if sizes is not None:
            out = PackedSequence(padded_to_packed(out, sizes), batch_sizes, sorted_indices, unsorted_indices)
            if unsorted_indices is not None:
                finals = [index_select(f, 1, unsorted_indices) for f in finals]
        elif not batched:
            out, finals = out.squeeze(1), [f.squeeze(1) for f in finals]
        elif self.batch_first:
            out = out.transpose(0, 1)
        return out, (tuple(finals) if self.mode == "LSTM" else finals[0])

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s


class RNN(RNNBase):
    """Elman RNN: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act = tanh or relu, stacked
    ``num_layers`` deep. Input / output shapes: see ``RNNBase.forward`` (P = hidden_size)."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        _check_nonlinearity("RNN", nonlinearity)
        self.nonlinearity = nonlinearity
        super().__init__(_NONLINEARITIES[nonlinearity], input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, 0, device, dtype)


class LSTM(RNNBase):
    """Long short-term memory: i, f, g, o = sigma, sigma, tanh, sigma of x W_ih^T + b_ih + h W_hh^T + b_hh;
    c' = f c + i g;  h' = o tanh(c') (times W_hr^T with ``proj_size``). Returns (output, (h_n, c_n))."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, device, dtype)


class GRU(RNNBase):
    """Gated recurrent unit: r, z = sigma(...); n = tanh(x W_in^T + b_in + r (h W_hn^T + b_hn));
    h' = (1 - z) n + z h. Returns (output, h_n)."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, 0,
                         device, dtype)


# ------------------------------------------------------------------------------------------------------- cells
class RNNCellBase(Module):
    """One recurrent step. weight_ih (G*H, input_size), weight_hh (G*H, H), bias_ih and bias_hh (G*H,)."""

    _gates = 1

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        _check_size(name, "input_size", input_size, 0)
        _check_size(name, "hidden_size", hidden_size, 1)
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        gates = self._gates * hidden_size
        self.weight_ih = Parameter(empty(gates, input_size, dtype=dtype, device=device))
        self.weight_hh = Parameter(empty(gates, hidden_size, dtype=dtype, device=device))
        self.bias_ih = Parameter(empty(gates, dtype=dtype, device=device)) if bias else None
        self.bias_hh = Parameter(empty(gates, dtype=dtype, device=device)) if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        _reset_uniform(self)

    def _weight_dtype(self):
        return self.weight_ih.dtype

    def _prepare(self, x, hx, names):
        """(x as (N, I), initial states as (N, H) each, whether the input was batched)."""
        _check_input_tensor(self, x)
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ValueError(
                f"{self!r}: expected input of shape (N, {self.input_size}) or ({self.input_size},) unbatched, "
                f"got {tuple(x.shape)}"
            )
        batched = x.ndim == 2
        x = x if batched else x.unsqueeze(0)
        expected = (x.shape[0], self.hidden_size) if batched else (self.hidden_size,)
        if hx is None:
            zeros = backend.get_array_module(x.array).zeros((x.shape[0], self.hidden_size), dtype=x.dtype)
            return x, [zeros] * len(names), batched
        states = list(hx) if len(names) > 1 else [hx]
        if len(names) > 1 and (not isinstance(hx, (tuple, list)) or len(hx) != len(names)):
            raise TypeError(f"{self!r}: hx must be a tuple ({', '.join(names)}), got {type(hx).__name__}")
        for name, h in zip(names, states):
            _check_state(self, name, h, expected)
        return x, [h if batched else h.unsqueeze(0) for h in states], batched

    def _weights(self):
        return self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity!r}"
        return s


class RNNCell(RNNCellBase):
    """h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh).  input (N, I) or (I,), hx (N, H) or (H,) -> h' like hx."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        _check_nonlinearity("RNNCell", nonlinearity)
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, device, dtype)

    def forward(self, input, hx=None):
        x, (h,), batched = self._prepare(input, hx, ("hx",))
        cell = R.rnn_tanh_cell if self.nonlinearity == "tanh" else R.rnn_relu_cell
        h = cell(x, h, *self._weights())
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step.  input (N, I) or (I,), hx = (h, c) each (N, H) or (H,) -> (h', c')."""

    _gates = 4

    def forward(self, input, hx=None):
        x, (h, c), batched = self._prepare(input, hx, ("h0", "c0"))
        h, c = R.lstm_cell(x, (h, c), *self._weights())
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step.  input (N, I) or (I,), hx (N, H) or (H,) -> h' like hx."""

    _gates = 3

    def forward(self, input, hx=None):
        x, (h,), batched = self._prepare(input, hx, ("hx",))
        h = R.gru_cell(x, h, *self._weights())
        return h if batched else h.squeeze(0)
