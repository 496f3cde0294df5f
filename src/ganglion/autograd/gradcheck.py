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

    outputs = _as_tuple(fn(*inputs))
    outputs = [o for o in outputs if isinstance(o, Tensor) and o.requires_grad]

    def flat_outputs():
        with no_grad():
            outs = [o for o in _as_tuple(fn(*inputs)) if isinstance(o, Tensor)]
        return np.concatenate([backend.to_numpy(o.array).astype(np.float64).ravel() for o in outs]) if outs else None

    # numerical Jacobian: one column per input element
    numerical = []
    for i in checked:
        data = inputs[i].array
        cols = []
        flat = data.reshape(-1)  # a view: the input is perturbed in place and restored
        for k in range(flat.size):
            orig = float(flat[k])
            flat[k] = orig + eps
            plus = flat_outputs()
            flat[k] = orig - eps
            minus = flat_outputs()
            flat[k] = orig
            cols.append((plus - minus) / (2 * eps))
        numerical.append(np.stack(cols, axis=1) if cols else np.zeros((0, 0)))

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
            n = n.reshape(a.shape) if n.size == a.size else np.zeros_like(a)
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
