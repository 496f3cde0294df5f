"""Gradient clipping (nn.utils.clip_grad_norm_, clip_grad_value_, get_total_norm, clip_grads_with_norm_) and
parameters_to_vector / vector_to_parameters, against torch.nn.utils on the same gradients."""

import math

import numpy as np
import pytest
import torch

import ganglion as g
from ganglion import nn, optim

SHAPES = [(3, 4), (5,), (2, 2, 2), (1,), ()]


def _pair(dtype, scale=3.0, seed=0, skip=(3,)):
    """The same parameters and gradients in both frameworks; the parameters at ``skip`` have no gradient."""
    rng = np.random.default_rng(seed)
    values = [np.asarray(rng.standard_normal(s), dtype=dtype) for s in SHAPES]
    grads = [np.asarray(scale * rng.standard_normal(s), dtype=dtype) for s in SHAPES]
    ours = [nn.Parameter(g.from_numpy(v.copy())) for v in values]
    theirs = [torch.nn.Parameter(torch.from_numpy(v.copy())) for v in values]
    for i, (p, q, gr) in enumerate(zip(ours, theirs, grads)):
        if i not in skip:
            p.grad, q.grad = g.from_numpy(gr.copy()), torch.from_numpy(gr.copy())
    return ours, theirs


def _assert_grads_equal(ours, theirs, rtol):
    for p, q in zip(ours, theirs):
        if q.grad is None:
            assert p.grad is None
        else:
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=rtol, atol=rtol * 1e-3)


NORM_TYPES = [2.0, 1, 3.5, 0, math.inf, "inf", -math.inf]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("foreach", [None, True, False])
@pytest.mark.parametrize("norm_type", NORM_TYPES, ids=[str(n) for n in NORM_TYPES])
def test_clip_grad_norm_matches_torch(norm_type, foreach, dtype):
    rtol = 1e-6 if dtype == np.float32 else 1e-12
    ours, theirs = _pair(dtype)
    total = nn.utils.clip_grad_norm_(ours, max_norm=1.5, norm_type=norm_type, foreach=foreach)
    total_t = torch.nn.utils.clip_grad_norm_(theirs, max_norm=1.5, norm_type=norm_type)
    assert total.shape == () and total.dtype == dtype
    np.testing.assert_allclose(float(total), float(total_t), rtol=rtol)
    _assert_grads_equal(ours, theirs, rtol)
    if norm_type in (2.0, 1, 3.5, math.inf):  # a true norm: afterwards it is max_norm (up to the 1e-6 guard)
        after = nn.utils.get_total_norm([p.grad for p in ours if p.grad is not None], norm_type)
        assert float(after) == pytest.approx(1.5, rel=1e-5)


@pytest.mark.parametrize("foreach", [None, True, False])
@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, 0])  # PyTorch refuses +-inf norms of an empty tensor
def test_gradients_of_two_dtypes_and_an_empty_one_are_measured_group_by_group_as_torch(norm_type, foreach):
    """float32 and float64 gradients interleaved, empty ones among them: each dtype's norms are gathered as one
    group (PyTorch's grouping), and the total and the clipped gradients are PyTorch's."""
    rng = np.random.default_rng(4)
    shapes = [(3, 4), (0,), (5,), (2, 3), (4,), (0, 2)]
    dtypes = [np.float32, np.float64, np.float64, np.float32, np.float32, np.float32]
    grads = [(3.0 * rng.standard_normal(s)).astype(d) for s, d in zip(shapes, dtypes)]
    ours = [nn.Parameter(g.zeros(*gr.shape, dtype=gr.dtype)) for gr in grads]
    theirs = [torch.nn.Parameter(torch.zeros(gr.shape, dtype=torch.from_numpy(gr).dtype)) for gr in grads]
    for p, q, gr in zip(ours, theirs, grads):
        p.grad, q.grad = g.from_numpy(gr.copy()), torch.from_numpy(gr.copy())
    total = nn.utils.clip_grad_norm_(ours, max_norm=1.5, norm_type=norm_type, foreach=foreach)
    total_t = torch.nn.utils.clip_grad_norm_(theirs, max_norm=1.5, norm_type=norm_type)
    assert str(total.dtype) == str(total_t.dtype).replace("torch.", "")
    np.testing.assert_allclose(float(total), float(total_t), rtol=1e-6)
    _assert_grads_equal(ours, theirs, 1e-6)


