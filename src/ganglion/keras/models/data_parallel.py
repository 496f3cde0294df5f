"""``DataParallel``: Keras' ``fit`` across the ranks of an MPI job (``fit(..., distribute=True)`` or
``fit(..., distribute=DataParallel(...))``; Keras 3 names its strategy ``keras.distribution.DataParallel``).

``batch_size`` is the global batch, as with Keras' strategies: every rank walks the same global batches in the same
(shuffled) order and trains on its contiguous share of each, rank r taking rows [r n / R, (r + 1) n / R) of a batch
of n rows over R ranks. The gradient of a rank's mean loss is weighted by its share n_r / n and summed over the
ranks (DistributedDataParallel's reducer, overlapping with the backward): the model takes the step one process
would take on the whole batch, also for a smaller last batch. The loss and the compiled metrics are computed from
every rank's outputs (gathered), so the logs are the global batch's. Only rank 0 prints progress and writes files:
on the other ranks ``verbose`` is 0, ModelCheckpoint, CSVLogger and TensorBoard do not run, and BackupAndRestore
does not run either (rank 0 restores a backup, then its weights, optimizer state and epoch go to every rank, so a
backup resumes on any number of ranks). A custom ``train_step`` trains on the rank's share and logs that share's
metrics.
"""

import numpy as np

from ...autograd.grad_mode import no_grad
from ...distributed import (
    all_gather_object, broadcast_object_list, broadcast_tensors, default_group, destroy_process_group,
    init_process_group, is_initialized,
)
from ...nn.parallel.distributed import bucket_bytes_of, check_same_structure
from ...nn.parallel.reducer import Reducer
from ...tensor import Tensor
from ..callbacks import BackupAndRestore, CSVLogger, ModelCheckpoint, TensorBoard
from ..layers.structure import map_structure
from ..metrics.base import to_numpy
from .compile_utils import flatten

#: callbacks that write files: they run on rank 0 only
FILE_WRITERS = (BackupAndRestore, CSVLogger, ModelCheckpoint, TensorBoard)


