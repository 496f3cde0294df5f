"""``Optimizer``: param groups, per-parameter state, ``zero_grad``, ``step`` and ``state_dict``, as in PyTorch.

Each algorithm writes its update rule once, in ``update(group, p, g, state)``, on plain arrays. The base class calls
it on the whole group at once: the parameters of a group (per dtype and device) live in one flat array, each
parameter's ``.array`` being a view into it, so one step is a handful of array operations whatever the number of
parameters. When only some parameters have gradients, their step counts or state differ, the group asks for it
(``foreach=False``), or the parameters are large (nothing to gain from a flat copy of their gradients), the same rule
runs on each parameter's slice instead. Where an algorithm also has the rule as a compiled loop (``compiled_update``,
``ganglion.kernels.optim``: Adam, AdamW and SGD), that loop does the update in one pass on every core, to the same
bits, and takes a bucket of large parameters in one call too, reading each gradient where it lies. (A side effect to
know: the first step re-homes each parameter's values into the flat array, so arrays shared with the parameter before
that, e.g. through ``from_numpy``, stop being shared.)
"""

import math

import numpy as np

from .. import backend, kernels
from ..autograd.grad_mode import enable_grad, no_grad
from ..tensor import Tensor
from . import _state
from ._state import Bucket, UpdateState, plain_array
from .weight_decay import decoupled_weight_decay_


class _Required:
    def __repr__(self):
        return "<required parameter>"


required = _Required()

_SET_MESSAGE = ("optimizer parameters need to be organized in ordered collections, but the ordering of tensors in "
                "sets will change between runs (and with it which saved state belongs to which parameter). Please use "
                "a list instead.")

#: above this many elements per parameter (on average) a group is updated slice by slice: the per-call overhead is
#: negligible there, and the flat path's copy of every gradient into one array is not
_FLAT_MAX_MEAN_SIZE = 1 << 16


