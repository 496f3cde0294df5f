"""Sliding windows over the spatial dimensions of (N, C, *spatial) arrays, shared by convolution and pooling.

- the input's rank checked, and an unbatched (C, *spatial) input seen as a batch of one (``add_batch_dim``);
- PyTorch's output-size arithmetic, out = floor((in + pad_lo + pad_hi - dilation (kernel - 1) - 1) / stride) + 1,
  with an error that shows the formula's numbers when the input is too small;
- im2col as a strided view copied once (no Python loop over positions) and its adjoint col2im (a loop over the
  kernel offsets only, each one whole-array strided add).

Two im2col layouts, chosen per call:

- compact: cols[n, c, k, o] = x[n, c, o * stride + k * dilation], with o running over the output positions;
- flat (every stride 1): the padded spatial dims are read as one row-major line, and output position o sits at
  p(o) = sum_d o_d e_d, where e_d is the element stride of padded dim d. Then window offset k adds the constant
  sum_d k_d dilation_d e_d, so cols[n, c, k, :] is one contiguous slice of length L = p(out - 1) + 1 for every k.
  The positions in between (o_d beyond out_d along an inner dim) are computed and thrown away; in exchange every
  copy and every col2im add runs over long contiguous rows, which is what NumPy is fast at.
"""

import math
from itertools import product

from ... import backend
from ...arguments import ntuple  # noqa: F401 - kernel_size=3 -> (3, 3), re-exported for the window ops

SPATIAL_NAMES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


# --------------------------------------------------------------------------------------------- arguments
def spatial_shape_text(nd, batch=True, channels="C"):
    """``(N, C, H, W)``-style text for error messages."""
    names = ("N", str(channels)) if batch else (str(channels),)
    return "(" + ", ".join(names + SPATIAL_NAMES[nd]) + ")"


def check_rank(fn, x, nd, allow_unbatched=True):
    """Raise ValueError unless ``x`` is (N, C, *spatial) or, when allowed, unbatched (C, *spatial)."""
    ranks = (nd + 1, nd + 2) if allow_unbatched else (nd + 2,)
    if x.ndim not in ranks:
        accepted = f"{nd + 2}-D {spatial_shape_text(nd)}"
        if allow_unbatched:
            accepted = f"{nd + 1}-D {spatial_shape_text(nd, batch=False)} or " + accepted
        raise ValueError(f"{fn}: expected a {accepted} input, got a {x.ndim}-D input of shape {tuple(x.shape)}")
    return x.ndim == nd + 1


def add_batch_dim(x, unbatched):
    """An unbatched (C, *spatial) input as a batch of one, (1, C, *spatial); a batched one as it is."""
    return x.reshape((1,) + tuple(x.shape)) if unbatched else x


def drop_batch_dim(y, unbatched):
    """The inverse of ``add_batch_dim`` on a result: (1, C, *out) -> (C, *out) when the input was unbatched."""
    return y.reshape(tuple(y.shape[1:])) if unbatched else y


