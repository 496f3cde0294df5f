"""Cross-entropy and NLL: parity with PyTorch (loss and gradient) over one table of cases, gradcheck, stability
and error messages."""

import numpy as np
import pytest
import torch

import ganglion as g
from ganglion import nn
from ganglion.autograd import gradcheck
from ganglion.nn import functional as F

TF = torch.nn.functional
C = 4

# (id, input shape, target kind, options). Target kinds: "index" (class indices), "prob" (class probabilities).
CASES = []
for _reduction in ("none", "mean", "sum"):
    CASES += [
        (f"index-{_reduction}", (6, C), "index", dict(reduction=_reduction)),
        (f"prob-{_reduction}", (6, C), "prob", dict(reduction=_reduction)),
        (f"index-weight-{_reduction}", (6, C), "index", dict(reduction=_reduction, weight=True)),
        (f"prob-weight-{_reduction}", (6, C), "prob", dict(reduction=_reduction, weight=True)),
        (f"index-ignore-{_reduction}", (6, C), "index", dict(reduction=_reduction, ignore_index=2)),
        (f"index-ignore-default-{_reduction}", (6, C), "index", dict(reduction=_reduction, ignored=-100)),
        (f"index-smooth-{_reduction}", (6, C), "index", dict(reduction=_reduction, label_smoothing=0.2)),
        (f"prob-smooth-{_reduction}", (6, C), "prob", dict(reduction=_reduction, label_smoothing=0.2)),
        (f"index-weight-ignore-{_reduction}", (6, C), "index", dict(reduction=_reduction, weight=True, ignore_index=1)),
        (f"index-weight-smooth-{_reduction}", (6, C), "index",
         dict(reduction=_reduction, weight=True, label_smoothing=0.3)),
        (f"index-all-{_reduction}", (6, C), "index",
         dict(reduction=_reduction, weight=True, ignore_index=0, label_smoothing=0.1)),
        (f"prob-weight-smooth-{_reduction}", (6, C), "prob",
         dict(reduction=_reduction, weight=True, label_smoothing=0.15)),
        (f"spatial-index-{_reduction}", (2, C, 3, 5), "index", dict(reduction=_reduction)),
        (f"spatial-prob-{_reduction}", (2, C, 3, 5), "prob", dict(reduction=_reduction)),
        (f"spatial-all-{_reduction}", (2, C, 3, 5), "index",
         dict(reduction=_reduction, weight=True, ignore_index=3, label_smoothing=0.1)),
        (f"spatial-prob-weight-smooth-{_reduction}", (2, C, 3, 5), "prob",
         dict(reduction=_reduction, weight=True, label_smoothing=0.1)),
        (f"1d-index-{_reduction}", (C,), "index", dict(reduction=_reduction)),
        (f"1d-index-weight-smooth-{_reduction}", (C,), "index",
         dict(reduction=_reduction, weight=True, label_smoothing=0.1)),
        (f"1d-prob-{_reduction}", (C,), "prob", dict(reduction=_reduction)),
    ]
IDS = [c[0] for c in CASES]


def make_case(shape, kind, options, rng, dtype=np.float64):
    """Logits, target and keyword arguments as NumPy data shared by both frameworks."""
    logits = (2 * rng.standard_normal(shape)).astype(dtype)
    target_shape = (shape[0],) + shape[2:] if len(shape) > 1 else ()
    kwargs = {"reduction": options["reduction"]}
    if kind == "index":
        target = rng.integers(0, C, size=target_shape).astype(np.int64)
        ignore = options.get("ignore_index", options.get("ignored"))
        if ignore is not None:
            flat = target.reshape(-1)
            if flat.size > 1:
                flat[::3] = ignore  # some, not all, targets are ignored
            if "ignore_index" in options:
                kwargs["ignore_index"] = ignore
    else:
        p = rng.random(shape) + 0.05
        target = (p / p.sum(axis=1 if len(shape) > 1 else 0, keepdims=True)).astype(dtype)
    weight = rng.random(C).astype(dtype) + 0.5 if options.get("weight") else None
    if "label_smoothing" in options:
        kwargs["label_smoothing"] = options["label_smoothing"]
    return logits, target, weight, kwargs


