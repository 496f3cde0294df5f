"""Run under ``mpiexec -n 2`` by test_distributed_mpi.py: ``python dist_worker.py MODE OUT_DIR``.

parity: train every workload of dist_workloads.py with DistributedDataParallel on half the global batch (and the
    CNN once more with plain, unsynchronized BatchNorm: cnn_local_bn), write rank<r>.npz. mismatch: rank 1 builds a wider first layer. kill / raise / stall: rank 1 dies by SIGKILL, raises,
    or stops answering at step 3 of training; the other rank must end with an error, not hang.
"""

import os
import sys
import time

import numpy as np

import ganglion
import ganglion.distributed as dist
from ganglion import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dist_workloads  # noqa: E402


def collectives(rank):
    """Each collective once with two ranks: {name: array} of what this rank holds afterwards."""
    out = {}
    for op in ("SUM", "AVG", "MAX", "MIN", "PRODUCT"):
        t = ganglion.tensor([rank + 1.0, 10.0 * (rank + 1)])
        dist.all_reduce(t, op=getattr(dist.ReduceOp, op))
        out[op] = t.numpy()
    strided = ganglion.tensor(np.arange(6.0).reshape(2, 3) * (rank + 1))[:, 1]  # a view: staged and written back
    dist.all_reduce(strided)
    out["strided"] = strided.numpy()
    t = ganglion.tensor([float(rank), float(rank)])
    dist.broadcast(t, src=1)
    out["broadcast"] = t.numpy()
    gathered = [ganglion.zeros(2) for _ in range(2)]
    work = dist.all_gather(gathered, ganglion.tensor([rank, -rank], dtype=ganglion.float32), async_op=True)
    work.wait()
    out["all_gather"] = np.stack([g.numpy() for g in gathered])
    objects = [None, None]
    dist.all_gather_object(objects, {"rank": rank})
    out["all_gather_object"] = np.array([o["rank"] for o in objects])
    items = [f"from {rank}", rank]
    dist.broadcast_object_list(items, src=1)
    out["broadcast_object_list"] = np.array([items[0] == "from 1", items[1]])
    dist.barrier()
    return {f"collectives/{k}": v for k, v in out.items()}


def parity(out_dir):
    rank, world_size = dist.get_rank(), dist.get_world_size()
    arrays = collectives(rank)
    for kind in dist_workloads.KINDS + ("cnn_local_bn",):
        model = dist_workloads.build(kind, sync_batchnorm=kind == "cnn")
        # a tiny bucket size: several buckets per model, so the overlapped path is the one tested
        wrapped = nn.parallel.DistributedDataParallel(model, bucket_cap_mb=0.0002)
        state = dist_workloads.train(kind.replace("_local_bn", ""), model, rank, world_size, wrapped)
        arrays.update({f"{kind}/{name}": value for name, value in state.items()})
        arrays[f"{kind}/#buckets"] = np.array(len(wrapped.reducer.buckets))
    np.savez(os.path.join(out_dir, f"rank{rank}.npz"), **arrays)


def failing(mode):
    rank = dist.get_rank()
    model = nn.Sequential(nn.Linear(6, 17 if mode == "mismatch" and rank == 1 else 16), nn.Tanh(), nn.Linear(16, 3))
    wrapped = nn.parallel.DistributedDataParallel(model)
    optimizer = ganglion.optim.SGD(model.parameters(), lr=0.1)
    for step in range(10):
        if step == 3 and rank == 1:
            if mode == "kill":
                os.kill(os.getpid(), 9)
            if mode == "raise":
                raise RuntimeError("rank 1 fails on purpose")
            if mode == "stall":
                time.sleep(600)
        optimizer.zero_grad()
        wrapped(ganglion.randn(4, 6)).sum().backward()
        optimizer.step()
    print(f"rank {rank} finished", flush=True)


if __name__ == "__main__":
    mode, out_dir = sys.argv[1], sys.argv[2]
    dist.init_process_group(timeout=float(os.environ.get("WORKER_TIMEOUT", "60")))
    if mode == "parity":
        parity(out_dir)
    else:
        failing(mode)
    dist.destroy_process_group()
