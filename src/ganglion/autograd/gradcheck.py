"""``gradcheck``: compare backward's gradients with central finite differences, in float64."""

import numpy as np

from .. import backend
from .grad_mode import no_grad


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
    from ..tensor import Tensor
    from . import grad as autograd_grad

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
    sizes = [o.numel() for o in outputs]
    total = sum(sizes)
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
