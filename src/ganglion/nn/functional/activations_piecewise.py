"""The piecewise-linear activations as Functions on raw arrays: LeakyReLU, PReLU, Hardtanh (ReLU6), Hardsigmoid,
Hardswish, Threshold, Hardshrink/Softshrink. At a kink the derivative takes PyTorch's one-sided value (named in each
docstring). ``nn.functional.activations`` is their public face.

Each derivative is piecewise constant in x (Hardswish's is linear in its middle piece): the ``backward_graph`` rules
apply the same constant masks to Tensors, so double backward sees only the dependence on dy (and on PReLU's weight,
and Hardswish's x)."""

from ...autograd.function import Function
from ...ops import where
from ._select import keep, select


class LeakyReLU(Function):
    """y = x if x > 0 else slope x;  dy/dx = 1 if x > 0 else slope. ``in_place``: y written over x (backward reads
    only the mask, so any slope may be used in place)."""

    def forward(self, x, slope, in_place=False):
        positive = x > 0
        self.save(positive, slope)
        if in_place:
            self.xp.copyto(x, x * slope, where=~positive)
            return x
        return select(positive, x, x * slope, self.xp)

    def backward(self, dy):
        positive, slope = self.saved
        return select(positive, dy, dy * slope, self.xp)

    def backward_graph(self, dy):
        positive, slope = self.saved
        return where(positive, dy, dy * slope)


class PReLU(Function):
    """y = x if x > 0 else w_c x, with one learned slope per channel c (dim 1) or one shared slope.

    dy/dx = 1 if x > 0 else w_c;  dy/dw_c = sum over everything but the channel of (x if x <= 0 else 0) dy.
    """

    def forward(self, x, w):
        shared = w.size == 1
        wb = w.reshape(()) if shared else w.reshape((1, -1) + (1,) * (x.ndim - 2))
        positive = x > 0
        self.save(x, positive, wb, w.shape, shared)
        return select(positive, x, x * wb, self.xp)

    def backward(self, dy):
        x, positive, wb, w_shape, shared = self.saved
        xp = self.xp
        dx = select(positive, dy, dy * wb, xp) if self.needs_input_grad[0] else None
        dw = None
        if self.needs_input_grad[1]:
            contrib = keep(~positive, x * dy, xp)
            if shared:
                dw = contrib.sum().reshape(w_shape)
            else:
                dw = contrib.sum(axis=tuple(a for a in range(x.ndim) if a != 1))
        return dx, dw

    def backward_graph(self, dy):
        _, positive, wb, w_shape, shared = self.saved
        x, w = self.inputs
        dx = dw = None
        if self.needs_input_grad[0]:
            dx = where(positive, dy, dy * w.reshape(wb.shape))
        if self.needs_input_grad[1]:
            contrib = where(positive, 0.0, x * dy)
            if shared:
                dw = contrib.sum().reshape(w_shape)
            else:
                dw = contrib.sum(axis=tuple(a for a in range(x.ndim) if a != 1))
        return dx, dw


class _PassWhere(Function):
    """An op whose derivative is 1 where a mask is True and 0 elsewhere: dx = dy * mask. Its forward saves the mask
    (a bool array, the only thing backward reads)."""

    def backward(self, dy):
        (mask,) = self.saved
        return keep(mask, dy, self.xp)

    def backward_graph(self, dy):
        (mask,) = self.saved
        return dy * mask


class Hardtanh(_PassWhere):
    """y = clamp(x, lo, hi);  dy/dx = 1 where lo < x < hi, else 0 (0 at the kinks, as PyTorch)."""

    def forward(self, x, lo, hi, in_place=False):
        self.save((x > lo) & (x < hi))
        return self.xp.clip(x, lo, hi, out=x if in_place else None)


class Hardsigmoid(Function):
    """y = clamp(x + 3, 0, 6) / 6;  dy/dx = 1/6 where -3 < x < 3, else 0."""

    def forward(self, x):
        self.save(x)
        return self.xp.clip(x + 3.0, 0.0, 6.0) / 6.0

    def backward(self, dy):
        (x,) = self.saved
        return keep((x > -3.0) & (x < 3.0), dy / 6.0, self.xp)

    def backward_graph(self, dy):
        (x,) = self.saved
        return (dy / 6.0) * ((x > -3.0) & (x < 3.0))


class Hardswish(Function):
    """y = x clamp(x + 3, 0, 6) / 6;  dy/dx = 0 for x <= -3, x/3 + 1/2 for -3 < x < 3, 1 for x >= 3."""

    def forward(self, x):
        self.save(x)
        return x * self.xp.clip(x + 3.0, 0.0, 6.0) / 6.0

    def backward(self, dy):
        (x,) = self.saved
        xp = self.xp
        slope = select(x >= 3.0, 1.0, x / 3.0 + 0.5, xp)
        return keep(x > -3.0, dy * slope, xp)

    def backward_graph(self, dy):
        (x,) = self.saved
        slope = where(x >= 3.0, 1.0, self.inputs[0] / 3.0 + 0.5)
        return dy * slope * (x > -3.0)


class Threshold(_PassWhere):
    """y = value if x <= threshold else x;  dy/dx = 0 if x <= threshold else 1 (PyTorch's rule: NaN is kept, and
    passes the gradient)."""

    def forward(self, x, threshold, value, in_place=False):
        kept = ~(x <= threshold)
        self.save(kept)
        if in_place:
            self.xp.copyto(x, value, where=~kept)
            return x
        return select(kept, x, value, self.xp)


class Shrink(_PassWhere):
    """Hardshrink: y = x where |x| > lambd, else 0.  Softshrink: y = x - lambd sign(x) where |x| > lambd, else 0.

    dy/dx = 1 where |x| > lambd, else 0 (both).
    """

    def forward(self, x, lambd, soft):
        outside = (x > lambd) | (x < -lambd)
        self.save(outside)
        if soft:  # x - clamp(x, -lambd, lambd) is x -+ lambd outside and exactly 0 inside
            return x - self.xp.clip(x, -lambd, lambd)
        return keep(outside, x, self.xp)
