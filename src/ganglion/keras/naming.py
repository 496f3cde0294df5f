"""Keras' automatic names: a class name in snake_case, numbered from the second use on (dense, dense_1, ...)."""

import re
from collections import defaultdict

_counts = defaultdict(int)


def to_snake_case(name):
    """Conv2D -> conv2d, BatchNormalization -> batch_normalization, LSTM -> lstm."""
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", s).lower()


def unique_name(base):
    """``base`` the first time, then ``base_1``, ``base_2``, ..."""
    n = _counts[base]
    _counts[base] += 1
    return base if n == 0 else f"{base}_{n}"


def reset_names():
    """Start numbering again (``keras.backend.clear_session``)."""
    _counts.clear()
