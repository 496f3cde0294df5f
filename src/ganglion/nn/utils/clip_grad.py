"""Gradient clipping, usable in any training loop between ``loss.backward()`` and ``optimizer.step()``:

    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)   # or clip_grad_value_(..., clip_value=0.5)
    optimizer.step()

``clip_grad_norm_`` rescales all gradients together so their global norm is at most max_norm (the direction is
kept); ``clip_grad_value_`` clamps each element. PyTorch's names, arguments and results.
"""

import math
import types
import warnings

import numpy as np

from ... import backend
from ...autograd.grad_mode import no_grad
from ...ops.linalg import no_identity_error
from ...tensor import Tensor

#: gradients averaging more elements than this are measured one by one (the grouped path's copy would cost more)
_GROUPED_MAX_MEAN_SIZE = 1 << 16


def _tensors(name, tensors):
    if isinstance(tensors, Tensor):
        return [tensors]
    try:
        items = list(tensors)
    except TypeError:
        raise TypeError(f"{name}: expected a Tensor or an iterable of Tensors, got {type(tensors).__name__}") from None
    for i, t in enumerate(items):
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}: expected Tensors, got {type(t).__name__} at position {i}")
    return items


def _grads(name, parameters):
    is_generator = isinstance(parameters, types.GeneratorType)
    params = _tensors(name, parameters)
    if is_generator and not params:
        warnings.warn(f"{name}: `parameters` is an empty generator, no gradient clipping will occur.", stacklevel=3)
    return [p.grad for p in params if p.grad is not None]


def _norm_type(norm_type):
    try:
        value = float(norm_type)
    except (TypeError, ValueError):
        raise ValueError(f"norm_type must be a number (or 'inf'), got {norm_type!r}") from None
    if math.isnan(value):
        raise ValueError("norm_type must be a number, got nan")
    return value


def _vector_norm(xp, x, p):
    """||x||_p of a flat array, in x's dtype (p = inf: max |x|, -inf: min |x|, 0: the number of non-zeros). An empty
    array's norm is 0, except for p = +-inf: RuntimeError, as PyTorch (max and min of nothing have no value)."""
    if x.size == 0:
        if math.isinf(p):
            raise no_identity_error(p)
        return xp.zeros((), dtype=x.dtype)
    if p == 2:
        return backend.as_array(xp.sqrt(xp.vdot(x, x)))
    if p == math.inf:
        return backend.as_array(xp.abs(x).max())
    if p == -math.inf:
        return backend.as_array(xp.abs(x).min())
    if p == 0:
        return backend.as_array(xp.asarray(xp.count_nonzero(x), dtype=x.dtype))
    if p == 1:
        return backend.as_array(xp.abs(x).sum())
    return backend.as_array((xp.abs(x) ** p).sum() ** (1.0 / p))


def _grouped_norms(xp, arrays, p):
    """The p-norm of each array, from one concatenated copy and one segmented reduction (``ufunc.reduceat``)."""
    sizes = [a.size for a in arrays]
    flat = xp.concatenate([a.reshape(-1) for a in arrays])
    starts, start = [], 0
    for size in sizes:
        starts.append(start)
        start += size
    starts = xp.asarray(starts)
    if p == 2:
        return xp.sqrt(xp.add.reduceat(flat * flat, starts))
    if p == math.inf:
        return xp.maximum.reduceat(xp.abs(flat), starts)
    if p == -math.inf:
        return xp.minimum.reduceat(xp.abs(flat), starts)
    if p == 0:
        return xp.add.reduceat((flat != 0).astype(flat.dtype), starts)
    if p == 1:
        return xp.add.reduceat(xp.abs(flat), starts)
    return xp.add.reduceat(xp.abs(flat) ** p, starts) ** (1.0 / p)


def _norms_by_group(tensors, p, foreach):
    """Each tensor's p-norm, grouped by dtype and device as PyTorch groups them: a list of 1-D arrays, one per group
    (in the order the groups first appear), each holding its tensors' norms in input order, in their dtype."""
    groups = {}
    for t in tensors:
        groups.setdefault((t.array.dtype, backend.device_of(t.array)), []).append(t.array)
    return [_group_norms(arrays, p, foreach) for arrays in groups.values()]


