"""What preprocessing accepts as data: NumPy arrays, nested lists, ganglion Tensors, and table-like objects with
``.iloc`` (pandas); rows are taken without converting the container."""

import numpy as np

from ...tensor import Tensor


def num_samples(x):
    """The number of rows (first dimension) of ``x``."""
    if hasattr(x, "shape"):
        if len(x.shape) == 0:
            raise TypeError(f"expected an array-like with samples along the first axis, got a 0-d {type(x).__name__}")
        return int(x.shape[0])
    if hasattr(x, "__len__"):
        return len(x)
    raise TypeError(f"expected an array-like (array, list, Tensor), got {type(x).__name__}")


def check_consistent_length(owner, arrays):
    lengths = [num_samples(a) for a in arrays if a is not None]
    if len(set(lengths)) > 1:
        raise ValueError(f"{owner}: inputs have inconsistent numbers of samples: {lengths}")


def take(x, indices):
    """Rows ``indices`` of ``x``, in ``x``'s own kind (list -> list, Tensor -> Tensor, DataFrame -> DataFrame)."""
    indices = np.asarray(indices, dtype=np.int64)
    if isinstance(x, Tensor):
        return Tensor._wrap(x.array[indices])
    if hasattr(x, "iloc"):
        return x.iloc[indices]
    if isinstance(x, np.ndarray):
        return x[indices]
    if isinstance(x, (list, tuple)):
        return [x[i] for i in indices]
    return np.asarray(x)[indices]


def as_2d_float(owner, X):
    """``X`` as a float (n_samples, n_features) array: float32 stays float32, everything else becomes float64."""
    array = np.asarray(X.array if isinstance(X, Tensor) else X)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{owner}: expected numeric data, got dtype {array.dtype}")
    if array.ndim != 2:
        raise ValueError(
            f"{owner}: expected a 2-d array (n_samples, n_features), got shape {array.shape}; reshape a single "
            "feature with X.reshape(-1, 1) or a single sample with X.reshape(1, -1)"
        )
    if array.shape[0] == 0:
        raise ValueError(f"{owner}: found an array with 0 samples")
    return array.astype(np.float32 if array.dtype == np.float32 else np.float64, copy=True)


def like_input(result, X):
    """``result`` as a Tensor when ``X`` was one, else the array."""
    return Tensor._wrap(result) if isinstance(X, Tensor) else result
