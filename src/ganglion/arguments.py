"""Argument parsing shared by the tensor, the ops and the layers: each rule written once, each error naming the
function, the argument and what came.

- ``size_argument``: a shape given as ``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])`` or ``f(size=(2, 3))``;
- ``positive_int``: a count such as ``num_heads`` or ``upscale_factor`` (an int >= 1, never a bool);
- ``ntuple``: ``kernel_size=3`` -> ``(3, 3)``, a per-dimension argument of ``n`` ints;
- ``normalize_dims`` / ``normalize_dim``: PyTorch's dims (negative ones count from the end) as NumPy axes;
- ``parse_to``: the arguments of ``Tensor.to`` and ``Module.to``, with PyTorch's overloads; ``ToShortcuts``: the
  ``cpu()``, ``cuda()``, ``float()``, ``double()``, ``half()`` that call ``to``.

It sits beside ``backend`` at the bottom of the import graph, so every layer above can use it.
"""

from collections import namedtuple

import numpy as np

from . import backend

_INT_TYPES = (int, np.integer)
_BOOLS = (bool, np.bool_)


def _is_int(value):
    return isinstance(value, _INT_TYPES) and not isinstance(value, (bool, np.bool_))


# ------------------------------------------------------------------------------------------- sizes, counts
def size_argument(op, args, size=None):
    """The shape a factory is asked for, as a tuple of ints: ``args`` are its positional sizes (``zeros(2, 3)``, or
    one tuple or list ``zeros((2, 3))``), ``size`` its keyword (``zeros(size=(2, 3))``). TypeError for both forms at
    once or a keyword size that is not a tuple or list; ValueError for a size that is not a non-negative int.
    """
    if size is not None:
        if args:
            raise TypeError(f"{op}() got multiple values for argument 'size'")
        if not isinstance(size, (tuple, list)):
            raise TypeError(f"{op}(): argument 'size' must be tuple of ints, not {type(size).__name__}")
        args = (size,)
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    for s in args:
        if not isinstance(s, _INT_TYPES) or s < 0:
            raise ValueError(f"{op}: sizes must be non-negative ints, got {tuple(args)}")
    return tuple(int(s) for s in args)


def positive_int(owner, name, value, allow_none=False):
    """``value`` as an int >= 1 (``None`` passes when ``allow_none``); ValueError naming ``owner`` and ``name``.

    >>> positive_int("MultiheadAttention", "num_heads", 4)
    4
    """
    if value is None and allow_none:
        return None
    if not _is_int(value) or value < 1:
        raise ValueError(f"{owner}: {name} must be a positive int, got {value!r}")
    return int(value)


def ntuple(value, n, arg, fn, minimum=1):
    """``value`` (an int, or a sequence of ``n`` ints or of one int) as a tuple of ``n`` ints, each >= ``minimum``.

    >>> ntuple(3, 2, "kernel_size", "Conv2d")
    (3, 3)
    """
    if _is_int(value):
        values = (int(value),) * n
    elif isinstance(value, (tuple, list)) and all(_is_int(v) for v in value):
        if len(value) == 1 and n > 1:
            value = tuple(value) * n
        if len(value) != n:
            raise ValueError(f"{fn}: {arg} must be an int or a tuple of {n} ints, got {tuple(value)}")
        values = tuple(int(v) for v in value)
    else:
        raise TypeError(f"{fn}: {arg} must be an int or a tuple of {n} ints, got {value!r}")
    if any(v < minimum for v in values):
        raise ValueError(f"{fn}: {arg} must be >= {minimum} in every dimension, got {values}")
    return values


# -------------------------------------------------------------------------------------------------- dims
def normalize_dims(dim, ndim, op):
    """``dim`` (None: every dim; an int; a sequence of ints) as a sorted tuple of distinct axes in [0, ndim).

    A dim d is valid when -max(ndim, 1) <= d < max(ndim, 1) (a 0-d tensor accepts 0 and -1, as in PyTorch, and
    gives ``()``). IndexError for a dim out of range, ValueError for one repeated, TypeError for a non-int.
    """
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, _INT_TYPES) else tuple(dim)
    n = max(ndim, 1)
    out = []
    for d in dims:
        if not isinstance(d, _INT_TYPES):
            raise TypeError(f"{op}: dim must be an int or a tuple of ints, got {d!r}")
        if not -n <= d < n:
            raise IndexError(f"{op}: dimension {d} is out of range for a tensor of {ndim} dimension(s) "
                             f"(expected [{-n}, {n - 1}])")
        out.append(int(d) % n)
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: dimension repeated in {dims}")
    return tuple(sorted(out)) if ndim else ()


def normalize_dim(dim, ndim, op):
    """One dim as an axis in [0, max(ndim, 1)): ``normalize_dim(-1, 3, "softmax") == 2``; 0 for a 0-d tensor."""
    if not _is_int(dim):
        raise TypeError(f"{op}: dim must be an int, got {dim!r}")
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"{op}: dimension {dim} is out of range for a tensor of {ndim} dimension(s) "
                         f"(expected [{-n}, {n - 1}])")
    return int(dim) % n