def _group_norms(arrays, p, foreach):
    """The p-norms of ``arrays`` (one dtype, one device) as one 1-D array: from one concatenated copy and a segmented
    reduction (``foreach``, or None where the arrays are small), else one by one."""
    xp = backend.get_array_module(arrays[0])
    nonempty = [a for a in arrays if a.size > 0]
    if math.isinf(p) and len(nonempty) < len(arrays):
        raise no_identity_error(p)
    mean_size = sum(a.size for a in arrays) / len(arrays)
    grouped = foreach or (foreach is None and mean_size <= _GROUPED_MAX_MEAN_SIZE and len(nonempty) > 1)
    if not (grouped and nonempty and hasattr(xp.add, "reduceat")):
        return xp.stack([_vector_norm(xp, a.reshape(-1), p) for a in arrays])
    values = _grouped_norms(xp, nonempty, p)
    if len(nonempty) == len(arrays):
        return values
    norms = xp.zeros(len(arrays), dtype=values.dtype)  # an empty tensor's norm is 0 for these p
    norms[[i for i, a in enumerate(arrays) if a.size > 0]] = values
    return norms


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The norm of the norms of ``tensors`` (a Tensor or an iterable): ||(||t_1||_p, ..., ||t_n||_p)||_p, a 0-d Tensor.

    For p > 0 this is the p-norm of all their elements taken as one vector. ``foreach`` (None: when it pays) measures
    the tensors of a dtype from one concatenated copy instead of one by one; the result is the same. The norms are
    gathered group by group (dtype, device), as PyTorch's: one copy per group, not one per tensor (100 small
    gradients: a third of the call's time went to moving each norm on its own).
    """
    tensors = _tensors("get_total_norm", tensors)
    p = _norm_type(norm_type)
    if not tensors:
        return Tensor._wrap(backend.as_array(np.zeros((), dtype=backend.get_default_dtype())))
    groups = _norms_by_group(tensors, p, foreach)
    first = tensors[0].array
    xp = backend.get_array_module(first)
    dtype = xp.result_type(*[g.dtype for g in groups])
    device = backend.device_of(first)
    stacked = xp.concatenate([backend.to_device(g, device).astype(dtype, copy=False) for g in groups])
    total = _vector_norm(xp, stacked, p)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(
            f"The total norm of order {p} for gradients from `parameters` is non-finite ({float(total)}), so it "
            f"cannot be clipped. To disable this error and scale the gradients by the non-finite norm anyway, set "
            f"`error_if_nonfinite=False`"
        )
    return Tensor._wrap(total)


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale every gradient by min(1, max_norm / (total_norm + 1e-6)) in place (total_norm from ``get_total_norm``).

    ``foreach`` is accepted for PyTorch compatibility: each gradient is scaled with one in-place array call either way.
    """
    _scale_(_grads("clip_grads_with_norm_", parameters), _non_negative("max_norm", max_norm), total_norm)


def _scale_(grads, max_norm, total_norm):
    if not grads:
        return
    total = total_norm.array if isinstance(total_norm, Tensor) else backend.as_array(np.asarray(total_norm))
    xp = backend.get_array_module(total)
    coef = xp.minimum(max_norm / (total + 1e-6), 1.0)  # computed in the norm's dtype, as PyTorch
    if bool(coef == 1.0):
        return  # multiplying by exactly 1 changes nothing
    with no_grad(), backend.errstate(invalid="ignore"):  # a non-finite norm makes nan gradients, as in PyTorch
        for grad in grads:
            grad.array *= backend.to_device(coef, backend.device_of(grad.array)).astype(grad.array.dtype)


def _non_negative(name, value):
    """``value`` (max_norm, clip_value) as a float >= 0; TypeError for a non-number, ValueError below 0 or NaN."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}") from None
    if not number >= 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return number


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Rescale the gradients of ``parameters`` so that their total norm is at most ``max_norm``.

    total = ||(||g_1||, ..., ||g_n||)||_p over the parameters that have a gradient (p = norm_type, 'inf' for the
    largest |g|);  every g *= min(1, max_norm / (total + 1e-6)).  Returns the total norm before clipping (0-d Tensor).
    ``error_if_nonfinite=True`` raises RuntimeError when the total is nan or inf instead of scaling by it.
    """
    grads = _grads("clip_grad_norm_", parameters)
    max_norm = _non_negative("max_norm", max_norm)
    total = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    _scale_(grads, max_norm, total)
    return total


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Deprecated alias of ``clip_grad_norm_`` (as in PyTorch)."""
    warnings.warn("`ganglion.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`ganglion.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element of ``parameters`` to [-clip_value, clip_value], in place.

    ``foreach`` is accepted for PyTorch compatibility: each gradient is clamped with one in-place array call either
    way.
    """
    grads = _grads("clip_grad_value_", parameters)
    clip_value = _non_negative("clip_value", clip_value)
    for grad in grads:
        xp = backend.get_array_module(grad.array)
        xp.clip(grad.array, -clip_value, clip_value, out=grad.array)
