"""Where data-pipeline randomness comes from: one NumPy generator per batch while a DataLoader builds it, so that
augmentation draws are reproducible and identical whatever the number of workers (threads or processes).

Outside a DataLoader the draws come from ganglion's default generator, so ``ganglion.manual_seed`` fixes them.
"""

import threading
from contextlib import contextmanager

import numpy as np

from .. import backend

_local = threading.local()


def rng(generator=None):
    """The ``numpy.random.Generator`` to draw from.

    ``generator`` (a ``ganglion.Generator`` or ``numpy.random.Generator``) wins; otherwise the stream a DataLoader set
    for the batch being built in this thread; otherwise ganglion's default generator.
    """
    if generator is not None:
        if isinstance(generator, np.random.Generator):
            return generator
        if isinstance(generator, backend.Generator):
            return generator.numpy
        raise TypeError(
            f"generator must be a ganglion.Generator or numpy.random.Generator, got {type(generator).__name__}"
        )
    local = getattr(_local, "rng", None)
    return local if local is not None else backend.rng(None)


@contextmanager
def use(stream):
    """Within the block, ``rng()`` in this thread draws from ``stream`` (a ``numpy.random.Generator``)."""
    previous = getattr(_local, "rng", None)
    _local.rng = stream
    try:
        yield stream
    finally:
        _local.rng = previous


def seeded(seed):
    """``use`` a fresh stream built from ``seed`` (an int or a tuple of ints, as ``numpy.random.SeedSequence``
    takes)."""
    return use(np.random.default_rng(seed))


def draw_seed(generator=None):
    """A fresh 63-bit seed drawn from ``generator`` (or the stream ``rng()`` would use)."""
    return int(rng(generator).integers(0, 2**63 - 1))
