"""Flat storage for an optimizer: the parameters of one group (per dtype and device) in one array, with their state.

A ``Bucket`` keeps, for its parameters: the flat parameter array (each parameter's ``.array`` is a view into it), a
flat gradient buffer and scratch arrays (allocated when first used), one flat array per state entry, the
per-parameter scalars (such as NAdam's ``mu_product``), each parameter's step count, and which state entries each
parameter has (PyTorch creates state lazily, SGD's momentum buffer only once momentum is used, so "has it yet" is
part of the state). ``chunks`` cuts a long update into pieces that stay in the CPU's cache.
"""

from types import SimpleNamespace

import numpy as np

from .. import backend
from ..tensor import Tensor

_SCRATCH = ("tmp", "tmp2", "tmp3")

#: a rule runs on chunks of this many elements (a few hundred KB: they stay in cache across the rule's passes)
_CHUNK = 1 << 18


def chunks(start, stop):
    """[(lo, hi), ...] covering start:stop, in pieces of about ``_CHUNK`` elements (one piece when it is short)."""
    if stop - start < 2 * _CHUNK:
        return [(start, stop)]
    bounds = list(range(start, stop, _CHUNK)) + [stop]
    if bounds[-1] - bounds[-2] < _CHUNK // 2:  # fold a short tail into the previous chunk
        del bounds[-2]
    return list(zip(bounds, bounds[1:]))


class Bucket:
    """The parameters of one group that share a dtype and device, stored contiguously in ``flat``."""

    def __init__(self, params):
        self.params = params
        first = params[0].array
        self.xp = backend.get_array_module(first)
        self.sizes = [p.array.size for p in params]
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)]).astype(int).tolist()
        total = self.offsets[-1]
        self.mean_size = total / len(params)
        self.flat = self.xp.empty(total, dtype=first.dtype)
        for p, start, end in zip(params, self.offsets, self.offsets[1:]):
            self.flat[start:end] = p.array.reshape(-1)
            p.array = self.flat[start:end].reshape(p.array.shape)
        self.views = [p.array for p in params]
        self._scratch = {}  # name -> flat array, allocated when first asked for
        self.state = {}  # array entries: name -> flat array shaped like ``flat``
        self.present = {}  # array entries: name -> [whether parameter i has it]
        self.scalars = {}  # scalar entries: name -> [value or None, per parameter]
        self.steps = [0] * len(params)
        self.scalar_dtype = backend.get_default_dtype()

    def intact(self):
        """False once a parameter's array was replaced (moved to a device, assigned by the user)."""
        return all(p.array is v for p, v in zip(self.params, self.views))

    def slot(self, i):
        return slice(self.offsets[i], self.offsets[i + 1])

    def scratch(self, name):
        """A flat scratch array (tmp, tmp2, tmp3 for the rules, grad for the gathered gradients), allocated when
        first used."""
        if name not in self._scratch:
            self._scratch[name] = self.xp.empty_like(self.flat)
        return self._scratch[name]

    # ------------------------------------------------------------------------------------------------- state
    def declare(self, names, scalar_names):
        """Make room for the state entries ``names`` (no parameter has them yet)."""
        for name in names:
            if name in scalar_names:
                self.scalars.setdefault(name, [None] * len(self.params))
            elif name not in self.state:
                self.state[name] = self.xp.empty_like(self.flat)
                self.present[name] = [False] * len(self.params)

    def has(self, name, i):
        return self.scalars[name][i] is not None if name in self.scalars else self.present[name][i]

    def start(self, name, indices, s, value):
        """Give parameters ``indices`` (stored in slice ``s``) the entry ``name`` at its initial value."""
        if name in self.scalars:
            for i in indices:
                self.scalars[name][i] = self.scalar_dtype.type(value)
        else:
            self.state[name][s] = value
            for i in indices:
                self.present[name][i] = True

    def uniform(self, names):
        """Whether every parameter is at the same step with the same state entries and scalars (one update fits)."""
        if self.steps.count(self.steps[0]) != len(self.steps):
            return False
        for name in names:
            values = self.scalars[name] if name in self.scalars else self.present[name]
            if values.count(values[0]) != len(values):
                return False
        return True

    def param_state(self, i, copy=True):
        """Parameter i's state: {'step': int, name: scalar or array shaped like the parameter} (present entries)."""
        s, shape = self.slot(i), self.params[i].array.shape
        out = {"step": self.steps[i]}
        for name, values in self.scalars.items():
            if values[i] is not None:
                out[name] = values[i]
        for name, flat in self.state.items():
            if self.present[name][i]:
                view = flat[s].reshape(shape)
                out[name] = view.copy() if copy else view
        return out

    def set_param_state(self, i, values, scalar_names):
        """Replace parameter i's state by ``values`` (as ``param_state`` gives; absent entries start afresh)."""
        s, p = self.slot(i), self.params[i]
        self.steps[i] = int(values.get("step", 0))
        for name in self.scalars:
            self.scalars[name][i] = None
        for name in self.present:
            self.present[name][i] = False
        for name, value in values.items():
            if name == "step":
                continue
            if name in scalar_names:
                self.scalars.setdefault(name, [None] * len(self.params))
                self.scalars[name][i] = self.scalar_dtype.type(float(plain_array(value)))
                continue
            array = plain_array(value)
            if array.size != p.array.size:
                raise ValueError(
                    f"load_state_dict: state {name!r} has shape {tuple(array.shape)}, but its parameter has shape "
                    f"{tuple(p.shape)}"
                )
            self.declare((name,), ())
            self.state[name][s] = backend.to_device(array.reshape(-1), p.device).astype(self.flat.dtype)
            self.present[name][i] = True


class UpdateState(SimpleNamespace):
    """What ``update`` receives as ``state``: the entries as attributes; the scratch arrays appear when first read."""

    def __init__(self, bucket, s, **entries):
        super().__init__(**entries)
        self._bucket, self._slice = bucket, s

    def __getattr__(self, name):  # only reached for attributes not set yet
        if name in _SCRATCH:
            array = self._bucket.scratch(name)[self._slice]
            setattr(self, name, array)
            return array
        raise AttributeError(f"optimizer state has no entry {name!r}")


def plain_array(value):
    """A ganglion Tensor's array; a torch tensor or a number as a NumPy array (``backend.to_numpy``); an array (NumPy
    or CuPy) as it is."""
    if isinstance(value, Tensor):
        return value.array
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch.Tensor
        return backend.to_numpy(value.detach().cpu())
    if isinstance(value, (int, float)) or not hasattr(value, "shape"):
        return backend.to_numpy(value)
    return value
