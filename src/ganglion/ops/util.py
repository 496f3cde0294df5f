"""Helpers shared by the ops: turning operands into arrays, reading reduction arguments, keeping float results in
float32. Dims are normalized by ``ganglion.arguments.normalize_dims`` (re-exported here for ``nn.functional``)."""

import numpy as np

from .. import backend
from ..arguments import normalize_dims  # noqa: F401  (re-exported: nn.functional.activations imports it here)
from ..factories import tensor
from ..tensor import Tensor

_f64 = np.dtype("float64")


def as_operand(x, like):
    """A Tensor or Python scalar as it is; anything else array-like becomes a Tensor next to ``like``."""
    if isinstance(x, np.generic):  # before the float check: np.float64 is a float subclass but not weakly typed
        return x.item()
    if isinstance(x, (Tensor, int, float, bool)):
        return x
    dtype = like.dtype if like.dtype.kind == "f" and np.asarray(x).dtype.kind == "f" else None
    return tensor(x, dtype=dtype, device=like.device)


def keep_default_float(y, a, b=None):
    """NumPy turns int/int division and int + float into float64; PyTorch gives the default float. Follow PyTorch."""
    if y.dtype == _f64 and not _is_f64(a) and not _is_f64(b):
        return y.astype(backend.get_default_dtype())
    return y


def _is_f64(x):
    dtype = getattr(x, "dtype", None)  # compare only real dtypes: NumPy reads `None == dtype` as float64
    return dtype is not None and dtype == _f64


def reduction_args(op, dim, keepdim, axis, keepdims):
    """Accept PyTorch's ``dim``/``keepdim`` and NumPy's ``axis``/``keepdims``; one of each pair at most."""
    if axis is not None:
        if dim is not None:
            raise TypeError(f"{op}: pass either dim or axis, not both")
        dim = axis
    if keepdims is not None:
        keepdim = keepdims
    return dim, bool(keepdim)

