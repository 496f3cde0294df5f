"""``Optimizer``: param groups, per-parameter state, ``zero_grad``, ``step`` and ``state_dict``, as in PyTorch.

Each algorithm writes its update rule once, in ``update(group, p, g, state)``, on plain arrays. The base class calls
it on the whole group at once: the parameters of a group (per dtype and device) live in one flat array, each
parameter's ``.array`` being a view into it, so one step is a handful of array operations whatever the number of
parameters. When only some parameters have gradients, or their step counts differ, the same rule runs on each
parameter's slice instead. (A side effect to know: the first step re-homes each parameter's values into the flat
array, so arrays shared with the parameter before that, e.g. through ``from_numpy``, stop being shared.)
"""

import math
from types import SimpleNamespace

import numpy as np

from .. import backend
from ..autograd.grad_mode import enable_grad, no_grad
from ..tensor import Tensor


class _Required:
    def __repr__(self):
        return "<required parameter>"


required = _Required()


class _Bucket:
    """The parameters of one group that share a dtype and device, stored contiguously in ``flat``."""

    def __init__(self, params):
        self.params = params
        first = params[0].array
        self.xp = backend.get_array_module(first)
        self.sizes = [p.array.size for p in params]
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)]).astype(int).tolist()
        total = self.offsets[-1]
        self.flat = self.xp.empty(total, dtype=first.dtype)
        for p, start, end in zip(params, self.offsets, self.offsets[1:]):
            self.flat[start:end] = p.array.reshape(-1)
            p.array = self.flat[start:end].reshape(p.array.shape)
        self.views = [p.array for p in params]
        self.grad = self.xp.empty(total, dtype=first.dtype)
        self.tmp = self.xp.empty(total, dtype=first.dtype)
        self.tmp2 = self.xp.empty(total, dtype=first.dtype)
        self.state = {}  # name -> flat array shaped like ``flat``
        self.steps = [0] * len(params)

    def intact(self):
        """False once a parameter's array was replaced (moved to a device, assigned by the user)."""
        return all(p.array is v for p, v in zip(self.params, self.views))

    def slot(self, i):
        return slice(self.offsets[i], self.offsets[i + 1])


