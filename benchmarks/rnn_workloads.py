"""The recurrent workload of the conv/pool/recurrent issue: a one-layer LSTM (input 32, hidden 128, sequences of 50
steps, batch 64) with a linear classifier on its last hidden state, cross-entropy, Adam; forward + backward + step.
Both frameworks start from the same weights and see the same synthetic data."""

import numpy as np

INPUT, HIDDEN, STEPS, BATCH, CLASSES = 32, 128, 50, 64, 10


def _ganglion_model():
    import ganglion

    class Net(ganglion.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = ganglion.nn.LSTM(INPUT, HIDDEN)
            self.head = ganglion.nn.Linear(HIDDEN, CLASSES)

        def forward(self, x):
            _, (h, _) = self.lstm(x)
            return self.head(h[0])

    return Net()


def _torch_model():
    import torch

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = torch.nn.LSTM(INPUT, HIDDEN)
            self.head = torch.nn.Linear(HIDDEN, CLASSES)

        def forward(self, x):
            _, (h, _) = self.lstm(x)
            return self.head(h[0])

    return Net()


def make_pair(n_batches=10, seed=0):
    """(make_ganglion, make_torch): each builds its model and returns a callable doing ``n_batches`` Adam steps."""
    import ganglion

    ganglion.manual_seed(seed)
    reference = _ganglion_model()
    rng = np.random.default_rng(seed)
    xs = [rng.standard_normal((STEPS, BATCH, INPUT)).astype(np.float32) for _ in range(n_batches)]
    ys = [rng.integers(0, CLASSES, BATCH).astype(np.int64) for _ in range(n_batches)]

    def make_ganglion():
        import ganglion.nn.functional as F

        model = _ganglion_model()
        model.load_state_dict(reference.state_dict())
        opt = ganglion.optim.Adam(model.parameters(), lr=1e-3)
        batches = [(ganglion.from_numpy(x), ganglion.from_numpy(y)) for x, y in zip(xs, ys)]

        def run():
            for x, y in batches:
                loss = F.cross_entropy(model(x), y)
                opt.zero_grad()
                loss.backward()
                opt.step()

        return run

    def make_torch():
        import torch
        import torch.nn.functional as F

        model = _torch_model()
        model.load_state_dict({k: torch.from_numpy(v.array.copy()) for k, v in reference.state_dict().items()})
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        batches = [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in zip(xs, ys)]

        def run():
            for x, y in batches:
                loss = F.cross_entropy(model(x), y)
                opt.zero_grad()
                loss.backward()
                opt.step()

        return run

    return make_ganglion, make_torch


WORKLOADS = {
    "LSTM 32-128, 50 steps, batch 64, Adam, 10 steps": lambda: make_pair(),
}
