"""The functional forms of the normalizations: float64 gradcheck, parity with torch.nn.functional (including the
in-place running-statistics update), and errors that name the layer, the expected and the received shape.

One table of functional calls: (id, ganglion call, torch call, shapes of the inputs). Adding one is adding a row.
"""

import numpy as np
import pytest
import torch

import ganglion as g
from ganglion import nn
from ganglion.autograd import gradcheck
from ganglion.nn import functional as F

TF = torch.nn.functional


def _rm(c):
    return np.linspace(-0.5, 0.5, c), np.linspace(0.5, 2.0, c)


# each call gets (framework module, x, weight, bias); running statistics are fixed arrays so rows stay pure functions
FUNCTIONALS = [
    ("batch_norm_train", lambda F_, x, w, b: F_.batch_norm(x, None, None, w, b, training=True), (4, 3, 2), 3),
    ("batch_norm_train_NC_no_affine", lambda F_, x, w, b: F_.batch_norm(x, None, None, training=True, eps=1e-3),
     (5, 3), 3),
    ("batch_norm_eval", lambda F_, x, w, b: F_.batch_norm(x, *_running(x, 3), w, b, training=False), (3, 3, 2), 3),
    ("instance_norm", lambda F_, x, w, b: F_.instance_norm(x, weight=w, bias=b), (2, 3, 4), 3),
    ("instance_norm_no_affine_2d", lambda F_, x, w, b: F_.instance_norm(x), (2, 2, 2, 3), 2),
    ("instance_norm_running", lambda F_, x, w, b: F_.instance_norm(x, *_running(x, 3), w, b, use_input_stats=False),
     (2, 3, 3), 3),
    ("layer_norm", lambda F_, x, w, b: F_.layer_norm(x, (3,), w, b), (4, 3), 3),
    ("layer_norm_2d_no_affine", lambda F_, x, w, b: F_.layer_norm(x, (2, 3)), (2, 2, 3), 3),
    ("group_norm", lambda F_, x, w, b: F_.group_norm(x, 2, w, b), (2, 4, 3), 4),
    ("group_norm_weight_only", lambda F_, x, w, b: F_.group_norm(x, 1, w, eps=1e-2), (2, 4, 2, 2), 4),
    ("local_response_norm", lambda F_, x, w, b: F_.local_response_norm(x, 3, alpha=0.5, beta=0.75, k=1.5), (2, 5, 2),
     5),
    ("local_response_norm_even", lambda F_, x, w, b: F_.local_response_norm(x, 2, alpha=2.0, beta=1.3, k=0.5),
     (1, 4, 2, 2), 4),
]
IDS = [row[0] for row in FUNCTIONALS]


def _running(x, c):
    """Fixed running statistics, as a ganglion or a torch tensor to match x."""
    mean, var = _rm(c)
    if isinstance(x, torch.Tensor):
        return torch.tensor(mean, dtype=x.dtype), torch.tensor(var, dtype=x.dtype)
    return g.tensor(mean, dtype=x.dtype), g.tensor(var, dtype=x.dtype)


def _inputs(shape, c, dtype, rng, framework):
    x = 1.5 * rng.standard_normal(shape) + 0.3
    w = rng.uniform(0.5, 1.5, c)
    b = rng.standard_normal(c)
    if framework == "torch":
        return [torch.tensor(a, dtype=getattr(torch, np.dtype(dtype).name), requires_grad=True) for a in (x, w, b)]
    return [g.tensor(a, dtype=dtype, requires_grad=True) for a in (x, w, b)]


@pytest.mark.parametrize("row", FUNCTIONALS, ids=IDS)
def test_gradcheck_float64(row, rng):
    _, call, shape, c = row
    x, w, b = _inputs(shape, c, np.float64, rng, "ganglion")
    assert gradcheck(lambda x, w, b: call(F, x, w, b), (x, w, b))


@pytest.mark.parametrize("row", FUNCTIONALS, ids=IDS)
def test_parity_with_torch_functional(row):
    _, call, shape, c = row
    ours = _inputs(shape, c, np.float32, np.random.default_rng(1), "ganglion")
    theirs = _inputs(shape, c, np.float32, np.random.default_rng(1), "torch")
    y, yt = call(F, *ours), call(TF, *theirs)
    dy = np.random.default_rng(2).standard_normal(tuple(y.shape)).astype(np.float32)
    y.backward(g.tensor(dy))
    yt.backward(torch.from_numpy(dy))
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=2e-5, atol=2e-5)
    for a, at, name in zip(ours, theirs, ("input", "weight", "bias")):
        assert (a.grad is None) == (at.grad is None), name
        if a.grad is not None:
            np.testing.assert_allclose(a.grad.numpy(), at.grad.numpy(), rtol=2e-5, atol=2e-5, err_msg=name)


@pytest.mark.parametrize("fn", ["batch_norm", "instance_norm"])
def test_functional_updates_running_statistics_in_place_like_torch(fn, rng):
    x = (2 * rng.standard_normal((4, 3, 5)) + 1).astype(np.float32)
    mean, var = (a.astype(np.float32) for a in _rm(3))
    ours = g.tensor(mean), g.tensor(var)
    theirs = torch.from_numpy(mean.copy()), torch.from_numpy(var.copy())
    if fn == "batch_norm":
        F.batch_norm(g.tensor(x), *ours, training=True, momentum=0.3)
        TF.batch_norm(torch.from_numpy(x), *theirs, training=True, momentum=0.3)
    else:
        F.instance_norm(g.tensor(x), *ours, momentum=0.3)
        TF.instance_norm(torch.from_numpy(x), *theirs, momentum=0.3)
    for a, at in zip(ours, theirs):
        assert not np.allclose(a.numpy(), _rm(3)[0]) and not np.allclose(a.numpy(), _rm(3)[1])
        np.testing.assert_allclose(a.numpy(), at.numpy(), rtol=1e-5, atol=1e-6)


