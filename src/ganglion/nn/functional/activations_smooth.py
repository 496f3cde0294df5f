"""The smooth activations as Functions on raw arrays: ELU (SELU, CELU), Softplus, LogSigmoid, SiLU, Mish, GELU,
Softsign, Tanhshrink, GLU. Each forward is fused and overflow-free (inputs of any finite size give finite, exact
values); each backward is the exact derivative. ``nn.functional.activations`` is their public face.

Under ``create_graph=True`` each one's ``backward_graph`` writes the same derivative with differentiable ops on the
input Tensor (masks of the input stay constants), so activations differentiate to any order."""

import math

from ... import backend
from ...autograd.function import Function
from ...ops import cat, exp, sigmoid, tanh, where
from ._select import select
from .special import ndtr

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_GELU_TANH_C = 0.044715


def _sigmoid(x, xp):
    """1 / (1 + e^-x) on an array: exact for every x (e^-x may overflow to inf, giving the correct limit 0)."""
    with backend.errstate(over="ignore"):
        e = xp.exp(-x)
    e += 1.0
    return 1.0 / e


def _softplus(x, xp):
    """log(1 + e^x) = max(x, 0) + log1p(e^-|x|): never overflows, exact in both tails."""
    return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))


class ELU(Function):
    """ELU, SELU and CELU in one rule: y = scale x for x > 0, else scale alpha (e^{input_scale x} - 1).

    dy/dx = scale for x > 0, else scale alpha input_scale e^{input_scale x}.
    ELU: scale = input_scale = 1.  SELU: fixed alpha and scale.  CELU: input_scale = 1/alpha.
    """

    def forward(self, x, alpha, scale, input_scale):
        xp = self.xp
        # max(x, 0) + alpha (e^{min(x, 0) input_scale} - 1): each term is exactly 0 where the other applies
        y = xp.expm1(xp.minimum(x, 0) * input_scale)
        y *= alpha
        y += xp.maximum(x, 0)
        if scale != 1.0:
            y *= scale
        self.save(x, alpha, scale, input_scale)
        return y

    def backward(self, dy):
        x, alpha, scale, input_scale = self.saved
        xp = self.xp
        slope = xp.exp(xp.minimum(x, 0) * input_scale)
        slope *= scale * alpha * input_scale
        return select(x > 0, dy * scale, dy * slope, xp)

    def backward_graph(self, dy):
        x, alpha, scale, input_scale = self.saved
        positive = x > 0
        slope = exp(where(positive, 0.0, self.inputs[0]) * input_scale) * (scale * alpha * input_scale)
        return where(positive, dy * scale, dy * slope)


class Softplus(Function):
    """y = log(1 + e^{beta x}) / beta, and y = x where beta x > threshold;  dy/dx = sigmoid(beta x) (1 there)."""

    def forward(self, x, beta, threshold):
        xp = self.xp
        bx = x * beta if beta != 1 else x
        soft = _softplus(bx, xp)
        if beta != 1:
            soft /= beta
        linear = bx > threshold
        self.save(bx, linear)
        return select(linear, x, soft, xp)

    def backward(self, dy):
        bx, linear = self.saved
        return select(linear, dy, dy * _sigmoid(bx, self.xp), self.xp)

    def backward_graph(self, dy):
        _, linear = self.saved
        x, beta = self.inputs[:2]
        return where(linear, dy, dy * sigmoid(x * beta if beta != 1 else x))


def softplus_graph(x):
    """log(1 + e^x) of a Tensor, differentiable to any order (Softplus with no linear region)."""
    return Softplus.apply(x, 1.0, math.inf)


class LogSigmoid(Function):
    """y = log sigmoid(x) = -softplus(-x) = min(x, 0) - log(1 + e^-|x|);  dy/dx = sigmoid(-x)."""

    def forward(self, x):
        xp = self.xp
        self.save(x)
        return xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))

    def backward(self, dy):
        (x,) = self.saved
        return dy * _sigmoid(-x, self.xp)

    def backward_graph(self, dy):
        return dy * sigmoid(-self.inputs[0])


class SiLU(Function):
    """SiLU / Swish: y = x sigmoid(x);  dy/dx = s (1 + x (1 - s)) with s = sigmoid(x)."""

    def forward(self, x):
        s = _sigmoid(x, self.xp)
        self.save(x, s)
        return x * s

    def backward(self, dy):
        x, s = self.saved
        return dy * s * (1.0 + x * (1.0 - s))

    def backward_graph(self, dy):
        x = self.inputs[0]
        s = sigmoid(x)
        return dy * s * (1.0 + x * (1.0 - s))


