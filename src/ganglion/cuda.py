"""``ganglion.cuda``: whether a GPU backend (CuPy) is available, as in ``torch.cuda``."""

from . import backend


def is_available():
    """True when CuPy is installed and sees a GPU."""
    return backend.cuda_is_available()


def device_count():
    return backend.cuda_device_count()


def manual_seed(seed):
    """Random tensors are drawn on the CPU and moved, so seeding the default generator covers the GPU too."""
    backend.manual_seed(seed)


manual_seed_all = manual_seed


def synchronize():
    """Wait for the GPU to finish queued work (for timing)."""
    if is_available():
        backend._cupy.cuda.Stream.null.synchronize()