class Optimizer:
    """Base class: subclasses define ``__init__`` (defaults and checks), ``state_names`` and ``update``.

    Class attributes a subclass may set: ``saves_step`` (whether ``state_dict`` holds PyTorch's ``step`` entry),
    ``scalar_state`` (names of per-parameter scalars, e.g. NAdam's ``mu_product``, saved as 0-d tensors), and
    ``eager_state`` (state created for every parameter at construction, as PyTorch's Adagrad does).

    Every algorithm takes PyTorch's ``foreach`` argument: None or True update a group through its flat array when
    that pays, False always parameter by parameter; the results are the same to the bit.
    """

    saves_step = True
    scalar_state = frozenset()
    eager_state = False

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.param_groups = []
        self._buckets = {}  # group index -> list of Bucket
        self._pending_state = {}  # id(param) -> state loaded (or created eagerly) before the param's first step
        self._opt_called = False  # whether step() ran; learning-rate schedulers warn when they are stepped first
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or dicts, but got a Tensor"
            )
        if isinstance(params, (set, frozenset)):
            raise TypeError(_SET_MESSAGE)
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
        if self.eager_state:
            for group in self.param_groups:
                for p in group["params"]:
                    self._pending_state[id(p)] = self._fresh_state(group, p)

    # ------------------------------------------------------------------------------------------------- groups
    def add_param_group(self, param_group):
        """Add a group of parameters with its own hyperparameters (the rest taken from the defaults)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, got {type(param_group).__name__}")
        group = dict(param_group)
        if "params" not in group:
            raise ValueError(f"param_group must have a 'params' entry, got the keys {sorted(group)}")
        params = group["params"]
        if isinstance(params, (set, frozenset)):
            raise TypeError(_SET_MESSAGE)
        params = [params] if isinstance(params, Tensor) else list(params)
        seen = set()
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
            if id(p) in seen:
                raise ValueError(f"optimizer contains a parameter group with duplicate parameters (a parameter of "
                                 f"shape {tuple(p.shape)} is listed twice)")
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
        """Validate a group's hyperparameters: every one named in ``NON_NEGATIVE`` that the group has, and ``betas``
        (ValueError naming the argument, PyTorch's message). Subclasses add their own checks after this one."""
        for key, label in NON_NEGATIVE.items():
            if key in group:
                check_non_negative(label, group[key])
        if "betas" in group:
            check_betas(group["betas"])

    # -------------------------------------------------------------------------------------------------- rules
    def state_names(self, group):
        """Names of the per-parameter state this algorithm keeps, in PyTorch's order, e.g. ('exp_avg', 'exp_avg_sq').

        Names in ``scalar_state`` are one number per parameter; the others are arrays shaped like the parameter.
        """
        return ()

    def initial_state(self, group, name):
        """The value a state entry starts from (0 unless the algorithm says otherwise)."""
        return 0.0

    def update(self, group, p, g, state):
        """Update the flat parameter array ``p`` in place from its gradient ``g`` (both 1-D: a whole group, one
        parameter, or a chunk of either; the rule is elementwise).

        ``state`` holds this algorithm's arrays (same shape as ``p``, updated in place) and scalars (assign a new value
        to update one), ``state.step`` (the number of this update, from 1), ``state.new`` (the names of the entries
        created for this update, already set to ``initial_state``), and scratch arrays ``state.tmp``, ``state.tmp2``
        and ``state.tmp3``. ``g`` must not be modified in place.
        """
        raise NotImplementedError(f"{type(self).__name__} must define update(group, p, g, state)")

    def has_compiled_update(self, group):
        """Whether ``compiled_update`` covers this group's options (an algorithm that defines it says which)."""
        return False

    def compiled_update(self, group, p, grads, state):
        """``update``'s rule as one compiled parallel loop (``ganglion.kernels.optim``), same bits; the arguments are
        ``update``'s but for the gradient, ``grads``: a list of 1-D pieces laid end to end over p (each parameter's
        own gradient, not copied together, when the update spans several large parameters).

        Called instead of ``update`` when ``has_compiled_update(group)`` and the arrays are NumPy float32/float64
        arrays with compiled kernels available (numba installed, ``GANGLION_COMPILED`` not 0); never on CuPy arrays.
        """
        raise NotImplementedError(f"{type(self).__name__} has no compiled update")

    # ------------------------------------------------------------------------------------- helpers for rules
    @staticmethod
    def grad_of(group, p, g, state, weight_decay=None):
        """The gradient the rule descends: -g when ``maximize``, plus ``weight_decay * p`` (L2 added to the gradient).

        Written into ``state.tmp3`` when it differs from ``g``.
        """
        wd = group.get("weight_decay", 0) if weight_decay is None else weight_decay
        maximize = group.get("maximize", False)
        if wd == 0:
            return backend.get_array_module(g).negative(g, out=state.tmp3) if maximize else g
        out = state.tmp3
        backend.get_array_module(p).multiply(p, wd, out=out)
        if maximize:
            out -= g
        else:
            out += g
        return out

    def decayed_grad(self, group, p, g, state, decoupled=None):
        """The group's weight decay applied: decoupled (``decoupled``, by default ``group["decoupled_weight_decay"]``:
        p *= 1 - lr * weight_decay, in place, then the plain gradient) or L2 (weight_decay * p added to the gradient,
        ``grad_of``). Returns the gradient the rule descends."""
        if group.get("decoupled_weight_decay", False) if decoupled is None else decoupled:
            decoupled_weight_decay_(p, group["lr"], group["weight_decay"])
            return self.grad_of(group, p, g, state, weight_decay=0)
        return self.grad_of(group, p, g, state)

    @staticmethod
    def update_moments_(m, v, g, beta1, beta2, tmp):
        """Adam's two moments, in place:  m = b1 m + (1 - b1) g  (a lerp, rounded as PyTorch's),
        v = b2 v + (1 - b2) g^2. ``tmp``: scratch shaped like g."""
        lerp_(m, g, 1 - beta1, tmp)
        ema_square_(v, g, beta2, tmp)

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
        self._opt_called = True
        with no_grad():
            for gi, group in enumerate(self.param_groups):
                hyper = _as_numbers(group)
                for bucket in self._group_buckets(gi):
                    self._step_bucket(hyper, bucket)
        return loss

    def _step_bucket(self, group, b):
        """One step of the bucket's parameters: in one update when they are all alike (same step count and state
        entries, every one with a gradient), else one update per parameter with a gradient.

        The one update gathers the gradients into one flat array when the parameters are small on average (the copy
        is cheap, and one update beats a hundred); for large ones only the compiled loop takes the whole bucket, as it
        reads each gradient where it lies. ``foreach=False`` asks for the per-parameter updates."""
        names = self.state_names(group)
        b.declare(names, self.scalar_state)
        grads = [p.grad for p in b.params]
        pieces = [t.array.reshape(-1) for t in grads if t is not None]
        whole = group.get("foreach") is not False and len(pieces) == len(grads) and b.uniform(names)
        if whole and b.mean_size <= _FLAT_MAX_MEAN_SIZE:
            g = pieces[0] if len(pieces) == 1 else b.xp.concatenate(pieces, out=b.scratch("grad"))
            self._run_update(group, b, slice(None), range(len(b.params)), [g], names)
        elif whole and self._fused(group, b, pieces):
            self._run_update(group, b, slice(None), range(len(b.params)), pieces, names)
        else:
            for i, t in enumerate(grads):
                if t is not None:
                    self._run_update(group, b, b.slot(i), (i,), [t.array.reshape(-1)], names)

    def _fused(self, group, b, grads):
        """Whether the compiled loop (``compiled_update``) takes this update: the algorithm has one for the group's
        options, and the arrays are NumPy arrays of one dtype it compiles."""
        return (self.has_compiled_update(group) and kernels.usable(b.flat, *grads)
                and all(_compilable(b.flat, g) for g in grads))

    def _run_update(self, group, b, s, indices, grads, names):
        """Run the rule on slice ``s`` of the bucket, which holds the parameters ``indices`` (all alike); ``grads``:
        their gradient, as 1-D pieces laid end to end over ``s`` (more than one only where the compiled loop runs).

        Where the algorithm has a compiled loop for this group (``compiled_update``) and the arrays can take it, that
        loop runs once over the whole slice. Otherwise a long slice (on the CPU) is worked through in chunks that stay
        in cache across the rule's dozen passes over its arrays; the rule is elementwise, so the result is the same to
        the bit.
        """
        first = indices[0]
        new = frozenset(n for n in names if not b.has(n, first))
        for n in new:
            b.start(n, indices, s, self.initial_state(group, n))
        step = b.steps[first] + 1
        scalars = {n: b.scalars[n][first] for n in names if n in b.scalars}
        start, stop, _ = s.indices(b.flat.size)

        def state_of(part):  # every chunk starts from the same scalars
            state = UpdateState(b, part, step=step, new=new, **scalars)
            for n in names:
                if n not in scalars:
                    setattr(state, n, b.state[n][part])
            return state

        if self._fused(group, b, grads):
            state = state_of(s)
            self.compiled_update(group, b.flat[s], grads, state)
        else:
            (g,) = grads
            for lo, hi in _state.chunks(start, stop) if b.xp is np else [(start, stop)]:
                part = slice(lo, hi)
                state = state_of(part)
                self.update(group, b.flat[part], g[lo - start:hi - start], state)
        for i in indices:
            b.steps[i] = step
        for n in scalars:
            value = b.scalar_dtype.type(getattr(state, n))
            for i in indices:
                b.scalars[n][i] = value

    # -------------------------------------------------------------------------------------------- flat storage
    def _group_buckets(self, gi):
        buckets = self._buckets.get(gi)
        if buckets is not None and all(b.intact() for b in buckets):
            return buckets
        carried = self._pending_state
        if buckets is not None:  # a parameter was moved or replaced: carry its state over to the new storage
            for b in buckets:
                for i, p in enumerate(b.params):
                    carried[id(p)] = b.param_state(i)
        groups = {}
        for p in self.param_groups[gi]["params"]:
            groups.setdefault((p.array.dtype, backend.device_of(p.array)), []).append(p)
        buckets = [Bucket(ps) for ps in groups.values()]
        for b in buckets:
            for i, p in enumerate(b.params):
                if id(p) in carried:
                    b.set_param_state(i, carried.pop(id(p)), self.scalar_state)
        self._buckets[gi] = buckets
        return buckets

    def _fresh_state(self, group, p):
        """Every state entry at its initial value, for optimizers that create state up front (Adagrad)."""
        xp = backend.get_array_module(p.array)
        values = {"step": 0}
        for name in self.state_names(group):
            value = self.initial_state(group, name)
            values[name] = value if name in self.scalar_state else xp.full(p.array.shape, value, p.array.dtype)
        return values

    def param_states(self):
        """(group, param, values) for every parameter of every group, in order: values is the parameter's live state
        ({'step': n, name: array, ...}, arrays not copied, as ``Bucket.param_state`` gives), or None before its first
        step. For code that reads the state of many parameters at once (``state_dict``, the Keras optimizers'
        ``variables``) without the per-parameter Tensor wrapping of ``state``."""
        for gi, group in enumerate(self.param_groups):
            by_param = {}
            for b in self._buckets.get(gi, ()):
                for i, p in enumerate(b.params):
                    by_param[id(p)] = (b, i)
            for p in group["params"]:
                if id(p) in by_param:
                    b, i = by_param[id(p)]
                    values = b.param_state(i, copy=False)
                else:
                    values = self._pending_state.get(id(p), {"step": 0})
                yield group, p, values if (values["step"] > 0 or len(values) > 1) else None

    @property
    def state(self):
        """{param: {'step': ..., name: Tensor}}: each parameter's state, its arrays live views (as PyTorch's)."""
        out = {}
        for group, p, values in self.param_states():
            if values is not None:
                out[p] = {k: v if k == "step" else Tensor._wrap(backend.as_array(v)) for k, v in values.items()}
        return out

    # --------------------------------------------------------------------------------------------- state_dict
    def state_dict(self):
        """PyTorch's layout: {'state': {index: {...}}, 'param_groups': [{hyperparameters, 'params': [index, ...]}]}.

        Parameters are numbered across groups in order; only parameters with state have an entry. The arrays are
        copies (a snapshot), so the dict can be kept while training goes on.
        """
        state, groups, index = {}, [], 0
        scalar_dtype = backend.get_default_dtype()  # PyTorch's dtype for step and other scalars
        current = {}
        for group, p, values in self.param_states():
            current.setdefault(id(group), []).append(values)
        for group in self.param_groups:
            ids = []
            for values in current[id(group)]:
                if values is not None:
                    entry = {}
                    if self.saves_step:
                        entry["step"] = Tensor._wrap(np.array(float(values["step"]), dtype=scalar_dtype))
                    order = list(self.state_names(group)) + [k for k in values if k not in self.state_names(group)]
                    for name in order:
                        if name in values and name != "step":
                            entry[name] = Tensor._wrap(np.array(values[name], dtype=scalar_dtype)
                                                       if name in self.scalar_state
                                                       else plain_array(values[name]).copy())
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
                f"loaded state dict has {len(saved_groups)} parameter group(s), the optimizer has "
                f"{len(self.param_groups)}"
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
                    group[key] = tuple(value) if key == "betas" else value
            for p, index in zip(group["params"], saved["params"]):
                entry = saved_state.get(index, saved_state.get(str(index)))
                if entry is None:  # nothing saved for this parameter: it starts afresh, as in PyTorch
                    self._pending_state[id(p)] = {"step": 0}
                    continue
                # copied now: PyTorch's state_dict() hands out its live tensors, which its next step changes
                values = {}
                for k, v in entry.items():
                    if k == "step":
                        continue
                    values[k] = float(plain_array(v)) if k in self.scalar_state else plain_array(v).copy()
                    if k not in self.scalar_state and values[k].size != p.array.size:
                        raise ValueError(f"load_state_dict: state {k!r} has shape {tuple(values[k].shape)}, but its "
                                         f"parameter has shape {tuple(p.shape)}")
                step = entry.get("step")
                if step is None:  # PyTorch's SGD keeps no step: a saved momentum buffer means it has stepped
                    step = 1 if values else 0
                values["step"] = int(round(float(plain_array(step))))
                self._pending_state[id(p)] = values
            if gi in self._buckets:
                for b in self._buckets[gi]:
                    for i, p in enumerate(b.params):
                        if id(p) in self._pending_state:
                            b.set_param_state(i, self._pending_state.pop(id(p)), self.scalar_state)

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


# ------------------------------------------------------------------------------------------- argument checks
def _compilable(p, g):
    """Whether a compiled rule can take these arrays: one float dtype that numba compiles (not float16)."""
    return p.dtype == g.dtype and p.dtype in (np.float32, np.float64)


def _as_numbers(group):
    """The group with its 1-element Tensor hyperparameters (PyTorch allows a Tensor lr) as Python numbers."""
    if not any(isinstance(v, Tensor) for k, v in group.items() if k != "params"):
        return group
    return {k: v.item() if isinstance(v, Tensor) and k != "params" else v for k, v in group.items()}


#: hyperparameters that must be >= 0, checked the same way for every algorithm that has them: group key -> the
#: name PyTorch's ValueError gives it ("Invalid learning rate: -1")
NON_NEGATIVE = {
    "lr": "learning rate", "eps": "epsilon value", "momentum": "momentum value", "alpha": "alpha value",
    "weight_decay": "weight_decay value", "lr_decay": "lr_decay value", "momentum_decay": "momentum_decay value",
    "initial_accumulator_value": "initial_accumulator_value value",
}


def check_non_negative(name, value):
    """Raise ValueError naming ``name`` when ``value`` is negative or not a number, as PyTorch does (a Tensor must
    have one element)."""
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise ValueError(f"Tensor {name} must be 1-element, got shape {tuple(value.shape)}")
        value = value.item()
    if not isinstance(value, (int, float)) or isinstance(value, bool) or math.isnan(value) or value < 0.0:
        raise ValueError(f"Invalid {name}: {value}")


def as_betas(betas):
    """Betas given as a list become a tuple (as PyTorch stores them in the group); anything else is left for
    ``check_betas`` to judge."""
    return tuple(betas) if isinstance(betas, (list, tuple)) else betas


def check_betas(betas):
    """Two coefficients, each in [0, 1): ValueError naming the bad one (PyTorch's message)."""
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"Invalid betas: expected two values (beta1, beta2), got {betas!r}")
    for i, b in enumerate(betas):
        if not isinstance(b, (int, float)) or isinstance(b, bool) or not 0.0 <= b < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {b}")


