"""Double backward through nn.functional: the gradients that ``create_graph=True`` builds through activations,
losses, linear, dropout, embedding, pooling and normalization are differentiable again and correct.

One row per calling form: ``gradgradcheck`` (float64 finite differences of the first derivatives, with respect to the
inputs and to the upstream gradient). A few rows also compare a Hessian-vector product with PyTorch's.
"""

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest
import torch

import ganglion as G

F = G.nn.functional


@dataclass
class Row:
    name: str
    fn: Callable  # fn(*inputs) -> Tensor(s)
    shapes: tuple  # one float64 input per shape, all requiring grad
    domain: tuple = ("normal", 1.0)  # ("normal", scale) or ("uniform", low, high)


def _const(values):
    """A constant (integer or float) tensor: indices, weights, running statistics."""
    return G.tensor(np.asarray(values))


def _seeded():
    """A fresh generator with a fixed seed, so each call of a dropout row draws the same mask."""
    return G.Generator().manual_seed(7)


_IDX = [[0, 2], [4, 2]]
_CLASSES = [0, 2, 1, 2]
_WC = [0.5, 1.0, 2.0]

ROWS = [
    # linear
    Row("linear", F.linear, ((2, 2, 3), (5, 3), (5,))),
    Row("linear_no_bias", F.linear, ((4, 3), (5, 3))),
    # smooth activations
    Row("elu", lambda x: F.elu(x, alpha=0.7), ((3, 4),), ("normal", 2.0)),
    Row("selu", F.selu, ((3, 4),), ("normal", 2.0)),
    Row("celu", lambda x: F.celu(x, alpha=0.6), ((3, 4),), ("normal", 2.0)),
    Row("softplus", F.softplus, ((3, 4),), ("normal", 2.0)),
    Row("softplus_beta_threshold", lambda x: F.softplus(x, beta=2.0, threshold=3.0), ((3, 4),), ("normal", 2.0)),
    Row("logsigmoid", F.logsigmoid, ((3, 4),), ("normal", 2.0)),
    Row("silu", F.silu, ((3, 4),), ("normal", 2.0)),
    Row("mish", F.mish, ((3, 4),), ("normal", 2.0)),
    Row("gelu", F.gelu, ((3, 4),), ("normal", 2.0)),
    Row("gelu_tanh", lambda x: F.gelu(x, approximate="tanh"), ((3, 4),), ("normal", 2.0)),
    Row("softsign", F.softsign, ((3, 4),), ("normal", 2.0)),
    Row("tanhshrink", F.tanhshrink, ((3, 4),), ("normal", 2.0)),
    Row("glu", lambda x: F.glu(x, dim=1), ((3, 4),), ("normal", 2.0)),
    # piecewise activations (inputs away from the kinks)
    Row("leaky_relu", lambda x: F.leaky_relu(x, 0.2), ((3, 4),), ("normal", 2.0)),
    Row("prelu_channels", F.prelu, ((2, 4, 3), (4,)), ("normal", 2.0)),
    Row("prelu_shared", F.prelu, ((3, 4), (1,)), ("normal", 2.0)),
    Row("hardtanh", lambda x: F.hardtanh(x, -0.5, 1.5), ((3, 4),), ("normal", 2.0)),
    Row("relu6", F.relu6, ((3, 4),), ("normal", 4.0)),
    Row("hardsigmoid", F.hardsigmoid, ((3, 4),), ("normal", 3.0)),
    Row("hardswish", F.hardswish, ((3, 4),), ("normal", 3.0)),
    Row("threshold", lambda x: F.threshold(x, 0.1, 2.0), ((3, 4),), ("normal", 2.0)),
    Row("hardshrink", F.hardshrink, ((3, 4),), ("normal", 2.0)),
    Row("softshrink", lambda x: F.softshrink(x, 0.3), ((3, 4),), ("normal", 2.0)),
    # classification loss
    Row("cross_entropy", lambda z: F.cross_entropy(z, _const(_CLASSES)), ((4, 3),)),
    Row("cross_entropy_weight_ignore_smoothing_sum",
        lambda z: F.cross_entropy(z, _const([0, -100, 1, 2]), weight=_const(_WC), label_smoothing=0.2,
                                  reduction="sum"), ((4, 3),)),
    Row("cross_entropy_none_ignore_index",
        lambda z: F.cross_entropy(z, _const(_CLASSES), ignore_index=1, reduction="none"), ((4, 3),)),
    Row("cross_entropy_probabilities",  # the target is differentiated too
        lambda z, p: F.cross_entropy(z, p, weight=_const(_WC), label_smoothing=0.1), ((4, 3), (4, 3)),
        ("uniform", 0.1, 0.9)),
    Row("cross_entropy_spatial",
        lambda z: F.cross_entropy(z, _const([[[0], [2]], [[1], [1]]]), reduction="mean"), ((2, 3, 2, 1),)),
    # regression losses
    Row("mse_loss", F.mse_loss, ((3, 4), (3, 4))),
    Row("mse_loss_none", lambda a, b: F.mse_loss(a, b, reduction="none"), ((3, 4), (3, 4))),
    Row("mse_loss_weight", lambda a, b: F.mse_loss(a, b, weight=_const(np.full((3, 4), 0.5))), ((3, 4), (3, 4))),
    Row("l1_loss", F.l1_loss, ((3, 4), (3, 4))),
    Row("smooth_l1_loss", lambda a, b: F.smooth_l1_loss(a, b, beta=0.8, reduction="sum"), ((3, 4), (3, 4))),
    Row("smooth_l1_loss_beta0", lambda a, b: F.smooth_l1_loss(a, b, beta=0.0), ((3, 4), (3, 4))),
    Row("huber_loss", lambda a, b: F.huber_loss(a, b, delta=0.7), ((3, 4), (3, 4))),
    # probabilistic losses
    Row("binary_cross_entropy", F.binary_cross_entropy, ((3, 4), (3, 4)), ("uniform", 0.1, 0.9)),
    Row("binary_cross_entropy_weight",
        lambda p, y: F.binary_cross_entropy(p, y, weight=_const([0.5, 1.0, 2.0, 1.5]), reduction="sum"),
        ((3, 4), (3, 4)), ("uniform", 0.1, 0.9)),
    Row("bce_with_logits", F.binary_cross_entropy_with_logits, ((3, 4), (3, 4)), ("uniform", -2.0, 2.0)),
    Row("bce_with_logits_pos_weight_weight",
        lambda x, y, pw: F.binary_cross_entropy_with_logits(x, y, weight=_const([0.5, 1.0, 2.0, 1.5]),
                                                            pos_weight=pw, reduction="none"),
        ((3, 4), (3, 4), (4,)), ("uniform", 0.2, 2.0)),
    Row("kl_div_batchmean", lambda a, t: F.kl_div(a, t, reduction="batchmean"), ((3, 4), (3, 4)),
        ("uniform", 0.1, 0.9)),
    Row("kl_div_log_target", lambda a, t: F.kl_div(a, t, reduction="sum", log_target=True), ((3, 4), (3, 4))),
    # dropout: a fixed mask per call
    Row("dropout", lambda x: F.dropout(x, 0.4, generator=_seeded()), ((2, 3, 5),)),
    Row("dropout2d", lambda x: F.dropout2d(x, 0.5, generator=_seeded()), ((2, 3, 2, 2),)),
    Row("alpha_dropout", lambda x: F.alpha_dropout(x, 0.3, training=True, generator=_seeded()), ((2, 3, 5),)),
    # embedding: the weight is differentiated
    Row("embedding", lambda w: F.embedding(_const(_IDX), w), ((5, 3),)),
    Row("embedding_padding_freq",
        lambda w: F.embedding(_const(_IDX), w, padding_idx=4, scale_grad_by_freq=True), ((5, 3),)),
    # pooling
    Row("max_pool1d_dilation", lambda x: F.max_pool1d(x, 2, stride=1, dilation=2), ((2, 3, 5),)),
    Row("max_pool2d", lambda x: F.max_pool2d(x, 2), ((2, 2, 4, 4),)),
    Row("max_pool2d_overlap_padding_ceil", lambda x: F.max_pool2d(x, 3, stride=2, padding=1, ceil_mode=True),
        ((1, 2, 4, 4),)),
    Row("max_pool2d_return_indices", lambda x: F.max_pool2d(x, 2, return_indices=True)[0], ((1, 2, 4, 4),)),
    Row("max_pool3d", lambda x: F.max_pool3d(x, 2), ((1, 1, 2, 4, 2),)),
    Row("avg_pool1d_uncovered_tail", lambda x: F.avg_pool1d(x, 2), ((2, 3, 5),)),
    Row("avg_pool2d", lambda x: F.avg_pool2d(x, 2), ((2, 2, 4, 4),)),
    Row("avg_pool2d_padding_exclude", lambda x: F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False),
        ((1, 2, 4, 4),)),
    Row("avg_pool2d_divisor_override", lambda x: F.avg_pool2d(x, 2, stride=1, divisor_override=3), ((1, 2, 3, 3),)),
    Row("avg_pool3d", lambda x: F.avg_pool3d(x, (1, 2, 2)), ((1, 1, 2, 2, 4),)),
    Row("max_unpool1d", lambda x: F.max_unpool1d(x, _const([[[1, 2], [0, 3]]]), 2), ((1, 2, 2),)),
    Row("max_unpool2d", lambda x: F.max_unpool2d(x, _const([[[[0, 3], [9, 14]]]]), 2), ((1, 1, 2, 2),)),
    Row("adaptive_max_pool1d", lambda x: F.adaptive_max_pool1d(x, 3), ((2, 2, 5),)),
    Row("adaptive_max_pool2d", lambda x: F.adaptive_max_pool2d(x, (3, 2)), ((1, 2, 4, 4),)),
    Row("adaptive_max_pool2d_global", lambda x: F.adaptive_max_pool2d(x, 1), ((2, 2, 3, 3),)),
    Row("adaptive_avg_pool1d_taps", lambda x: F.adaptive_avg_pool1d(x, 3), ((2, 2, 5),)),
    Row("adaptive_avg_pool2d_taps", lambda x: F.adaptive_avg_pool2d(x, (3, 3)), ((1, 2, 4, 4),)),
    Row("adaptive_avg_pool2d_tiled", lambda x: F.adaptive_avg_pool2d(x, 2), ((1, 2, 4, 4),)),
    Row("interpolate_bilinear_taps", lambda x: F.interpolate(x, size=(3, 5), mode="bilinear"), ((1, 1, 2, 3),)),
    # normalization
    Row("batch_norm_train", lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), ((3, 2, 4), (2,), (2,))),
    Row("batch_norm_train_no_affine", lambda x: F.batch_norm(x, None, None, training=True), ((4, 3),)),
    Row("batch_norm_eval",
        lambda x, w, b: F.batch_norm(x, _const([0.1, -0.2]), _const([0.5, 2.0]), w, b, training=False),
        ((3, 2, 4), (2,), (2,))),
    Row("instance_norm", F.instance_norm, ((2, 2, 5),)),
    Row("layer_norm", lambda x, w, b: F.layer_norm(x, (4,), w, b), ((2, 3, 4), (4,), (4,))),
    Row("layer_norm_two_axes", lambda x: F.layer_norm(x, (3, 4)), ((2, 3, 4),)),
    Row("group_norm", lambda x, w, b: F.group_norm(x, 2, w, b), ((2, 4, 3), (4,), (4,))),
    Row("local_response_norm", lambda x: F.local_response_norm(x, 3, alpha=0.5, beta=0.75, k=1.0), ((2, 4, 3),)),
    Row("local_response_norm_even_size", lambda x: F.local_response_norm(x, 2, alpha=0.5), ((1, 3, 2, 2),)),
]


