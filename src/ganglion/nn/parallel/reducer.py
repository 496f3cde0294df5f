"""Gradient averaging for data-parallel training: parameters grouped into buckets, one flat buffer and one
all-reduce per bucket, started while the backward walk is still running.

Parameters go into buckets in reverse registration order (the backward walk reaches the last layers first), one
dtype per bucket, until a bucket holds ``bucket_bytes``. After each backward a parameter's post-accumulate-grad hook
(``Tensor.register_post_accumulate_grad_hook``) copies its ``.grad`` into its slice of the bucket; the bucket whose
last parameter arrives starts a non-blocking MPI all-reduce (``Iallreduce``) of its buffer, so the network carries
that bucket while the walk computes the gradients of the layers below. When every bucket has started, the reducer
waits for them in order and writes grad <- sum over ranks / world size back into each ``.grad``.

Larger buckets mean fewer calls, each paying the latency once; smaller buckets start earlier, so less of the
communication is left when the backward ends. docs/distributed.md models the trade-off: with n bytes of gradients in
buckets of s bytes over R ranks (ring all-reduce, latency alpha per message step, bandwidth B), the time not hidden
behind the backward is about (n / s) 2 (R - 1) alpha + 2 (R - 1) s / (R B), least at s* = sqrt(n alpha R B);
``default_bucket_bytes`` evaluates it.
"""

import time

import numpy as np

from ... import backend
from ...distributed import ReduceOp, all_reduce_array
from ...tensor import Tensor


#: the scaling model's constants (docs/distributed.md): latency per message step, MPI's and this reducer's Python per
#: bucket together, and a conservative bandwidth (10 Gb Ethernet; shared memory and InfiniBand are faster)
LATENCY_SECONDS = 50e-6
BANDWIDTH_BYTES_PER_SECOND = 1e9
MIN_BUCKET_BYTES, MAX_BUCKET_BYTES = 1 << 20, 25 << 20


def default_bucket_bytes(gradient_bytes, world_size):
    """s* = sqrt(n alpha R B), the bucket size that balances per-bucket latency against the last bucket's transfer,
    kept within [1 MiB, 25 MiB] (25 MiB is PyTorch's fixed default)."""
    best = (gradient_bytes * LATENCY_SECONDS * world_size * BANDWIDTH_BYTES_PER_SECOND) ** 0.5
    return int(min(max(best, MIN_BUCKET_BYTES), MAX_BUCKET_BYTES))


class Bucket:
    """Parameters of one dtype whose gradients travel together in one flat buffer (``flat``, 1-d)."""

    def __init__(self, params, dtype):
        self.params = params
        self.offsets = np.cumsum([0] + [p.array.size for p in params])
        self.flat = np.zeros(int(self.offsets[-1]), dtype)
        self.waiting = len(params)  # parameters whose gradient has not arrived this step
        self.work = None

    def slot(self, index):
        """The slice of ``flat`` that holds parameter ``index``'s gradient, shaped like the parameter."""
        p = self.params[index]
        return self.flat[self.offsets[index]:self.offsets[index + 1]].reshape(p.array.shape)


def assign_buckets(params, bucket_bytes):
    """[Bucket]: ``params`` in reverse order, split by dtype, each bucket up to ``bucket_bytes`` (a parameter larger
    than that gets a bucket of its own)."""
    buckets, open_buckets = [], {}  # dtype -> (params, bytes so far)
    for p in reversed(params):
        dtype = p.array.dtype
        members, size = open_buckets.get(dtype, ([], 0))
        if members and size + p.array.nbytes > bucket_bytes:
            buckets.append(Bucket(members, dtype))
            members, size = [], 0
        members.append(p)
        open_buckets[dtype] = (members, size + p.array.nbytes)
    buckets.extend(Bucket(members, dtype) for dtype, (members, _) in open_buckets.items() if members)
    return buckets


