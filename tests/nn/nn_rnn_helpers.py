"""Shared by the recurrent-layer tests: the same layer built in ganglion and PyTorch with the same weights, run on
the same inputs (padded or packed, with or without initial states), and every output and gradient compared."""

from dataclasses import dataclass

import numpy as np
import torch

import ganglion as g
from ganglion import nn

TORCH_CLASS = {"LSTM": "LSTM", "GRU": "GRU", "RNN_TANH": "RNN", "RNN_RELU": "RNN"}


@dataclass(frozen=True)
class Config:
    """One recurrent layer configuration and the input it is run on."""

    mode: str
    num_layers: int = 1
    bidirectional: bool = False
    batch_first: bool = False
    bias: bool = True
    proj_size: int = 0
    initial_state: bool = True
    lengths: tuple = None  # a packed batch with these lengths (unsorted: enforce_sorted=False)
    unbatched: bool = False
    dtype: str = "float64"
    input_size: int = 3
    hidden_size: int = 4
    steps: int = 5
    batch: int = 3

    def kwargs(self):
        kw = dict(num_layers=self.num_layers, bidirectional=self.bidirectional, batch_first=self.batch_first,
                  bias=self.bias)
        if self.mode == "LSTM":
            kw["proj_size"] = self.proj_size
        if self.mode.startswith("RNN"):
            kw["nonlinearity"] = "tanh" if self.mode == "RNN_TANH" else "relu"
        return kw

    def __str__(self):
        parts = [self.mode, f"L{self.num_layers}"]
        parts += ["bi"] if self.bidirectional else []
        parts += ["bf"] if self.batch_first else []
        parts += [] if self.bias else ["nobias"]
        parts += [f"proj{self.proj_size}"] if self.proj_size else []
        parts += ["h0"] if self.initial_state else []
        parts += [f"packed{list(self.lengths)}"] if self.lengths else []
        parts += ["unbatched"] if self.unbatched else []
        return "-".join(parts + [self.dtype])


def make_pair(cfg, seed=0):
    """(ganglion layer, torch layer) with identical weights."""
    g.manual_seed(seed)
    cls = "RNN" if cfg.mode.startswith("RNN") else cfg.mode
    ours = getattr(nn, cls)(cfg.input_size, cfg.hidden_size, **cfg.kwargs()).to(cfg.dtype)
    theirs = getattr(torch.nn, TORCH_CLASS[cfg.mode])(cfg.input_size, cfg.hidden_size, **cfg.kwargs())
    theirs = theirs.to(getattr(torch, cfg.dtype))
    theirs.load_state_dict({k: torch.from_numpy(v.detach().numpy().copy()) for k, v in ours.state_dict().items()})
    return ours, theirs


def make_inputs(cfg, rng):
    """Input and initial-state arrays for ``cfg`` (states None without ``initial_state``)."""
    d = 2 if cfg.bidirectional else 1
    out_size = cfg.proj_size or cfg.hidden_size
    if cfg.unbatched:
        x_shape, batch = (cfg.steps, cfg.input_size), ()
    else:
        x_shape = (cfg.batch, cfg.steps, cfg.input_size) if cfg.batch_first else (cfg.steps, cfg.batch, cfg.input_size)
        batch = (cfg.batch,)
    x = rng.standard_normal(x_shape).astype(cfg.dtype)
    if not cfg.initial_state:
        return x, []
    states = [rng.standard_normal((d * cfg.num_layers,) + batch + (out_size,)).astype(cfg.dtype)]
    if cfg.mode == "LSTM":
        states.append(rng.standard_normal((d * cfg.num_layers,) + batch + (cfg.hidden_size,)).astype(cfg.dtype))
    return x, states


def run_ganglion(layer, cfg, x, states):
    """Outputs [output (padded), h_n(, c_n)] of the ganglion layer."""
    rnn = nn.utils.rnn
    inp = x
    if cfg.lengths:
        inp = rnn.pack_padded_sequence(x, list(cfg.lengths), batch_first=cfg.batch_first, enforce_sorted=False)
    hx = None if not states else (tuple(states) if cfg.mode == "LSTM" else states[0])
    out, final = layer(inp, hx)
    if cfg.lengths:
        assert isinstance(out, rnn.PackedSequence)
        out, _ = rnn.pad_packed_sequence(out, batch_first=cfg.batch_first, total_length=cfg.steps)
    return [out] + (list(final) if cfg.mode == "LSTM" else [final])


def run_torch(layer, cfg, x, states):
    rnn = torch.nn.utils.rnn
    inp = x
    if cfg.lengths:
        inp = rnn.pack_padded_sequence(x, torch.tensor(cfg.lengths), batch_first=cfg.batch_first, enforce_sorted=False)
    hx = None if not states else (tuple(states) if cfg.mode == "LSTM" else states[0])
    out, final = layer(inp, hx)
    if cfg.lengths:
        out, _ = rnn.pad_packed_sequence(out, batch_first=cfg.batch_first, total_length=cfg.steps)
    return [out] + (list(final) if cfg.mode == "LSTM" else [final])


def compare_with_torch(cfg, tol, seed=0, used=None):
    """Run both frameworks forward and backward (a random weighting of the outputs numbered in ``used``: output,
    h_n, c_n; all of them by default); assert everything agrees."""
    rng = np.random.default_rng(seed)
    ours, theirs = make_pair(cfg, seed)
    x, states = make_inputs(cfg, rng)
    gx = g.tensor(x, dtype=cfg.dtype, requires_grad=True)
    gs = [g.tensor(s, dtype=cfg.dtype, requires_grad=True) for s in states]
    tx = torch.tensor(x, requires_grad=True)
    ts = [torch.tensor(s, requires_grad=True) for s in states]
    outs, touts = run_ganglion(ours, cfg, gx, gs), run_torch(theirs, cfg, tx, ts)
    names = ["output", "h_n", "c_n"]
    for name, a, b in zip(names, outs, touts):
        assert tuple(a.shape) == tuple(b.shape), (name, a.shape, b.shape)
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=tol, atol=tol, err_msg=name)
    used = range(len(outs)) if used is None else used
    weights = {i: rng.standard_normal(tuple(outs[i].shape)).astype(cfg.dtype) for i in used}
    sum((outs[i] * g.tensor(w, dtype=cfg.dtype)).sum() for i, w in weights.items()).backward()
    sum((touts[i] * torch.from_numpy(w)).sum() for i, w in weights.items()).backward()
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=tol, atol=tol, err_msg="d input")
    for i, (a, b) in enumerate(zip(gs, ts)):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=tol, atol=tol, err_msg=f"d state {i}")
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(
            p.grad.numpy(), theirs_params[name].grad.numpy(), rtol=tol, atol=tol, err_msg=f"d {name}"
        )
    return ours
