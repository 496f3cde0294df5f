"""Automatic differentiation: ``Function`` (custom ops), ``backward``/``grad``, grad modes and ``gradcheck``."""

from .. import backend
from .engine import run_backward, sum_to_shape
from .function import Function
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import GradcheckError, gradcheck


def _root_gradients(outputs, grad_outputs):
    from ..tensor import Tensor

    roots, grads = [], []
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    for t, g in zip(outputs, grad_outputs):
        if not t.requires_grad:
            raise RuntimeError(
                "element of tensors does not require grad and has no grad_fn: it was not computed from a tensor "
                "with requires_grad=True (or it was computed under no_grad)"
            )
        if g is None:
            if t.array.size != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for scalar outputs, but the output has shape "
                    f"{tuple(t.shape)}; pass gradient= with that shape (e.g. ones_like(output))"
                )
            g = backend.get_array_module(t.array).ones_like(t.array)
        else:
            g = g.array if isinstance(g, Tensor) else backend.get_array_module(t.array).asarray(g, dtype=t.array.dtype)
            if g.shape != t.array.shape:
                raise RuntimeError(
                    f"gradient has shape {tuple(g.shape)} but the output has shape {tuple(t.array.shape)}"
                )
        roots.append(t)
        grads.append(g)
    return roots, grads


def backward(tensors, grad_tensors=None, retain_graph=None):
    """Accumulate into ``.grad`` of the leaves the gradient of ``tensors`` (weighted by ``grad_tensors``)."""
    tensors = list(tensors) if isinstance(tensors, (list, tuple)) else [tensors]
    if grad_tensors is not None and not isinstance(grad_tensors, (list, tuple)):
        grad_tensors = [grad_tensors]
    roots, grads = _root_gradients(tensors, grad_tensors)
    run_backward(roots, grads, retain_graph=bool(retain_graph))


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, allow_unused=False):
    """The gradients of ``outputs`` with respect to ``inputs``, returned (not accumulated into ``.grad``)."""
    from ..tensor import Tensor

    outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
    inputs = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    if grad_outputs is not None and not isinstance(grad_outputs, (list, tuple)):
        grad_outputs = [grad_outputs]
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad")
    roots, grads = _root_gradients(outputs, grad_outputs)
    found = run_backward(roots, grads, retain_graph=bool(retain_graph), capture=inputs)
    if not allow_unused and any(g is None for g in found):
        raise RuntimeError("grad: one of the inputs was not used to compute the outputs; pass allow_unused=True")
    return tuple(None if g is None else Tensor._wrap(backend.as_array(g)) for g in found)


__all__ = [
    "Function", "backward", "grad", "gradcheck", "GradcheckError", "no_grad", "enable_grad", "set_grad_enabled",
    "is_grad_enabled", "sum_to_shape",
]