def ganglion_loss(logits, target, weight, kwargs, module=False):
    """(logits tensor, target tensor, loss); probability targets require grad (they are differentiable)."""
    x = g.tensor(logits, dtype=logits.dtype, requires_grad=True)
    t = g.tensor(target, dtype=target.dtype, requires_grad=target.dtype.kind == "f")
    w = None if weight is None else g.tensor(weight, dtype=weight.dtype)
    loss = nn.CrossEntropyLoss(weight=w, **kwargs)(x, t) if module else F.cross_entropy(x, t, weight=w, **kwargs)
    return x, t, loss


def torch_loss(logits, target, weight, kwargs):
    x = torch.from_numpy(logits.copy()).requires_grad_(True)
    t = torch.from_numpy(target.copy()).requires_grad_(target.dtype.kind == "f")
    w = None if weight is None else torch.from_numpy(weight)
    return x, t, TF.cross_entropy(x, t, weight=w, **kwargs)


def backward_with(loss, upstream, framework):
    if framework == "ganglion":
        loss.backward(g.tensor(upstream, dtype=upstream.dtype))
    else:
        loss.backward(torch.from_numpy(upstream.copy()))


@pytest.mark.parametrize("module", [False, True], ids=["functional", "module"])
@pytest.mark.parametrize("name,shape,kind,options", CASES, ids=IDS)
def test_cross_entropy_parity_with_torch(name, shape, kind, options, module, rng):
    logits, target, weight, kwargs = make_case(shape, kind, options, rng)
    x, t, loss = ganglion_loss(logits, target, weight, kwargs, module=module)
    xt, tt, loss_t = torch_loss(logits, target, weight, kwargs)
    assert tuple(loss.shape) == tuple(loss_t.shape)
    assert loss.dtype == g.float64
    np.testing.assert_allclose(loss.detach().numpy(), loss_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    upstream = rng.standard_normal(tuple(loss_t.shape))
    backward_with(loss, upstream, "ganglion")
    backward_with(loss_t, upstream, "torch")
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-9, atol=1e-12)
    if kind == "prob":
        np.testing.assert_allclose(t.grad.numpy(), tt.grad.numpy(), rtol=1e-9, atol=1e-12)
    else:
        assert t.grad is None


@pytest.mark.parametrize("name,shape,kind,options", [c for c in CASES if c[3]["reduction"] == "mean"],
                         ids=[c[0] for c in CASES if c[3]["reduction"] == "mean"])
def test_cross_entropy_parity_float32(name, shape, kind, options, rng):
    logits, target, weight, kwargs = make_case(shape, kind, options, rng, dtype=np.float32)
    x, _, loss = ganglion_loss(logits, target, weight, kwargs)
    xt, _, loss_t = torch_loss(logits, target, weight, kwargs)
    assert loss.dtype == g.float32
    np.testing.assert_allclose(loss.item(), loss_t.item(), rtol=1e-5)
    loss.backward()
    loss_t.backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_cross_entropy_1d_input_with_0d_target_is_a_scalar(rng):
    logits = rng.standard_normal(C)
    loss = F.cross_entropy(g.from_numpy(logits), g.tensor(2))
    assert tuple(loss.shape) == ()
    np.testing.assert_allclose(loss.item(), -(logits[2] - np.log(np.exp(logits).sum())), rtol=1e-12)


def test_cross_entropy_matches_the_formula(rng):
    """Not only torch: the value is -log softmax(z)[target], averaged."""
    z = rng.standard_normal((5, 3))
    t = np.array([0, 2, 1, 1, 0])
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    expected = -logp[np.arange(5), t].mean()
    np.testing.assert_allclose(F.cross_entropy(g.from_numpy(z), g.from_numpy(t)).item(), expected, rtol=1e-12)


