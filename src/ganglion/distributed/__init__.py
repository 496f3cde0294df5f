"""``ganglion.distributed``: data-parallel training over MPI, with torch.distributed's names.

``init_process_group()`` joins the ranks ``mpiexec`` (or ``srun``) started; ``all_reduce``, ``broadcast``,
``all_gather`` and ``barrier`` move tensors between them. Without MPI the group is one process and the same script
runs unchanged. ``nn.parallel.DistributedDataParallel`` and ``nn.SyncBatchNorm`` build on these;
``data.DistributedSampler`` shards a dataset; Keras' ``fit(..., distribute=True)`` does all of it. docs/distributed.md
walks through it and says how a failing rank ends the job.
"""

from .collectives import (
    ReduceOp, Work, all_gather, all_gather_array, all_gather_object, all_reduce, all_reduce_array, barrier, broadcast,
    broadcast_object_list, broadcast_tensors,
)
from .process_group import (
    DEFAULT_TIMEOUT, DistributedTimeoutError, ProcessGroup, default_group, destroy_process_group, get_backend,
    get_rank, get_world_size, init_process_group, is_available, is_initialized,
)

__all__ = [
    "ReduceOp", "Work", "all_gather", "all_gather_array", "all_gather_object", "all_reduce", "all_reduce_array", "barrier", "broadcast",
    "broadcast_object_list", "broadcast_tensors", "DEFAULT_TIMEOUT", "DistributedTimeoutError", "ProcessGroup", "default_group",
    "destroy_process_group", "get_backend", "get_rank", "get_world_size", "init_process_group", "is_available",
    "is_initialized",
]
