"""The array backend: which library does the math (NumPy on CPU, CuPy on GPU), devices, dtypes and random streams.

This is the only module that imports NumPy or CuPy for math that must run on both. Everything else asks it for
``xp`` (the array module of some arrays) and for conversions between devices and dtypes.
"""

from __future__ import annotations

import numpy as np

try:  # CuPy is an optional extra (`pip install ganglion[gpu]`).
    import cupy as _cupy
except Exception:  # pragma: no cover - depends on the machine
    _cupy = None

# Set to True the first time an array is placed on a GPU. While it is False every array is a NumPy array, so the
# hot path skips device checks entirely.
gpu_in_use = False


def empty_cache():
    """Drop the work arrays kept for reuse (every thread's, see ``ganglion.memory``) and, with CuPy, the free blocks
    of its memory pool (as ``torch.cuda.empty_cache``). Arrays in use are not touched."""
    from . import memory  # memory builds on this module

    memory.empty_cache()
    if _cupy is not None:
        _cupy.get_default_memory_pool().free_all_blocks()


# ----------------------------------------------------------------------------------------------------- devices
class Device:
    """A place where arrays live, as ``torch.device``: ``device("cpu")``, ``device("cuda")``, ``device("cuda", 1)``,
    ``device("cuda:1")``, ``device("cpu:0")``.

    ``type`` is 'cpu' or 'cuda'; ``index`` is the int given, or None when none was ("cuda" then means the current
    GPU, as in PyTorch). ``repr`` is ``device(type='cuda', index=1)``, ``str`` is ``cuda:1``. Two devices are equal
    when both type and index are, so ``device("cuda") != device("cuda:0")`` and ``device("cpu") != device("cpu:0")``
    as in PyTorch. A string compares as the device it names (PyTorch answers False there; ganglion's convenience:
    ``tensor.device == "cpu"``). The CPU has no index but 0.
    """

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):
        if isinstance(type, Device) and index is None:
            type, index = str(type), None
        if not isinstance(type, str):
            raise TypeError(f"device must be a str or ganglion.device, got {type!r}")
        if index is not None and (isinstance(index, bool) or not isinstance(index, int)):
            raise TypeError(f"device({type!r}, index): index must be an int or None, got {index!r}")
        name = type
        if ":" in name:
            if index is not None:
                raise ValueError(f"device({type!r}, {index}): the string must not include an index when index is "
                                 "passed too")
            name, _, digits = name.partition(":")
            # PyTorch's grammar: decimal digits without a leading zero (except "0" itself)
            if not (digits.isascii() and digits.isdigit()) or (len(digits) > 1 and digits[0] == "0"):
                raise ValueError(f"invalid device {type!r}: expected 'cpu', 'cuda' or 'cuda:N' (or 'cpu:0')")
            index = int(digits)
        if name not in ("cpu", "cuda"):
            raise ValueError(f"unknown device {type!r}: accepted devices are 'cpu', 'cuda' and 'cuda:N' (and 'cpu:0')")
        if index is not None and index < 0:
            raise ValueError(f"invalid device {type!r} with index {index}: a device index must not be negative")
        if name == "cpu" and index not in (None, 0):
            raise ValueError(f"invalid device {type!r} with index {index}: the CPU has no index other than 0")
        self.type = name
        self.index = index

    def __eq__(self, other):
        if isinstance(other, str):
            try:
                other = Device(other)
            except ValueError:
                return False
        if not isinstance(other, Device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))

    def __repr__(self):
        return f"device(type='{self.type}')" if self.index is None else f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"


CPU = Device("cpu")


def cuda_is_available():
    """True when CuPy is installed and can see at least one GPU."""
    if _cupy is None:
        return False
    try:
        return _cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


def cuda_device_count():
    """Number of GPUs CuPy can see (0 without CuPy)."""
    return _cupy.cuda.runtime.getDeviceCount() if cuda_is_available() else 0


def device_of(array):
    """The Device an array lives on."""
    if type(array) is np.ndarray or _cupy is None or not isinstance(array, _cupy.ndarray):
        return CPU
    return Device("cuda", array.device.id)


def get_array_module(*arrays):
    """NumPy or CuPy, whichever owns the given arrays (NumPy when none is a CuPy array)."""
    if gpu_in_use:
        for a in arrays:
            if isinstance(a, _cupy.ndarray):
                return _cupy
    return np


def to_device(array, device):
    """Copy ``array`` to ``device`` (no copy when it is already there)."""
    global gpu_in_use
    device = Device(device)
    if device.type == "cpu":
        if _cupy is not None and isinstance(array, _cupy.ndarray):
            return _cupy.asnumpy(array)
        return array
    if not cuda_is_available():
        raise RuntimeError(
            "cannot move a tensor to 'cuda': CuPy is not installed or no GPU is visible "
            "(install the extra with `pip install ganglion[gpu]`; ganglion.cuda.is_available() tells)"
        )
    if device.index is not None and device.index >= cuda_device_count():
        raise ValueError(f"invalid device 'cuda:{device.index}': only {cuda_device_count()} GPU(s) are visible")
    gpu_in_use = True
    with _cupy.cuda.Device(device.index):  # index None ("cuda"): CuPy's current GPU, as PyTorch
        return _cupy.asarray(array)


def same_placement(target, current):
    """Whether a tensor on ``current`` (a concrete device: cpu, or cuda:k) is already where ``target`` asks:
    the same type, and the same index where ``target`` names one ("cuda" means the current GPU; "cpu" is "cpu:0")."""
    if target.type != current.type:
        return False
    if target.type == "cpu" or target.index == current.index:
        return True
    if target.index is None:
        return _cupy is not None and _cupy.cuda.runtime.getDevice() == current.index
    return False


