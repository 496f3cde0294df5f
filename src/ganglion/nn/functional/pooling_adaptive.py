"""Adaptive pooling: the output size is given and the windows follow from it, as in PyTorch:
window i of out along a dim of size n spans [floor(i n / out), ceil((i + 1) n / out)) (unequal, possibly
overlapping windows). Average: equal tiling windows become one average pool, otherwise one resampling pass per
axis (an average over a box is an average along each axis in turn). Max: one running maximum over the window
offsets. ``adaptive_*_pool2d(x, 1)`` is global pooling, one reduction over the spatial dims.
"""

import math
from itertools import product

from ... import backend
from ...autograd.function import Function
from ...ops.indexing import accumulate_at
from ._taps import apply_taps, window_taps
from .window import drop_batch_dim, element_strides, ntuple
from .pooling import AvgPool, _max_and_first, batch_of


def adaptive_windows(size, out):
    """PyTorch's adaptive windows: start_i = floor(i size / out), end_i = ceil((i + 1) size / out)."""
    np = backend.np
    i = np.arange(out)
    return (i * size) // out, -((-(i + 1) * size) // out)


class AdaptiveMaxPool(Function):
    """y[o] = max of x over window o (windows of unequal size, possibly overlapping); indices as PyTorch's."""

    def forward(self, x, out):
        xp = self.xp
        np = backend.np
        sizes = x.shape[2:]
        n, c = x.shape[:2]
        if all(o == 1 for o in out):  # global max: one reduction over the flattened plane
            rows = x.reshape(n, c, -1)
            flat = xp.argmax(rows, axis=-1)
            nan = rows != rows
            if nan.any():  # PyTorch picks the last NaN of a window
                last = rows.shape[-1] - 1 - xp.argmax(nan[..., ::-1], axis=-1)
                flat = xp.where(nan.any(axis=-1), last, flat)
            best = xp.take_along_axis(rows, flat[..., None], axis=-1)
            shape = (n, c) + (1,) * len(sizes)
            best, flat = best.reshape(shape), flat.reshape(shape)
        else:
            tables = []
            for size, o in zip(sizes, out):
                starts, ends = adaptive_windows(size, o)
                tables.append(window_taps(size, starts, ends)[0])
            strides = element_strides(sizes)
            candidates, positions = [], []
            for taps in product(*(range(t.shape[1]) for t in tables)):
                grids = np.ix_(*(t[:, j] for t, j in zip(tables, taps)))
                candidates.append(x[(slice(None), slice(None)) + tuple(xp.asarray(g) for g in grids)])
                positions.append(sum(g * e for g, e in zip(grids, strides)))
            best, arg = _max_and_first(xp, candidates)
            flat = xp.asarray(np.stack([np.broadcast_to(p, out) for p in positions]))[(arg,) + _grid_index(xp, out)]
        self.save(flat, x.shape)
        return best, flat

    def backward(self, dy, *_):
        flat, shape = self.saved
        return _scatter_planes(self.xp, dy, flat, shape)

    def backward_graph(self, dy, *_):
        """dy added at each window's winner, as one index-accumulate (its own backward gathers there)."""
        flat, shape = self.saved
        xp = self.xp
        n, c = shape[:2]
        samples = xp.arange(n).reshape((n,) + (1,) * (flat.ndim - 1))
        channels = xp.arange(c).reshape((1, c) + (1,) * (flat.ndim - 2))
        return accumulate_at(dy, shape, (samples, channels) + tuple(xp.unravel_index(flat, shape[2:])))


def _grid_index(xp, out):
    """Index arrays selecting every output position (to pair with a per-position candidate number)."""
    return tuple(xp.asarray(g) for g in backend.np.indices(out, sparse=True))


def _scatter_planes(xp, values, flat, shape):
    """An array of ``shape`` (N, C, *spatial) with ``values`` summed in at the flat in-plane positions ``flat``."""
    n, c = shape[:2]
    plane = math.prod(shape[2:])
    rows = xp.arange(n * c, dtype=xp.int64).reshape((n, c) + (1,) * (flat.ndim - 2)) * plane
    summed = xp.bincount((rows + flat).reshape(-1), weights=values.reshape(-1), minlength=n * c * plane)
    return summed.astype(values.dtype).reshape(shape)


