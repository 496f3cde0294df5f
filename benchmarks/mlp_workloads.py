"""The MLP workloads of the core issue: the iris network (4-8-6-3, 3000 Adam steps of batch 2) and an MNIST-shaped
MLP (784-128-64-10, batch 64, Adam, synthetic data). Both frameworks start from the same weights and data."""

import numpy as np


def _mlp_ganglion(sizes):
    import ganglion

    layers = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers.append(ganglion.nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(ganglion.nn.ReLU())
    return ganglion.nn.Sequential(*layers)


def _mlp_torch(sizes, ganglion_model):
    import torch

    layers = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers.append(torch.nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    model.load_state_dict({k: torch.from_numpy(v.array.copy()) for k, v in ganglion_model.state_dict().items()})
    return model


def _data(n, features, classes, seed):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, features)).astype(np.float32), rng.integers(0, classes, n).astype(np.int64)


def make_pair(sizes, n_rows, batch_size, steps, seed=0):
    """(make_ganglion, make_torch): each builds its model and returns a callable doing ``steps`` training steps."""
    import ganglion

    ganglion.manual_seed(seed)
    reference = _mlp_ganglion(sizes)
    X, y = _data(n_rows, sizes[0], sizes[-1], seed)
    batches = [np.random.default_rng(seed + 1).integers(0, n_rows, batch_size) for _ in range(steps)]

    def make_ganglion():
        import ganglion.nn.functional as F

        model = _mlp_ganglion(sizes)
        model.load_state_dict(reference.state_dict())
        opt = ganglion.optim.Adam(model.parameters(), lr=1e-3)
        xs, ys = ganglion.from_numpy(X), ganglion.from_numpy(y)

        def run():
            for idx in batches:
                loss = F.cross_entropy(model(xs[idx]), ys[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()

        return run

    def make_torch():
        import torch
        import torch.nn.functional as F

        model = _mlp_torch(sizes, reference)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        xs, ys = torch.from_numpy(X), torch.from_numpy(y)
        torch_batches = [torch.from_numpy(b) for b in batches]

        def run():
            for idx in torch_batches:
                loss = F.cross_entropy(model(xs[idx]), ys[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()

        return run

    return make_ganglion, make_torch


WORKLOADS = {
    "iris MLP 4-8-6-3, Adam, 3000 steps of batch 2": lambda: make_pair((4, 8, 6, 3), 120, 2, 3000),
    "MNIST MLP 784-128-64-10, Adam, 300 steps of batch 64": lambda: make_pair((784, 128, 64, 10), 2048, 64, 300),
}
