"""The op table: one row per op (or per calling form of an op), the single source the generic tests run over.

A row names the op, a ganglion callable, the PyTorch reference, the input shapes it is tried at (one tuple of
input shapes per case: same shapes, broadcasting, 0-d, empty dims), the domain its inputs are drawn from and the
float32 tolerances. Adding an op is adding a row here; ``test_parity.py`` then checks forward and backward against
PyTorch and runs float64 ``gradcheck`` on it.

Inputs are the row's float tensors, in order. Everything else an op needs (index arrays, masks, scalars, dims) is
fixed inside the two callables, so the pair must agree on it.
"""

import zlib
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as TF

import ganglion as G


# ------------------------------------------------------------------------------------------------------ domains
# Each draws float64 values of a shape; the tests cast to float32 for parity and keep float64 for gradcheck.
def real(rng, shape):
    return rng.uniform(-2.0, 2.0, shape)


def positive(rng, shape):  # log, sqrt, bases of tensor powers
    return rng.uniform(0.5, 2.0, shape)


def above_minus_one(rng, shape):  # log1p
    return rng.uniform(-0.5, 2.0, shape)


def nonzero(rng, shape):  # away from the kink of abs/relu/sign and the pole of 1/x
    return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.3, 2.0, shape)


def distinct(rng, shape):  # no ties, gaps >= 0.15: max/min/argmax have a single winner
    n = int(np.prod(shape, dtype=np.int64))
    values = (rng.permutation(n) - n / 2) * 0.25 + rng.uniform(-0.05, 0.05, n)
    return values.reshape(shape)


def small_ints(rng, shape):  # ties on purpose: comparisons, kinks, max ties
    return rng.integers(-2, 3, shape).astype(np.float64)


def off_grid(rng, shape):  # values 0.2+ away from every multiple of 0.5 (the clamp bounds below)
    return (rng.integers(-4, 4, shape) + 0.5) * 0.5 + rng.uniform(-0.05, 0.05, shape)


def low_grid(rng, shape):  # tensor lower bounds: -1.5 or -1.0
    return rng.integers(-3, -1, shape) * 0.5


def high_grid(rng, shape):  # tensor upper bounds: 0.5 or 1.0
    return rng.integers(1, 3, shape) * 0.5


def zeros_at(*flat_positions):
    """Real values with exact zeros at the given flat positions (prod's gradient must not divide by them)."""

    def domain(rng, shape):
        x = real(rng, shape)
        x.reshape(-1)[list(flat_positions)] = 0.0
        return x

    domain.__name__ = f"zeros_at{flat_positions}"
    return domain


def well_conditioned(rng, shape):  # square matrices real + 3 I: far from singular, so inverses stay moderate
    return real(rng, shape) + 3.0 * np.eye(shape[-1])


def rank_deficient(rng, shape):  # square matrices whose last column repeats the first: det = 0, rank n - 1
    x = real(rng, shape)
    x[..., -1] = x[..., 0]
    return x


# ------------------------------------------------------------------------------------------------------ the row
@dataclass(frozen=True)
class Op:
    name: str
    fn: Callable  # ganglion: fn(*tensors) -> Tensor or tuple of Tensors
    ref: Callable  # PyTorch: ref(*tensors), same meaning
    shapes: tuple  # cases: one tuple of input shapes each
    domain: object = real  # a domain for every input, or a tuple with one per input
    rtol: float = 1e-5
    atol: float = 1e-6
    differentiable: bool = True  # False: outputs must not require grad (comparisons, argmax)
    gradcheck: bool = True  # False for cases placed on a kink on purpose (parity only)
    gradgrad: str = ""  # why double backward is not checked ("" = it is: float64 gradgradcheck)
    exact: bool = False  # forward values must equal PyTorch's bit for bit (set by ``exact``)

    def domains(self, n):
        return self.domain if isinstance(self.domain, tuple) else (self.domain,) * n


def op(name, fn, ref=None, shapes=None, **kw):
    """A row; ``ref`` defaults to ``fn`` when the same code (operators, shared method names) works in both."""
    return Op(name, fn, fn if ref is None else ref, tuple(shapes), **kw)


def exact(*rows):
    """Rows whose outputs are copies of input values (shape ops, indexing): the forward must match bit for bit.

    Their gradients keep the tolerance: backward of expand/repeat/pad sums copies, in an order PyTorch may not share.
    """
    return [replace(row, exact=True) for row in rows]


def make_inputs(row, shapes, dtype):
    """The row's inputs for one case as float64 NumPy arrays cast to ``dtype``; seeded by the case, reproducible."""
    rng = np.random.default_rng(zlib.crc32(case_id(row, shapes).encode()))
    return [np.asarray(d(rng, s), dtype=np.float64).astype(dtype) for d, s in zip(row.domains(len(shapes)), shapes)]


def case_id(row, shapes):
    return row.name + "-" + "_".join("x".join(map(str, s)) if s else "0d" for s in shapes)


def cases(rows, only_differentiable=False, second_order=False):
    """One pytest case per row and shape set; ``only_differentiable``: rows that gradcheck runs on;
    ``second_order``: of those, the rows whose double backward is checked too."""
    import pytest

    return [
        pytest.param(row, shapes, id=case_id(row, shapes))
        for row in rows
        for shapes in row.shapes
        if not (only_differentiable or second_order) or (row.differentiable and row.gradcheck)
        if not second_order or not row.gradgrad
    ]


# ------------------------------------------------------------------------------------------------ shape sets
UNARY = [((2, 3),), ((),), ((0, 4),), ((2, 1, 3),)]
BINARY = [((2, 3), (2, 3)), ((2, 3), (3,)), ((4, 1, 3), (2, 1)), ((), (2, 3)), ((2, 3), ()), ((0, 3), (1, 3))]
MATMUL = [
    ((3,), (3,)), ((3,), (3, 4)), ((2, 3), (3,)), ((2, 3), (3, 4)), ((2, 2, 3), (3, 4)), ((2, 1, 2, 3), (3, 3, 2)),
    ((3,), (2, 3, 4)), ((2, 3, 4), (4,)), ((0, 3), (3, 2)), ((2, 0), (0, 3)),
]
REDUCE = [((2, 3, 4),), ((3,),), ((),)]
X234 = [((2, 3, 4),)]
X34 = [((3, 4),)]


