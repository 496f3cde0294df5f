"""Images per second through ganglion's data pipeline, and the thread-versus-process question for workers.

    python benchmarks/data_throughput.py [--images 60000] [--workers 2] [--rounds 3] [--large]

Measures, on MNIST-shaped uint8 images (28 x 28) with ToTensor + Normalize + RandomCrop(28, padding=4) +
RandomHorizontalFlip: the pipeline image by image, the pipeline on the whole batch at once, and one shuffled
DataLoader epoch (batch 64) with no workers and with ``--workers`` thread and process workers, next to PyTorch's
DataLoader (process workers) running the same steps written in torch ops. Medians of ``--rounds`` runs; the
cpu/wall column (CPU seconds of the process, its threads and its finished worker processes, per wall second) shows
how much work really ran at the same time, which a shared machine's wall times alone cannot.

``--large`` runs the worker comparison on ImageNet-shaped work instead: 256 x 256 x 3 images through
RandomResizedCrop(224) + RandomHorizontalFlip + ToTensor + Normalize, where NumPy spends longer in calls that
release the GIL, so threads have their best chance.
"""

import argparse
import os
import resource
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import data_workloads as w  # noqa: E402


def _cpu_seconds():
    """CPU time of this process (all its threads) plus that of its finished child processes (workers)."""
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def _measure(run, rounds):
    """Median wall seconds, and the median CPU seconds per wall second (above 1: work really ran in parallel)."""
    run()  # warm-up (worker start-up is part of every later epoch too, as with persistent_workers=False)
    walls, ratios = [], []
    for _ in range(rounds):
        cpu, start = _cpu_seconds(), time.perf_counter()
        run()
        wall = time.perf_counter() - start
        walls.append(wall)
        ratios.append((_cpu_seconds() - cpu) / wall)
    return statistics.median(walls), statistics.median(ratios)


def _row(label, n, run, rounds):
    seconds, parallel = _measure(run, rounds)
    print(f"{label:<52} {seconds:>8.3f} {n / seconds:>10.0f} {parallel:>9.2f}", flush=True)


def _label(framework, workers, kind):
    return f"{framework} DataLoader epoch, {workers} workers" + (f" ({kind}es)" if kind == "process" else
                                                                 f" ({kind}s)" if kind else "")


_HEADER = f"{'what':<52} {'seconds':>8} {'images/s':>10} {'cpu/wall':>9}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=60_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--large", action="store_true", help="256x256x3 images, RandomResizedCrop(224) pipeline")
    args = parser.parse_args(argv)
    if args.large:
        return large(args)
    import torch
    import torch.utils.data as tud

    from ganglion.data import DataLoader, Dataset

    images, labels = w._images(args.images)
    print(f"{args.images} images 28x28, {os.cpu_count()} CPUs, torch {torch.__version__} "
          f"({torch.get_num_threads()} threads); median of {args.rounds} rounds")
    transform = w.ganglion_pipeline()
    rows = [
        ("ganglion pipeline, image by image", lambda: [transform(img) for img in images]),
        ("ganglion pipeline, one batch", lambda: transform(images[..., None])),
    ]
    torch_transform = w.torch_pipeline()
    rows.append(("torch ops pipeline, image by image", lambda: [torch_transform(img) for img in images]))
    dataset = type("Images", (w._GanglionImages, Dataset), {})(images, labels, transform)
    torch_dataset = type("Images", (w._GanglionImages, tud.Dataset), {})(images, labels, torch_transform)
    for workers, kind in [(0, None), (args.workers, "thread"), (args.workers, "process")]:
        loader = DataLoader(dataset, batch_size=64, shuffle=True, num_workers=workers, worker_type=kind)
        label = _label("ganglion", workers, kind)
        rows.append((label, lambda loader=loader: sum(1 for _ in loader)))
    for workers in (0, args.workers):
        loader = tud.DataLoader(torch_dataset, batch_size=64, shuffle=True, num_workers=workers)
        rows.append((_label("torch", workers, "process" if workers else None),
                     lambda loader=loader: sum(1 for _ in loader)))
    print(_HEADER)
    for label, run in rows:
        _row(label, args.images, run, args.rounds)


def large(args):
    import numpy as np

    from ganglion.data import DataLoader, Dataset
    from ganglion.data import transforms as T

    n = min(args.images, 2000)
    images = np.random.default_rng(0).integers(0, 256, (n, 256, 256, 3), dtype=np.uint8)
    transform = T.Compose([T.RandomResizedCrop(224), T.RandomHorizontalFlip(), T.ToTensor(),
                           T.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))])
    dataset = type("Images", (w._GanglionImages, Dataset), {})(images, np.zeros(n, np.int64), transform)
    print(f"{n} images 256x256x3 -> RandomResizedCrop(224) pipeline, {os.cpu_count()} CPUs; "
          f"median of {args.rounds} rounds")
    print(_HEADER)
    for workers, kind in [(0, None), (args.workers, "thread"), (args.workers, "process")]:
        loader = DataLoader(dataset, batch_size=32, shuffle=True, num_workers=workers, worker_type=kind)
        label = _label("ganglion", workers, kind)
        _row(label, n, lambda loader=loader: sum(1 for _ in loader), args.rounds)


if __name__ == "__main__":
    main()