class Reducer:
    """Averages the gradients of ``named_params`` ([(name, Parameter)]) over the ranks of ``group`` after each
    backward (see the module docstring), in buckets of ``bucket_bytes`` (None: ``default_bucket_bytes``).
    ``prepare(unused)`` arms it for the next backward; the hooks do the rest.
    ``track_unused``: also reduce a mask of the parameters each rank used, so that a parameter no rank used keeps
    ``grad`` None (as in PyTorch) while one used elsewhere gets the average.

    ``wait_seconds``: total time the backward spent blocked waiting for all-reduces to finish (the part of the
    communication that did not overlap with computation); ``reductions``: backward passes reduced so far.
    """

    def __init__(self, named_params, group, bucket_bytes=None, track_unused=False):
        self.group = group
        self.names = {id(p): name for name, p in named_params}
        params = [p for _, p in named_params]
        if bucket_bytes is None:
            bucket_bytes = default_bucket_bytes(sum(p.array.nbytes for p in params), group.size)
        self.bucket_bytes = bucket_bytes
        self.buckets = assign_buckets(params, bucket_bytes)
        self.position = {id(p): i for i, p in enumerate(params)}
        self.used_mask = np.ones(len(params), np.int32) if track_unused else None  # 1: this rank's forward used it
        self.where = {}  # id(param) -> (bucket, index in bucket)
        for bucket in self.buckets:
            for index, p in enumerate(bucket.params):
                self.where[id(p)] = (bucket, index)
        self.armed = False
        self.weight = 1.0
        self.ready = set()  # ids of the parameters whose gradient arrived this step
        self.started = 0
        self.wait_seconds = 0.0
        self.reductions = 0
        self.handles = [p.register_post_accumulate_grad_hook(self._on_grad_ready) for p in params]

    def remove_hooks(self):
        for handle in self.handles:
            handle.remove()
        self.handles = []

    def check_finished(self):
        """RuntimeError if the last armed backward left some parameters without a gradient (the buckets holding
        them never started, and the other ranks wait for them)."""
        if self.armed and self.ready:
            missing = [name for key, name in self.names.items() if key not in self.ready]
            raise RuntimeError(
                "DistributedDataParallel: expected to have finished reduction in the prior iteration before starting "
                f"a new one; these parameters received no gradient: {', '.join(missing[:10])}"
                f"{' ...' if len(missing) > 10 else ''}. Pass find_unused_parameters=True when the forward does not "
                "use every parameter (or the loss does not depend on every output)"
            )

    def prepare(self, unused=(), weight=1.0):
        """Arm for the next backward. ``unused``: parameters the forward did not use (find_unused_parameters); they
        count as ready with a zero gradient, so their buckets can start. ``weight``: this rank's gradients are
        multiplied by it before the average (R n_r / n when rank r holds n_r of n rows, so that the average is the
        rows-weighted one)."""
        self.armed = True
        self.weight = float(weight)
        self.ready = set()
        self.started = 0
        for bucket in self.buckets:
            bucket.waiting = len(bucket.params)
            bucket.work = None
        if self.used_mask is not None:
            self.used_mask[:] = 1
        for p in unused:
            bucket, index = self.where[id(p)]
            bucket.slot(index)[...] = 0
            self.used_mask[self.position[id(p)]] = 0
            self._mark_ready(p, bucket)

    def disarm(self):
        """The next backward is not averaged (no_sync, or a forward without a graph)."""
        self.armed = False

    def _on_grad_ready(self, p):
        if not self.armed:  # no_sync, or a backward that the wrapper's forward did not arm
            return
        if id(p) in self.ready:
            raise RuntimeError(
                f"DistributedDataParallel: parameter {self.names[id(p)]} received a gradient twice in one iteration "
                "(two backward passes through one forward); reduce after each backward by running the forward again"
            )
        bucket, index = self.where[id(p)]
        slot = bucket.slot(index)
        slot[...] = backend.to_numpy(p.grad.array)
        if self.weight != 1.0:
            slot *= self.weight
        self._mark_ready(p, bucket)

    def _mark_ready(self, p, bucket):
        self.ready.add(id(p))
        bucket.waiting -= 1
        if bucket.waiting == 0:
            bucket.work = all_reduce_array(bucket.flat, ReduceOp.SUM, self.group, what="DistributedDataParallel "
                                           "gradient all_reduce")
            self.started += 1
            if self.started == len(self.buckets):
                self._finish()
        for other in self.buckets:  # give MPI a chance to progress the buckets already in flight
            if other.work is not None and not other.work.done:
                other.work.is_completed()

    def _finish(self):
        """Wait for every bucket, then grad <- bucket slice / world size for each parameter."""
        start = time.perf_counter()
        used = None
        if self.used_mask is not None:
            used = self.used_mask.copy()
            all_reduce_array(used, ReduceOp.SUM, self.group, what="DistributedDataParallel unused-parameter mask").wait()
        for bucket in self.buckets:
            bucket.work.wait()
        self.wait_seconds += time.perf_counter() - start
        scale = 1.0 / self.group.size
        for bucket in self.buckets:
            bucket.flat *= scale
            for index, p in enumerate(bucket.params):
                if used is not None and used[self.position[id(p)]] == 0:
                    continue  # no rank used it: its grad stays as it was (None), as in PyTorch
                averaged = bucket.slot(index)
                if p.grad is None:  # unused here, used on another rank
                    p.grad = Tensor._wrap(backend.get_array_module(p.array).asarray(averaged).copy())
                else:
                    p.grad.array[...] = backend.get_array_module(p.grad.array).asarray(averaged)
        self.armed = False
        self.reductions += 1
