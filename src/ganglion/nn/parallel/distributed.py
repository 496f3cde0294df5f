"""``DistributedDataParallel``: the same model on every rank, each rank a share of the batch, gradients averaged.

With the loss a mean over each rank's share and equal shares, the average over ranks of the gradients is the
gradient of the mean loss over the global batch, so every rank's optimizer takes the step one process would take
with the whole batch, and the replicas stay identical.
"""

import contextlib

from ...autograd.engine import topological_order
from ...autograd.grad_mode import is_grad_enabled
from ...distributed import all_gather_object, broadcast_tensors, default_group
from ...tensor import Tensor
from ..module import Module
from .reducer import Reducer


class DistributedDataParallel(Module):
    """Wraps ``module`` for data-parallel training over the ranks of ``process_group`` (the default group).

    At wrap time: checks that every rank built the same parameters and buffers (ValueError naming the first that
    differs), then copies rank 0's parameters and buffers to every rank. Each forward (training mode, with
    ``broadcast_buffers``) copies rank 0's buffers again (BatchNorm's running statistics; use ``SyncBatchNorm`` to
    compute them over the global batch instead). After each backward the gradients are averaged over the ranks in
    buckets of ``bucket_cap_mb`` MiB (nn/parallel/reducer.py), overlapping with the rest of the backward; None
    chooses the size from the scaling model of docs/distributed.md (1 to 25 MiB, growing with the model and the
    ranks).

    ``no_sync()``: a context in which forward/backward only accumulate local gradients (gradient accumulation); the
    first backward after it averages the accumulated sum. ``find_unused_parameters=True``: the forward may leave
    parameters out of the graph (each forward then walks its graph to find them). ``module`` is the wrapped model;
    the state_dict keys start with ``module.``, as PyTorch's.
    """

    def __init__(self, module, broadcast_buffers=True, process_group=None, bucket_cap_mb=None,
                 find_unused_parameters=False):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: module must be an nn.Module, got {type(module).__name__}")
        bucket_bytes = bucket_bytes_of("DistributedDataParallel", bucket_cap_mb)
        self.module = module
        group = default_group(process_group)
        self.__dict__["process_group"] = group
        self.broadcast_buffers = bool(broadcast_buffers)
        self.find_unused_parameters = bool(find_unused_parameters)
        self.require_backward_grad_sync = True
        named = [(name, p) for name, p in module.named_parameters() if p.requires_grad]
        check_same_structure(module, group)
        broadcast_tensors([p for _, p in module.named_parameters()] + self._buffers_to_sync(), 0, group,
                          what="DistributedDataParallel initial broadcast")
        self.__dict__["reducer"] = Reducer(named, group, bucket_bytes, self.find_unused_parameters)

    def _buffers_to_sync(self):
        return [b for b in self.module.buffers() if b is not None]

    def forward(self, *args, **kwargs):
        """The wrapped module's forward; arms the gradient averaging of the backward that follows."""
        reducer = self.reducer
        reducer.check_finished()
        if self.broadcast_buffers and self.training:
            buffers = self._buffers_to_sync()
            if buffers:
                broadcast_tensors(buffers, 0, self.process_group, what="DistributedDataParallel buffer broadcast")
        output = self.module(*args, **kwargs)
        if is_grad_enabled() and self.require_backward_grad_sync:
            reducer.prepare(self._unused_parameters(output) if self.find_unused_parameters else ())
        else:
            reducer.disarm()
        return output

    def _unused_parameters(self, output):
        """The trainable parameters that no node of ``output``'s graph takes as input."""
        roots = [t._node for t in _tensors_in(output) if t._node is not None]
        used = {id(inp) for node in topological_order(roots) for inp in node.inputs}
        used.update(id(t) for t in _tensors_in(output))
        return [p for p in self.module.parameters() if p.requires_grad and id(p) not in used]

    @contextlib.contextmanager
    def no_sync(self):
        """Within this context, backward passes accumulate local gradients without averaging them."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    def extra_repr(self):
        return f"world_size={self.process_group.size}, bucket_cap_mb={self.reducer.bucket_bytes / 2**20:g}"


def bucket_bytes_of(owner, bucket_cap_mb):
    """``bucket_cap_mb`` (MiB, or None for the scaling model's choice) in bytes; ValueError naming ``owner``."""
    if bucket_cap_mb is None:
        return None
    if isinstance(bucket_cap_mb, bool) or not isinstance(bucket_cap_mb, (int, float)) or bucket_cap_mb <= 0:
        raise ValueError(f"{owner}: bucket_cap_mb must be a positive number or None, got {bucket_cap_mb!r}")
    return max(1, int(bucket_cap_mb * 2**20))


def _tensors_in(output):
    """The Tensors in a forward's output (a Tensor, or tuples / lists / dicts of them)."""
    if isinstance(output, Tensor):
        return [output]
    if isinstance(output, dict):
        output = list(output.values())
    if isinstance(output, (list, tuple)):
        return [t for item in output for t in _tensors_in(item)]
    return []


def check_same_structure(module, group):
    """ValueError on every rank if the ranks' modules differ in the names, shapes or dtypes of their parameters or
    buffers; the message names the first entry that differs and what two ranks hold."""
    mine = [(kind, name, tuple(t.shape), str(t.dtype))
            for kind, items in (("parameter", module.named_parameters()), ("buffer", module.named_buffers()))
            for name, t in items if t is not None]
    everyone = [None] * group.size
    all_gather_object(everyone, mine, group)
    reference = everyone[0]
    for rank, theirs in enumerate(everyone[1:], start=1):
        if theirs == reference:
            continue
        for index in range(max(len(reference), len(theirs))):
            ours = reference[index] if index < len(reference) else None
            other = theirs[index] if index < len(theirs) else None
            if ours != other:
                where = (ours or other)[1]
                raise ValueError(
                    f"DistributedDataParallel: the ranks built different models; the first difference is at "
                    f"{where!r}: rank 0 has {_describe(ours)}, rank {rank} has {_describe(other)}"
                )


def _describe(entry):
    if entry is None:
        return "nothing"
    kind, name, shape, dtype = entry
    return f"{kind} {name!r} of shape {shape} and dtype {dtype}"
