"""Bad input to the losses raises before any math, naming the loss, the argument and the shapes or values involved;
PyTorch's deprecated size_average/reduce flags and non-float targets behave as they do there."""

import warnings

import numpy as np
import pytest
import torch

import ganglion as g
from ganglion import nn
from ganglion.nn import functional as F

TF = torch.nn.functional

# (id, call with mismatched shapes, the two shapes the message must name)
MISMATCH = [
    ("mse", lambda: F.mse_loss(g.zeros(4, 3), g.zeros(4, 1)), (4, 3), (4, 1)),
    ("mse-module", lambda: nn.MSELoss()(g.zeros(4), g.zeros(4, 1)), (4,), (4, 1)),
    ("l1", lambda: F.l1_loss(g.zeros(2, 3), g.zeros(3)), (2, 3), (3,)),
    ("smooth_l1", lambda: F.smooth_l1_loss(g.zeros(2, 3), g.zeros(3, 2)), (2, 3), (3, 2)),
    ("huber", lambda: nn.HuberLoss()(g.zeros(5), g.zeros(())), (5,), ()),
    ("bce", lambda: F.binary_cross_entropy(g.zeros(3), g.zeros(3, 1)), (3,), (3, 1)),
    ("bce_logits", lambda: nn.BCEWithLogitsLoss()(g.zeros(3), g.zeros(1)), (3,), (1,)),
    ("kl_div", lambda: F.kl_div(g.zeros(2, 3), g.zeros(2, 1), reduction="batchmean"), (2, 3), (2, 1)),
    ("hinge", lambda: F.hinge_embedding_loss(g.zeros(4), g.ones(2, 2)), (4,), (2, 2)),
    ("ranking-inputs", lambda: F.margin_ranking_loss(g.zeros(3), g.zeros(1), g.ones(3)), (3,), (1,)),
    ("ranking-target", lambda: nn.MarginRankingLoss()(g.zeros(3), g.zeros(3), g.ones(1)), (3,), (1,)),
    ("cosine-inputs", lambda: F.cosine_embedding_loss(g.zeros(2, 3), g.zeros(2, 4), g.ones(2)), (2, 3), (2, 4)),
    ("cosine-target", lambda: F.cosine_embedding_loss(g.ones(2, 3), g.ones(2, 3), g.ones(3)), (2, 3), (3,)),
    ("mse-weight", lambda: F.mse_loss(g.zeros(2, 3), g.zeros(2, 3), weight=g.ones(3)), (2, 3), (3,)),
    ("bce-weight", lambda: F.binary_cross_entropy(g.zeros(2, 3), g.zeros(2, 3), weight=g.ones(2)), (2, 3), (2,)),
    ("pos_weight", lambda: F.binary_cross_entropy_with_logits(g.zeros(2, 3), g.zeros(2, 3), pos_weight=g.ones(2)),
     (2, 3), (2,)),
    ("pos_weight-too-big", lambda: F.binary_cross_entropy_with_logits(g.zeros(3), g.zeros(3),
                                                                       pos_weight=g.ones(2, 3)), (3,), (2, 3)),
]


@pytest.mark.parametrize("name,call,a,b", MISMATCH, ids=[m[0] for m in MISMATCH])
def test_shape_mismatch_raises_naming_both_shapes(name, call, a, b):
    """Never a silent broadcast (PyTorch only warns for MSE and L1 and then broadcasts)."""
    with pytest.raises(ValueError) as info:
        call()
    message = str(info.value)
    assert str(a) in message and str(b) in message


LOSSES = ["MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "BCELoss", "BCEWithLogitsLoss", "KLDivLoss",
          "CosineEmbeddingLoss", "HingeEmbeddingLoss", "MarginRankingLoss", "CrossEntropyLoss", "NLLLoss"]


@pytest.mark.parametrize("name", LOSSES)
def test_unknown_reduction_lists_the_accepted_ones(name):
    with pytest.raises(ValueError) as info:
        getattr(nn, name)(reduction="avg")
    message = str(info.value)
    assert name in message and "'avg'" in message
    assert all(r in message for r in ("none", "mean", "sum"))
    if name == "KLDivLoss":
        assert "batchmean" in message


