"""``Module``: the base of every layer and model. Parameters, buffers and submodules register themselves when
assigned as attributes; ``state_dict`` keys are their dotted names, exactly as in PyTorch."""

from collections import OrderedDict, namedtuple

from .. import backend
from ..arguments import ToShortcuts, parse_to
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor
from .parameter import Parameter

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


def _to_backend_array(value, name):
    """A state_dict value as an array: a Tensor's own (NumPy or CuPy) array, anything else (a PyTorch tensor, a
    NumPy array, nested lists) read to the host by ``backend.to_numpy``."""
    if isinstance(value, Tensor):
        return value.array
    try:
        return backend.to_numpy(value)
    except (TypeError, ValueError):
        raise TypeError(f"load_state_dict: value for {name!r} is a {type(value).__name__}, not an array") from None


class StateDictError(RuntimeError, ValueError):
    """A state_dict that does not fit the module (missing or unexpected keys, a shape that differs): PyTorch raises
    RuntimeError, and the value is wrong, so it is both."""


class Module(ToShortcuts):
    """Base class of layers and models: subclass it, assign layers and Parameters in ``__init__``, write ``forward``.

    Attributes are stored normally (so ``self.weight`` is a plain attribute read) and also recorded by kind in
    ``_parameters``, ``_buffers`` and ``_modules``, in assignment order. ``cpu()``, ``cuda()``, ``float()``,
    ``double()``, ``half()`` are ``to(...)`` (``arguments.ToShortcuts``).
    """

    training = True

    def __init__(self):
        d = self.__dict__
        d["_parameters"] = OrderedDict()
        d["_buffers"] = OrderedDict()
        d["_non_persistent"] = set()
        d["_modules"] = OrderedDict()
        d["training"] = True
        d["_forward_pre_hooks"] = OrderedDict()
        d["_forward_hooks"] = OrderedDict()
        d["_backward_pre_hooks"] = OrderedDict()
        d["_backward_hooks"] = OrderedDict()
        d["_has_hooks"] = False

    # ------------------------------------------------------------------------------------------ registration
    def __setattr__(self, name, value):
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, (Parameter, Module)) and params is None:
            raise AttributeError(f"cannot assign {type(value).__name__} {name!r} before Module.__init__() is called")
        if params is not None:
            # re-assigning a name of the same kind keeps its place in the registration order (as PyTorch's dicts)
            if isinstance(value, Parameter):
                if name not in params:
                    self._forget(name)
                params[name] = value
            elif isinstance(value, Module):
                if name not in d["_modules"]:
                    self._forget(name)
                d["_modules"][name] = value
            elif name in params:
                if value is not None:
                    raise TypeError(
                        f"cannot assign {type(value).__name__} as parameter {name!r} (ganglion.nn.Parameter or None "
                        "expected)"
                    )
                params[name] = None
            elif name in d["_modules"]:
                if value is not None:
                    raise TypeError(
                        f"cannot assign {type(value).__name__} as child module {name!r} (Module or None expected)"
                    )
                d["_modules"][name] = None
            elif name in d["_buffers"]:
                if value is not None and not isinstance(value, Tensor):
                    raise TypeError(
                        f"cannot assign {type(value).__name__} as buffer {name!r} (Tensor or None expected)"
                    )
                d["_buffers"][name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        self._forget(name)
        object.__delattr__(self, name)

    def _forget(self, name):
        d = self.__dict__
        for kind in ("_parameters", "_buffers", "_modules"):
            d[kind].pop(name, None)
        d["_non_persistent"].discard(name)

    def register_parameter(self, name, param):
        """Add a Parameter (or None) under ``name``."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: {name!r} must be a ganglion.nn.Parameter or None")
        self._check_name(name)
        self._parameters[name] = param
        object.__setattr__(self, name, param)

    def register_buffer(self, name, tensor, persistent=True):
        """Add a non-trainable tensor (e.g. running statistics) that moves with the module and is saved."""
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer: {name!r} must be a Tensor or None, got {type(tensor).__name__}")
        self._check_name(name)
        self._forget(name)
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent.add(name)
        object.__setattr__(self, name, tensor)

    def add_module(self, name, module):
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} must be a Module or None, got {type(module).__name__}")
        self._check_name(name)
        if name not in self._modules:  # a name re-assigned keeps its place, as in PyTorch
            self._forget(name)
        self._modules[name] = module
        object.__setattr__(self, name, module)

    register_module = add_module

    @staticmethod
    def _check_name(name):
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"invalid attribute name {name!r}: a non-empty string without '.' is required")

    # ------------------------------------------------------------------------------------------------ calling
    def forward(self, *inputs):
        raise NotImplementedError(f"{type(self).__name__} has no forward(); define it in the subclass")

    def __call__(self, *args, **kwargs):
        if self._has_hooks:
            return self._call_with_hooks(args, kwargs)
        return self.forward(*args, **kwargs)

    # --------------------------------------------------------------------------------------------------- hooks
    def register_forward_pre_hook(self, hook):
        """``hook(module, args)`` runs before forward; it may return new args (a tuple, or one value)."""
        return self._add_hook("_forward_pre_hooks", hook)

    def register_forward_hook(self, hook):
        """``hook(module, args, output)`` runs after forward; it may return a replacement output."""
        return self._add_hook("_forward_hooks", hook)

    def register_full_backward_pre_hook(self, hook):
        """``hook(module, grad_output)`` runs when the gradient of the outputs is known; may return a new one."""
        return self._add_hook("_backward_pre_hooks", hook)

    def register_full_backward_hook(self, hook):
        """``hook(module, grad_input, grad_output)`` runs when the gradients of the module's inputs are known; it may
        return replacement grad_input. Gradients are tuples with one entry per tensor input / output."""
        return self._add_hook("_backward_hooks", hook)

    register_backward_hook = register_full_backward_hook

    def _add_hook(self, table, hook):
        from .hooks import RemovableHandle

        if not callable(hook):
            raise TypeError(f"{table.strip('_')}: hook must be callable, got {type(hook).__name__}")
        handle = RemovableHandle(self, table)
        getattr(self, table)[handle.id] = hook
        self._refresh_hook_flag()
        return handle

    def _refresh_hook_flag(self):
        self.__dict__["_has_hooks"] = bool(
            self._forward_pre_hooks or self._forward_hooks or self._backward_pre_hooks or self._backward_hooks
        )

    def _call_with_hooks(self, args, kwargs):
        from ..autograd.grad_mode import is_grad_enabled
        from .hooks import BackwardHookInputs, _HookState

        for hook in list(self._forward_pre_hooks.values()):
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        state = None
        if (self._backward_hooks or self._backward_pre_hooks) and is_grad_enabled():
            positions = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
            state = _HookState(self, len(positions))
            if positions:
                wrapped = BackwardHookInputs.apply(*(args[i] for i in positions), state=state)
                args = list(args)
                for i, t in zip(positions, wrapped):
                    args[i] = t
                args = tuple(args)
        output = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            result = hook(self, args, output)
            if result is not None:
                output = result
        if state is not None:
            output = _wrap_outputs(output, state)
        return output

    # ----------------------------------------------------------------------------------------------- traversal
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """(name, module) for this module and every descendant, depth-first; a shared module once, unless
        ``remove_duplicate=False`` (then once per name, as ``state_dict`` needs)."""
        memo = set() if memo is None else memo
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if module is None or (remove_duplicate and id(module) in memo):
                continue
            memo.add(id(module))
            yield name, module
            children = [(f"{name}.{k}" if name else k, m) for k, m in module._modules.items()]
            stack.extend(reversed(children))

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        seen = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self):
        for _, m in self.named_children():
            yield m

    def _named_members(self, kind, prefix, recurse, remove_duplicate=True):
        seen = set()
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for mod_name, module in modules:
            for name, value in getattr(module, kind).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield (f"{mod_name}.{name}" if mod_name else name), value

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """(dotted name, Parameter) pairs, each shared parameter once."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def apply(self, fn):
        """Call ``fn(module)`` on every submodule (children first) and on this module; returns self."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------------------------------------- modes
    def train(self, mode=True):
        """Training mode (dropout active, batch statistics) or, with ``mode=False``, evaluation mode.

        A module whose ``_keep_eval`` attribute is True stays in evaluation mode: ``nn.utils.freeze`` sets it on the
        batch-norm layers of the part it freezes, so their running statistics neither update nor stand aside for the
        batch's while the rest of the model trains (``nn.utils.unfreeze`` clears it)."""
        if not isinstance(mode, bool):
            raise ValueError(f"train: mode is expected to be a bool, got {type(mode).__name__}")
        for m in self.modules():
            m.__dict__["training"] = mode and not m.__dict__.get("_keep_eval", False)
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Clear the gradients of all parameters (to None by default, as PyTorch)."""
        for p in self.parameters():
            if p.grad is not None:
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.array.fill(0)

    # --------------------------------------------------------------------------------------- device and dtype
    def _apply_arrays(self, convert):
        with no_grad():
            for m in self.modules():
                for p in m._parameters.values():
                    if p is not None:
                        p.array = convert(p.array)
                        if p.grad is not None:
                            p.grad.array = convert(p.grad.array)
                for b in m._buffers.values():
                    if b is not None:
                        b.array = convert(b.array)
        return self

    def to(self, *args, **kwargs):
        """Move parameters and buffers to a device and/or convert their floating dtype, in place: ``to(device)``,
        ``to(dtype)``, ``to(device, dtype)`` or ``to(tensor)`` (its device and dtype), with PyTorch's arguments
        (``arguments.parse_to``). Integer buffers keep their dtype; a non-floating target dtype is a TypeError and
        ``copy`` a RuntimeError, as in PyTorch. ``non_blocking`` is accepted; copies here are synchronous."""
        request = parse_to("Module.to", args, kwargs)
        if request.copy:
            raise RuntimeError("Module.to() does not accept the copy argument: a module is converted in place")
        dtype, device = request.dtype, request.device
        if dtype is not None:
            if not backend.is_floating(dtype):
                raise TypeError(f"nn.Module.to only accepts floating point or complex dtypes, but got desired "
                                f"dtype={dtype}")
            self._apply_arrays(lambda a: a.astype(dtype) if backend.is_floating(a.dtype) else a)
        if device is not None:
            self._apply_arrays(lambda a: backend.to_device(a, device))
        return self

    # ------------------------------------------------------------------------------------------- state_dict
    def state_dict(self, destination=None, prefix="", keep_vars=False):
        """Parameters and persistent buffers by dotted name (PyTorch's keys), sharing memory with the module."""
        out = OrderedDict() if destination is None else destination
        # a module shared under two names is saved under both, as PyTorch does
        for mod_name, module in self.named_modules(prefix=prefix.rstrip("."), remove_duplicate=False):
            for kind in ("_parameters", "_buffers"):
                for name, value in getattr(module, kind).items():
                    if value is None or (kind == "_buffers" and name in module._non_persistent):
                        continue
                    key = f"{mod_name}.{name}" if mod_name else name
                    out[key] = value if keep_vars else value.detach()
        return out

    def load_state_dict(self, state_dict, strict=True):
        """Copy values into this module's parameters and buffers by name (in place, keeping their dtype and device).

        Accepts ganglion tensors, NumPy arrays and PyTorch tensors. With ``strict`` (the default), missing and
        unexpected keys raise; a shape mismatch always raises, naming the key and both shapes.
        """
        for name, module in self.named_modules():  # lazy modules give their placeholders the loaded shapes
            hook = getattr(module, "_load_state_dict_pre_hook", None)
            if hook is not None:
                hook(state_dict, f"{name}." if name else "")
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        errors = []
        if strict and (missing or unexpected):
            if unexpected:
                errors.append("Unexpected key(s) in state_dict: " + ", ".join(repr(k) for k in unexpected))
            if missing:
                errors.append("Missing key(s) in state_dict: " + ", ".join(repr(k) for k in missing))
        arrays = {}
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = _to_backend_array(state_dict[key], key)
            if tuple(value.shape) != tuple(target.shape):
                errors.append(
                    f"size mismatch for {key}: copying a param with shape {tuple(value.shape)} from checkpoint, "
                    f"the shape in current model is {tuple(target.shape)}"
                )
            arrays[key] = value
        if errors:
            raise StateDictError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(errors))
        for key, value in arrays.items():
            target = own[key]
            target.array[...] = backend.to_device(value, target.device)
            target._bump_version()  # a graph that saved the old values must not backward through the new ones
        return IncompatibleKeys(missing, unexpected)

    # ---------------------------------------------------------------------------------------------------- repr
    def extra_repr(self):
        """The arguments shown inside this module's repr, e.g. ``in_features=4, out_features=8, bias=True``."""
        return ""

    def _get_name(self):
        return type(self).__name__

    def __repr__(self):
        lines = []
        extra = self.extra_repr()
        if extra:
            lines.extend(extra.split("\n"))
        for name, module in self._modules.items():
            body = repr(module).replace("\n", "\n  ")
            lines.append(f"({name}): {body}")
        if not lines:
            return f"{self._get_name()}()"
        if len(lines) == 1 and not self._modules:
            return f"{self._get_name()}({lines[0]})"
        return f"{self._get_name()}(\n  " + "\n  ".join(lines) + "\n)"

    def __dir__(self):
        return sorted(set(super().__dir__()))


def _wrap_outputs(output, state):
    """Pass a module's tensor outputs (a Tensor or a tuple/list of them) through the backward-hook identity op."""
    from .hooks import BackwardHookOutputs

    single = isinstance(output, Tensor)
    items = [output] if single else list(output) if isinstance(output, (tuple, list)) else None
    if items is None:
        return output
    positions = [i for i, o in enumerate(items) if isinstance(o, Tensor) and o.requires_grad]
    if not positions:
        return output
    wrapped = BackwardHookOutputs.apply(*(items[i] for i in positions), state=state)
    for i, t in zip(positions, wrapped):
        items[i] = t
    return items[0] if single else type(output)(items)