# ------------------------------------------------------------------------------------------ output sizes
def output_sizes(fn, in_sizes, kernel, stride, pads, dilation, ceil_mode=False, what="kernel", must_fit=True):
    """PyTorch's output size per spatial dim; ``pads`` holds (lo, hi) per dim.

    out = floor((in + lo + hi - dilation (kernel - 1) - 1) / stride) + 1 (ceil instead of floor with ``ceil_mode``,
    where the last window must also start inside the input or its left padding, as in PyTorch's pooling).
    Raises ValueError with the formula's numbers when a dimension comes out smaller than 1 or, with ``must_fit``
    (convolutions), when the dilated kernel is larger than the padded input.
    """
    outs = []
    for size, k, s, (lo, hi), d in zip(in_sizes, kernel, stride, pads, dilation):
        span = size + lo + hi - d * (k - 1) - 1
        out = (-(-span // s) if ceil_mode else span // s) + 1
        if ceil_mode and (out - 1) * s >= size + lo:
            out -= 1
        outs.append(out)
    too_big = must_fit and any(size + lo + hi < d * (k - 1) + 1
                               for size, k, (lo, hi), d in zip(in_sizes, kernel, pads, dilation))
    if too_big or any(o < 1 for o in outs):
        rounding = "ceil" if ceil_mode else "floor"
        terms = "; ".join(
            f"{rounding}(({size} + {lo} + {hi} - {d}*({k} - 1) - 1) / {s}) + 1 = {o}"
            for size, k, s, (lo, hi), d, o in zip(in_sizes, kernel, stride, pads, dilation, outs)
        )
        padded = tuple(size + lo + hi for size, (lo, hi) in zip(in_sizes, pads))
        effective = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
        raise ValueError(
            f"{fn}: the input is too small for the {what}: spatial size {tuple(in_sizes)}, padded {padded}, "
            f"{what} {tuple(kernel)} (with dilation {tuple(dilation)}: {effective}). Output size "
            f"{rounding}((in + pad_lo + pad_hi - dilation*(kernel - 1) - 1) / stride) + 1 gives {terms}; "
            "each must be >= 1"
        )
    return tuple(outs)


# ------------------------------------------------------------------------------------------------- arrays
def as_strided(x, shape, strides):
    xp = backend.get_array_module(x)
    return xp.lib.stride_tricks.as_strided(x, shape=tuple(shape), strides=tuple(strides))


def pad_array(xp, x, pads, work, value=0):
    """``x`` padded with ``value`` by (lo, hi) per spatial dim, as a C-contiguous array of the workspace ``work``;
    ``x`` itself (or a contiguous copy of it, not ``work``'s) when there is nothing to pad."""
    if not any(lo or hi for lo, hi in pads):
        return xp.ascontiguousarray(x)
    lead = x.ndim - len(pads)
    shape = x.shape[:lead] + tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[lead:], pads))
    out = work.empty(shape, x.dtype)
    everything = [slice(None)] * out.ndim
    for dim, (size, (lo, _)) in enumerate(zip(x.shape[lead:], pads)):  # only the border is filled
        for border in (slice(0, lo), slice(lo + size, None)):
            index = list(everything)
            index[lead + dim] = border
            out[tuple(index)] = value
    out[(Ellipsis,) + tuple(slice(lo, lo + s) for s, (lo, _) in zip(x.shape[lead:], pads))] = x
    return out


def crop(x, pads, sizes):
    """The interior of a padded (N, C, *padded) array: x[:, :, lo:lo + size] per spatial dim (a view);
    ``pads`` holds (lo, hi) per dim."""
    return x[(slice(None), slice(None)) + tuple(slice(lo, lo + s) for (lo, _), s in zip(pads, sizes))]


def element_strides(sizes):
    """Row-major strides, in elements, of an array of spatial shape ``sizes``."""
    strides, step = [], 1
    for s in reversed(sizes):
        strides.append(step)
        step *= s
    return tuple(reversed(strides))


def kernel_slices(kernel, stride, dilation, out):
    """For each kernel offset (row-major), the tuple of slices selecting its input element in every window."""
    return [
        tuple(slice(k * d, k * d + s * (o - 1) + 1, s) for k, s, d, o in zip(offset, stride, dilation, out))
        for offset in product(*(range(k) for k in kernel))
    ]


class Layout:
    """How im2col laid out the output positions: ``flat`` (see the module docstring) or compact."""

    __slots__ = ("flat", "length", "padded", "kernel", "stride", "dilation", "out")

    def __init__(self, padded, kernel, stride, dilation, out):
        self.padded, self.kernel, self.stride, self.dilation, self.out = padded, kernel, stride, dilation, out
        compact = math.prod(out)
        e = element_strides(padded)
        flat_length = sum((o - 1) * ed for o, ed in zip(out, e)) + 1
        # flat pays for the skipped positions: worth it while they are at most as many as the kept ones
        self.flat = len(out) > 1 and all(s == 1 for s in stride) and flat_length <= 2 * compact
        self.length = flat_length if self.flat else compact

    def offsets(self):
        """Flat layout: the start of each kernel offset's slice in the padded line."""
        e = element_strides(self.padded)
        return [sum(k * d * ed for k, d, ed in zip(offset, self.dilation, e))
                for offset in product(*(range(k) for k in self.kernel))]

    def gapless(self):
        """True when the layout holds exactly the output positions (no gaps to skip)."""
        return self.length == math.prod(self.out)

    def one_to_one(self):
        """True when every padded position is exactly one window of one element: col2im is then a reshape."""
        return math.prod(self.kernel) == 1 and self.gapless() and self.out == self.padded