FUNCTIONAL_CALLS = {
    "mse_loss": lambda r: F.mse_loss(g.zeros(2), g.zeros(2), reduction=r),
    "l1_loss": lambda r: F.l1_loss(g.zeros(2), g.zeros(2), reduction=r),
    "smooth_l1_loss": lambda r: F.smooth_l1_loss(g.zeros(2), g.zeros(2), reduction=r),
    "huber_loss": lambda r: F.huber_loss(g.zeros(2), g.zeros(2), reduction=r),
    "binary_cross_entropy": lambda r: F.binary_cross_entropy(g.zeros(2), g.zeros(2), reduction=r),
    "binary_cross_entropy_with_logits": lambda r: F.binary_cross_entropy_with_logits(g.zeros(2), g.zeros(2),
                                                                                      reduction=r),
    "kl_div": lambda r: F.kl_div(g.zeros(2), g.zeros(2), reduction=r),
    "cosine_embedding_loss": lambda r: F.cosine_embedding_loss(g.ones(2, 2), g.ones(2, 2), g.ones(2), reduction=r),
    "hinge_embedding_loss": lambda r: F.hinge_embedding_loss(g.zeros(2), g.ones(2), reduction=r),
    "margin_ranking_loss": lambda r: F.margin_ranking_loss(g.zeros(2), g.zeros(2), g.ones(2), reduction=r),
}


@pytest.mark.parametrize("name", list(FUNCTIONAL_CALLS))
def test_functional_unknown_reduction_raises(name):
    with pytest.raises(ValueError) as info:
        FUNCTIONAL_CALLS[name]("elementwise_mean")
    message = str(info.value)
    assert name in message and "'elementwise_mean'" in message
    assert all(r in message for r in ("none", "mean", "sum"))


def test_batchmean_is_only_for_kl_div():
    with pytest.raises(ValueError, match="batchmean"):  # named as the rejected value
        F.mse_loss(g.zeros(2), g.zeros(2), reduction="batchmean")


@pytest.mark.parametrize("call,match", [
    (lambda: F.smooth_l1_loss(g.zeros(2), g.zeros(2), beta=-0.5), "beta must be >= 0, got -0.5"),
    (lambda: nn.SmoothL1Loss(beta=-1.0), "beta must be >= 0"),
    (lambda: F.huber_loss(g.zeros(2), g.zeros(2), delta=0.0), "delta must be > 0, got 0.0"),
    (lambda: nn.HuberLoss(delta=-2.0), "delta must be > 0"),
])
def test_bad_beta_and_delta_raise(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("bad", [1.5, -0.25, float("nan")])
def test_bce_input_outside_probabilities_raises_and_points_to_logits(bad):
    p = g.tensor([0.2, bad, 0.7])
    with pytest.raises(ValueError) as info:
        F.binary_cross_entropy(p, g.tensor([0.0, 1.0, 1.0]))
    message = str(info.value)
    assert "[0, 1]" in message and "binary_cross_entropy_with_logits" in message
    assert str(bad) in message


@pytest.mark.parametrize("call,value", [
    (lambda: F.hinge_embedding_loss(g.zeros(3), g.tensor([1.0, 0.0, -1.0])), "0.0"),
    (lambda: F.cosine_embedding_loss(g.ones(3, 2), g.ones(3, 2), g.tensor([1, -1, 2])), "2"),
    (lambda: nn.HingeEmbeddingLoss()(g.zeros(2), g.tensor([0.5, 1.0])), "0.5"),
])
def test_targets_other_than_plus_minus_one_raise(call, value):
    with pytest.raises(ValueError) as info:
        call()
    assert "1 or -1" in str(info.value) and value in str(info.value)


def test_cosine_embedding_needs_1d_or_2d_inputs():
    with pytest.raises(ValueError, match=r"\(2, 3, 4\)"):
        F.cosine_embedding_loss(g.ones(2, 3, 4), g.ones(2, 3, 4), g.ones(2))


@pytest.mark.parametrize("call", [
    lambda: F.mse_loss(g.zeros(2, dtype=g.int64), g.zeros(2)),
    lambda: F.binary_cross_entropy_with_logits([0.0, 1.0], g.zeros(2)),
])
def test_non_float_input_raises_type_error(call):
    with pytest.raises(TypeError, match="input"):
        call()


def test_integer_and_list_targets_take_the_input_dtype_like_torch():
    x = g.tensor([0.5, 1.5, -1.0])
    for target in (g.tensor([0, 1, 2]), [0, 1, 2]):
        loss = F.mse_loss(x, target)
        assert loss.dtype == g.float32
        expected = TF.mse_loss(torch.tensor([0.5, 1.5, -1.0]), torch.tensor([0, 1, 2]))
        np.testing.assert_allclose(loss.item(), expected.item(), rtol=1e-7)


@pytest.mark.parametrize("size_average,reduce", [(None, False), (False, None), (True, None), (False, True),
                                                 (True, False), (None, True)])
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "binary_cross_entropy_with_logits",
                                  "cross_entropy"])
