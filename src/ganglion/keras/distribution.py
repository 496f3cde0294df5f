"""Keras 3's ``keras.distribution`` path for the data-parallel strategy of ``fit(..., distribute=...)``."""

from .models.data_parallel import DataParallel

__all__ = ["DataParallel"]
