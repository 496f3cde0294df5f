"""``gradcheck``: compare backward's gradients with central finite differences, in float64."""

import numpy as np

from .. import backend
from . import function
from .grad_mode import enable_grad, no_grad


class GradcheckError(RuntimeError):
    """Raised when analytical and numerical gradients disagree."""


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Check ``fn``'s gradients at ``inputs`` against (f(x + eps) - f(x - eps)) / (2 eps), element by element.

    ``inputs``: a Tensor or a tuple of them (and other values passed through). Tensors that require grad are
    checked; they must be float64, because float32 differences are too coarse for a meaningful check.
    Every output element's gradient row (the Jacobian) is compared: |analytical - numerical| <= atol + rtol |numerical|.
    Returns True, or raises ``GradcheckError`` naming the input and the worst element (False with
    ``raise_exception=False``).
    """
    from . import grad as autograd_grad

    Tensor = function.Tensor

    inputs = _as_tuple(inputs)
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad; pass tensors created with requires_grad=True")
    for i in checked:
        if inputs[i].dtype != backend.float64:
            raise TypeError(f"gradcheck: input {i} is {inputs[i].dtype}; use float64 inputs for a meaningful check")

    all_outputs = _as_tuple(fn(*inputs))
    # only outputs that carry gradients are checked (e.g. max(dim)'s values, not its integer indices)
    differentiable = [i for i, o in enumerate(all_outputs) if isinstance(o, Tensor) and o.requires_grad]
    outputs = [all_outputs[i] for i in differentiable]
    if not outputs:
        raise ValueError("gradcheck: no output of fn requires grad, so there is no gradient to check")
    return _compare_jacobians(fn, inputs, checked, differentiable, outputs, eps, atol, rtol, raise_exception)


def gradgradcheck(fn, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Check second derivatives: ``gradcheck`` of the map (inputs, v) -> grad(fn(inputs), inputs, v,
    create_graph=True), i.e. of the gradients that ``create_graph=True`` builds, with respect to the inputs and to the
    upstream gradient ``v`` (random float64, seeded, when ``grad_outputs`` is None), as PyTorch's ``gradgradcheck``.

    A first derivative that does not depend on anything (floor's zero gradient) has no graph; it must then not
    change when the inputs or ``v`` are perturbed, which is checked the same way (its Jacobian is zero).
    """
    from . import grad as autograd_grad

    Tensor = function.Tensor

    inputs = _as_tuple(inputs)
    n = len(inputs)
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    with enable_grad():
        outputs = [o for o in _as_tuple(fn(*inputs)) if isinstance(o, Tensor) and o.requires_grad]
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = tuple(
            Tensor._wrap(backend.as_array(rng.standard_normal(o.shape)), requires_grad=True) for o in outputs
        )
    grad_outputs = _as_tuple(grad_outputs)

    def first_derivatives(*args):
        xs, vs = args[:n], args[n:]
        with enable_grad():
            outs = [o for o in _as_tuple(fn(*xs)) if isinstance(o, Tensor) and o.requires_grad]
            grads = autograd_grad(outs, [xs[i] for i in checked], vs, create_graph=True, allow_unused=True)
        return tuple(g if g is not None else xs[i].detach() * 0 for g, i in zip(grads, checked))

    all_inputs = inputs + grad_outputs
    firsts = first_derivatives(*all_inputs)
    constant = [k for k, g in enumerate(firsts) if not g.requires_grad]
    checked_all = [i for i, x in enumerate(all_inputs) if isinstance(x, Tensor) and x.requires_grad]
    differentiable = [k for k, g in enumerate(firsts) if g.requires_grad]
    return _compare_jacobians(
        first_derivatives, all_inputs, checked_all, differentiable, [firsts[k] for k in differentiable], eps, atol,
        rtol, raise_exception, constant_outputs=constant,
    )


def _compare_jacobians(fn, inputs, checked, differentiable, outputs, eps, atol, rtol, raise_exception,
                       constant_outputs=()):
    """The numerical and analytical Jacobians of ``fn``'s outputs ``differentiable`` (plus ``constant_outputs``,
    whose analytical Jacobian is zero) with respect to ``inputs[checked]``, compared element by element."""
    from . import grad as autograd_grad

    Tensor = function.Tensor

    differentiable = list(differentiable) + list(constant_outputs)

    def flat_outputs():
        with no_grad():
            outs = _as_tuple(fn(*inputs))
        return np.concatenate([backend.to_numpy(outs[i].array).astype(np.float64).ravel() for i in differentiable])

    # numerical Jacobian: one column per input element
    numerical = []
    for i in checked:
        data = inputs[i].array
        cols = []
        for k in range(data.size):
            # the input itself is perturbed in place and restored (a reshape(-1) would copy a non-contiguous one)
            at = np.unravel_index(k, data.shape)
            orig = float(data[at])
            data[at] = orig + eps
            plus = flat_outputs()
            data[at] = orig - eps
            minus = flat_outputs()
            data[at] = orig
            cols.append((plus - minus) / (2 * eps))
        numerical.append(np.stack(cols, axis=1) if cols else np.zeros((flat_outputs().size, 0)))

    # analytical Jacobian: one row per output element, by backward with a one-hot gradient
    total = numerical[0].shape[0] if numerical else 0
    analytical = [np.zeros((total, inputs[i].numel())) for i in checked]
    row = 0
    for o in outputs:
        xp = backend.get_array_module(o.array)
        for k in range(o.numel()):
            onehot = xp.zeros(o.array.size, dtype=o.array.dtype)
            onehot[k] = 1
            gs = autograd_grad(
                [o], [inputs[i] for i in checked], grad_outputs=[Tensor._wrap(onehot.reshape(o.shape))],
                retain_graph=True, allow_unused=True,
            )
            for j, g in enumerate(gs):
                if g is not None:
                    analytical[j][row] = backend.to_numpy(g.array).ravel()
            row += 1

    for j, i in enumerate(checked):
        a, n = analytical[j], numerical[j]
        if a.shape != n.shape:
            raise GradcheckError(
                f"gradcheck: input {i}: the analytical Jacobian has shape {a.shape} but the numerical one {n.shape}"
            )
        bad = np.abs(a - n) > atol + rtol * np.abs(n)
        if bad.any():
            r, c = np.argwhere(bad)[0]
            message = (
                f"gradcheck: gradient of input {i} (shape {tuple(inputs[i].shape)}) disagrees at output element {r}, "
                f"input element {c}: analytical {a[r, c]:.6g} vs numerical {n[r, c]:.6g} "
                f"({int(bad.sum())} of {bad.size} entries out of tolerance atol={atol}, rtol={rtol})"
            )
            if raise_exception:
                raise GradcheckError(message)
            return False
    return True