@pytest.mark.parametrize("case", ["index", "index-weight-ignore-smooth", "prob", "prob-smooth-weight", "spatial"])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_gradcheck_cross_entropy(case, reduction, rng):
    shape = (2, 3, 2) if case == "spatial" else (4, 3)
    z = g.tensor(rng.standard_normal(shape), dtype=g.float64, requires_grad=True)
    kwargs = {"reduction": reduction}
    if case.startswith("prob"):
        p = rng.random(shape) + 0.1
        target = g.from_numpy(p / p.sum(axis=1, keepdims=True))
    elif case == "spatial":
        target = g.from_numpy(rng.integers(0, 3, size=(2, 2)))
    else:
        target = g.tensor([0, 2, 1, 2])
    if "weight" in case:
        kwargs["weight"] = g.tensor([0.5, 1.0, 2.0], dtype=g.float64)
    if "ignore" in case:
        kwargs["ignore_index"] = 1
    if "smooth" in case:
        kwargs["label_smoothing"] = 0.2
    assert gradcheck(lambda z: F.cross_entropy(z, target, **kwargs), (z,))


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("shape", [(3, 4), (2, 4, 2), (4,)])
def test_gradcheck_cross_entropy_in_logits_and_probability_target(reduction, shape, rng):
    """Soft targets are differentiable (as in PyTorch, e.g. for distillation): both inputs are checked."""
    z = g.tensor(rng.standard_normal(shape), dtype=g.float64, requires_grad=True)
    p = g.tensor(rng.random(shape) + 0.1, dtype=g.float64, requires_grad=True)
    w = g.tensor([0.5, 1.0, 2.0, 1.5], dtype=g.float64)
    assert gradcheck(lambda z, p: F.cross_entropy(z, p, weight=w, reduction=reduction, label_smoothing=0.1), (z, p))


def test_all_targets_ignored_gives_nan_mean_and_zero_sum_like_torch():
    z, t = g.zeros(2, 3), g.tensor([-100, -100])
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = F.cross_entropy(z, t).item()
    assert np.isnan(mean) and np.isnan(TF.cross_entropy(torch.zeros(2, 3), torch.tensor([-100, -100])).item())
    assert F.cross_entropy(z, t, reduction="sum").item() == 0.0


# ------------------------------------------------------------------------------------------------- stability
@pytest.mark.parametrize("kind", ["index", "prob"])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_cross_entropy_is_stable_for_huge_logits_in_float32(kind, reduction, rng):
    logits = (1e4 * rng.standard_normal((8, 5))).astype(np.float32)
    logits[0] = [1e4, -1e4, 1e4, 0.0, -1e4]  # ties at the top, and a row with a huge spread
    if kind == "index":
        target = rng.integers(0, 5, size=8)
    else:
        target = rng.dirichlet(np.ones(5), size=8).astype(np.float32)
    x = g.tensor(logits, requires_grad=True)
    loss = F.cross_entropy(x, g.tensor(target, dtype=target.dtype), reduction=reduction)
    xt = torch.from_numpy(logits.copy()).requires_grad_(True)
    loss_t = TF.cross_entropy(xt, torch.from_numpy(target), reduction=reduction)
    assert np.all(np.isfinite(loss.detach().numpy()))
    np.testing.assert_allclose(loss.detach().numpy(), loss_t.detach().numpy(), rtol=1e-5)
    loss.sum().backward()
    loss_t.sum().backward()
    assert np.all(np.isfinite(x.grad.numpy()))
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------------------------------------------- errors
@pytest.mark.parametrize("bad", [3, 7, -1, -5])
def test_target_out_of_range_names_the_value_and_the_class_count(bad):
    target = g.tensor([0, bad, 1])
    with pytest.raises(ValueError) as info:
        F.cross_entropy(g.zeros(3, 3), target)
    message = str(info.value)
    assert str(bad) in message and "3 classes" in message


def test_target_out_of_range_in_spatial_input_raises():
    target = g.zeros(2, 3, dtype=g.int64)
    target.array[1, 2] = 9
    with pytest.raises(ValueError, match="9"):
        F.cross_entropy(g.zeros(2, 4, 3), target)


def test_ignore_index_is_not_out_of_range():
    loss = F.cross_entropy(g.zeros(3, 3), g.tensor([0, -100, 2]))
    np.testing.assert_allclose(loss.item(), np.log(3), rtol=1e-6)


@pytest.mark.parametrize("call", [
    lambda: F.cross_entropy(g.zeros(2, 3), g.tensor([0, 1]), reduction="average"),
    lambda: nn.CrossEntropyLoss(reduction="average"),
    lambda: F.nll_loss(g.zeros(2, 3), g.tensor([0, 1]), reduction="average"),
    lambda: nn.NLLLoss(reduction="average"),
])
def test_unknown_reduction_lists_the_accepted_ones(call):
    with pytest.raises(ValueError) as info:
        call()
    message = str(info.value)
    assert "average" in message
    assert all(r in message for r in ("none", "mean", "sum"))


def test_target_shape_mismatch_raises():
    with pytest.raises(ValueError, match="target"):
        F.cross_entropy(g.zeros(4, 3), g.tensor([0, 1]))
    with pytest.raises(ValueError, match="shape"):
        F.cross_entropy(g.zeros(4, 3), g.zeros(4, 2))