@pytest.mark.parametrize("foreach", [None, True, False])
@pytest.mark.parametrize("norm_type", [math.inf, -math.inf])
def test_an_infinite_norm_with_an_empty_gradient_raises_as_torch(norm_type, foreach):
    grads = [np.ones(3, np.float32), np.zeros(0, np.float32)]
    ours = [nn.Parameter(g.zeros(*gr.shape)) for gr in grads]
    theirs = [torch.nn.Parameter(torch.zeros(gr.shape)) for gr in grads]
    for p, q, gr in zip(ours, theirs, grads):
        p.grad, q.grad = g.from_numpy(gr.copy()), torch.from_numpy(gr.copy())
    with pytest.raises(RuntimeError, match="norm on an empty tensor"):
        torch.nn.utils.clip_grad_norm_(theirs, max_norm=1.0, norm_type=norm_type, foreach=foreach)
    with pytest.raises(RuntimeError, match="cannot compute the -?inf norm on an empty tensor"):
        nn.utils.clip_grad_norm_(ours, max_norm=1.0, norm_type=norm_type, foreach=foreach)
    assert ours[0].grad.numpy().tolist() == [1.0, 1.0, 1.0]  # nothing was scaled


def test_small_gradients_are_left_exactly_as_they_are():
    ours, _ = _pair(np.float32, scale=1e-3)
    before = [None if p.grad is None else p.grad.numpy().copy() for p in ours]
    total = nn.utils.clip_grad_norm_(ours, max_norm=10.0)
    assert float(total) < 10.0
    for p, b in zip(ours, before):
        if b is not None:
            np.testing.assert_array_equal(p.grad.numpy(), b)


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_non_finite_norms_raise_when_asked_and_propagate_like_torch_otherwise(bad):
    ours, theirs = _pair(np.float64)
    ours[0].grad.array[0, 0] = bad
    theirs[0].grad[0, 0] = bad
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
    assert not np.isnan(ours[1].grad.numpy()).any()  # nothing was scaled before the error
    total = nn.utils.clip_grad_norm_(ours, 1.0)
    total_t = torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    assert (math.isnan(float(total)), math.isinf(float(total))) == (math.isnan(total_t), math.isinf(total_t))
    for p, q in zip(ours, theirs):
        if q.grad is not None:
            np.testing.assert_array_equal(np.isnan(p.grad.numpy()), np.isnan(q.grad.numpy()))


def test_accepts_a_single_tensor_a_generator_and_no_gradients():
    p = nn.Parameter(g.ones(4))
    p.grad = g.full((4,), 2.0)
    assert float(nn.utils.clip_grad_norm_(p, 1.0)) == pytest.approx(4.0)
    np.testing.assert_allclose(p.grad.numpy(), np.full(4, 0.5), rtol=1e-5)
    with pytest.warns(UserWarning, match="empty generator"):
        total = nn.utils.clip_grad_norm_((q for q in []), 1.0)
    assert float(total) == 0.0
    assert float(nn.utils.clip_grad_norm_([nn.Parameter(g.ones(2))], 1.0)) == 0.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_clip_grad_value_matches_torch(dtype):
    ours, theirs = _pair(dtype)
    nn.utils.clip_grad_value_(ours, clip_value=0.75)
    torch.nn.utils.clip_grad_value_(theirs, clip_value=0.75)
    _assert_grads_equal(ours, theirs, 0)
    assert max(np.abs(p.grad.numpy()).max() for p in ours if p.grad is not None) == pytest.approx(0.75)


def test_get_total_norm_and_clip_grads_with_norm_match_torch():
    ours, theirs = _pair(np.float64)
    total = nn.utils.get_total_norm([p.grad for p in ours if p.grad is not None], norm_type=3.0)
    total_t = torch.nn.utils.get_total_norm([q.grad for q in theirs if q.grad is not None], norm_type=3.0)
    assert float(total) == pytest.approx(float(total_t), rel=1e-12)
    nn.utils.clip_grads_with_norm_(ours, 2.0, total)
    torch.nn.utils.clip_grads_with_norm_(theirs, 2.0, total_t)
    _assert_grads_equal(ours, theirs, 1e-12)


