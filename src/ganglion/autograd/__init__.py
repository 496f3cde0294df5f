"""Automatic differentiation: ``Function`` (custom ops), ``backward``/``grad``, grad modes and ``gradcheck``."""

from .. import backend
from . import engine, function, graph_backward
from .engine import run_backward, sum_to_shape
from .function import Function
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import GradcheckError, gradcheck, gradgradcheck


def register_tensor_class(cls):
    """Name the class the engine makes and reads tensors as: ``Function.apply`` wraps its outputs in it, the backward
    walk accumulates gradients into it, ``grad`` and ``gradcheck`` check their arguments against it.

    ``ganglion.tensor`` builds on autograd (a Tensor records the Function that made it), so autograd never imports
    it; ``ganglion/__init__.py`` calls this once, right after importing the class. The class is kept as a plain
    module global of each module that uses it, so ``Function.apply``'s hot path reads it as fast as any global.
    """
    function.Tensor = graph_backward.Tensor = engine.Tensor = cls


def _root_gradients(outputs, grad_outputs, create_graph=False):
    """The roots and their gradients: arrays, or Tensors when ``create_graph`` (a given gradient Tensor then keeps
    its own graph, so that the result can be differentiated with respect to it too)."""
    Tensor = function.Tensor
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
            given = g
            g = g.array if isinstance(g, Tensor) else backend.get_array_module(t.array).asarray(g, dtype=t.array.dtype)
            if g.shape != t.array.shape:
                raise RuntimeError(
                    f"gradient has shape {tuple(g.shape)} but the output has shape {tuple(t.array.shape)}"
                )
            if create_graph and isinstance(given, Tensor):
                g = given
        if create_graph and not isinstance(g, Tensor):
            g = Tensor._wrap(g)
        roots.append(t)
        grads.append(g)
    return roots, grads


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False):
    """Accumulate into ``.grad`` of the leaves the gradient of ``tensors`` (weighted by ``grad_tensors``).

    ``create_graph=True`` records the backward pass, so the ``.grad`` it leaves can be differentiated again;
    ``retain_graph`` then defaults to True, as in PyTorch.
    """
    tensors = list(tensors) if isinstance(tensors, (list, tuple)) else [tensors]
    if grad_tensors is not None and not isinstance(grad_tensors, (list, tuple)):
        grad_tensors = [grad_tensors]
    roots, grads = _root_gradients(tensors, grad_tensors, create_graph)
    retain = create_graph if retain_graph is None else bool(retain_graph)
    run_backward(roots, grads, retain_graph=retain, create_graph=create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """The gradients of ``outputs`` with respect to ``inputs``, returned (not accumulated into ``.grad``).

    ``create_graph=True``: the gradients are computed with differentiable ops and keep their graph, so they can
    be differentiated again (``grad`` of a gradient: a gradient penalty, a Hessian-vector product);
    ``retain_graph`` then defaults to True, as in PyTorch.
    """
    Tensor = function.Tensor
    outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
    inputs = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    if grad_outputs is not None and not isinstance(grad_outputs, (list, tuple)):
        grad_outputs = [grad_outputs]
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad")
    roots, grads = _root_gradients(outputs, grad_outputs, create_graph)
    retain = create_graph if retain_graph is None else bool(retain_graph)
    found = run_backward(roots, grads, retain_graph=retain, capture=inputs, create_graph=create_graph)
    if not allow_unused and any(g is None for g in found):
        raise RuntimeError("grad: one of the inputs was not used to compute the outputs; pass allow_unused=True")
    return tuple(
        g if g is None or isinstance(g, Tensor) else Tensor._wrap(backend.as_array(g)) for g in found
    )


__all__ = [
    "Function", "register_tensor_class", "backward", "grad", "gradcheck", "gradgradcheck", "GradcheckError", "no_grad", "enable_grad",
    "set_grad_enabled",
    "is_grad_enabled", "sum_to_shape",
]
