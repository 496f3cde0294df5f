"""End to end: a 4-8-3 MLP trained with Adam and cross-entropy learns a small synthetic 3-class problem."""

import numpy as np

import ganglion as g
from ganglion import nn, optim


def blobs(n_per_class=50, seed=0):
    """Three Gaussian clusters in 4-D, close enough that an untrained model gets about a third right."""
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((3, 4)) * 1.5
    x = np.concatenate([c + rng.standard_normal((n_per_class, 4)) * 0.7 for c in centers]).astype(np.float32)
    y = np.repeat(np.arange(3), n_per_class).astype(np.int64)
    order = rng.permutation(len(y))
    return x[order], y[order]


def accuracy(model, x, y):
    with g.no_grad():
        return float((model(x).argmax(dim=1).numpy() == y.numpy()).mean())


def test_mlp_learns_a_three_class_problem_with_adam():
    g.manual_seed(0)
    x_np, y_np = blobs()
    x, y = g.from_numpy(x_np), g.from_numpy(y_np)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    loss_fn = nn.CrossEntropyLoss()
    opt = optim.Adam(model.parameters(), lr=0.02)
    start_acc, start_loss = accuracy(model, x, y), loss_fn(model(x), y).item()
    losses = []
    for _ in range(300):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    final_acc = accuracy(model, x, y)
    assert start_acc < 0.9  # the problem is not solved before training
    assert final_acc > 0.9
    assert losses[-1] < 0.5 * start_loss
    assert np.all(np.isfinite(losses))


def test_training_is_reproducible_with_the_same_seed():
    x_np, y_np = blobs()
    x, y = g.from_numpy(x_np), g.from_numpy(y_np)
    finals = []
    for _ in range(2):
        g.manual_seed(3)
        model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
        opt = optim.Adam(model.parameters(), lr=0.02)
        for _ in range(20):
            opt.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
        finals.append(model[0].weight.detach().numpy().copy())
    np.testing.assert_array_equal(finals[0], finals[1])