def test_bad_label_smoothing_and_weight_raise():
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(g.zeros(2, 3), g.tensor([0, 1]), label_smoothing=1.5)
    with pytest.raises(ValueError, match="weight"):
        F.cross_entropy(g.zeros(2, 3), g.tensor([0, 1]), weight=g.ones(4))


# ---------------------------------------------------------------------------------------------------- nll_loss
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("weight", [False, True])
@pytest.mark.parametrize("ignore_index", [None, 1])
@pytest.mark.parametrize("module", [False, True], ids=["functional", "module"])
def test_nll_loss_parity_with_torch(reduction, weight, ignore_index, module, rng):
    logp = np.log(rng.dirichlet(np.ones(C), size=7))
    target = rng.integers(0, C, size=7)
    target[[0, 3]] = 1
    w = rng.random(C) + 0.5 if weight else None
    kwargs = {"reduction": reduction}
    if ignore_index is not None:
        kwargs["ignore_index"] = ignore_index
    x = g.tensor(logp, dtype=g.float64, requires_grad=True)
    gw = None if w is None else g.from_numpy(w)
    if module:
        loss = nn.NLLLoss(weight=gw, **kwargs)(x, g.from_numpy(target))
    else:
        loss = F.nll_loss(x, g.from_numpy(target), weight=gw, **kwargs)
    xt = torch.from_numpy(logp.copy()).requires_grad_(True)
    loss_t = TF.nll_loss(xt, torch.from_numpy(target), weight=None if w is None else torch.from_numpy(w), **kwargs)
    np.testing.assert_allclose(loss.detach().numpy(), loss_t.detach().numpy(), rtol=1e-12)
    upstream = rng.standard_normal(tuple(loss_t.shape))
    backward_with(loss, upstream, "ganglion")
    backward_with(loss_t, upstream, "torch")
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("shape", [(C,), (2, C, 4), (2, C, 3, 2)], ids=["1d", "NCd", "NCdd"])
def test_nll_loss_other_input_shapes_match_torch(shape, reduction, rng):
    logp = np.log(rng.dirichlet(np.ones(C), size=int(np.prod(shape)) // C)).reshape(
        (shape[0],) + shape[2:] + (C,) if len(shape) > 1 else shape
    )
    if len(shape) > 1:
        logp = np.moveaxis(logp, -1, 1)
    target = rng.integers(0, C, size=(shape[0],) + shape[2:] if len(shape) > 1 else ())
    x = g.tensor(logp, dtype=g.float64, requires_grad=True)
    xt = torch.from_numpy(logp.copy()).requires_grad_(True)
    loss = F.nll_loss(x, g.tensor(target), reduction=reduction)
    loss_t = TF.nll_loss(xt, torch.as_tensor(target), reduction=reduction)
    assert tuple(loss.shape) == tuple(loss_t.shape)
    np.testing.assert_allclose(loss.detach().numpy(), loss_t.detach().numpy(), rtol=1e-12)
    upstream = rng.standard_normal(tuple(loss_t.shape))
    backward_with(loss, upstream, "ganglion")
    backward_with(loss_t, upstream, "torch")
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_nll_loss_rejects_probability_targets():
    with pytest.raises(TypeError, match="class indices"):
        F.nll_loss(g.zeros(2, 3), g.zeros(2, 3))


def test_log_softmax_then_nll_equals_cross_entropy(rng):
    z = g.from_numpy(rng.standard_normal((5, C)))
    t = g.from_numpy(rng.integers(0, C, size=5))
    np.testing.assert_allclose(F.nll_loss(F.log_softmax(z, dim=1), t).item(), F.cross_entropy(z, t).item(),
                               rtol=1e-12)


def test_nll_loss_target_out_of_range_raises():
    with pytest.raises(ValueError) as info:
        F.nll_loss(g.zeros(2, 3), g.tensor([0, 3]))
    assert "3" in str(info.value) and "3 classes" in str(info.value)


def test_cross_entropy_loss_module_saves_weight_like_torch():
    ours = nn.CrossEntropyLoss(weight=g.ones(3))
    theirs = torch.nn.CrossEntropyLoss(weight=torch.ones(3))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]
    assert list(nn.CrossEntropyLoss().state_dict()) == []