def _mask(shape):
    """A fixed boolean pattern of ``shape`` (true at every third element, so both branches occur)."""
    return (np.arange(int(np.prod(shape, dtype=np.int64))) % 3 == 0).reshape(shape)


def _bshape(*tensors):
    return np.broadcast_shapes(*(tuple(t.shape) for t in tensors))


GATHER_IDX = np.array([[0, 0, 3], [1, 2, 1], [3, 3, 0]])  # dim 1 of a (3, 4), repeats within rows
GATHER_IDX0 = np.array([[2, 0, 1, 2], [2, 2, 0, 1]])  # dim 0 of a (3, 4)
SCATTER_IDX = np.array([[0, 1, 2, 0], [0, 1, 1, 2]])  # dim 0 of a (3, 4), repeats add up
MASK34 = _mask((3, 4))
ROWS3 = np.array([True, False, True])
LEFT = np.linspace(-1.0, 1.0, 6, dtype=np.float32).reshape(2, 3)  # a NumPy operand on the left of @
G_IDX, T_IDX = G.tensor, torch.tensor  # index arrays as each library's integer tensor

def _leibniz_det(a):
    """det A = sum over permutations p of sign(p) prod_i A[i, p(i)], in PyTorch ops (small n only)."""
    import itertools

    n = a.shape[-1]
    total = 0
    for perm in itertools.permutations(range(n)):
        inversions = sum(perm[i] > perm[j] for i in range(n) for j in range(i + 1, n))
        term = torch.stack([a[..., i, perm[i]] for i in range(n)], -1).prod(-1)
        total = total + (-term if inversions % 2 else term)
    return total