# -------------------------------------------------------------------------------------------------- .to()
ToArguments = namedtuple("ToArguments", ["device", "dtype", "non_blocking", "copy", "memory_format"])
ToArguments.__doc__ = """What a ``.to()`` call asks: a ``backend.Device`` or None, a NumPy dtype or None, two bools,
and the memory format given (None, or PyTorch's preserve/contiguous format, both the layout arrays have here)."""

_TO_KEYWORDS = ("device", "dtype", "non_blocking", "copy", "memory_format")
_TO_SIGNATURES = ("to(device=None, dtype=None, non_blocking=False, copy=False, *, memory_format=None)",
                  "to(dtype, non_blocking=False, copy=False, *, memory_format=None)",
                  "to(tensor, non_blocking=False, copy=False, *, memory_format=None)")
# arrays here are always dense row-major, which is what both of these ask for
_MEMORY_FORMATS = ("preserve_format", "contiguous_format")


def _is_device(value):
    """A device argument: a Device, an int (a GPU index, as PyTorch), or a string that is not a dtype's name
    (ganglion also takes dtype names, ``t.to("float64")``; an unknown string is a device, whose parser lists the
    accepted ones)."""
    if isinstance(value, backend.Device):
        return True
    if isinstance(value, str):
        return value.replace("ganglion.", "").replace("torch.", "") not in backend.DTYPES
    return _is_int(value)


def _is_tensor(value):
    """A tensor argument, ``to(other)``: anything with a ``device`` and a ``dtype`` (a ganglion Tensor; this module
    sits below ``tensor`` and cannot name the class)."""
    return not isinstance(value, (type, str, np.dtype)) and hasattr(value, "device") and hasattr(value, "dtype")


def _device(value):
    if isinstance(value, backend.Device):
        return value
    return backend.Device("cuda", int(value)) if _is_int(value) else backend.Device(value)


def _memory_format(value, call):
    if value is None:
        return None
    if str(value).rsplit(".", 1)[-1] not in _MEMORY_FORMATS:
        raise ValueError(f"{call}: memory_format {value!r} is not supported: arrays are dense row-major, so "
                         "memory_format accepts None, preserve_format and contiguous_format")
    return value


def parse_to(call, args, kwargs):
    """The ``ToArguments`` of ``call(*args, **kwargs)``, by PyTorch's three overloads of ``.to``:

    - ``to(device=None, dtype=None, non_blocking=False, copy=False)``: positional or keyword;
    - ``to(dtype, non_blocking=False, copy=False)``;
    - ``to(tensor, non_blocking=False, copy=False)``: the tensor's device and dtype;

    each with the keyword ``memory_format``. ``call`` names the method in errors (``"Tensor.to"``). A device is a
    ``device``, a string (``"cpu"``, ``"cuda:1"``) or a GPU index; a dtype is a ganglion/NumPy dtype, a Python type
    or a dtype's name. A mix no overload takes (``to(dtype, device)``, a device given twice, a keyword the overload
    lacks) is a TypeError listing the overloads, as PyTorch's.
    """
    unknown = [k for k in kwargs if k not in _TO_KEYWORDS]
    if unknown:
        raise TypeError(f"{call}() got an unexpected keyword argument {unknown[0]!r}")
    if len(args) > 4:
        raise TypeError(f"{call}() takes from 0 to 4 positional arguments but {len(args)} were given")
    first = args[0] if args else None
    if first is None or _is_device(first):
        names = ("device", "dtype", "non_blocking", "copy")
    else:
        names = ("dtype" if not _is_tensor(first) else "tensor", "non_blocking", "copy")
    given = dict(zip(names, args))
    clash = kwargs and [k for k in kwargs if k in given or (k in ("device", "dtype") and "device" not in names)]
    given.update(kwargs)
    non_blocking, copy = given.get("non_blocking", False), given.get("copy", False)
    if len(args) > len(names) or clash or not (isinstance(non_blocking, _BOOLS) and isinstance(copy, _BOOLS)):
        got = ", ".join([type(a).__name__ for a in args] + [f"{k}={type(v).__name__}" for k, v in kwargs.items()])
        raise TypeError(f"{call}() received an invalid combination of arguments - got ({got}), but expected one of: "
                        + "; ".join(_TO_SIGNATURES))
    device, dtype = given.get("device"), given.get("dtype")
    if "tensor" in given:
        device, dtype = given["tensor"].device, given["tensor"].dtype
    return ToArguments(None if device is None else _device(device),
                       None if dtype is None else backend.resolve_dtype(dtype),
                       bool(non_blocking), bool(copy), _memory_format(given.get("memory_format"), call))


class ToShortcuts:
    """PyTorch's shorthands for ``self.to(...)``, for a class whose ``to`` takes ``parse_to``'s arguments (Module,
    PackedSequence): ``cpu()``, ``cuda(device=None, non_blocking=False)`` (``device`` a GPU index) and the casts
    ``float()``, ``double()``, ``half()``. (No ``__slots__``: lazy modules change their ``__class__``, which needs
    the mixins around Module to share its layout.)"""

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None, non_blocking=False):
        return self.to("cuda" if device is None else backend.Device("cuda", int(device)), non_blocking=non_blocking)

    def float(self):
        return self.to(backend.float32)

    def double(self):
        return self.to(backend.float64)

    def half(self):
        return self.to(backend.float16)