def test_deprecated_size_average_and_reduce_decide_the_reduction_like_torch(name, size_average, reduce, rng):
    x = rng.uniform(-1, 1, (3, 4))
    t = rng.integers(0, 4, 3) if name == "cross_entropy" else rng.uniform(0, 1, (3, 4))
    with pytest.warns(UserWarning, match="deprecated"):
        ours = getattr(F, name)(g.from_numpy(x), g.from_numpy(t), size_average=size_average, reduce=reduce)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = getattr(TF, name)(torch.from_numpy(x), torch.from_numpy(t), size_average=size_average, reduce=reduce)
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.numpy(), rtol=1e-12)


def test_deprecated_flags_on_modules_set_the_reduction():
    with pytest.warns(UserWarning):
        assert nn.MSELoss(size_average=False).reduction == "sum"
    with pytest.warns(UserWarning):
        assert nn.BCELoss(reduce=False).reduction == "none"
    with pytest.warns(UserWarning):
        assert nn.KLDivLoss(size_average=True, reduce=True).reduction == "mean"


def test_kl_div_mean_warns_that_batchmean_is_the_true_kl():
    with pytest.warns(UserWarning, match="batchmean"):
        F.kl_div(g.zeros(2, 3), g.full((2, 3), 1 / 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.kl_div(g.zeros(2, 3), g.full((2, 3), 1 / 3), reduction="batchmean")


def test_weighted_loss_modules_keep_weights_as_buffers_like_torch():
    cases = [
        (nn.BCELoss(weight=g.ones(3)), torch.nn.BCELoss(weight=torch.ones(3))),
        (nn.BCEWithLogitsLoss(weight=g.ones(3), pos_weight=g.ones(3)),
         torch.nn.BCEWithLogitsLoss(weight=torch.ones(3), pos_weight=torch.ones(3))),
        (nn.BCEWithLogitsLoss(pos_weight=g.ones(3)), torch.nn.BCEWithLogitsLoss(pos_weight=torch.ones(3))),
        (nn.BCELoss(), torch.nn.BCELoss()),
        (nn.MSELoss(), torch.nn.MSELoss()),
        (nn.NLLLoss(weight=g.ones(2)), torch.nn.NLLLoss(weight=torch.ones(2))),
    ]
    for ours, theirs in cases:
        assert list(ours.state_dict()) == list(theirs.state_dict())


@pytest.mark.parametrize("name,kwargs", [
    ("SmoothL1Loss", {"beta": 0.5}), ("HuberLoss", {"delta": 2.0}), ("KLDivLoss", {"log_target": True}),
    ("CosineEmbeddingLoss", {"margin": 0.1}), ("HingeEmbeddingLoss", {"margin": 2.0}),
    ("MarginRankingLoss", {"margin": 0.3}), ("BCELoss", {}), ("L1Loss", {"reduction": "sum"}),
])
def test_loss_modules_keep_torchs_attribute_names(name, kwargs):
    ours, theirs = getattr(nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs)
    for attr in list(kwargs) + ["reduction"]:
        assert getattr(ours, attr) == getattr(theirs, attr)