def im2col(x, layout, work, ones=False):
    """cols (N, C * prod(kernel), L) from the padded, C-contiguous x (N, C, *padded), in ``layout``'s order: a copy
    in the workspace ``work``, or a view of x for a one-element kernel. ``ones`` (kernels of
    more than one element) appends a row of ones, (N, C * prod(kernel) + 1, L), for a bias to ride in a product."""
    n, c = x.shape[:2]
    item = x.itemsize
    kernel, dilation = layout.kernel, layout.dilation
    k_total = math.prod(kernel)
    if layout.flat:
        e = element_strides(layout.padded)
        view = as_strided(x, (n, c) + kernel + (layout.length,),
                          x.strides[:2] + tuple(d * ed * item for d, ed in zip(dilation, e)) + (item,))
    else:
        spatial = x.strides[2:]
        view = as_strided(x, (n, c) + kernel + layout.out,
                          x.strides[:2] + tuple(d * st for d, st in zip(dilation, spatial))
                          + tuple(s * st for s, st in zip(layout.stride, spatial)))
    shape = (n, c * k_total, layout.length)
    if k_total == 1:  # nothing to copy when every window is one element (a view where the strides allow)
        return view.reshape(shape)
    cols = work.empty((n, c * k_total + ones, layout.length), x.dtype)
    windows = cols[:, : c * k_total].view()
    windows.shape = view.shape  # splits one axis: always a view (setting .shape raises rather than copy)
    windows[...] = view
    if ones:
        cols[:, -1] = 1
    return cols


def to_layout(xp, y, layout, work, margin=0):
    """(N, C, *out) -> (N, C, margin + L + margin) in ``layout``: zeros in the margins and at the flat layout's
    skipped positions, the values at [margin, margin + L). An array of the workspace ``work``, or y itself (made
    contiguous) when y already is that."""
    n, c = y.shape[:2]
    if layout.gapless() and not margin:
        return xp.ascontiguousarray(y).reshape(n, c, layout.length)
    full = work.zeros((n, c, layout.length + 2 * margin), y.dtype)
    from_layout(full[:, :, margin:margin + layout.length], layout)[...] = y
    return full


def from_layout(y, layout):
    """(N, C, L) in ``layout`` -> a view (N, C, *out) of the output positions."""
    n, c = y.shape[:2]
    if layout.gapless():
        return y.reshape((n, c) + layout.out)
    item = y.itemsize
    e = element_strides(layout.padded)
    return as_strided(y, (n, c) + layout.out, y.strides[:2] + tuple(ed * item for ed in e))


def col2im(xp, cols, channels, layout):
    """The adjoint of im2col: sum cols (N, C * prod(kernel), L) back into a new padded array (N, C, *padded); a
    view of ``cols`` when ``layout.one_to_one()``."""
    n = cols.shape[0]
    k_total = math.prod(layout.kernel)
    padded = layout.padded
    if layout.one_to_one():
        return cols.reshape((n, channels) + padded)
    cols = cols.reshape(n, channels, k_total, layout.length)
    if layout.flat:
        dx = xp.zeros((n, channels, math.prod(padded)), dtype=cols.dtype)
        length = layout.length
        for k, start in enumerate(layout.offsets()):
            dx[:, :, start:start + length] += cols[:, :, k]
        return dx.reshape((n, channels) + padded)
    dx = xp.zeros((n, channels) + padded, dtype=cols.dtype)
    cols = cols.reshape((n, channels, k_total) + layout.out)
    for k, where in enumerate(kernel_slices(layout.kernel, layout.stride, layout.dilation, layout.out)):
        dx[(slice(None), slice(None)) + where] += cols[:, :, k]
    return dx