# --------------------------------------------------------------------------------------------------- the table
ROWS = [
    # arithmetic, broadcasting
    op("add", lambda a, b: a + b, shapes=BINARY),
    op("add_alpha", lambda a, b: a.add(b, alpha=2.5), shapes=BINARY[:3]),
    op("sub", lambda a, b: a - b, shapes=BINARY),
    op("sub_alpha", lambda a, b: G.sub(a, b, alpha=-2), lambda a, b: torch.sub(a, b, alpha=-2), shapes=BINARY[:3]),
    op("mul", lambda a, b: a * b, shapes=BINARY),
    op("div", lambda a, b: a / b, shapes=BINARY, domain=(real, nonzero)),
    op("pow_tensor_tensor", lambda a, b: a ** b, shapes=BINARY, domain=(positive, real)),
    op("pow_scalar_2", lambda x: x ** 2, shapes=UNARY),
    op("pow_scalar_3", lambda x: x.pow(3), shapes=UNARY),
    op("pow_scalar_half", lambda x: x ** 0.5, shapes=UNARY, domain=positive),
    op("pow_scalar_neg", lambda x: x ** -1.5, shapes=UNARY, domain=positive),
    op("rpow", lambda x: 2.0 ** x, shapes=UNARY),
    op("neg", lambda x: -x, shapes=UNARY),
    op("neg_fn", lambda x: G.neg(x), lambda x: torch.neg(x), shapes=UNARY[:1]),
    op("radd", lambda x: 1.5 + x, shapes=UNARY),
    op("radd_int", lambda x: 2 + x, shapes=UNARY[:1]),
    op("rsub", lambda x: 2 - x, shapes=UNARY),
    op("rmul", lambda x: 3.0 * x, shapes=UNARY),
    op("rdiv", lambda x: 2.0 / x, shapes=UNARY, domain=nonzero),
    op("scalar_right", lambda x: (x - 0.5) * 2 / 4 + 1, shapes=UNARY[:2]),
    op("maximum", lambda a, b: G.maximum(a, b), lambda a, b: torch.maximum(a, b), shapes=BINARY),
    op("minimum", lambda a, b: a.minimum(b), shapes=BINARY),
    op("max_binary", lambda a, b: G.max(a, b), lambda a, b: torch.max(a, b), shapes=BINARY[:2]),
    op("maximum_ties", lambda a, b: G.maximum(a, b), lambda a, b: torch.maximum(a, b), shapes=BINARY[:2],
       domain=small_ints, gradcheck=False),
    op("minimum_ties", lambda a, b: G.minimum(a, b), lambda a, b: torch.minimum(a, b), shapes=BINARY[:2],
       domain=small_ints, gradcheck=False),
    op("where", lambda a, b: G.where(G.from_numpy(_mask(_bshape(a, b))), a, b),
       lambda a, b: torch.where(torch.from_numpy(_mask(_bshape(a, b))), a, b),
       shapes=[((2, 3), (2, 3)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2, 3))]),
    op("where_scalar", lambda x: G.where(x > 0, x, 0.25), lambda x: torch.where(x > 0, x, 0.25), shapes=UNARY,
       domain=nonzero),
    # matrix products
    op("matmul", lambda a, b: a @ b, shapes=MATMUL),
    op("matmul_fn", lambda a, b: G.matmul(a, b), lambda a, b: torch.matmul(a, b), shapes=MATMUL[:6]),
    op("matmul_method", lambda a, b: a.matmul(b), shapes=MATMUL[3:5]),
    op("rmatmul_ndarray", lambda b: LEFT @ b, lambda b: torch.from_numpy(LEFT).to(b.dtype) @ b,
       shapes=[((3, 2),), ((3,),)]),
    op("mm", lambda a, b: a.mm(b), shapes=[((2, 3), (3, 4))]),
    op("bmm", lambda a, b: a.bmm(b), shapes=[((2, 2, 3), (2, 3, 4))]),
    op("dot", lambda a, b: a.dot(b), shapes=[((4,), (4,))]),
    # element-wise functions
    op("exp", lambda x: x.exp(), shapes=UNARY),
    op("exp_fn", lambda x: G.exp(x), lambda x: torch.exp(x), shapes=UNARY[:1]),
    op("log", lambda x: x.log(), shapes=UNARY, domain=positive),
    op("log1p", lambda x: G.log1p(x), lambda x: torch.log1p(x), shapes=UNARY, domain=above_minus_one),
    op("sqrt", lambda x: x.sqrt(), shapes=UNARY, domain=positive),
    op("abs", lambda x: abs(x), shapes=UNARY, domain=nonzero),
    op("abs_at_zero", lambda x: x.abs(), shapes=UNARY[:1], domain=small_ints, gradcheck=False),
    op("sin", lambda x: x.sin(), shapes=UNARY),
    op("cos", lambda x: G.cos(x), lambda x: torch.cos(x), shapes=UNARY),
    op("tanh", lambda x: x.tanh(), shapes=UNARY),
    op("sigmoid", lambda x: x.sigmoid(), shapes=UNARY),
    op("sigmoid_fn", lambda x: G.sigmoid(x * 4), lambda x: torch.sigmoid(x * 4), shapes=UNARY[:1]),
    op("relu", lambda x: x.relu(), shapes=UNARY, domain=nonzero),
    op("relu_at_zero", lambda x: G.relu(x), lambda x: torch.relu(x), shapes=UNARY[:1], domain=small_ints,
       gradcheck=False),
    op("sign", lambda x: x.sign(), shapes=UNARY, domain=nonzero),
    op("clamp", lambda x: x.clamp(-0.5, 0.5), shapes=UNARY, domain=off_grid),
    op("clamp_min", lambda x: x.clamp(min=-0.5), shapes=UNARY[:2], domain=off_grid),
    op("clamp_max", lambda x: G.clamp(x, max=0.5), lambda x: torch.clamp(x, max=0.5), shapes=UNARY[:2],
       domain=off_grid),
    op("clip", lambda x: x.clip(-1.0, 0.5), shapes=UNARY[:1], domain=off_grid),
    op("clamp_tensor_bounds", lambda x, lo, hi: x.clamp(lo, hi),
       shapes=[((2, 3), (2, 3), (2, 3)), ((2, 3), (3,), (2, 1)), ((2, 3), (), ())],
       domain=(off_grid, low_grid, high_grid)),
    op("clamp_tensor_min", lambda x, lo: x.clamp(min=lo), shapes=[((2, 3), (3,))], domain=(off_grid, low_grid)),
    op("clamp_at_bounds", lambda x: x.clamp(-1.0, 1.0), shapes=UNARY[:1], domain=small_ints, gradcheck=False),
    # reductions
    op("sum", lambda x: x.sum(), shapes=REDUCE + [((0, 3),)]),
    op("sum_fn", lambda x: G.sum(x), lambda x: torch.sum(x), shapes=REDUCE[:1]),
    op("sum_dim", lambda x: x.sum(dim=1), shapes=X234 + [((0, 3),), ((3, 0),)]),
    op("sum_dim_0d", lambda x: x.sum(0), shapes=[((),)]),
    op("sum_dims_keepdim", lambda x: x.sum((0, -1), keepdim=True), shapes=X234),
    op("sum_axis_keepdims", lambda x: x.sum(axis=1, keepdims=True), lambda x: x.sum(dim=1, keepdim=True),
       shapes=X234),
    op("mean", lambda x: x.mean(), shapes=REDUCE),
    op("mean_dim", lambda x: x.mean(-1), shapes=X234 + [((0, 3),)]),
    op("mean_axis_keepdims", lambda x: G.mean(x, axis=(0, 2), keepdims=True),
       lambda x: torch.mean(x, dim=(0, 2), keepdim=True), shapes=X234),
    op("max", lambda x: x.max(), shapes=REDUCE, domain=distinct),
    op("min", lambda x: G.min(x), lambda x: torch.min(x), shapes=REDUCE, domain=distinct),
    op("max_ties", lambda x: x.max(), shapes=X234, domain=small_ints, gradcheck=False),
    op("max_dim", lambda x: tuple(x.max(dim=1)), shapes=X234 + [((4, 3),)], domain=distinct),
    op("max_dim_0d", lambda x: tuple(x.max(dim=0)), shapes=[((),)]),
    op("min_dim_keepdim", lambda x: tuple(x.min(-1, keepdim=True)), shapes=X234, domain=distinct),
    op("max_axis_keepdims", lambda x: tuple(G.max(x, axis=0, keepdims=True)),
       lambda x: tuple(torch.max(x, dim=0, keepdim=True)), shapes=X234, domain=distinct),
    op("amax", lambda x: x.amax(dim=(0, 2)), shapes=X234, domain=distinct),
    op("amin_keepdim", lambda x: x.amin(dim=1, keepdim=True), shapes=X234, domain=distinct),
    op("amax_ties", lambda x: x.amax(dim=-1), shapes=X234, domain=small_ints, gradcheck=False),
    op("amin_axis", lambda x: G.amin(x, axis=-1), lambda x: torch.amin(x, dim=-1), shapes=X234, domain=distinct),
    op("var", lambda x: x.var(), shapes=REDUCE[:2]),
    op("var_unbiased_false", lambda x: x.var(unbiased=False), shapes=REDUCE[:2]),
    op("var_dim", lambda x: x.var(1), shapes=X234),
    op("var_dim_correction0", lambda x: x.var(dim=(0, 2), correction=0, keepdim=True), shapes=X234),
    op("var_correction2", lambda x: x.var(dim=-1, correction=2), shapes=X234),
    op("var_ddof_axis", lambda x: G.var(x, axis=1, ddof=0), lambda x: torch.var(x, dim=1, correction=0),
       shapes=X234),
    op("std", lambda x: x.std(), shapes=REDUCE[:2]),
    op("std_dim_unbiased_false", lambda x: x.std(dim=0, unbiased=False, keepdim=True), shapes=X234),
    op("std_correction0", lambda x: G.std(x, -1, correction=0), lambda x: torch.std(x, -1, correction=0),
       shapes=X234),
    op("prod", lambda x: x.prod(), shapes=REDUCE + [((0, 3),)]),
    op("prod_dim", lambda x: x.prod(dim=1), shapes=X234 + [((3, 0),)]),
    op("prod_empty_dim", lambda x: x.prod(0), shapes=[((0, 3),)]),
    op("prod_keepdim", lambda x: x.prod(-1, keepdim=True), shapes=X234),
    op("prod_one_zero", lambda x: x.prod(dim=-1), shapes=X34, domain=zeros_at(1)),
    op("prod_two_zeros", lambda x: x.prod(dim=-1), shapes=X34, domain=zeros_at(0, 2, 9)),
    op("prod_all_one_zero", lambda x: x.prod(), shapes=X34, domain=zeros_at(5)),
    op("prod_all_two_zeros", lambda x: x.prod(), shapes=X34, domain=zeros_at(2, 7)),
    op("prod_axis_keepdims", lambda x: G.prod(x, axis=0, keepdims=True), lambda x: torch.prod(x, 0, keepdim=True),
       shapes=X34, domain=zeros_at(4)),
    op("logsumexp", lambda x: x.logsumexp(dim=1), shapes=X234 + [((2, 0),), ((0, 3),)]),
    op("logsumexp_all", lambda x: G.logsumexp(x), lambda x: torch.logsumexp(x, dim=tuple(range(x.ndim))),
       shapes=REDUCE[:2]),
    op("logsumexp_keepdim", lambda x: x.logsumexp((0, 2), keepdim=True), shapes=X234),
    op("logsumexp_axis", lambda x: G.logsumexp(x, axis=-1, keepdims=True),
       lambda x: torch.logsumexp(x, -1, keepdim=True), shapes=X234),
    op("argmax", lambda x: x.argmax(), shapes=REDUCE, domain=distinct, differentiable=False),
    op("argmax_dim", lambda x: x.argmax(dim=1), shapes=X234, domain=distinct, differentiable=False),
    op("argmin", lambda x: G.argmin(x), lambda x: torch.argmin(x), shapes=REDUCE, domain=distinct,
       differentiable=False),
    op("argmax_0d", lambda x: x.argmax(0), shapes=[((),)], differentiable=False),
    op("argmin_dim_keepdim", lambda x: x.argmin(-1, keepdim=True), shapes=X234, domain=distinct,
       differentiable=False),
    op("argmin_axis_keepdims", lambda x: G.argmin(x, axis=0, keepdims=True),
       lambda x: torch.argmin(x, dim=0, keepdim=True), shapes=X234, domain=distinct, differentiable=False),
    op("softmax", lambda x: x.softmax(-1), shapes=X234 + [((5,),), ((),)]),
    op("softmax_dim0", lambda x: G.softmax(x, dim=0), lambda x: torch.softmax(x, dim=0), shapes=X234),
    op("softmax_dim1", lambda x: G.softmax(x, 1), lambda x: torch.softmax(x, 1), shapes=X234 + [((2, 0),)]),
    op("log_softmax", lambda x: x.log_softmax(-1), shapes=X234 + [((5,),), ((),)]),
    op("log_softmax_dim0", lambda x: G.log_softmax(x, 0), lambda x: torch.log_softmax(x, 0), shapes=X234),
    op("log_softmax_dim1", lambda x: x.log_softmax(dim=1), shapes=X234 + [((2, 0),)]),
    # shape and indexing: values are only moved, so the forward is exact
    *exact(
    op("reshape", lambda x: x.reshape(6, -1), shapes=X234),
    op("reshape_tuple", lambda x: G.reshape(x, (4, 3, 2)), lambda x: torch.reshape(x, (4, 3, 2)), shapes=X234),
    op("reshape_0d", lambda x: x.reshape(1, 1), shapes=[((),)]),
    op("reshape_empty", lambda x: x.reshape(3, 0), shapes=[((0, 3),)]),
    op("view", lambda x: x.view(-1), shapes=X234),
    op("flatten", lambda x: x.flatten(), shapes=X234 + [((),)]),
    op("flatten_from_1", lambda x: x.flatten(1), shapes=X234),
    op("flatten_range", lambda x: G.flatten(x, 0, 1), lambda x: torch.flatten(x, 0, 1), shapes=X234),
    op("squeeze", lambda x: x.squeeze(), shapes=[((2, 1, 3, 1),)]),
    op("squeeze_dim", lambda x: x.squeeze(1), shapes=[((2, 1, 3, 1),)]),
    op("squeeze_neg_dim", lambda x: x.squeeze(-1), shapes=[((2, 1, 3, 1),)]),
    op("squeeze_not_one", lambda x: x.squeeze(0), shapes=[((2, 1, 3, 1),)]),
    op("unsqueeze", lambda x: x.unsqueeze(0), shapes=X34 + [((),)]),
    op("unsqueeze_neg", lambda x: G.unsqueeze(x, -1), lambda x: torch.unsqueeze(x, -1), shapes=X34),
    op("transpose", lambda x: x.transpose(0, 2), shapes=X234),
    op("transpose_neg", lambda x: G.transpose(x, -1, -2), lambda x: torch.transpose(x, -1, -2), shapes=X234),
    op("swapaxes", lambda x: x.swapaxes(0, 1), shapes=X234),
    op("permute", lambda x: x.permute(2, 0, 1), shapes=X234),
    op("permute_tuple", lambda x: G.permute(x, (1, -1, 0)), lambda x: torch.permute(x, (1, -1, 0)), shapes=X234),
    op("T_2d", lambda x: x.T, shapes=X34),
    op("T_1d", lambda x: x.T, lambda x: x.permute(0), shapes=[((4,),)]),
    op("T_3d", lambda x: x.T, lambda x: x.permute(2, 1, 0), shapes=X234),
    op("mT", lambda x: x.mT, shapes=X234),
    op("expand", lambda x: x.expand(2, 3, 4), shapes=[((3, 1),), ((),)]),
    op("expand_keep", lambda x: x.expand(-1, 4), shapes=[((3, 1),)]),
    op("broadcast_to", lambda x: x.broadcast_to((2, 3, 4)), shapes=[((3, 1),), ((4,),)]),
    op("repeat", lambda x: x.repeat(2, 1, 3), shapes=[((2, 3),)]),
    op("repeat_same_ndim", lambda x: x.repeat(2, 2), shapes=[((2, 3),), ((0, 3),)]),
    op("tile", lambda x: x.tile((2,)), shapes=[((2, 3),)]),
    op("tile_more", lambda x: G.tile(x, (2, 1, 2)), lambda x: torch.tile(x, (2, 1, 2)), shapes=[((2, 3),)]),
    op("cat", lambda *xs: G.cat(xs), lambda *xs: torch.cat(xs),
       shapes=[((2, 3), (1, 3)), ((0, 3), (2, 3)), ((0,), (2, 3))]),
    op("cat_dim1", lambda *xs: G.cat(list(xs), dim=1), lambda *xs: torch.cat(xs, dim=1),
       shapes=[((2, 1), (2, 3), (2, 2))]),
    op("concatenate_axis", lambda a, b: G.concatenate([a, b], axis=-1), lambda a, b: torch.cat([a, b], dim=-1),
       shapes=[((2, 3, 1), (2, 3, 2))]),
    op("stack", lambda a, b: G.stack([a, b]), lambda a, b: torch.stack([a, b]), shapes=[((2, 3), (2, 3))]),
    op("stack_dim", lambda *xs: G.stack(xs, dim=-1), lambda *xs: torch.stack(xs, dim=-1),
       shapes=[((2, 3), (2, 3), (2, 3)), ((), ())]),
    op("split", lambda x: x.split(2), shapes=[((5, 3),)]),
    op("split_sections", lambda x: G.split(x, [1, 3], dim=1), lambda x: torch.split(x, [1, 3], dim=1),
       shapes=[((2, 4),)]),
    op("chunk", lambda x: x.chunk(3, dim=1), shapes=[((2, 7),)]),
    op("chunk_uneven", lambda x: G.chunk(x, 4), lambda x: torch.chunk(x, 4), shapes=[((6, 2),)]),
    op("pad_constant", lambda x: G.pad(x, (1, 2), value=0.5), lambda x: TF.pad(x, (1, 2), value=0.5),
       shapes=[((2, 3),), ((3,),)]),
    op("pad_constant_2d", lambda x: G.pad(x, (1, 2, 0, 1)), lambda x: TF.pad(x, (1, 2, 0, 1)), shapes=[((2, 3),)]),
    op("pad_reflect", lambda x: G.pad(x, (2, 1), mode="reflect"), lambda x: TF.pad(x, (2, 1), mode="reflect"),
       shapes=[((2, 5),)]),
    op("pad_reflect_2d", lambda x: G.pad(x, (1, 2, 2, 1), mode="reflect"),
       lambda x: TF.pad(x, (1, 2, 2, 1), mode="reflect"), shapes=[((2, 4, 5),)]),
    op("pad_replicate", lambda x: G.pad(x, (2, 1), mode="replicate"),
       lambda x: TF.pad(x, (2, 1), mode="replicate"), shapes=[((2, 3),)]),
    op("pad_replicate_2d", lambda x: G.pad(x, (1, 2, 2, 0), mode="replicate"),
       lambda x: TF.pad(x, (1, 2, 2, 0), mode="replicate"), shapes=[((2, 3, 4),)]),
    op("pad_circular", lambda x: G.pad(x, (2, 1), mode="circular"), lambda x: TF.pad(x, (2, 1), mode="circular"),
       shapes=[((1, 2, 5),)]),
    op("pad_circular_2d", lambda x: G.pad(x, (1, 2, 2, 1), mode="circular"),
       lambda x: TF.pad(x, (1, 2, 2, 1), mode="circular"), shapes=[((2, 3, 4),)]),
    # indexing
    op("getitem_slice", lambda x: x[1:, :2], shapes=X34),
    op("getitem_0d", lambda x: x[None], shapes=[((),)]),
    op("getitem_0d_ellipsis", lambda x: x[...], shapes=[((),)]),
    op("getitem_int", lambda x: x[1], shapes=X34),
    op("getitem_scalar", lambda x: x[-1, 2], shapes=X34),
    op("getitem_step", lambda x: x[::2, 1::2], shapes=X34),
    op("getitem_neg_step", lambda x: x[::-1], lambda x: x.flip(0), shapes=X34),
    op("getitem_neg_step2", lambda x: x[:, ::-2], lambda x: x.flip(1)[:, ::2], shapes=X34),
    op("getitem_neg_range", lambda x: x[2:0:-1], lambda x: x[1:3].flip(0), shapes=X34),
    op("getitem_none_ellipsis", lambda x: x[None, ..., 1], shapes=X234),
    op("getitem_ellipsis_none", lambda x: x[..., None, 1:], shapes=X234),
    op("getitem_int_list", lambda x: x[[0, 2, 0]], shapes=X34),
    op("getitem_int_tensor", lambda x: x[G_IDX([[1, 0], [1, 1]])], lambda x: x[T_IDX([[1, 0], [1, 1]])],
       shapes=X34),
    op("getitem_two_arrays", lambda x: x[[0, 1, 0], [2, 0, 2]], shapes=X34),
    op("getitem_slice_array", lambda x: x[:, [2, 0, 2]], shapes=X34),
    op("getitem_bool_mask", lambda x: x[G.from_numpy(MASK34)], lambda x: x[torch.from_numpy(MASK34)], shapes=X34),
    op("getitem_bool_rows", lambda x: x[G.from_numpy(ROWS3)], lambda x: x[torch.from_numpy(ROWS3)], shapes=X34),
    op("getitem_mask_from_compare", lambda x: x[x > 0], shapes=X34, domain=nonzero),
    op("gather", lambda x: x.gather(1, G_IDX(GATHER_IDX)), lambda x: x.gather(1, T_IDX(GATHER_IDX)), shapes=X34),
    op("gather_dim0", lambda x: G.gather(x, 0, G_IDX(GATHER_IDX0)),
       lambda x: torch.gather(x, 0, T_IDX(GATHER_IDX0)), shapes=X34),
    op("index_select", lambda x: x.index_select(0, G_IDX([2, 0, 2])), lambda x: x.index_select(0, T_IDX([2, 0, 2])),
       shapes=X34),
    op("index_select_dim1", lambda x: G.index_select(x, 1, G_IDX([1, 1, 3])),
       lambda x: torch.index_select(x, 1, T_IDX([1, 1, 3])), shapes=X34 + [((2, 4, 3),)]),
    ),  # end of the exact rows
    # scatter_add adds (repeated indices accumulate), so it keeps the tolerance
    op("scatter_add", lambda x, s: x.scatter_add(0, G_IDX(SCATTER_IDX), s),
       lambda x, s: x.scatter_add(0, T_IDX(SCATTER_IDX), s), shapes=[((3, 4), (2, 4))]),
    # src larger than index: only src[:2, :4] is read (PyTorch's backward rejects the larger src, so slice it there)
    op("scatter_add_large_src", lambda x, s: G.scatter_add(x, 0, G_IDX(SCATTER_IDX), s),
       lambda x, s: torch.scatter_add(x, 0, T_IDX(SCATTER_IDX), s[:2, :4]), shapes=[((3, 4), (3, 5))]),
    # comparisons: bool results, no gradient
    op("eq", lambda a, b: a == b, shapes=BINARY[:4], domain=small_ints, differentiable=False),
    op("ne", lambda a, b: a != b, shapes=BINARY[:4], domain=small_ints, differentiable=False),
    op("lt", lambda a, b: a < b, shapes=BINARY[:4], domain=small_ints, differentiable=False),
    op("le", lambda a, b: a.le(b), shapes=BINARY[:4], domain=small_ints, differentiable=False),
    op("gt", lambda a, b: a.gt(b), shapes=BINARY[:4], domain=small_ints, differentiable=False),
    op("ge", lambda a, b: a >= b, shapes=BINARY[:4], domain=small_ints, differentiable=False),
    op("eq_scalar", lambda x: x.eq(1.0), shapes=UNARY, domain=small_ints, differentiable=False),
    op("gt_scalar_reflected", lambda x: 0.5 < x, shapes=UNARY, domain=small_ints, differentiable=False),
    op("ne_fn", lambda a, b: G.ne(a, b), lambda a, b: torch.ne(a, b), shapes=BINARY[:2], domain=small_ints,
       differentiable=False),
    # Tensor methods and functions of issue 12: sorting, scans, rearranging, masking, norms, einsum
    op("sort", lambda x: tuple(x.sort()), shapes=X234 + [((),), ((0, 3),)], domain=distinct),
    op("sort_dim0_descending", lambda x: tuple(G.sort(x, 0, descending=True)),
       lambda x: tuple(torch.sort(x, 0, descending=True)), shapes=X234, domain=distinct),
    op("sort_stable_ties", lambda x: tuple(x.sort(dim=1, descending=True, stable=True)),
       shapes=X234, domain=small_ints, gradcheck=False),
    op("sort_stable_ties_ascending", lambda x: tuple(G.sort(x, stable=True)),
       lambda x: tuple(torch.sort(x, stable=True)), shapes=X234, domain=small_ints, gradcheck=False),
    op("argsort", lambda x: x.argsort(dim=1), shapes=X234, domain=distinct, differentiable=False),
    op("argsort_descending_ties", lambda x: G.argsort(x, dim=-1, descending=True, stable=True),
       lambda x: torch.argsort(x, dim=-1, descending=True, stable=True), shapes=X234, domain=small_ints, differentiable=False),
    op("topk", lambda x: tuple(x.topk(2)), shapes=X234 + [((5,),)], domain=distinct),
    op("topk_smallest_dim0", lambda x: tuple(G.topk(x, 2, dim=0, largest=False)),
       lambda x: tuple(torch.topk(x, 2, dim=0, largest=False)), shapes=X234, domain=distinct),
    op("topk_all_and_none", lambda x: tuple(x.topk(3, dim=1)) + tuple(x.topk(0, dim=-1)), shapes=X234,
       domain=distinct),
    op("cumsum", lambda x: x.cumsum(1), shapes=X234 + [((0, 3),)]),
    op("cumsum_fn_neg_dim", lambda x: G.cumsum(x, dim=-1), lambda x: torch.cumsum(x, dim=-1), shapes=X234 + [((),)]),
    op("cumsum_dtype", lambda x: x.cumsum(0, dtype=G.float64), lambda x: x.cumsum(0, dtype=torch.float64),
       shapes=X34),
    op("cumprod", lambda x: x.cumprod(2), shapes=X234, domain=nonzero),
    op("cumprod_0d", lambda x: x.cumprod(0), shapes=[((),)], domain=nonzero),
    op("cumprod_with_zeros", lambda x: G.cumprod(x, 1), lambda x: torch.cumprod(x, 1), shapes=X34,
       domain=zeros_at(1, 5, 6, 11)),
    op("norm", lambda x: x.norm(), shapes=REDUCE),
    op("norm_p1_dim", lambda x: x.norm(p=1, dim=1), shapes=X234, domain=nonzero),
    op("norm_inf_keepdim", lambda x: x.norm(float("inf"), dim=-1, keepdim=True), shapes=X234, domain=distinct),
    op("norm_neg_inf", lambda x: G.norm(x, -float("inf"), dim=0), lambda x: torch.norm(x, -float("inf"), dim=0),
       shapes=X234, domain=distinct),
    op("norm_fro_dims", lambda x: G.norm(x, "fro", dim=(0, 2)), lambda x: torch.norm(x, "fro", dim=(0, 2)),
       shapes=X234),
    op("norm_p3", lambda x: x.norm(3, dim=(1, 2)), shapes=X234, domain=nonzero),
    op("norm_p2_at_zero", lambda x: (x * 0).norm(2, dim=1), shapes=X34, gradcheck=False),
    op("norm_p0", lambda x: x.norm(0), shapes=X34, domain=zeros_at(1, 2)),
    op("einsum_matmul", lambda a, b: G.einsum("ij,jk->ik", a, b), lambda a, b: torch.einsum("ij,jk->ik", a, b),
       shapes=[((2, 3), (3, 4))]),
    op("einsum_batch_ellipsis", lambda a, b: G.einsum("...ij,...jk", [a, b]),
       lambda a, b: torch.einsum("...ij,...jk", [a, b]), shapes=[((2, 2, 3), (3, 4)), ((1, 2, 3), (2, 3, 2))]),
    op("einsum_trace_diag", lambda x: G.einsum("ii", x) + G.einsum("ii->i", x).sum(),
       lambda x: torch.einsum("ii", x) + torch.einsum("ii->i", x).sum(), shapes=[((3, 3),)]),
    op("einsum_outer_sum_transpose", lambda a, b: G.einsum("i, jk -> kj", a, b),
       lambda a, b: torch.einsum("i, jk -> kj", a, b), shapes=[((2,), (3, 4))]),
    op("einsum_three", lambda a, b, c: G.einsum("bi,ij,bj->b", a, b, c),
       lambda a, b, c: torch.einsum("bi,ij,bj->b", a, b, c), shapes=[((2, 3), (3, 4), (2, 4))]),
    op("einsum_broadcast_one", lambda a, b: G.einsum("ij,ij->ij", a, b), lambda a, b: torch.einsum("ij,ij->ij", a, b),
       shapes=[((1, 3), (2, 3))]),
    op("masked_fill", lambda x: x.masked_fill(G.from_numpy(MASK34), -1.5),
       lambda x: x.masked_fill(torch.from_numpy(MASK34), -1.5), shapes=X34),
    op("masked_fill_broadcast_tensor_value", lambda x, v: G.masked_fill(x, G.from_numpy(ROWS3[:, None]), v),
       lambda x, v: torch.masked_fill(x, torch.from_numpy(ROWS3[:, None]), v), shapes=[((3, 4), ()), ((4,), ())]),
    *exact(
    op("narrow", lambda x: x.narrow(1, 1, 2), shapes=X234),
    op("narrow_neg_start", lambda x: G.narrow(x, -1, -3, 2), lambda x: torch.narrow(x, -1, -3, 2), shapes=X234),
    op("t", lambda x: x.t(), shapes=X34 + [((4,),), ((),)]),
    op("t_fn", lambda x: G.t(x), lambda x: torch.t(x), shapes=X34),
    op("flip", lambda x: x.flip(0, 2), shapes=X234),
    op("flip_fn", lambda x: G.flip(x, [-1]), lambda x: torch.flip(x, [-1]), shapes=X234 + [((),)]),
    op("flip_tuple_method", lambda x: x.flip((1,)), shapes=X34),
    op("roll", lambda x: x.roll(1, 0), shapes=X234),
    op("roll_flat", lambda x: G.roll(x, -5), lambda x: torch.roll(x, -5), shapes=X234),
    op("roll_several", lambda x: x.roll((2, -1), (2, 0)), shapes=X234),
    op("tril", lambda x: x.tril(), shapes=X34 + X234),
    op("tril_diagonal", lambda x: G.tril(x, -1), lambda x: torch.tril(x, -1), shapes=X34),
    op("triu", lambda x: x.triu(1), shapes=X34 + X234),
    op("triu_fn", lambda x: G.triu(x, diagonal=-2), lambda x: torch.triu(x, diagonal=-2), shapes=X34),
    op("repeat_interleave", lambda x: x.repeat_interleave(2), shapes=X34 + [((),)]),
    op("repeat_interleave_dim", lambda x: x.repeat_interleave(G_IDX([1, 0, 3]), dim=0),
       lambda x: x.repeat_interleave(T_IDX([1, 0, 3]), dim=0), shapes=X34),
    op("repeat_interleave_fn", lambda x: G.repeat_interleave(x, 3, dim=-1, output_size=12),
       lambda x: torch.repeat_interleave(x, 3, dim=-1, output_size=12), shapes=X34),
    ),
    # rounding: off the jumps (off_grid keeps 0.2 from every multiple of 0.5), gradient 0 (frac: 1)
    op("floor", lambda x: x.floor(), shapes=UNARY, domain=off_grid),
    op("floor_fn", lambda x: G.floor(x), lambda x: torch.floor(x), shapes=UNARY[:1], domain=off_grid),
    op("ceil", lambda x: x.ceil(), shapes=UNARY, domain=off_grid),
    op("ceil_fn", lambda x: G.ceil(x), lambda x: torch.ceil(x), shapes=UNARY[:1], domain=off_grid),
    op("trunc", lambda x: x.trunc(), shapes=UNARY, domain=off_grid),
    op("trunc_fn", lambda x: G.trunc(x), lambda x: torch.trunc(x), shapes=UNARY[:1], domain=off_grid),
    op("fix", lambda x: G.fix(x), lambda x: torch.fix(x), shapes=UNARY[:1], domain=off_grid),
    op("round", lambda x: x.round(), shapes=UNARY, domain=off_grid),
    op("round_halves_to_even", lambda x: G.round(x * 0 + G.tensor([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5])),
       lambda x: torch.round(x * 0 + torch.tensor([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5])), shapes=[((6,),)]),
    op("round_decimals", lambda x: x.round(decimals=2), shapes=UNARY[:2]),
    op("round_decimals_fn", lambda x: G.round(x * 3, decimals=1), lambda x: torch.round(x * 3, decimals=1),
       shapes=UNARY[:1]),
    op("round_neg_decimals", lambda x: (x * 100).round(decimals=-1), shapes=UNARY[:2]),
    op("frac", lambda x: x.frac(), shapes=UNARY, domain=off_grid),
    op("frac_fn", lambda x: G.frac(x * 3), lambda x: torch.frac(x * 3), shapes=UNARY[:1]),
    op("expm1", lambda x: x.expm1(), shapes=UNARY),
    op("expm1_fn", lambda x: G.expm1(x * 1e-3), lambda x: torch.expm1(x * 1e-3), shapes=UNARY[:1]),
    # ganglion.linalg (torch.linalg): batched square matrices
    op("linalg_inv", lambda a: G.linalg.inv(a), lambda a: torch.linalg.inv(a),
       shapes=[((3, 3),), ((2, 3, 3),), ((2, 1, 2, 2),), ((1, 1),)], domain=well_conditioned, rtol=1e-4),
    op("linalg_det", lambda a: G.linalg.det(a), lambda a: torch.linalg.det(a),
       shapes=[((3, 3),), ((2, 4, 4),), ((1, 1),), ((2, 0, 0),)], rtol=1e-4, atol=1e-5),
    # PyTorch's det backward returns 0 at an exactly singular A; the true gradient is adj(A)^T (nonzero at rank n-1),
    # so the reference here is the Leibniz formula under PyTorch's autograd
    op("linalg_det_singular", lambda a: G.linalg.det(a), _leibniz_det,
       shapes=[((3, 3),), ((2, 4, 4),)], domain=rank_deficient, rtol=1e-4, atol=1e-5),
    op("linalg_slogdet", lambda a: tuple(G.linalg.slogdet(a)), lambda a: tuple(torch.linalg.slogdet(a)),
       shapes=[((3, 3),), ((2, 4, 4),)], rtol=1e-4, atol=1e-5),
    op("linalg_solve", lambda a, b: G.linalg.solve(a, b), lambda a, b: torch.linalg.solve(a, b),
       shapes=[((3, 3), (3,)), ((3, 3), (3, 2)), ((2, 3, 3), (2, 3)), ((2, 3, 3), (3,)), ((2, 3, 3), (3, 2)),
               ((3, 3), (2, 3, 4)), ((2, 1, 3, 3), (4, 3, 1))],
       domain=(well_conditioned, real), rtol=1e-4, atol=1e-5),
    op("linalg_svdvals", lambda a: G.linalg.svdvals(a), lambda a: torch.linalg.svdvals(a),
       shapes=[((3, 4),), ((2, 4, 3),), ((3, 3),)], rtol=1e-4, atol=1e-5),
    op("linalg_vector_norm", lambda x: G.linalg.vector_norm(x), lambda x: torch.linalg.vector_norm(x),
       shapes=REDUCE),
    op("linalg_vector_norm_ord1_dim", lambda x: G.linalg.vector_norm(x, 1, dim=-1),
       lambda x: torch.linalg.vector_norm(x, 1, dim=-1), shapes=X234, domain=nonzero),
    op("linalg_vector_norm_ord3_keepdim", lambda x: G.linalg.vector_norm(x, ord=3, dim=(0, 2), keepdim=True),
       lambda x: torch.linalg.vector_norm(x, ord=3, dim=(0, 2), keepdim=True), shapes=X234, domain=nonzero),
    op("linalg_vector_norm_inf", lambda x: G.linalg.vector_norm(x, float("inf"), 1),
       lambda x: torch.linalg.vector_norm(x, float("inf"), 1), shapes=X234, domain=distinct),
    *[op(f"linalg_matrix_norm_{name}", lambda a, o=o: G.linalg.matrix_norm(a, o),
         lambda a, o=o: torch.linalg.matrix_norm(a, o), shapes=[((3, 4),), ((2, 4, 3),)], domain=distinct,
         rtol=1e-4, atol=1e-5)
      for name, o in [("fro", "fro"), ("nuc", "nuc"), ("1", 1), ("minus1", -1), ("2", 2), ("minus2", -2),
                      ("inf", float("inf")), ("minus_inf", float("-inf"))]],
    op("linalg_matrix_norm_dims_keepdim", lambda a: G.linalg.matrix_norm(a, 1, dim=(2, 0), keepdim=True),
       lambda a: torch.linalg.matrix_norm(a, 1, dim=(2, 0), keepdim=True), shapes=X234, domain=distinct),
    op("linalg_matrix_norm_nuc_dims", lambda a: G.linalg.matrix_norm(a, "nuc", dim=(0, -1)),
       lambda a: torch.linalg.matrix_norm(a, "nuc", dim=(0, -1)), shapes=X234, rtol=1e-4, atol=1e-5),
    op("linalg_norm", lambda x: G.linalg.norm(x), lambda x: torch.linalg.norm(x), shapes=REDUCE),
    op("linalg_norm_dim", lambda x: G.linalg.norm(x, dim=1, keepdim=True),
       lambda x: torch.linalg.norm(x, dim=1, keepdim=True), shapes=X234),
    op("linalg_norm_matrix_dims", lambda x: G.linalg.norm(x, dim=(0, 2)), lambda x: torch.linalg.norm(x, dim=(0, 2)),
       shapes=X234),
    op("linalg_norm_ord_2d", lambda x: G.linalg.norm(x, ord=float("inf")),
       lambda x: torch.linalg.norm(x, ord=float("inf")), shapes=X34, domain=distinct),
    op("linalg_norm_ord_1d", lambda x: G.linalg.norm(x, ord=1), lambda x: torch.linalg.norm(x, ord=1),
       shapes=[((5,),)], domain=nonzero),
    op("linalg_norm_nuc", lambda x: G.linalg.norm(x, "nuc"), lambda x: torch.linalg.norm(x, "nuc"), shapes=X34,
       rtol=1e-4, atol=1e-5),
]

assert len({row.name for row in ROWS}) == len(ROWS), "op names in the table must be unique"
