"""Turning what a caller passes (ganglion Tensors, NumPy arrays, lists) into checked NumPy arrays. Every metric
checks its inputs here, so a bad argument is reported by name, with the numbers, before NumPy sees it."""

import numpy as np

from .. import backend


def to_numpy(name, x, dtype=None):
    """``x`` (a Tensor on any device, an array, a list or a number) as a NumPy array; ``name`` is the argument."""
    if x is None:
        raise ValueError(f"{name} is None; expected an array, a list or a Tensor")
    if hasattr(x, "array"):  # a ganglion Tensor
        x = backend.to_numpy(x.array)
    elif hasattr(x, "detach") and hasattr(x, "numpy"):  # a torch tensor
        x = x.detach().cpu().numpy()
    try:
        x = np.asarray(x) if dtype is None else np.asarray(x, dtype=dtype)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} cannot be read as an array of {dtype or 'values'}: {error}") from None
    return x


def as_1d(name, x, dtype=None):
    """A 1-D array of length >= 1 (a column of shape (n, 1) is flattened)."""
    x = to_numpy(name, x, dtype)
    if x.ndim == 2 and x.shape[1] == 1:
        x = x[:, 0]
    if x.ndim != 1:
        raise ValueError(f"{name} must be 1-D (n_samples,), got shape {x.shape}")
    if x.shape[0] == 0:
        raise ValueError(f"{name} is empty; at least one sample is needed")
    return x


def check_lengths(**arrays):
    """Every given array (None ones are skipped) has the same number of samples (first axis)."""
    given = {name: len(a) for name, a in arrays.items() if a is not None}
    if len(set(given.values())) > 1:
        listed = ", ".join(f"{name} has {n}" for name, n in given.items())
        raise ValueError(f"inconsistent numbers of samples: {listed}")


def sample_weights(sample_weight, n):
    """The weights as a float64 array of length n (all ones when None)."""
    if sample_weight is None:
        return np.ones(n)
    weights = as_1d("sample_weight", sample_weight, np.float64)
    check_lengths(y_true=np.empty(n), sample_weight=weights)
    return weights


def class_labels(name, y):
    """``y`` as 1-D class labels: integers, booleans or strings, or floats with integral values."""
    y = as_1d(name, y)
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)) or np.any(y != np.round(y)):
            bad = y[~np.isfinite(y) | (y != np.round(y))][:3]
            raise ValueError(f"{name} must hold class labels, got continuous values such as {bad.tolist()}")
    elif y.dtype.kind not in "iubUSO":
        raise ValueError(f"{name} must hold class labels (ints, bools or strings), got dtype {y.dtype}")
    return y


def unique_labels(*ys):
    """The sorted union of the labels in ``ys``; mixing strings and numbers is an error."""
    kinds = {"str" if y.dtype.kind in "USO" else "number" for y in ys}
    if len(kinds) > 1:
        raise ValueError("labels mix strings and numbers; y_true and y_pred must use the same kind of label")
    return np.unique(np.concatenate([np.asarray(y) for y in ys]))


def zero_division_value(zero_division):
    """The value a 0/0 ratio takes: 0 for "warn" (with a warning at the caller), 0, 1 or nan."""
    if isinstance(zero_division, str) and zero_division == "warn":
        return 0.0
    if isinstance(zero_division, (int, float)) and not isinstance(zero_division, bool):
        if zero_division in (0, 1) or np.isnan(zero_division):
            return float(zero_division)
    raise ValueError(f"zero_division must be 'warn', 0, 1 or nan, got {zero_division!r}")