@pytest.mark.parametrize("call,error,match", [
    (lambda ps: nn.utils.clip_grad_norm_(ps, -1.0), ValueError, "max_norm"),
    (lambda ps: nn.utils.clip_grad_norm_(ps, "big"), TypeError, "max_norm"),
    (lambda ps: nn.utils.clip_grad_norm_(ps, 1.0, norm_type="fro"), ValueError, "norm_type"),
    (lambda ps: nn.utils.clip_grad_norm_(5, 1.0), TypeError, "iterable"),
    (lambda ps: nn.utils.clip_grad_value_(ps, -0.5), ValueError, "clip_value"),
    (lambda ps: nn.utils.clip_grad_norm_(ps + ["w"], 1.0), TypeError, "str"),
], ids=["negative-max_norm", "max_norm-str", "norm_type", "not-iterable", "negative-clip_value", "not-a-tensor"])
def test_bad_arguments(call, error, match):
    ours, _ = _pair(np.float32)
    with pytest.raises(error, match=match):
        call(ours)


def test_deprecated_clip_grad_norm_warns_and_clips():
    ours, theirs = _pair(np.float64)
    with pytest.warns(FutureWarning, match="clip_grad_norm_"):
        total = nn.utils.clip_grad_norm(ours, 1.0)
    assert float(total) == pytest.approx(float(torch.nn.utils.clip_grad_norm_(theirs, 1.0)), rel=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_clipping_in_a_training_loop_follows_torch(dtype, make_pair, params_close):
    pair = make_pair(dtype)
    ours, theirs = optim.Adam(pair.ours.parameters(), lr=0.01), torch.optim.Adam(pair.theirs.parameters(), lr=0.01)
    norms = []
    for _ in range(100):
        for opt, loss, model, clip in ((ours, pair.loss_ours, pair.ours, nn.utils.clip_grad_norm_),
                                       (theirs, pair.loss_theirs, pair.theirs, torch.nn.utils.clip_grad_norm_)):
            opt.zero_grad()
            loss().backward()
            norms.append(float(clip(model.parameters(), max_norm=0.2)))
            opt.step()
    params_close(pair.params_ours(), pair.params_theirs(), dtype)
    assert max(norms) > 0.2  # clipping was active


# ------------------------------------------------------------------------------------- parameters <-> vector
def test_parameters_to_vector_and_back_match_torch():
    ours, theirs = _pair(np.float64)
    vec, vec_t = nn.utils.parameters_to_vector(ours), torch.nn.utils.parameters_to_vector(theirs)
    assert vec.shape == tuple(vec_t.shape) == (sum(int(np.prod(s)) for s in SHAPES),)
    np.testing.assert_array_equal(vec.detach().numpy(), vec_t.detach().numpy())
    new = np.arange(vec.shape[0], dtype=np.float64)
    shared = g.from_numpy(new.copy())
    nn.utils.vector_to_parameters(shared, ours)
    torch.nn.utils.vector_to_parameters(torch.from_numpy(new.copy()), theirs)
    for p, q in zip(ours, theirs):
        assert p.shape == tuple(q.shape)
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
    shared.array[0] = -7.0  # the parameters are views of the vector, as in PyTorch
    assert ours[0].detach().numpy()[0, 0] == -7.0


def test_parameters_to_vector_is_differentiable():
    ours, _ = _pair(np.float64, skip=range(len(SHAPES)))
    weights = g.from_numpy(np.linspace(-1, 1, sum(int(np.prod(s)) for s in SHAPES)))
    (nn.utils.parameters_to_vector(ours) * weights).sum().backward()
    start = 0
    for p in ours:
        n = p.numel()
        np.testing.assert_allclose(p.grad.numpy().reshape(-1), weights.numpy()[start:start + n])
        start += n


@pytest.mark.parametrize("vec,error,match", [
    (np.zeros(3), TypeError, "Tensor"),
    (g.zeros(5), ValueError, "elements"),
    (g.zeros(2, 13), ValueError, "1-D"),
], ids=["not-a-tensor", "wrong-size", "2-d"])
def test_vector_to_parameters_rejects_a_bad_vector(vec, error, match):
    ours, _ = _pair(np.float32)
    with pytest.raises(error, match=match):
        nn.utils.vector_to_parameters(vec, ours)