def test_normalized_output_has_zero_mean_and_unit_variance(rng):
    x = g.tensor(rng.standard_normal((64, 3)) * 5 + 2, dtype=g.float64)
    y = F.batch_norm(x, None, None, training=True, eps=0.0).numpy()
    np.testing.assert_allclose(y.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(0), 1, atol=1e-12)
    y = F.layer_norm(x, (3,), eps=0.0).numpy()
    np.testing.assert_allclose(y.mean(1), 0, atol=1e-12)


# (id, call, exception, pattern): every message names what was expected and what came
ERRORS = [
    ("bn1d_features", lambda: nn.BatchNorm1d(4)(g.ones(2, 3)), ValueError,
     r"BatchNorm1d\(4, .*\): expected input of shape \(N, 4\) or \(N, 4, L\), got \(2, 3\)"),
    ("bn1d_channels_3d", lambda: nn.BatchNorm1d(4)(g.ones(2, 3, 5)), ValueError, r"\(N, 4, L\), got \(2, 3, 5\)"),
    ("bn1d_rank", lambda: nn.BatchNorm1d(4)(g.ones(2, 4, 3, 3)), ValueError, r"BatchNorm1d.*got \(2, 4, 3, 3\)"),
    ("bn2d_channels", lambda: nn.BatchNorm2d(3)(g.ones(2, 4, 5, 5)), ValueError,
     r"BatchNorm2d\(3, .*\): expected input of shape \(N, 3, H, W\), got \(2, 4, 5, 5\)"),
    ("bn3d_rank", lambda: nn.BatchNorm3d(3)(g.ones(2, 3, 5, 5)), ValueError, r"\(N, 3, D, H, W\), got \(2, 3, 5, 5\)"),
    ("in1d_channels", lambda: nn.InstanceNorm1d(3)(g.ones(2, 4, 5)), ValueError,
     r"InstanceNorm1d\(3, .*\): expected input of shape \(3, L\) or \(N, 3, L\), got \(2, 4, 5\)"),
    ("in2d_channels", lambda: nn.InstanceNorm2d(3)(g.ones(4, 5, 5)), ValueError, r"InstanceNorm2d.*got \(4, 5, 5\)"),
    ("ln_shape", lambda: nn.LayerNorm(5)(g.ones(2, 4)), ValueError,
     r"LayerNorm\(\(5,\), .*\): expected input of shape \(\*, 5\), got \(2, 4\)"),
    ("ln_2d_shape", lambda: nn.LayerNorm((2, 3))(g.ones(3, 2)), ValueError, r"\(\*, 2, 3\), got \(3, 2\)"),
    ("gn_channels", lambda: nn.GroupNorm(2, 4)(g.ones(2, 6)), ValueError,
     r"GroupNorm\(2, 4, .*\): expected input of shape \(N, 4, \*\), got \(2, 6\)"),
    ("gn_divisible", lambda: nn.GroupNorm(2, 3), ValueError, r"num_channels \(3\) must be divisible by num_groups \(2\)"),
    ("lrn_rank", lambda: nn.LocalResponseNorm(3)(g.ones(2, 4)), ValueError,
     r"LocalResponseNorm\(3, .*\): expected input of shape \(N, C, \*\) with 3 or more dimensions, got \(2, 4\)"),
    ("lrn_size", lambda: nn.LocalResponseNorm(0), ValueError, r"size must be a positive int, got 0"),
    ("bn_num_features", lambda: nn.BatchNorm1d(0), ValueError, r"num_features must be a positive int, got 0"),
    ("F_batch_norm_running_shape", lambda: F.batch_norm(g.ones(2, 3), g.zeros(4), g.ones(4), training=True),
     ValueError, r"running_mean must have shape \(3,\).*input of shape \(2, 3\), got \(4,\)"),
    ("F_batch_norm_eval_without_stats", lambda: F.batch_norm(g.ones(2, 3), None, None), ValueError,
     r"running_mean and running_var are required"),
    ("F_batch_norm_only_mean", lambda: F.batch_norm(g.ones(2, 3), g.zeros(3), None), ValueError, "together"),
    ("F_layer_norm_weight", lambda: F.layer_norm(g.ones(2, 3), (3,), g.ones(2)), ValueError,
     r"weight must have shape \(3,\), got \(2,\)"),
    ("F_group_norm_groups", lambda: F.group_norm(g.ones(2, 6, 2), 4), ValueError,
     r"6 channels of input \(2, 6, 2\) cannot be split into 4 groups"),
    ("F_integer_input", lambda: F.layer_norm(g.tensor([[1, 2]]), (2,)), TypeError, "floating point"),
]


@pytest.mark.parametrize("row", ERRORS, ids=[r[0] for r in ERRORS])
def test_bad_input_raises_a_clear_error(row):
    _, call, exc, pattern = row
    with pytest.raises(exc, match=pattern):
        call()