# ------------------------------------------------------------------------------ elementwise pieces of the rules
def lerp_(target, end, weight, tmp):
    """target += weight (end - target), rounded as PyTorch's ``lerp_`` (from the nearer end when weight >= 0.5)."""
    xp = backend.get_array_module(target)
    w = target.dtype.type(weight)
    xp.subtract(end, target, out=tmp)
    if abs(w) < 0.5:
        tmp *= w
        target += tmp
    else:
        tmp *= 1 - w
        xp.subtract(end, tmp, out=target)


def ema_square_(v, g, beta, tmp):
    """v = beta v + (1 - beta) g^2, in place: the running mean of squared gradients (Adam's second moment, RMSprop's
    and Adadelta's square averages), rounded as PyTorch's ``mul_(beta).addcmul_(g, g, value=1 - beta)``."""
    v *= beta
    backend.get_array_module(v).multiply(g, 1 - beta, out=tmp)
    tmp *= g
    v += tmp


def addcdiv_(p, numerator, denominator, value, tmp):
    """p += value * numerator / denominator, in place, rounded as PyTorch's ``addcdiv_`` ((value * numerator) /
    denominator). ``tmp``: scratch, neither of the other arrays."""
    backend.get_array_module(p).multiply(numerator, value, out=tmp)
    tmp /= denominator
    p += tmp
