"""Collectives over tensors, with torch.distributed's names and in-place semantics: ``all_reduce``, ``broadcast``,
``all_gather``, ``barrier``, and the object versions ``all_gather_object`` / ``broadcast_object_list``.

Every one is a non-blocking MPI call waited on with the group's deadline (process_group.py says why). On the
single-process group each returns its input unchanged. ``async_op=True`` returns a ``Work`` whose ``wait()`` finishes
the call (and, for ``all_reduce``, writes the result into the tensor).

Arrays are reduced in place when they are contiguous CPU arrays; anything else (a strided view, a CuPy array) goes
through a contiguous host copy that is written back.
"""

import pickle

import numpy as np

from .. import backend
from ..tensor import Tensor
from .process_group import default_group


class ReduceOp:
    """How ``all_reduce`` combines the ranks' values: SUM, PRODUCT, MIN, MAX, or AVG (the sum over the world size)."""

    SUM = "sum"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"
    AVG = "avg"


def _mpi_op(op):
    from mpi4py import MPI

    ops = {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD, ReduceOp.MIN: MPI.MIN,
           ReduceOp.MAX: MPI.MAX}
    if op not in ops:
        raise ValueError(f"all_reduce: unknown op {op!r}; expected one of ReduceOp.SUM, PRODUCT, MIN, MAX, AVG")
    return ops[op]


class Work:
    """A collective in flight: ``wait()`` blocks until it is done (or the group's timeout passes) and runs what must
    follow it (copying a staged result back, dividing for AVG); ``is_completed()`` asks without blocking."""

    def __init__(self, group, request, what, finish=None):
        self.group, self.request, self.what, self.finish = group, request, what, finish
        self.done = request is None

    def is_completed(self):
        if not self.done and self.request.Test():
            self._complete()
        return self.done

    def wait(self):
        if not self.done:
            self.group.wait(self.request, self.what)
            self._complete()
        return True

    def _complete(self):
        self.done = True
        if self.finish is not None:
            self.finish()
            self.finish = None


def _returned(work, async_op):
    """What a collective returns: its Work with ``async_op``; otherwise None, once the work is done."""
    if async_op:
        return work
    work.wait()
    return None


def _check_tensor(name, tensor):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{name}: expected a ganglion Tensor, got {type(tensor).__name__}")


def _host_buffer(array):
    """(buffer MPI can read and write, function that copies it back into ``array`` or None if it is ``array``)."""
    if isinstance(array, np.ndarray) and array.flags.c_contiguous and array.flags.writeable:
        return array, None
    staged = np.ascontiguousarray(backend.to_numpy(array))

    def write_back():
        array[...] = backend.get_array_module(array).asarray(staged)

    return staged, write_back


def all_reduce_array(array, op=ReduceOp.SUM, group=None, what="all_reduce"):
    """Start reducing ``array`` in place across the ranks; returns a Work (its ``wait()`` leaves the result)."""
    group = default_group(group)
    mpi_op = _mpi_op(op)
    if group.comm is None:
        return Work(group, None, what)
    from mpi4py import MPI

    buffer, write_back = _host_buffer(array)
    request = group.comm.Iallreduce(MPI.IN_PLACE, buffer, op=mpi_op)

    def finish():
        if op == ReduceOp.AVG:
            buffer[...] /= group.size
        if write_back is not None:
            write_back()

    return Work(group, request, what, finish)


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``tensor`` across the ranks, in place: afterwards every rank holds e.g. the sum of all ranks' values."""
    _check_tensor("all_reduce", tensor)
    work = all_reduce_array(tensor.array, op, group)
    return _returned(work, async_op)


def broadcast(tensor, src, group=None, async_op=False):
    """Copy rank ``src``'s ``tensor`` into ``tensor`` on every rank (in place)."""
    _check_tensor("broadcast", tensor)
    group = default_group(group)
    _check_rank("broadcast", "src", src, group)
    if group.comm is None:
        work = Work(group, None, "broadcast")
    else:
        buffer, write_back = _host_buffer(tensor.array)
        work = Work(group, group.comm.Ibcast(buffer, root=src), f"broadcast from rank {src}", write_back)
    return _returned(work, async_op)


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """Fill ``tensor_list[r]`` with rank r's ``tensor`` (every rank's has the same shape and dtype)."""
    _check_tensor("all_gather", tensor)
    group = default_group(group)
    if len(tensor_list) != group.size:
        raise ValueError(f"all_gather: tensor_list must hold world size = {group.size} tensors, got {len(tensor_list)}")
    for i, out in enumerate(tensor_list):
        _check_tensor(f"all_gather: tensor_list[{i}]", out)
        if out.shape != tensor.shape or out.dtype != tensor.dtype:
            raise ValueError(f"all_gather: tensor_list[{i}] has shape {tuple(out.shape)} and dtype {out.dtype}, "
                             f"expected {tuple(tensor.shape)} and {tensor.dtype} like the input")
    work, gathered = all_gather_array(tensor.array, group)

    def finish():
        for out, value in zip(tensor_list, gathered):
            out.array[...] = backend.get_array_module(out.array).asarray(value)

    work.finish = finish
    if work.done:
        finish()
    return _returned(work, async_op)