def check_same_device(op_name, arrays):
    """Raise a clear error when the arrays of one op live on different devices (only checked once a GPU is used)."""
    if not gpu_in_use:
        return
    devices = {device_of(a) for a in arrays if hasattr(a, "shape")}
    if len(devices) > 1:
        names = ", ".join(sorted(str(d) for d in devices))
        raise RuntimeError(f"{op_name}: expected all tensors on one device, but found tensors on {names}")


def as_array(value):
    """``value`` as an array: NumPy returns 0-d results as scalars (``np.float32``), which cannot be written in
    place, so they become 0-d arrays; arrays pass through unchanged."""
    return np.asarray(value) if isinstance(value, np.generic) else value


def errstate(**kwargs):
    """Silence NumPy's floating-point warnings in a block (CuPy never raises them, so one context serves both)."""
    return np.errstate(**kwargs)


def to_numpy(value):
    """``value``'s values as a NumPy array on the host: a copy from the GPU for a CuPy array; ``detach().cpu()
    .numpy()`` for a PyTorch tensor (recognised by those methods, so torch is never imported); ``np.asarray`` for
    anything else (a NumPy array itself, a scalar, nested lists). The one place arrays come back to the host."""
    if _cupy is not None and isinstance(value, _cupy.ndarray):
        return _cupy.asnumpy(value)
    if hasattr(value, "detach") and hasattr(value, "cpu") and hasattr(value, "numpy"):  # torch.Tensor or Tensor
        return value.detach().cpu().numpy()
    return np.asarray(value)


# ------------------------------------------------------------------------------------------------------ dtypes
# The aliases PyTorch users know (float, double, long, ...) are exported by the package, not defined here, so that
# this module keeps Python's built-in float, int and bool.
float16 = np.dtype("float16")
float32 = np.dtype("float32")
float64 = np.dtype("float64")
int8 = np.dtype("int8")
uint8 = np.dtype("uint8")
int16 = np.dtype("int16")
int32 = np.dtype("int32")
int64 = np.dtype("int64")
bool_ = np.dtype("bool")

DTYPES = {
    "float16": float16, "half": float16, "float32": float32, "float": float32, "float64": float64, "double": float64,
    "int8": int8, "uint8": uint8, "int16": int16, "short": int16, "int32": int32, "int": int32,
    "int64": int64, "long": int64, "bool": bool_,
}

_default_float = float32


def get_default_dtype():
    """The dtype that Python floats and NumPy float64 arrays become (float32 unless changed)."""
    return _default_float


def set_default_dtype(dtype):
    """Make ``dtype`` (float32 or float64) the default floating dtype."""
    global _default_float
    dtype = resolve_dtype(dtype)
    if dtype not in (float32, float64):
        raise TypeError(f"set_default_dtype: only float32 and float64 are supported, got {dtype}")
    _default_float = dtype


def resolve_dtype(dtype):
    """Turn a dtype given as a ganglion/NumPy dtype, a Python type or a name into a NumPy dtype."""
    if dtype is None:
        return None
    if isinstance(dtype, str):
        try:
            return DTYPES[dtype.replace("ganglion.", "").replace("torch.", "")]
        except KeyError:
            raise TypeError(f"unknown dtype {dtype!r}: accepted names are {', '.join(sorted(DTYPES))}") from None
    if dtype is float:
        return _default_float
    if dtype is int:
        return int64
    if dtype is bool:
        return bool_
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"unknown dtype {dtype!r}: accepted names are {', '.join(sorted(DTYPES))}") from None
    if dt not in DTYPES.values():
        raise TypeError(f"unsupported dtype {dt}: accepted names are {', '.join(sorted(DTYPES))}")
    return dt


def is_floating(dtype):
    return dtype.kind == "f"


# ------------------------------------------------------------------------------------------------------ random
class Generator:
    """A stream of random numbers (PCG64). ``manual_seed`` makes every draw from it reproducible.

    Random tensors are drawn on the CPU and moved to their device, so a seed gives the same numbers everywhere.
    """

    def __init__(self, device="cpu"):
        self.device = Device(device)
        self._seed = int(np.random.SeedSequence().entropy % (2**63))
        self._rng = np.random.Generator(np.random.PCG64(self._seed))

    def manual_seed(self, seed):
        """Reset the stream to the one that ``seed`` (an int) starts; returns the generator."""
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
            raise TypeError(f"manual_seed expects an int, got {type(seed).__name__}")
        self._seed = int(seed) % (2**64)
        self._rng = np.random.Generator(np.random.PCG64(self._seed))
        return self

    def seed(self):
        """Seed the stream from the operating system's entropy and return the seed."""
        self.manual_seed(int(np.random.SeedSequence().entropy % (2**63)))
        return self._seed

    def initial_seed(self):
        return self._seed

    def get_state(self):
        return self._rng.bit_generator.state

    def set_state(self, state):
        self._rng.bit_generator.state = state
        return self

    @property
    def numpy(self):
        """The underlying ``numpy.random.Generator``."""
        return self._rng


default_generator = Generator()


def manual_seed(seed):
    """Seed the default generator: every random factory, initializer and dropout mask becomes reproducible."""
    default_generator.manual_seed(seed)
    return default_generator


def rng(generator=None):
    """The NumPy generator to draw from: the given ganglion Generator's, or the default one."""
    return (generator or default_generator)._rng
