"""Convolutional workloads (issue 14). Both frameworks start from the same weights and see the same synthetic data.

- LeNet-5 on 1x28x28 inputs, batch 64, SGD with momentum, forward + backward + step: conv 5x5 (1 -> 6, padding 2)
  - ReLU - max pool 2 - conv 5x5 (6 -> 16) - ReLU - max pool 2 - flatten - linear 400 -> 120 - ReLU - linear
  120 -> 84 - ReLU - linear 84 -> 10, cross-entropy.
- ResNet-18 at a quarter width: the CIFAR stem (3x3 conv, no max pool), BasicBlocks 2-2-2-2 of widths 16-32-64-128,
  batch norm, batch 32 of 3x32x32, SGD with momentum and weight decay (ganglion's ``vision.models.resnet18``; the
  PyTorch side is the same layout built by hand below, since torchvision is not importable here).
- One layer: a 7x7 convolution from 128 channels to 1 on 64x128x28x28 inputs, padding 3, forward + backward (input
  and weight gradients).

    python benchmarks/run.py --only LeNet            # the ratio (or --only ResNet, --only 7x7)
    python benchmarks/cnn_workloads.py --profile [LeNet|ResNet|7x7]   # where ganglion's time goes (cProfile)
    python benchmarks/run.py --first-step --only LeNet  # first-step cost and peak memory, each side in its own process

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


RESNET_WIDTHS, RESNET_BATCH, RESNET_STEPS = (16, 32, 64, 128), 32, 4


def _torch_resnet(widths, num_classes):
    """torchvision's ResNet-18 layout (CIFAR stem) with its key names, built from torch.nn by hand."""
    import torch.nn as nn

    class BasicBlock(nn.Module):
        def __init__(self, inplanes, planes, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.downsample = None
            if stride != 1 or inplanes != planes:
                self.downsample = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride, bias=False),
                                                nn.BatchNorm2d(planes))

        def forward(self, x):
            identity = x if self.downsample is None else self.downsample(x)
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return self.relu(out + identity)

    class ResNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, widths[0], 3, 1, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(widths[0])
            self.relu = nn.ReLU(inplace=True)
            inplanes = widths[0]
            for i, planes in enumerate(widths):
                stride = 1 if i == 0 else 2
                setattr(self, f"layer{i + 1}", nn.Sequential(BasicBlock(inplanes, planes, stride),
                                                             BasicBlock(planes, planes, 1)))
                inplanes = planes
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(widths[3], num_classes)

        def forward(self, x):
            x = self.relu(self.bn1(self.conv1(x)))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(self.avgpool(x).flatten(1))

    return ResNet()


def make_resnet_pair(steps=RESNET_STEPS, seed=0):
    """(make_ganglion, make_torch) for the quarter-width ResNet-18: ``steps`` training steps per call."""
    import ganglion
    from ganglion.vision.models import resnet18

    ganglion.manual_seed(seed)
    reference = resnet18(num_classes=10, widths=RESNET_WIDTHS, cifar_stem=True)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((256, 3, 32, 32)).astype(np.float32)
    y = rng.integers(0, 10, 256).astype(np.int64)
    batches = [rng.integers(0, 256, RESNET_BATCH) for _ in range(steps)]
    hyper = dict(lr=0.05, momentum=0.9, weight_decay=5e-4)

    def make_ganglion():
        import ganglion.nn.functional as F

        model = resnet18(num_classes=10, widths=RESNET_WIDTHS, cifar_stem=True)
        model.load_state_dict(reference.state_dict())
        model.train()
        opt = ganglion.optim.SGD(model.parameters(), **hyper)
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

        model = _torch_resnet(RESNET_WIDTHS, 10)
        model.load_state_dict({k: torch.from_numpy(v.array.copy()) for k, v in reference.state_dict().items()})
        model.train()
        opt = torch.optim.SGD(model.parameters(), **hyper)
        data = [(torch.from_numpy(X[idx]), torch.from_numpy(y[idx])) for idx in batches]

        def run():
            for xb, yb in data:
                loss = F.cross_entropy(model(xb), yb)
                opt.zero_grad()
                loss.backward()
                opt.step()

        return run

    return make_ganglion, make_torch


WIDE_SHAPE, WIDE_REPEATS = (64, 128, 28, 28), 2


def make_wide_conv_pair(repeats=WIDE_REPEATS, seed=0):
    """(make_ganglion, make_torch) for one 7x7 convolution 128 -> 1 (padding 3) on 64x128x28x28: forward and
    backward to the input and the weight, ``repeats`` times per call."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(WIDE_SHAPE).astype(np.float32)
    w = (rng.standard_normal((1, WIDE_SHAPE[1], 7, 7)) / np.sqrt(WIDE_SHAPE[1] * 49)).astype(np.float32)
    b = np.zeros(1, np.float32)

    def make(framework):
        """The workload in ``framework`` (the ganglion or torch module): both spell it the same way."""
        F = framework.nn.functional
        xt = framework.tensor(x, requires_grad=True)
        wt, bt = framework.tensor(w, requires_grad=True), framework.tensor(b, requires_grad=True)

        def run():
            for _ in range(repeats):
                xt.grad = wt.grad = bt.grad = None
                F.conv2d(xt, wt, bt, padding=3).sum().backward()

        return run

    def make_ganglion():
        import ganglion
        import ganglion.nn.functional  # noqa: F401 - ganglion.nn.functional as an attribute

        return make(ganglion)

    def make_torch():
        import torch

        return make(torch)

    return make_ganglion, make_torch


WORKLOADS = {
    f"LeNet-5 1x28x28, SGD momentum, {STEPS} steps of batch {BATCH}": make_pair,
    f"ResNet-18/4 3x32x32, SGD, {RESNET_STEPS} steps of batch {RESNET_BATCH}": make_resnet_pair,
    f"conv 7x7 128->1 on {WIDE_SHAPE[0]}x128x28x28, fwd+bwd x{WIDE_REPEATS}": make_wide_conv_pair,
}
SHORT_NAMES = {"LeNet": make_pair, "ResNet": make_resnet_pair, "7x7": make_wide_conv_pair}


def profile(name="LeNet", top=25):
    """Print cProfile's view of ganglion's steps of workload ``name``: the functions with the most time of their own."""
    import cProfile
    import pstats

    run = SHORT_NAMES[name]()[0]()
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
        rest = sys.argv[sys.argv.index("--profile") + 1:]
        profile(rest[0] if rest else "LeNet")
    else:
        import os

        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from harness import time_pair

        for name, make in WORKLOADS.items():
            g, t = time_pair(*make())
            print(f"{name}: ganglion {g:.3f}s, pytorch {t:.3f}s, ratio {g / t:.2f}x")
