"""``ganglion.accelerator``: the device-agnostic accelerator API of ``torch.accelerator``.

ganglion's one accelerator is CUDA through CuPy. Without CuPy or a visible GPU the answers are those of a CPU-only
PyTorch: ``is_available()`` is False, ``current_accelerator()`` is None, ``device_count()`` is 0, and the calls that
need a device raise ``RuntimeError("Cannot access accelerator device when none is available.")``.

The current device index is CuPy's current device (per thread, as in CUDA); ``ganglion.device("cuda")`` (no index)
means that current device, as in PyTorch.
"""

import warnings

from . import backend

_NONE_AVAILABLE = "Cannot access accelerator device when none is available."


def is_available():
    """True when an accelerator (a GPU seen by CuPy) can be used."""
    return backend.cuda_is_available()


def current_accelerator(check_available=False):
    """``device(type='cuda')`` when ganglion has a GPU backend, else None (``check_available`` is accepted for
    PyTorch's signature: ganglion's accelerator is only reported when it is usable, so both answers agree)."""
    return backend.Device("cuda") if is_available() else None


def device_count():
    """Number of accelerator devices (GPUs), 0 without one."""
    return backend.cuda_device_count()


def _require_accelerator():
    if not is_available():
        raise RuntimeError(_NONE_AVAILABLE)


def _device_index(device, optional):
    """The GPU index named by an int, 'cuda:N' / 'cuda' or a ganglion.device; None when optional and not given."""
    if device is None and optional:
        return None
    if isinstance(device, bool) or not isinstance(device, (int, str, backend.Device)):
        raise ValueError(f"Expected a torch.device with a specified index or an integer, but got:{device}")
    if isinstance(device, int):
        return device
    device = backend.Device(device)
    if device.type != "cuda":
        raise RuntimeError("Accelerator expected")
    if device.index is None and not optional:  # PyTorch refuses a device without an index here
        raise ValueError(f"Expected a torch.device with a specified index or an integer, but got:{device}")
    return device.index


def current_device_index():
    """The index of the current accelerator device (RuntimeError without an accelerator)."""
    _require_accelerator()
    return backend._cupy.cuda.runtime.getDevice()


def set_device_index(device, /):
    """Make ``device`` (an int, 'cuda:N' or a ganglion.device) the current accelerator device. A negative index is
    a no-op, as in PyTorch."""
    index = _device_index(device, optional=False)
    _require_accelerator()
    if index >= 0:
        backend._cupy.cuda.runtime.setDevice(index)


def current_device_idx():
    """Deprecated alias of ``current_device_index`` (FutureWarning, as PyTorch)."""
    warnings.warn("Use `current_device_index` instead.", FutureWarning, stacklevel=2)
    return current_device_index()


def set_device_idx(device, /):
    """Deprecated alias of ``set_device_index`` (FutureWarning, as PyTorch)."""
    warnings.warn("Use `set_device_index` instead.", FutureWarning, stacklevel=2)
    set_device_index(device)


class device_index:
    """Context manager: ``with device_index(i):`` makes GPU i current and restores the previous one on exit;
    ``device_index(None)`` changes nothing."""

    def __init__(self, device, /):
        self.idx = device
        self.prev_idx = -1

    def __enter__(self):
        if self.idx is not None:
            self.prev_idx = current_device_index()
            set_device_index(self.idx)

    def __exit__(self, *exc_info):
        if self.idx is not None:
            set_device_index(self.prev_idx)


def synchronize(device=None, /):
    """Wait until all queued work on the device (the current one by default) has finished."""
    index = _device_index(device, optional=True)
    _require_accelerator()
    backend._cupy.cuda.Device(current_device_index() if index is None or index < 0 else index).synchronize()


def empty_cache():
    """Release the accelerator's cached free memory (CuPy's pool) and ganglion's reusable work arrays."""
    _require_accelerator()
    backend.empty_cache()


def memory_allocated(device_index=None, /):
    """Bytes currently held by tensors on the accelerator (CuPy's memory pool ``used_bytes``)."""
    _device_index(device_index, optional=True)
    _require_accelerator()
    return backend._cupy.get_default_memory_pool().used_bytes()


def memory_reserved(device_index=None, /):
    """Bytes reserved by the accelerator's caching allocator (CuPy's memory pool ``total_bytes``)."""
    _device_index(device_index, optional=True)
    _require_accelerator()
    return backend._cupy.get_default_memory_pool().total_bytes()