def adaptive_output_size(fn, output_size, sizes):
    """``output_size`` (int, or a tuple whose None entries keep the input's size) as a tuple of ints >= 1."""
    nd = len(sizes)
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != nd:
            raise ValueError(f"{fn}: output_size must be an int or a tuple of {nd} ints, got {tuple(output_size)}")
        output_size = tuple(s if o is None else o for o, s in zip(output_size, sizes))
    return ntuple(output_size, nd, "output_size", fn)


def adaptive_avg_pool(input, output_size, nd, fn):
    """The shared body of adaptive_avg_pool1d/2d/3d."""
    x, unbatched = batch_of(fn, input, nd)
    sizes = tuple(x.shape[2:])
    out = adaptive_output_size(fn, output_size, sizes)
    spatial = tuple(range(2, 2 + nd))
    if all(o == 1 for o in out):
        y = x.mean(dim=spatial, keepdim=True)
    elif all(s % o == 0 for s, o in zip(sizes, out)):  # equal windows that tile the input: a plain average pool
        kernel = tuple(s // o for s, o in zip(sizes, out))
        y = AvgPool.apply(x, kernel, kernel, (0,) * nd, out, float(math.prod(kernel)))
    else:  # an average over a box is an average along each axis in turn
        y = x
        for dim, (size, o) in enumerate(zip(sizes, out)):
            if size != o:
                index, weight, rows = window_taps(size, *adaptive_windows(size, o))
                y = apply_taps(y, 2 + dim, index, weight, rows)
    return drop_batch_dim(y, unbatched)


def adaptive_avg_pool1d(input, output_size):
    """Mean over PyTorch's adaptive windows. (N, C, L) or (C, L) -> (N, C, output_size)."""
    return adaptive_avg_pool(input, output_size, 1, "adaptive_avg_pool1d")


def adaptive_avg_pool2d(input, output_size):
    """Mean over PyTorch's adaptive windows. (N, C, H, W) or (C, H, W) -> (N, C, *output_size); 1 is global
    average pooling."""
    return adaptive_avg_pool(input, output_size, 2, "adaptive_avg_pool2d")


def adaptive_avg_pool3d(input, output_size):
    """Mean over PyTorch's adaptive windows. (N, C, D, H, W) or (C, D, H, W) -> (N, C, *output_size)."""
    return adaptive_avg_pool(input, output_size, 3, "adaptive_avg_pool3d")


def adaptive_max_pool(input, output_size, return_indices, nd, fn):
    """The shared body of adaptive_max_pool1d/2d/3d."""
    x, unbatched = batch_of(fn, input, nd)
    if any(s < 1 for s in x.shape[2:]):
        raise ValueError(f"{fn}: expected a non-empty spatial size, got input of shape {tuple(input.shape)}")
    out = adaptive_output_size(fn, output_size, tuple(x.shape[2:]))
    values, indices = AdaptiveMaxPool.apply(x, out)
    values, indices = drop_batch_dim(values, unbatched), drop_batch_dim(indices, unbatched)
    return (values, indices) if return_indices else values


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max over PyTorch's adaptive windows. (N, C, L) or (C, L) -> (N, C, output_size)."""
    return adaptive_max_pool(input, output_size, return_indices, 1, "adaptive_max_pool1d")


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max over PyTorch's adaptive windows. (N, C, H, W) or (C, H, W) -> (N, C, *output_size); 1 is global max
    pooling."""
    return adaptive_max_pool(input, output_size, return_indices, 2, "adaptive_max_pool2d")


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Max over PyTorch's adaptive windows. (N, C, D, H, W) or (C, D, H, W) -> (N, C, *output_size)."""
    return adaptive_max_pool(input, output_size, return_indices, 3, "adaptive_max_pool3d")