def _inputs(row, rng):
    kind, *args = row.domain
    arrays = [rng.standard_normal(s) * args[0] if kind == "normal" else rng.uniform(*args, s) for s in row.shapes]
    return tuple(G.tensor(a, dtype=G.float64, requires_grad=True) for a in arrays)


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_gradgradcheck(row, rng):
    assert G.autograd.gradgradcheck(row.fn, _inputs(row, rng))


# --------------------------------------------------------------- Hessian-vector products against PyTorch
def _hvp(lib, loss_fn, arrays, vectors, consts):
    """grad(sum_i grad(loss, x_i, create_graph=True) . v_i, x) in ``lib`` (torch or ganglion), as NumPy arrays."""
    xs = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in arrays]
    cs = [lib.tensor(c) for c in consts]
    nn_f = torch.nn.functional if lib is torch else F
    loss = loss_fn(nn_f, *xs, *cs)
    grads = lib.autograd.grad(loss, xs, create_graph=True)
    dot = sum((g * lib.tensor(v, dtype=lib.float64)).sum() for g, v in zip(grads, vectors))
    return [h.detach().numpy() for h in lib.autograd.grad(dot, xs)]


HVP_CASES = {
    "linear_tanh": (lambda f, x, w, b, y: ((f.linear(x, w, b).tanh() - y) ** 2).sum(),
                    [(4, 3), (2, 3), (2,)], [np.linspace(-1, 1, 8).reshape(4, 2)]),
    "cross_entropy": (lambda f, z, t, w: f.cross_entropy(z, t, weight=w, label_smoothing=0.1),
                      [(4, 3)], [np.array([0, 2, 1, 2]), np.array(_WC)]),
    "mse_loss": (lambda f, x, y: f.mse_loss(x.tanh(), y), [(3, 4), (3, 4)], []),
    "batch_norm_train": (lambda f, x, w, b: (f.batch_norm(x, None, None, w, b, training=True) ** 3).mean(),
                         [(4, 2, 3), (2,), (2,)], []),
    "max_pool2d": (lambda f, x: (f.max_pool2d(x, 2) ** 3).sum(), [(1, 2, 4, 4)], []),
    "embedding": (lambda f, w, i: f.embedding(i, w).tanh().sum(), [(5, 3)], [np.array(_IDX)]),
}


@pytest.mark.parametrize("name", list(HVP_CASES))
def test_hessian_vector_product_matches_torch(name, rng):
    loss_fn, shapes, consts = HVP_CASES[name]
    arrays = [rng.standard_normal(s) for s in shapes]
    vectors = [rng.standard_normal(s) for s in shapes]
    ours = _hvp(G, loss_fn, arrays, vectors, consts)
    theirs = _hvp(torch, loss_fn, arrays, vectors, consts)
    for a, b in zip(ours, theirs):
        assert np.abs(b).max() > 1e-3  # the product is not trivially zero
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