class Optimizer:
    """Base class: subclasses define ``__init__`` (defaults and checks), ``state_names`` and ``update``."""

    #: whether the per-parameter state saved by ``state_dict`` includes PyTorch's ``step`` entry
    saves_step = True

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.param_groups = []
        self._buckets = {}  # group index -> list of _Bucket
        self._pending_state = {}  # id(param) -> state loaded before the first step
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or dicts, but got a Tensor"
            )
        try:
            params = list(params)
        except TypeError:
            raise TypeError(
                f"params argument given to the optimizer should be an iterable of Tensors or dicts, "
                f"but got {type(params).__name__}"
            ) from None
        if not params:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(params[0], dict):
            params = [{"params": params}]
        for group in params:
            self.add_param_group(group)

    # ------------------------------------------------------------------------------------------------- groups
    def add_param_group(self, param_group):
        """Add a group of parameters with its own hyperparameters (the rest taken from the defaults)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, got {type(param_group).__name__}")
        group = dict(param_group)
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        seen = set()
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
            if id(p) in seen:
                raise ValueError("optimizer contains a parameter group with duplicate parameters")
            seen.add(id(p))
        for other in self.param_groups:
            if any(id(p) in seen for p in other["params"]):
                raise ValueError("some parameters appear in more than one parameter group")
        group["params"] = params
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            group.setdefault(name, default)
        self._check_group(group)
        self.param_groups.append(group)

    def _check_group(self, group):
        """Validate a group's hyperparameters (subclasses raise ValueError naming the argument)."""

    # -------------------------------------------------------------------------------------------------- rules
    def state_names(self, group):
        """Names of the per-parameter state arrays this algorithm keeps, e.g. ('exp_avg', 'exp_avg_sq')."""
        return ()

    def update(self, group, p, g, state):
        """Update the flat parameter array ``p`` in place from its gradient ``g``.

        ``state`` holds this algorithm's arrays (same shape as ``p``, updated in place), ``state.step`` (the
        number of this update, from 1) and two scratch arrays ``state.tmp`` and ``state.tmp2``. ``g`` must not be
        modified in place.
        """
        raise NotImplementedError

    # ------------------------------------------------------------------------------------------------ running
    def zero_grad(self, set_to_none=True):
        """Clear every parameter's gradient (to None by default, as PyTorch)."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    if set_to_none:
                        p.grad = None
                    else:
                        p.grad.array.fill(0)

    def step(self, closure=None):
        """One update of every parameter that has a gradient. ``closure`` re-evaluates and returns the loss."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for gi, group in enumerate(self.param_groups):
                for bucket in self._group_buckets(gi):
                    self._step_bucket(group, bucket)
        return loss

    def _step_bucket(self, group, b):
        names = self.state_names(group)
        for name in names:
            if name not in b.state:
                b.state[name] = b.xp.zeros_like(b.flat)
        grads = [p.grad for p in b.params]
        steps = b.steps
        if all(g is not None for g in grads) and steps.count(steps[0]) == len(steps):
            if len(grads) == 1:
                g = grads[0].array.reshape(-1)
            else:
                g = b.xp.concatenate([t.array.reshape(-1) for t in grads], out=b.grad)
            step = steps[0] + 1
            b.steps = [step] * len(steps)
            state = SimpleNamespace(step=step, tmp=b.tmp, tmp2=b.tmp2, **{n: b.state[n] for n in names})
            self.update(group, b.flat, g, state)
            return
        for i, t in enumerate(grads):
            if t is None:
                continue
            s = b.slot(i)
            steps[i] += 1
            state = SimpleNamespace(
                step=steps[i], tmp=b.tmp[s], tmp2=b.tmp2[s], **{n: b.state[n][s] for n in names}
            )
            self.update(group, b.flat[s], t.array.reshape(-1), state)

    # -------------------------------------------------------------------------------------------- flat storage
    def _group_buckets(self, gi):
        buckets = self._buckets.get(gi)
        if buckets is not None and all(b.intact() for b in buckets):
            return buckets
        carried = self._pending_state
        if buckets is not None:  # a parameter was moved or replaced: carry its state over to the new storage
            for b in buckets:
                for i, p in enumerate(b.params):
                    carried[id(p)] = self._param_state(b, i)
        groups = {}
        for p in self.param_groups[gi]["params"]:
            groups.setdefault((p.array.dtype, backend.device_of(p.array)), []).append(p)
        buckets = [_Bucket(ps) for ps in groups.values()]
        for b in buckets:
            for i, p in enumerate(b.params):
                if id(p) in carried:
                    self._set_param_state(b, i, carried.pop(id(p)))
        self._buckets[gi] = buckets
        return buckets

    def _param_state(self, b, i):
        """Parameter i's state as {'step': int, name: array shaped like the parameter} (copies)."""
        s, shape = b.slot(i), b.params[i].array.shape
        out = {"step": b.steps[i]}
        for name, flat in b.state.items():
            out[name] = flat[s].reshape(shape).copy()
        return out

    def _set_param_state(self, b, i, values):
        s, p = b.slot(i), b.params[i]
        b.steps[i] = int(values.get("step", 0))
        for name in b.state:  # state the saved values do not mention restarts from zero
            if name not in values:
                b.state[name][s] = 0
        for name, value in values.items():
            if name == "step":
                continue
            if name not in b.state:
                b.state[name] = b.xp.zeros_like(b.flat)
            array = _plain_array(value)
            if array.size != p.array.size:
                raise ValueError(
                    f"load_state_dict: state {name!r} has shape {tuple(array.shape)}, but its parameter has shape "
                    f"{tuple(p.shape)}"
                )
            b.state[name][s] = backend.to_device(array.reshape(-1), p.device).astype(b.flat.dtype)

    # --------------------------------------------------------------------------------------------- state_dict
    def state_dict(self):
        """PyTorch's layout: {'state': {index: {...}}, 'param_groups': [{hyperparameters, 'params': [index, ...]}]}.

        Parameters are numbered across groups in order; only parameters that were updated have state.
        """
        state, groups, index = {}, [], 0
        for gi, group in enumerate(self.param_groups):
            ids = []
            by_param = {}
            for b in self._buckets.get(gi, ()):
                for i, p in enumerate(b.params):
                    by_param[id(p)] = (b, i)
            for p in group["params"]:
                values = None
                if id(p) in by_param:
                    b, i = by_param[id(p)]
                    if b.steps[i] > 0:
                        values = self._param_state(b, i)
                elif self._pending_state.get(id(p), {}).get("step", 0) > 0:
                    values = dict(self._pending_state[id(p)])
                if values is not None:
                    entry = {}
                    step = values.pop("step")
                    if self.saves_step:
                        entry["step"] = Tensor._wrap(np.array(float(step), dtype=np.float32))
                    for name, array in values.items():
                        entry[name] = Tensor._wrap(_plain_array(array).copy())
                    if entry:  # as PyTorch: no entry for a parameter without state (e.g. SGD without momentum)
                        state[index] = entry
                ids.append(index)
                index += 1
            saved = {k: v for k, v in group.items() if k != "params"}
            saved["params"] = ids
            groups.append(saved)
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore hyperparameters and state saved by ``state_dict`` (ganglion's or PyTorch's)."""
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"loaded state dict has {len(saved_groups)} parameter group(s), the optimizer has {len(self.param_groups)}"
            )
        for gi, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"loaded state dict contains a parameter group {gi} of {len(saved['params'])} parameters, which "
                    f"doesn't match the size of the optimizer's group ({len(group['params'])})"
                )
        saved_state = state_dict["state"]
        for gi, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            for key, value in saved.items():
                if key != "params":
                    group[key] = value
            for p, index in zip(group["params"], saved["params"]):
                entry = saved_state.get(index, saved_state.get(str(index)))
                if entry is None:  # nothing saved for this parameter: it starts afresh, as in PyTorch
                    self._pending_state[id(p)] = {"step": 0}
                    continue
                # copied now: PyTorch's state_dict() hands out its live tensors, which its next step changes
                values = {k: _plain_array(v).copy() for k, v in entry.items() if k != "step"}
                step = entry.get("step")
                if step is None:  # PyTorch's SGD keeps no step: a saved momentum buffer means it has stepped
                    step = 1 if values else 0
                values["step"] = int(round(float(_plain_array(step))))
                self._pending_state[id(p)] = values
            if gi in self._buckets:
                for b in self._buckets[gi]:
                    for i, p in enumerate(b.params):
                        if id(p) in self._pending_state:
                            self._set_param_state(b, i, self._pending_state.pop(id(p)))

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


def _plain_array(value):
    if isinstance(value, Tensor):
        return value.array
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch.Tensor
        return value.detach().cpu().numpy()
    if isinstance(value, (int, float)):
        return np.asarray(value)
    return value if hasattr(value, "shape") else np.asarray(value)


def check_non_negative(name, value):
    """Raise ValueError naming ``name`` when ``value`` is negative or not a number, as PyTorch does."""
    if isinstance(value, Tensor):
        value = value.item()
    if not isinstance(value, (int, float)) or isinstance(value, bool) or math.isnan(value) or value < 0.0:
        raise ValueError(f"Invalid {name}: {value}")
