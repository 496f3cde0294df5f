"""Special functions on raw arrays (NumPy or CuPy): erf, erfc, the normal CDF Phi and its inverse.

NumPy has no erf. These follow W. J. Cody's rational Chebyshev approximations ("Rational Chebyshev approximations
for the error function", Math. Comp. 23, 1969; the coefficients are his, public domain): three intervals of |x|,

    |x| <= 0.46875:        erf(x)  = x R1(x^2)
    0.46875 < |x| <= 4:    erfc(x) = e^{-x^2} R2(x)
    |x| > 4:               erfc(x) = e^{-x^2} / x (1/sqrt(pi) - R3(1/x^2) / x^2)

good to about 1e-16 relative in float64 (erfc keeps that relative accuracy deep into the tail, where 1 - erf would
round to 0). They run in the input's dtype, so float32 stays float32 and costs float32 time.
"""

import math

from ... import backend
from ._select import select

# Cody's coefficients as polynomials, highest degree first (the denominators are monic)
_SMALL_NUM = (1.85777706184603153e-1, 3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02,
              3.20937758913846947e03)
_SMALL_DEN = (1.0, 2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03, 2.84423683343917062e03)
_MID_NUM = (2.15311535474403846e-8, 5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01,
            2.98635138197400131e02, 8.81952221241769090e02, 1.71204761263407058e03, 2.05107837782607147e03,
            1.23033935479799725e03)
_MID_DEN = (1.0, 1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02, 1.62138957456669019e03,
            3.29079923573345963e03, 4.36261909014324716e03, 3.43936767414372164e03, 1.23033935480374942e03)
_FAR_NUM = (1.63153871373020978e-2, 3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1,
            1.60837851487422766e-2, 6.58749161529837803e-4)
_FAR_DEN = (1.0, 2.56852019228982242e00, 1.87295284992346047e00, 5.27905102951428412e-1, 6.05183413124413191e-2,
            2.33520497626869185e-3)

_SMALL = 0.46875
_INV_SQRT_PI = 1.0 / math.sqrt(math.pi)
_INV_SQRT2 = 1.0 / math.sqrt(2.0)
_SQRT_2PI = math.sqrt(2.0 * math.pi)
_CHUNK = 32768  # elements per chunk on the CPU: 128-256 KiB per temporary


def _horner(t, coeffs):
    """coeffs[0] t^n + ... + coeffs[n], in place after the first step (the arrays can be large)."""
    acc = coeffs[0] * t
    acc += coeffs[1]
    for c in coeffs[2:]:
        acc *= t
        acc += c
    return acc


def _erf_small(x, xp):
    """erf(x) for |x| <= 0.46875: x R1(x^2) (x is clamped into that interval; other values are discarded)."""
    x = xp.clip(x, -_SMALL, _SMALL)
    z = x * x
    num = _horner(z, _SMALL_NUM)
    num *= x
    num /= _horner(z, _SMALL_DEN)
    return num


def _erfc_large(y, xp):
    """erfc(y) for y >= 0.46875 (values of y below are computed, finitely, and discarded by the caller).

    Both outer intervals' formulas run on the whole array and ``select`` keeps the right one: no gathers, no branches
    (the |x| > 4 one only when some value is there)."""
    y = xp.minimum(y, 40.0)  # erfc(40) is 0 even in float64; keeps inf from turning into inf - inf below
    r = _horner(y, _MID_NUM)
    r /= _horner(y, _MID_DEN)
    far = y > 4.0
    if far.any():
        yf = xp.maximum(y, 4.0)
        z = 1.0 / (yf * yf)
        r_far = _horner(z, _FAR_NUM)
        r_far *= z
        r_far /= _horner(z, _FAR_DEN)
        r_far = (_INV_SQRT_PI - r_far) / yf
        r = select(far, r_far, r, xp)
    # e^{-y^2} without the rounding error of y^2: y = s + (y - s) with s a multiple of 1/16, so s^2 is exact
    s = xp.trunc(y * 16.0)
    s *= 1.0 / 16.0
    d = y - s
    d *= y + s
    xp.negative(d, out=d)
    xp.exp(d, out=d)
    s *= s
    xp.negative(s, out=s)
    xp.exp(s, out=s)
    r *= s
    r *= d
    return r


def _elementwise(fn):
    """Run ``fn`` (a chain of many element-wise passes) chunk by chunk on NumPy arrays, so that its temporaries stay
    in the CPU cache: 3-4x faster than whole-array passes on large inputs. A 0-d array runs as a 1-element one
    (NumPy turns 0-d results into scalars, which the in-place steps cannot write to). CuPy arrays run whole."""

    def wrapped(x, xp):
        if x.ndim == 0:
            return fn(x.reshape(1), xp).reshape(())
        if xp is not backend.np or x.size <= _CHUNK:
            return fn(x, xp)
        flat = x.reshape(-1)
        out = xp.empty_like(flat)
        for start in range(0, flat.size, _CHUNK):
            out[start:start + _CHUNK] = fn(flat[start:start + _CHUNK], xp)
        return out.reshape(x.shape)

    wrapped.__name__, wrapped.__doc__ = fn.__name__, fn.__doc__
    return wrapped


@_elementwise
def erf(x, xp):
    """erf(x) = 2/sqrt(pi) int_0^x e^{-t^2} dt, element-wise, in x's dtype."""
    ax = xp.abs(x)
    large = xp.copysign(1.0 - _erfc_large(ax, xp), x)
    return select(ax <= _SMALL, _erf_small(x, xp), large, xp)


@_elementwise
def erfc(x, xp):
    """erfc(x) = 1 - erf(x), accurate (relative) also where it is tiny, for large positive x."""
    ax = xp.abs(x)
    tail = _erfc_large(ax, xp)
    large = select(x > 0, tail, 2.0 - tail, xp)
    return select(ax <= _SMALL, 1.0 - _erf_small(x, xp), large, xp)


def ndtr(x, xp):
    """Phi(x) = P(N(0, 1) <= x) = erfc(-x / sqrt 2) / 2, accurate (relative) in the lower tail."""
    return 0.5 * erfc(x * -_INV_SQRT2, xp)


def ndtri(p, xp):
    """Phi^{-1}(p) for 0 <= p <= 1 (float64): Abramowitz & Stegun 26.2.23 (|error| < 4.5e-4), then three Halley
    steps on Phi(x) = p, each cubing the relative error, so the result is exact to rounding. 0 and 1 give -inf/inf."""
    q = xp.minimum(p, 1.0 - p)  # solve in the lower tail, where Phi is known to full relative precision
    tiny = xp.finfo(p.dtype).tiny
    t = xp.sqrt(-2.0 * xp.log(xp.maximum(q, tiny)))
    x = -(t - (2.515517 + t * (0.802853 + t * 0.010328)) / (1.0 + t * (1.432788 + t * (0.189269 + t * 0.001308))))
    for _ in range(3):
        r = (ndtr(x, xp) - q) * _SQRT_2PI * xp.exp(0.5 * x * x)
        x = x - r / (1.0 + 0.5 * x * r)
    x = xp.where(q > 0, x, -xp.inf)
    return xp.where(p > 0.5, -x, x)
