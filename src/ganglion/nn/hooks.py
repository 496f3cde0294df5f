"""Module hooks: handles that remove a registered hook, and the identity ops that let backward hooks see the
gradients flowing into and out of a module."""

import itertools

from ..autograd.function import Function
from ..tensor import Tensor

_ids = itertools.count()


class RemovableHandle:
    """Returned by ``register_*_hook``; ``handle.remove()`` unregisters the hook (also usable as a context manager)."""

    def __init__(self, module, table):
        self.id = next(_ids)
        self._module, self._table = module, table

    def remove(self):
        getattr(self._module, self._table).pop(self.id, None)
        self._module._refresh_hook_flag()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class _HookState:
    """What one call of a module shares between its two identity ops: the gradient of its outputs."""

    def __init__(self, module, n_inputs):
        self.module = module
        self.n_inputs = n_inputs
        self.grad_output = None
        self.inputs_seen = False


def _as_tensors(grads):
    """Gradients as the Tensors hooks receive (under create_graph=True they already are, with their graph)."""
    return tuple(g if g is None or isinstance(g, Tensor) else Tensor._wrap(g) for g in grads)


def _as_arrays(result, expected, what, module, graph=False):
    """What a hook returned, as the gradients backward passes on: arrays, or Tensors kept as they are when the
    backward is recorded (``graph``)."""
    result = tuple(result) if isinstance(result, (tuple, list)) else (result,)
    if len(result) != expected:
        raise ValueError(f"backward hook on {type(module).__name__} returned {len(result)} {what}, expected {expected}")
    if graph:
        return result
    return tuple(None if r is None else (r.array if isinstance(r, Tensor) else r) for r in result)


class _HookedIdentity(Function):
    """Identity on some of a module's tensors, whose backward passes the gradients through the module's hooks
    (``_through_hooks(grads, graph)``, ``graph`` True when the backward is itself recorded)."""

    def forward(self, *tensors, state):
        self.save(state)
        return tuple(tensors)

    def backward(self, *grads):
        return self._through_hooks(grads, graph=False)

    def backward_graph(self, *grads):
        return self._through_hooks(grads, graph=True)


class BackwardHookOutputs(_HookedIdentity):
    """Identity on a module's outputs; its backward records grad_output (after backward pre-hooks may replace it)."""

    def _through_hooks(self, grad_outputs, graph):
        (state,) = self.saved
        module = state.module
        for hook in list(module._backward_pre_hooks.values()):
            result = hook(module, _as_tensors(grad_outputs))
            if result is not None:
                grad_outputs = _as_arrays(result, len(grad_outputs), "grad_outputs", module, graph)
        state.grad_output = grad_outputs
        if state.n_inputs == 0:  # no input needs a gradient: the hooks run now, with grad_input all None
            for hook in list(module._backward_hooks.values()):
                hook(module, (None,), _as_tensors(grad_outputs))
        return grad_outputs


class BackwardHookInputs(_HookedIdentity):
    """Identity on a module's inputs; its backward calls the full backward hooks with (grad_input, grad_output)."""

    def _through_hooks(self, grad_inputs, graph):
        (state,) = self.saved
        module = state.module
        grad_output = state.grad_output if state.grad_output is not None else (None,)
        for hook in list(module._backward_hooks.values()):
            result = hook(module, _as_tensors(grad_inputs), _as_tensors(grad_output))
            if result is not None:
                grad_inputs = _as_arrays(result, len(grad_inputs), "grad_inputs", module, graph)
        return grad_inputs
