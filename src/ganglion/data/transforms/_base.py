"""The Transform base class and the argument checks the transforms share."""

import math
import numbers

import numpy as np

from .. import _random


class Transform:
    """A callable image transform. Random transforms draw from ``generator`` when given (a ``ganglion.Generator``),
    else from the DataLoader's per-batch stream or ganglion's default generator (so ``ganglion.manual_seed`` makes
    them reproducible). On a batch, every image gets its own random parameters."""

    generator = None

    def _rng(self):
        return _random.rng(self.generator)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_") and k != "generator")
        return f"{type(self).__name__}({args})"


def random_ints(rng, high, size):
    """Uniform integers in [0, high) (``high`` broadcast against ``size``): floor(u * high) for u in [0, 1), several
    times cheaper per call than ``Generator.integers`` with array bounds, which matters one image at a time."""
    return np.floor(rng.random(size) * np.asarray(high, dtype=np.float64)).astype(np.int64)


def box_draws(rng, n, area, scale, ratio, attempts):
    """``attempts`` candidate boxes for each of ``n`` images: an area a fraction of ``area`` drawn uniformly from
    ``scale``, an aspect ratio r drawn log-uniformly from ``ratio``. Returns (sqrt(area r), sqrt(area / r)), rounded:
    int arrays (n, attempts), the width and height of a box whose w / h is r (torchvision's RandomResizedCrop; its
    RandomErasing reads them as height and width)."""
    target = area * rng.uniform(scale[0], scale[1], (n, attempts))
    aspect = np.exp(rng.uniform(math.log(ratio[0]), math.log(ratio[1]), (n, attempts)))
    return np.rint(np.sqrt(target * aspect)).astype(np.int64), np.rint(np.sqrt(target / aspect)).astype(np.int64)


def first_fit(ok, *candidates):
    """Per image, the first attempt where ``ok`` (n, attempts) holds: (found, each candidate's entry there), arrays
    of n (entry 0 where none fits: ``found`` says which)."""
    rows = np.arange(ok.shape[0])
    first = ok.argmax(axis=1)
    return (ok[rows, first],) + tuple(c[rows, first] for c in candidates)


def is_number(x):
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def check_probability(owner, p):
    if not is_number(p) or not 0 <= p <= 1:
        raise ValueError(f"{owner}: p must be a probability in [0, 1], got {p!r}")
    return float(p)


def size_pair(owner, size, name="size"):
    """An int or a 1- or 2-sequence as (height, width) of positive ints."""
    if isinstance(size, numbers.Integral) and not isinstance(size, bool):
        size = (size, size)
    elif isinstance(size, (tuple, list)) and len(size) == 1:
        size = (size[0], size[0])
    if not (isinstance(size, (tuple, list)) and len(size) == 2
            and all(isinstance(s, numbers.Integral) and not isinstance(s, bool) and s > 0 for s in size)):
        raise ValueError(f"{owner}: {name} must be a positive int or a (height, width) pair of them, got {size!r}")
    return int(size[0]), int(size[1])


def symmetric_range(owner, name, value, center=0.0, minimum=None, maximum=None):
    """A number v as (center - v, center + v) (v must be >= 0), or a (min, max) pair; both checked against the
    bounds."""
    if is_number(value):
        if value < 0:
            raise ValueError(f"{owner}: {name} must be non-negative when a single number, got {value!r}")
        low, high = center - value, center + value
        if minimum is not None:
            low = max(low, minimum)
    elif isinstance(value, (tuple, list)) and len(value) == 2 and all(is_number(v) for v in value):
        low, high = float(value[0]), float(value[1])
    else:
        raise ValueError(f"{owner}: {name} must be a number or a (min, max) pair, got {value!r}")
    if low > high:
        raise ValueError(f"{owner}: {name} must be given as (min, max) with min <= max, got {value!r}")
    if (minimum is not None and low < minimum) or (maximum is not None and high > maximum):
        raise ValueError(f"{owner}: {name} must lie in [{minimum}, {maximum}], got {value!r}")
    return float(low), float(high)


def min_max(owner, name, value, positive=False):
    """A (min, max) pair with min <= max (and both > 0 when ``positive``)."""
    if not (isinstance(value, (tuple, list)) and len(value) == 2 and all(is_number(v) for v in value)):
        raise ValueError(f"{owner}: {name} must be a (min, max) pair of numbers, got {value!r}")
    low, high = float(value[0]), float(value[1])
    if low > high:
        raise ValueError(f"{owner}: {name} must be given as (min, max) with min <= max, got {value!r}")
    if positive and low <= 0:
        raise ValueError(f"{owner}: {name} values must be positive, got {value!r}")
    return low, high