class Mish(Function):
    """y = x tanh(softplus(x));  dy/dx = t + x sigmoid(x) (1 - t^2) with t = tanh(softplus(x))."""

    def forward(self, x):
        xp = self.xp
        t = xp.tanh(_softplus(x, xp))
        self.save(x, t)
        return x * t

    def backward(self, dy):
        x, t = self.saved
        return dy * (t + x * _sigmoid(x, self.xp) * (1.0 - t * t))

    def backward_graph(self, dy):
        x = self.inputs[0]
        t = tanh(softplus_graph(x))
        return dy * (t + x * sigmoid(x) * (1.0 - t * t))


class GELU(Function):
    """y = x Phi(x), Phi the standard normal CDF (exact, via erfc);  dy/dx = Phi(x) + x phi(x).

    approximate="tanh": y = x (1 + tanh(u)) / 2 with u = sqrt(2/pi) (x + 0.044715 x^3);
    dy/dx = (1 + t) / 2 + x (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2) / 2 with t = tanh(u).
    """

    def forward(self, x, approximate):
        xp = self.xp
        if approximate == "tanh":
            t = xp.tanh(_SQRT_2_OVER_PI * (x + _GELU_TANH_C * (x * x * x)))
            self.save(x, t, approximate)
            return 0.5 * x * (1.0 + t)
        cdf = ndtr(x, xp)
        self.save(x, cdf, approximate)
        return x * cdf

    def backward(self, dy):
        x, t, approximate = self.saved
        xp = self.xp
        if approximate == "tanh":
            du = _SQRT_2_OVER_PI * (1.0 + (3.0 * _GELU_TANH_C) * (x * x))
            return dy * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * du)
        pdf = xp.exp(-0.5 * (x * x))
        pdf *= _INV_SQRT_2PI
        return dy * (t + x * pdf)

    def backward_graph(self, dy):
        approximate = self.saved[2]
        x = self.inputs[0]
        if approximate == "tanh":
            t = tanh(_SQRT_2_OVER_PI * (x + _GELU_TANH_C * (x * x * x)))
            du = _SQRT_2_OVER_PI * (1.0 + (3.0 * _GELU_TANH_C) * (x * x))
            return dy * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * du)
        return dy * (NormalCDF.apply(x) + x * exp(-0.5 * (x * x)) * _INV_SQRT_2PI)


class NormalCDF(Function):
    """Phi(x), the standard normal CDF (exact, via erfc);  dPhi/dx = phi(x) = e^{-x^2/2} / sqrt(2 pi).

    GELU's derivative contains Phi; this op makes that derivative differentiable again."""

    backward_composes = True

    def forward(self, x):
        self.save(x)
        return ndtr(x, self.xp)

    def backward(self, dy):
        (x,) = self.saved
        return dy * (self.xp.exp(-0.5 * (x * x)) * _INV_SQRT_2PI)


class Softsign(Function):
    """y = x / (1 + |x|);  dy/dx = 1 / (1 + |x|)^2."""

    def forward(self, x):
        d = 1.0 + self.xp.abs(x)
        self.save(d)
        return x / d

    def backward(self, dy):
        (d,) = self.saved
        return dy / (d * d)

    def backward_graph(self, dy):
        d = 1.0 + self.inputs[0].abs()
        return dy / (d * d)


class Tanhshrink(Function):
    """y = x - tanh x;  dy/dx = tanh^2 x."""

    def forward(self, x):
        t = self.xp.tanh(x)
        self.save(t)
        return x - t

    def backward(self, dy):
        (t,) = self.saved
        return dy * (t * t)

    def backward_graph(self, dy):
        t = tanh(self.inputs[0])
        return dy * (t * t)


class GLU(Function):
    """Gated linear unit: split x in halves a, b along ``dim``; y = a sigmoid(b).

    dy/da = sigmoid(b);  dy/db = a s (1 - s).  x: (*, 2n, *) -> (*, n, *).
    """

    def forward(self, x, dim):
        xp = self.xp
        a, b = xp.split(x, 2, axis=dim)
        s = _sigmoid(b, xp)
        self.save(a, s, dim)
        return a * s

    def backward(self, dy):
        a, s, dim = self.saved
        da = dy * s
        return self.xp.concatenate([da, da * a * (1.0 - s)], axis=dim)

    def backward_graph(self, dy):
        dim = self.saved[2]
        a, b = self.inputs[0].chunk(2, dim)
        s = sigmoid(b)
        da = dy * s
        return cat([da, da * a * (1.0 - s)], dim)
