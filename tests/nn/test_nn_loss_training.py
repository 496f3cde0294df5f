"""Multi-class vs multi-label classification on the same tiny network: softmax + cross-entropy (one class per
sample) and sigmoid + binary cross-entropy (any number of labels per sample, with logits or on probabilities)
train the same way in ganglion and PyTorch, step by step, and both actually learn their task."""

import numpy as np
import pytest
import torch

import ganglion as g
from ganglion import nn, optim

N, D, H, C = 32, 4, 16, 3
STEPS, LR = 60, 0.5


def data(rng):
    """Inputs, one class per sample (argmax of a hidden linear map) and multi-hot labels (its positive entries)."""
    x = rng.standard_normal((N, D)).astype(np.float32)
    scores = x @ rng.standard_normal((D, C)) + rng.standard_normal(C) * 0.3
    classes = scores.argmax(axis=1).astype(np.int64)
    multi_hot = (scores > 0).astype(np.float32)
    return x, classes, multi_hot


def models(rng):
    ours = nn.Sequential(nn.Linear(D, H), nn.ReLU(), nn.Linear(H, C))
    theirs = torch.nn.Sequential(torch.nn.Linear(D, H), torch.nn.ReLU(), torch.nn.Linear(H, C))
    for (_, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        values = rng.uniform(-0.5, 0.5, tuple(p.shape)).astype(np.float32)
        p.data = g.tensor(values)
        q.data = torch.tensor(values)
    return ours, theirs


# (task, how the logits become the loss, in each framework)
SETUPS = {
    "multi-class: softmax + cross_entropy": (
        "classes",
        lambda z, t: nn.CrossEntropyLoss()(z, t),
        lambda z, t: torch.nn.CrossEntropyLoss()(z, t),
    ),
    "multi-class: log_softmax + nll_loss": (
        "classes",
        lambda z, t: nn.NLLLoss()(nn.functional.log_softmax(z, dim=1), t),
        lambda z, t: torch.nn.NLLLoss()(torch.log_softmax(z, dim=1), t),
    ),
    "multi-label: sigmoid + BCE, fused with logits": (
        "multi_hot",
        lambda z, t: nn.BCEWithLogitsLoss()(z, t),
        lambda z, t: torch.nn.BCEWithLogitsLoss()(z, t),
    ),
    "multi-label: sigmoid, then BCE on probabilities": (
        "multi_hot",
        lambda z, t: nn.BCELoss()(nn.functional.sigmoid(z), t),
        lambda z, t: torch.nn.BCELoss()(torch.sigmoid(z), t),
    ),
}


@pytest.mark.parametrize("setup", list(SETUPS))
def test_classification_losses_train_like_torch(setup, rng):
    task, our_loss, their_loss = SETUPS[setup]
    x, classes, multi_hot = data(rng)
    target = classes if task == "classes" else multi_hot
    ours, theirs = models(rng)
    opt = optim.SGD(ours.parameters(), lr=LR)
    opt_t = torch.optim.SGD(theirs.parameters(), lr=LR)
    xg, tg, xt, tt = g.tensor(x), g.tensor(target), torch.tensor(x), torch.tensor(target)
    losses, losses_t = [], []
    for _ in range(STEPS):
        opt.zero_grad()
        loss = our_loss(ours(xg), tg)
        loss.backward()
        opt.step()
        opt_t.zero_grad()
        loss_t = their_loss(theirs(xt), tt)
        loss_t.backward()
        opt_t.step()
        losses.append(loss.item())
        losses_t.append(loss_t.item())
    np.testing.assert_allclose(losses, losses_t, rtol=1e-4, atol=1e-6)
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-4, atol=1e-5, err_msg=name)
    assert losses[-1] < 0.5 * losses[0]

    # each learned its own task: one class per row by argmax, or every label by thresholding its own sigmoid
    with g.no_grad():
        logits = ours(xg).numpy()
    if task == "classes":
        assert np.mean(logits.argmax(axis=1) == classes) >= 0.9
    else:
        assert np.mean((logits > 0) == (multi_hot > 0.5)) >= 0.9
        assert np.any(multi_hot.sum(axis=1) >= 2)  # rows with several labels exist, which a softmax cannot express