class DataParallel:
    """Data-parallel ``fit`` over ``process_group`` (the default group, started by ``init_process_group()`` when
    there is none); gradients travel in buckets of ``bucket_cap_mb`` MiB (None: sized by the scaling model, as for
    DistributedDataParallel)."""

    def __init__(self, process_group=None, bucket_cap_mb=None):
        self.process_group = process_group
        self.bucket_bytes = bucket_bytes_of("DataParallel", bucket_cap_mb)
        self.group = None
        self.reducer = None
        self.started_group = False  # start() called init_process_group, so finish() ends the group again

    @classmethod
    def from_argument(cls, distribute):
        """The strategy ``fit(distribute=...)`` asks for: None for False/None, a DataParallel for True or itself."""
        if distribute is None or distribute is False:
            return None
        if distribute is True:
            return cls()
        if isinstance(distribute, cls):
            return distribute
        raise TypeError(f"fit: distribute must be True, False or a DataParallel, got {type(distribute).__name__}")

    # ---------------------------------------------------------------------------------------------- set-up
    def start(self, model, first_batch):
        """Join the process group, build the model on ``first_batch`` (x, y, sample_weight) if it is not built, check
        that every rank built the same model, and hook the gradient averaging. (``sync_from_rank0`` then copies rank
        0's weights to all, once callbacks had their chance to restore a backup on rank 0.)"""
        self.started_group = self.process_group is None and not is_initialized()
        self.group = init_process_group() if self.started_group else default_group(self.process_group)
        if not model.built:
            with no_grad():
                model(self.shard(first_batch)[0], training=False)
        check_same_structure(model, self.group)
        if self.reducer is not None:
            self.reducer.remove_hooks()
        named = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
        self.reducer = Reducer(named, self.group, self.bucket_bytes)

    def finish(self):
        """Unhook the gradient averaging (the model trains alone again); end the process group if start() began
        it."""
        if self.reducer is not None:
            self.reducer.remove_hooks()
            self.reducer = None
        if self.started_group:
            destroy_process_group()
            self.started_group = False

    @property
    def rank(self):
        return 0 if self.group is None else self.group.rank

    def same_seed(self, seed):
        """Rank 0's ``seed`` on every rank (the shuffled order of the global batches)."""
        holder = [seed]
        broadcast_object_list(holder, 0, self.group)
        return holder[0]

    def callbacks(self, callbacks):
        """The callbacks this rank runs: all on rank 0, none that writes files on the others."""
        if self.rank == 0:
            return callbacks
        return [cb for cb in callbacks if not isinstance(cb, FILE_WRITERS)]

    def sync_from_rank0(self, model):
        """Rank 0's weights, buffers, optimizer state and starting epoch on every rank (after a restore on rank 0)."""
        tensors = list(model.parameters()) + [b for b in model.buffers() if b is not None]
        broadcast_tensors(tensors, 0, self.group, what="fit(distribute) weight broadcast")
        optimizer = getattr(model, "optimizer", None)
        state = [model._initial_epoch, optimizer.state_dict() if optimizer is not None and optimizer.built else None]
        broadcast_object_list(state, 0, self.group)
        model.__dict__["_initial_epoch"] = state[0]
        if state[1] is not None:
            model._ensure_optimizer()
            optimizer.load_state_dict(state[1])

    # ------------------------------------------------------------------------------------------------ steps
    def shard(self, batch):
        """This rank's rows of the global ``batch`` (x, y, sample_weight), and the global batch's row count."""
        x = batch[0]
        rows = int(next(t for t in flatten(x) if t is not None).shape[0])
        size = self.group.size if self.group is not None else 1
        if rows < size:
            raise ValueError(f"fit(distribute=...): a batch of {rows} rows cannot be split over {size} ranks; choose "
                             f"batch_size (and the data size) so that every batch, the last one too, has at least "
                             f"{size} rows")
        rank = self.rank
        start, stop = rank * rows // size, (rank + 1) * rows // size
        return _map_rows(lambda t: t[start:stop], batch), rows

    def prepare_step(self, local_rows, global_rows):
        """Arm the gradient averaging for the next backward, weighting this rank's gradient by its share (after
        checking that the previous step averaged every gradient)."""
        self.reducer.check_finished()
        self.reducer.prepare(weight=local_rows * self.group.size / global_rows)

    def gather(self, y, y_pred, sample_weight, loss, local_rows):
        """Every rank's (y, y_pred, sample_weight) concatenated along the batch, the global batch's loss (the
        rows-weighted mean of the ranks' losses) and its row count: what the loss tracker and the compiled metrics
        are updated with."""
        mine = (_map_rows(to_numpy, y), _map_rows(to_numpy, y_pred), _map_rows(to_numpy, sample_weight),
                float(loss), local_rows)
        everyone = [None] * self.group.size
        all_gather_object(everyone, mine, self.group)
        rows = sum(part[4] for part in everyone)
        global_loss = sum(part[3] * part[4] for part in everyone) / rows
        joined = [_concatenate([part[i] for part in everyone]) for i in range(3)]
        return joined[0], joined[1], joined[2], global_loss, rows


def _map_rows(fn, x):
    """``fn`` applied to every array of a (nested) batch structure; None, as a whole or as a leaf (the missing
    sample_weight of an (x, y, None) batch), stays None."""
    return map_structure(lambda leaf: None if leaf is None else fn(leaf), x)


def _concatenate(parts):
    """The ranks' (nested) arrays joined along the batch, as Tensors."""
    first = parts[0]
    if first is None:
        return None
    if isinstance(first, (list, tuple)):
        return type(first)(_concatenate([p[i] for p in parts]) for i in range(len(first)))
    if isinstance(first, dict):
        return {k: _concatenate([p[k] for p in parts]) for k in first}
    return Tensor._wrap(np.concatenate(parts, axis=0))