def all_gather_array(array, group=None, what="all_gather"):
    """Start gathering every rank's ``array`` (same shape and dtype on all ranks); returns (Work, gathered), where
    ``gathered[r]`` holds rank r's array once the work is done: shape (world size, *array.shape), on the host."""
    group = default_group(group)
    send = np.ascontiguousarray(backend.to_numpy(array))
    gathered = np.empty((group.size,) + send.shape, send.dtype)
    if group.comm is None:
        gathered[0] = send
        return Work(group, None, what), gathered
    return Work(group, group.comm.Iallgather(send, gathered), what), gathered


def barrier(group=None):
    """Wait until every rank has reached this call."""
    group = default_group(group)
    if group.comm is not None:
        group.wait(group.comm.Ibarrier(), "barrier")


def all_gather_object(object_list, obj, group=None):
    """Fill ``object_list[r]`` with rank r's picklable ``obj``."""
    group = default_group(group)
    if len(object_list) != group.size:
        raise ValueError(f"all_gather_object: object_list must have world size = {group.size} slots, "
                         f"got {len(object_list)}")
    for rank, payload in enumerate(_all_gather_bytes(pickle.dumps(obj), group)):
        object_list[rank] = pickle.loads(payload)


def broadcast_object_list(object_list, src=0, group=None):
    """Replace the items of ``object_list`` on every rank with those of rank ``src`` (picklable objects)."""
    group = default_group(group)
    _check_rank("broadcast_object_list", "src", src, group)
    if group.comm is None:
        return
    payload = np.frombuffer(pickle.dumps(list(object_list)), np.uint8) if group.rank == src else None
    length = np.array([0 if payload is None else payload.size], np.int64)
    group.wait(group.comm.Ibcast(length, root=src), "broadcast_object_list (size)")
    buffer = payload.copy() if payload is not None else np.empty(int(length[0]), np.uint8)
    group.wait(group.comm.Ibcast(buffer, root=src), "broadcast_object_list")
    object_list[:] = pickle.loads(buffer.tobytes())


def _all_gather_bytes(payload, group):
    """[rank 0's bytes, rank 1's bytes, ...] of every rank's ``payload``."""
    if group.comm is None:
        return [payload]
    send = np.frombuffer(payload, np.uint8)
    lengths = np.empty(group.size, np.int64)
    group.wait(group.comm.Iallgather(np.array([send.size], np.int64), lengths), "all_gather_object (sizes)")
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    received = np.empty(int(offsets[-1]), np.uint8)
    group.wait(group.comm.Iallgatherv(send, [received, lengths]), "all_gather_object")
    return [received[offsets[r]:offsets[r + 1]].tobytes() for r in range(group.size)]


def _check_rank(name, arg, value, group):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value < group.size:
        raise ValueError(f"{name}: {arg} must be a rank in 0..{group.size - 1}, got {value!r}")


def broadcast_tensors(tensors, src=0, group=None, what="broadcast_tensors"):
    """Copy rank ``src``'s values of every tensor in ``tensors`` into them on every rank: one MPI broadcast per
    dtype (the tensors of a dtype travel concatenated in one flat buffer), not one per tensor."""
    group = default_group(group)
    _check_rank(what, "src", src, group)
    if group.comm is None:
        return
    by_dtype = {}
    for t in tensors:
        _check_tensor(what, t)
        by_dtype.setdefault(t.dtype, []).append(t)
    for same in by_dtype.values():
        flat = np.concatenate([backend.to_numpy(t.array).reshape(-1) for t in same])
        group.wait(group.comm.Ibcast(flat, root=src), f"{what} from rank {src}")
        offset = 0
        for t in same:
            size = t.array.size
            t.array[...] = backend.get_array_module(t.array).asarray(flat[offset:offset + size].reshape(t.array.shape))
            offset += size
