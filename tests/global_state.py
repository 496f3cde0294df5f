"""The process-wide state a test can change and must not leak to the next one, kept and put back around each test
by the root conftest (``tests/conftest.py``).

What is kept: ganglion's default dtype, this thread's grad mode, the default random generator (seed and stream
position), the number of threads of the compiled kernels and BLAS, and whether fused ops reuse work arrays; NumPy's
and Python's global random streams; and, once PyTorch is imported, its default dtype, grad mode, thread count and
random stream (a test that imports PyTorch first gets its dtype and grad mode reset). Cached work arrays
(``ganglion.memory``, CuPy's pool) are dropped after every test, so that no test sees arrays another one left.
"""

import random
import sys

import numpy as np

import ganglion


def keep_global_state():
    """A generator to run around one test: ``next()`` notes the state, the test runs, the second ``next()`` puts
    the state back (and stops the generator)."""
    kept = _snapshot()
    yield
    _restore(kept)


def _snapshot():
    generator = ganglion.backend.default_generator
    return {
        "dtype": ganglion.get_default_dtype(),
        "grad_enabled": ganglion.is_grad_enabled(),
        "seed": generator.initial_seed(),
        "generator_state": generator.get_state(),
        "threads": ganglion.get_num_threads(),
        "buffer_reuse": ganglion.memory.buffer_reuse_enabled(),
        "numpy_random": np.random.get_state(),
        "python_random": random.getstate(),
        "torch": _torch_snapshot(sys.modules.get("torch")),
    }


def _restore(kept):
    ganglion.set_default_dtype(kept["dtype"])
    ganglion.set_grad_enabled(kept["grad_enabled"])
    generator = ganglion.backend.default_generator
    if generator.initial_seed() != kept["seed"] or generator.get_state() != kept["generator_state"]:
        generator.manual_seed(kept["seed"])
        generator.set_state(kept["generator_state"])
    if ganglion.get_num_threads() != kept["threads"]:  # only when changed: setting BLAS threads is not free
        ganglion.set_num_threads(kept["threads"])
    if ganglion.memory.buffer_reuse_enabled() != kept["buffer_reuse"]:
        ganglion.memory.set_buffer_reuse(kept["buffer_reuse"])
    ganglion.backend.empty_cache()
    np.random.set_state(kept["numpy_random"])
    random.setstate(kept["python_random"])
    torch = sys.modules.get("torch")
    if torch is not None:
        _torch_restore(torch, kept["torch"])


def _torch_snapshot(torch):
    """PyTorch's global state, or None when PyTorch is not imported yet."""
    if torch is None:
        return None
    return {
        "dtype": torch.get_default_dtype(),
        "grad_enabled": torch.is_grad_enabled(),
        "threads": torch.get_num_threads(),
        "random": torch.get_rng_state(),
    }


def _torch_restore(torch, kept):
    """Put PyTorch's state back. Imported during the test (``kept`` None), its default dtype and grad mode go back
    to what importing it gives (float32, on); its thread count and random stream, unknown before the import, stay."""
    if kept is None:
        torch.set_default_dtype(torch.float32)
        torch.set_grad_enabled(True)
        return
    torch.set_default_dtype(kept["dtype"])
    torch.set_grad_enabled(kept["grad_enabled"])
    if torch.get_num_threads() != kept["threads"]:
        torch.set_num_threads(kept["threads"])
    torch.set_rng_state(kept["random"])
