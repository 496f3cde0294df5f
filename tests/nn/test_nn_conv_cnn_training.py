"""Acceptance: a 3-layer CNN with BatchNorm2d and Dropout learns a synthetic image task.

The task: 12x12 single-channel images holding one short bar (horizontal, vertical, diagonal or anti-diagonal) at a
random place, in Gaussian noise; the class is the bar's orientation. A bag of pixels cannot solve it (the bar moves),
a convolution followed by global pooling can. Stated result: at least 90% accuracy on 256 held-out images after
6 epochs over 512 training images (chance is 25%); a few seconds on two cores.
"""

import numpy as np

import ganglion as g
from ganglion import nn
from ganglion.nn import functional as F

SIZE, BAR = 12, 5
STATED_ACCURACY = 0.90


def make_bars(n, rng):
    images = rng.normal(0.0, 0.35, (n, 1, SIZE, SIZE)).astype(np.float32)
    labels = rng.integers(0, 4, n)
    steps = {0: (0, 1), 1: (1, 0), 2: (1, 1), 3: (1, -1)}
    for i, label in enumerate(labels):
        dr, dc = steps[int(label)]
        r0 = rng.integers(0, SIZE - BAR * dr) if dr else rng.integers(0, SIZE)
        c0 = rng.integers(BAR - 1 if dc < 0 else 0, SIZE - (BAR - 1) * max(dc, 0)) if dc else rng.integers(0, SIZE)
        for k in range(BAR):
            images[i, 0, r0 + k * dr, c0 + k * dc] += 1.5
    return images, labels.astype(np.int64)


class SmallCNN(nn.Module):
    """Three conv blocks (conv - BatchNorm2d - ReLU, pooling between them), global average pooling, Dropout, linear."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding="same"), nn.BatchNorm2d(32), nn.ReLU(),
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(0.2), nn.Linear(32, 4))

    def forward(self, x):
        return self.head(self.pool(self.features(x)))


def _accuracy(model, images, labels):
    model.eval()
    with g.no_grad():
        predicted = model(g.from_numpy(images)).numpy().argmax(axis=1)
    model.train()
    return float((predicted == labels).mean())


def test_three_layer_cnn_with_batchnorm_and_dropout_learns_bar_orientation():
    g.manual_seed(0)
    rng = np.random.default_rng(0)
    train_x, train_y = make_bars(512, rng)
    test_x, test_y = make_bars(256, rng)
    model = SmallCNN()
    optimizer = g.optim.Adam(model.parameters(), lr=0.01)
    before = _accuracy(model, test_x, test_y)
    for _ in range(6):
        order = rng.permutation(len(train_x))
        for start in range(0, len(order), 32):
            batch = order[start:start + 32]
            loss = F.cross_entropy(model(g.from_numpy(train_x[batch])), g.from_numpy(train_y[batch]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    after = _accuracy(model, test_x, test_y)
    assert before < 0.5  # an untrained network is near chance
    assert after >= STATED_ACCURACY, f"held-out accuracy {after:.3f} (before training {before:.3f})"
    # BatchNorm's running statistics were updated and are what eval mode uses
    bn = model.features[1]
    assert not np.allclose(bn.running_mean.numpy(), 0.0)
    assert int(bn.num_batches_tracked.item()) == 6 * 16
