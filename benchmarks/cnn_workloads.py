"""The convolutional workload of the conv/pool/recurrent issue: LeNet-5 on 1x28x28 inputs, batch 64, SGD with
momentum, forward + backward + step. Both frameworks start from the same weights and see the same synthetic data.

LeNet-5 here: conv 5x5 (1 -> 6, padding 2) - ReLU - max pool 2 - conv 5x5 (6 -> 16) - ReLU - max pool 2 - flatten -
linear 400 -> 120 - ReLU - linear 120 -> 84 - ReLU - linear 84 -> 10, cross-entropy.

    python benchmarks/run.py --only LeNet            # the ratio
    python benchmarks/cnn_workloads.py --profile     # where ganglion's time goes (cProfile, top functions)

Measuring note: in one process, OpenBLAS's worker threads keep spinning for a while after each of ganglion's matrix
products and take a core from PyTorch's thread pool when PyTorch runs next; on a 2-core machine that tripled
PyTorch's step time here (3.8 ms alone, 11-13 ms interleaved). ``OPENBLAS_NUM_THREADS=1`` removes the effect (PyTorch
keeps its own threads; ganglion's batched products are single-threaded at these sizes anyway) and gives the honest
ratio.
"""

import numpy as np

BATCH, STEPS, N_ROWS = 64, 20, 1024


def _layers(nn):
    return [
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
    ]


def make_pair(steps=STEPS, seed=0):
    """(make_ganglion, make_torch): each builds LeNet-5 and returns a callable doing ``steps`` training steps."""
    import ganglion

    ganglion.manual_seed(seed)
    reference = ganglion.nn.Sequential(*_layers(ganglion.nn))
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N_ROWS, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, N_ROWS).astype(np.int64)
    batches = [rng.integers(0, N_ROWS, BATCH) for _ in range(steps)]

    def make_ganglion():
        import ganglion.nn.functional as F

        model = ganglion.nn.Sequential(*_layers(ganglion.nn))
        model.load_state_dict(reference.state_dict())
        opt = ganglion.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        data = [(ganglion.from_numpy(X[idx]), ganglion.from_numpy(y[idx])) for idx in batches]

        def run():
            for xb, yb in data:
                loss = F.cross_entropy(model(xb), yb)
                opt.zero_grad()
                loss.backward()
                opt.step()

        return run

    def make_torch():
        import torch
        import torch.nn.functional as F

        model = torch.nn.Sequential(*_layers(torch.nn))
        model.load_state_dict({k: torch.from_numpy(v.array.copy()) for k, v in reference.state_dict().items()})
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        data = [(torch.from_numpy(X[idx]), torch.from_numpy(y[idx])) for idx in batches]

        def run():
            for xb, yb in data:
                loss = F.cross_entropy(model(xb), yb)
                opt.zero_grad()
                loss.backward()
                opt.step()

        return run

    return make_ganglion, make_torch


WORKLOADS = {
    f"LeNet-5 1x28x28, SGD momentum, {STEPS} steps of batch {BATCH}": make_pair,
}


def profile(top=25):
    """Print cProfile's view of ganglion's LeNet steps: the functions with the most time of their own."""
    import cProfile
    import pstats

    run = make_pair()[0]()
    run()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(5):
        run()
    profiler.disable()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(top)


if __name__ == "__main__":
    import sys

    if "--profile" in sys.argv:
        profile()
    else:
        import os

        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from harness import time_pair

        for name, make in WORKLOADS.items():
            g, t = time_pair(*make())
            print(f"{name}: ganglion {g:.3f}s, pytorch {t:.3f}s, ratio {g / t:.2f}x")
