"""Data-parallel training over MPI: throughput of 1 vs 2 ranks, the time a step spends in all-reduce, and the cost
of one all-reduce by message size (the numbers docs/distributed.md's scaling model is fitted to).

    python benchmarks/distributed_workloads.py [--steps 30] [--ranks 1 2] [--torch]

Each configuration runs as ``mpiexec -n R python distributed_workloads.py --child ...``; every rank uses one thread
(OMP_NUM_THREADS=1), so R ranks use R cores. Workload: an MNIST-shaped MLP 784-512-512-10 (669,706 parameters,
2.7 MB of float32 gradients), 64 rows per rank (weak scaling: the global batch grows with the ranks), SGD with
momentum. ``--torch`` adds PyTorch's DistributedDataParallel (gloo backend, same ranks, same thread count) for a
ratio. Quote ratios, not times: the machines are shared and noisy.
"""

import argparse
import json
import os
import pathlib
import subprocess
import sys
import time

import numpy as np

HERE = pathlib.Path(__file__).resolve()
ROWS_PER_RANK = 64
SIZES = (784, 512, 512, 10)
SWEEP_BYTES = (4 << 10, 64 << 10, 1 << 20, 4 << 20, 16 << 20)


def _batches(rank, steps):
    rng = np.random.default_rng(rank)
    for _ in range(steps):
        yield rng.standard_normal((ROWS_PER_RANK, SIZES[0])).astype(np.float32), rng.integers(0, 10, ROWS_PER_RANK)


def ganglion_child(steps, wrap):
    import ganglion
    import ganglion.distributed as dist
    from ganglion import nn

    dist.init_process_group()
    rank = dist.get_rank()
    ganglion.manual_seed(0)
    model = nn.Sequential(nn.Linear(SIZES[0], SIZES[1]), nn.ReLU(), nn.Linear(SIZES[1], SIZES[2]), nn.ReLU(),
                          nn.Linear(SIZES[2], SIZES[3]))
    runner = nn.parallel.DistributedDataParallel(model) if wrap else model
    optimizer = ganglion.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    times = []
    warmup = 5
    for step, (x, y) in enumerate(_batches(rank, steps + warmup)):
        if step == warmup and wrap:
            runner.reducer.wait_seconds = 0.0
        start = time.perf_counter()
        optimizer.zero_grad()
        loss_fn(runner(ganglion.tensor(x)), ganglion.tensor(y)).backward()
        optimizer.step()
        times.append(time.perf_counter() - start)
    result = {"step_s": float(np.median(times[warmup:])),
              "wait_s": runner.reducer.wait_seconds / steps if wrap else 0.0,
              "buckets": len(runner.reducer.buckets) if wrap else 0}
    result["sweep"] = _allreduce_sweep(dist) if wrap else {}
    if rank == 0:
        print(json.dumps(result))
    dist.destroy_process_group()


def _allreduce_sweep(dist):
    """Seconds per all-reduce (sum, float32, in place) by message size: the median over 5 rounds of 10 back-to-back
    calls, each round starting from a barrier."""
    out = {}
    for nbytes in SWEEP_BYTES:
        buffer = np.ones(nbytes // 4, np.float32)
        rounds = []
        for _ in range(6):
            dist.barrier()
            start = time.perf_counter()
            for _ in range(10):
                dist.all_reduce_array(buffer).wait()
            rounds.append((time.perf_counter() - start) / 10)
        out[nbytes] = float(np.median(rounds[1:]))
    return out


def torch_child(steps, wrap):
    import torch
    import torch.distributed as tdist

    rank, world = int(os.environ.get("PMI_RANK", 0)), int(os.environ.get("PMI_SIZE", 1))
    torch.set_num_threads(1)
    tdist.init_process_group("gloo", init_method="tcp://127.0.0.1:29517", rank=rank, world_size=world)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(SIZES[0], SIZES[1]), torch.nn.ReLU(), torch.nn.Linear(SIZES[1],
                                SIZES[2]), torch.nn.ReLU(), torch.nn.Linear(SIZES[2], SIZES[3]))
    runner = torch.nn.parallel.DistributedDataParallel(model) if wrap else model
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    times = []
    for x, y in _batches(rank, steps + 5):
        start = time.perf_counter()
        optimizer.zero_grad()
        loss_fn(runner(torch.from_numpy(x)), torch.from_numpy(y)).backward()
        optimizer.step()
        times.append(time.perf_counter() - start)
    if rank == 0:
        print(json.dumps({"step_s": float(np.median(times[5:])), "wait_s": None, "buckets": None, "sweep": {}}))
    tdist.destroy_process_group()


def launch(framework, ranks, steps, wrap):
    mpiexec = pathlib.Path(sys.executable).parent / "mpiexec"
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    command = [str(mpiexec), "-n", str(ranks), sys.executable, str(HERE), "--child", framework, "--steps", str(steps)]
    if wrap:
        command.append("--wrap")
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--torch", action="store_true", help="also time PyTorch DDP (gloo)")
    parser.add_argument("--child", choices=("ganglion", "torch"), help=argparse.SUPPRESS)
    parser.add_argument("--wrap", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        (ganglion_child if args.child == "ganglion" else torch_child)(args.steps, args.wrap)
        return
    print(f"MLP {'-'.join(map(str, SIZES))}, {ROWS_PER_RANK} rows per rank, 1 thread per rank, median of "
          f"{args.steps} steps")
    print(f"{'framework':<10} {'ranks':>5} {'DDP':>4} {'step ms':>9} {'samples/s':>10} {'allreduce wait ms':>18}")
    frameworks = ["ganglion"] + (["torch"] if args.torch else [])
    sweep = None
    for framework in frameworks:
        configs = [(1, False)] + [(r, True) for r in args.ranks]
        for ranks, wrap in configs:
            result = launch(framework, ranks, args.steps, wrap)
            wait = "" if result["wait_s"] is None else f"{result['wait_s'] * 1e3:.2f}"
            print(f"{framework:<10} {ranks:>5} {'yes' if wrap else 'no':>4} {result['step_s'] * 1e3:>9.2f} "
                  f"{ranks * ROWS_PER_RANK / result['step_s']:>10.0f} {wait:>18}")
            if framework == "ganglion" and ranks == max(args.ranks) and result["sweep"]:
                sweep = (ranks, result["sweep"])
    if sweep is not None:
        ranks, times = sweep
        print(f"\none all-reduce over {ranks} ranks (ganglion.distributed, MPI), median:")
        for nbytes, seconds in times.items():
            nbytes = int(nbytes)
            print(f"  {nbytes / 1024:>8.0f} KiB  {seconds * 1e6:>9.1f} us  {nbytes / seconds / 1e9:>6.2f} GB/s")


if __name__ == "__main__":
    main()
