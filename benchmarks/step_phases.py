"""Where a training step's time goes: forward (to the loss), backward, optimizer step, for one framework in this
process, median of 20 steps after 5 of warm-up.

    python benchmarks/step_phases.py ganglion ResNet 2     # framework, workload (ResNet or LeNet), threads
    python benchmarks/step_phases.py pytorch ResNet 2

Run each framework in its own process (one after the other, alternating, for the noise): in one process their
thread pools slow each other down (benchmarks/README.md).
"""

import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cnn_workloads  # noqa: E402


def _model(framework, workload):
    if workload == "LeNet":
        return framework.nn.Sequential(*cnn_workloads._layers(framework.nn)), (64, 1, 28, 28)
    if framework.__name__ == "ganglion":
        from ganglion.vision.models import resnet18

        model = resnet18(num_classes=10, widths=cnn_workloads.RESNET_WIDTHS, cifar_stem=True)
    else:
        model = cnn_workloads._torch_resnet(cnn_workloads.RESNET_WIDTHS, 10)
    return model, (cnn_workloads.RESNET_BATCH, 3, 32, 32)


def training_parts(framework, workload):
    """(model in train mode, its SGD optimizer, a batch x, its labels y) for ``workload`` in ``framework``."""
    model, shape = _model(framework, workload)
    model.train()
    opt = framework.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    rng = np.random.default_rng(0)
    x = framework.from_numpy(rng.standard_normal(shape).astype(np.float32))
    y = framework.from_numpy(rng.integers(0, 10, shape[0]).astype(np.int64))
    return model, opt, x, y


def phases(side, workload, threads, steps=20, warm_up=5):
    """{phase: median seconds} for ``side`` ("ganglion" or "pytorch") training ``workload`` on ``threads`` threads."""
    if side == "ganglion":
        import ganglion as framework
    else:
        import torch as framework
    framework.set_num_threads(threads)
    model, opt, x, y = training_parts(framework, workload)
    times = {"forward": [], "backward": [], "step": []}
    for i in range(warm_up + steps):
        start = time.perf_counter()
        loss = framework.nn.functional.cross_entropy(model(x), y)
        forward_done = time.perf_counter()
        opt.zero_grad()
        loss.backward()
        backward_done = time.perf_counter()
        opt.step()
        step_done = time.perf_counter()
        if i >= warm_up:
            times["forward"].append(forward_done - start)
            times["backward"].append(backward_done - forward_done)
            times["step"].append(step_done - backward_done)
    return {phase: statistics.median(values) for phase, values in times.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("side", choices=("ganglion", "pytorch"))
    parser.add_argument("workload", choices=("ResNet", "LeNet"))
    parser.add_argument("threads", type=int)
    args = parser.parse_args(argv)
    result = phases(args.side, args.workload, args.threads)
    print(f"{args.side} {args.workload}, {args.threads} threads: "
          + ", ".join(f"{phase} {seconds * 1e3:.1f} ms" for phase, seconds in result.items())
          + f"; total {sum(result.values()) * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
