"""``nn.parallel``: data-parallel training across processes (``DistributedDataParallel``, over ganglion.distributed)."""

from .distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
