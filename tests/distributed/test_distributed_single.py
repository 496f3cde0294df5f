"""ganglion.distributed in one process (the fallback every script gets without MPI), DistributedDataParallel's
bookkeeping, SyncBatchNorm's math against PyTorch's BatchNorm, DistributedSampler against PyTorch's, and the
post-accumulate-grad hook the gradient averaging starts from."""

import numpy as np
import pytest
import torch

import ganglion
import ganglion.distributed as dist
from ganglion import nn
from ganglion.nn.modules.sync_batchnorm import SyncBatchNormFunction


@pytest.fixture
def group():
    group = dist.init_process_group(backend="single")
    yield group
    dist.destroy_process_group()


# ------------------------------------------------------------------------------------------- process group
def test_rank_before_init_raises():
    assert not dist.is_initialized()
    with pytest.raises(RuntimeError, match="init_process_group"):
        dist.get_rank()


def test_single_process_group(group):
    assert (dist.get_rank(), dist.get_world_size(), dist.get_backend()) == (0, 1, "single")
    with pytest.raises(RuntimeError, match="twice"):
        dist.init_process_group()


def test_init_arguments_are_checked():
    with pytest.raises(ValueError, match="unknown backend 'nccl'"):
        dist.init_process_group(backend="nccl")
    with pytest.raises(ValueError, match="timeout must be a positive number"):
        dist.init_process_group(backend="single", timeout=-1)
    with pytest.raises(ValueError, match="world_size=2 but the MPI launcher started this process with world_size 1"):
        dist.init_process_group(backend="single", world_size=2)
    assert not dist.is_initialized()


def test_collectives_on_one_process(group):
    t = ganglion.tensor([1.0, -2.0, 3.0])
    for op in (dist.ReduceOp.SUM, dist.ReduceOp.AVG, dist.ReduceOp.MAX):
        assert dist.all_reduce(t, op=op) is None
        np.testing.assert_array_equal(t.numpy(), [1.0, -2.0, 3.0])
    work = dist.all_reduce(t, async_op=True)
    assert work.wait() and work.is_completed()
    dist.broadcast(t, src=0)
    out = [ganglion.zeros(3)]
    dist.all_gather(out, t)
    np.testing.assert_array_equal(out[0].numpy(), t.numpy())
    objects = [None]
    dist.all_gather_object(objects, {"a": 1})
    assert objects == [{"a": 1}]
    dist.barrier()


def test_collective_arguments_are_checked(group):
    t = ganglion.ones(2)
    with pytest.raises(ValueError, match="unknown op 'mean'"):
        dist.all_reduce(t, op="mean")
    with pytest.raises(ValueError, match=r"src must be a rank in 0..0, got 1"):
        dist.broadcast(t, src=1)
    with pytest.raises(ValueError, match="tensor_list must hold world size = 1 tensors, got 2"):
        dist.all_gather([ganglion.ones(2), ganglion.ones(2)], t)
    with pytest.raises(TypeError, match="expected a ganglion Tensor, got ndarray"):
        dist.all_reduce(np.ones(2))


# ------------------------------------------------------------------------------------------ post-accumulate hook
def test_post_accumulate_grad_hook_runs_once_with_the_whole_gradient():
    w = ganglion.tensor(np.arange(6, dtype=np.float32).reshape(2, 3), requires_grad=True)
    seen = []
    handle = w.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.numpy().copy()))
    x = ganglion.ones(4, 2)
    ((x @ w).sum() + (x @ w * 2).sum() + w.sum()).backward()  # three paths into w
    assert len(seen) == 1
    np.testing.assert_array_equal(seen[0], np.full((2, 3), 4 * 3 + 1, np.float32))
    handle.remove()
    (x @ w).sum().backward()
    assert len(seen) == 1


def test_post_accumulate_grad_hook_only_on_leaves():
    w = ganglion.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="non-leaf"):
        (w * 2).register_post_accumulate_grad_hook(print)


# ------------------------------------------------------------------------------------- DistributedDataParallel
def _mlp():
    ganglion.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))


def test_ddp_on_one_process_gives_the_plain_gradients(group):
    plain, model = _mlp(), _mlp()
    wrapped = nn.parallel.DistributedDataParallel(model, bucket_cap_mb=1e-4)
    assert wrapped.module is model and len(wrapped.reducer.buckets) > 1
    assert list(wrapped.state_dict()) == ["module." + k for k in plain.state_dict()]
    x = ganglion.randn(5, 4)
    (plain(x) ** 2).sum().backward()
    (wrapped(x) ** 2).sum().backward()
    for p, q in zip(plain.parameters(), model.parameters()):
        np.testing.assert_allclose(q.grad.numpy(), p.grad.numpy(), rtol=1e-6)
    assert wrapped.reducer.reductions == 1


def test_buckets_start_while_the_backward_runs(group):
    """The last layer's buckets are already in flight when the first layer's gradient arrives (one bucket per
    parameter here), which is what lets communication overlap the rest of the backward."""
    model = _mlp()
    wrapped = nn.parallel.DistributedDataParallel(model, bucket_cap_mb=1e-6)
    started_when_first_layer_ready = []
    model[0].weight.register_post_accumulate_grad_hook(
        lambda _: started_when_first_layer_ready.append(wrapped.reducer.started))
    wrapped(ganglion.randn(5, 4)).sum().backward()
    assert len(wrapped.reducer.buckets) == 4
    assert started_when_first_layer_ready[0] >= 2  # the second Linear's weight and bias went first


def test_no_sync_accumulates_and_the_next_backward_reduces(group):
    wrapped = nn.parallel.DistributedDataParallel(_mlp())
    x = ganglion.randn(5, 4)
    with wrapped.no_sync():
        wrapped(x).sum().backward()
    assert wrapped.reducer.reductions == 0
    wrapped(x).sum().backward()
    assert wrapped.reducer.reductions == 1
    plain = _mlp()
    plain(x).sum().backward()
    np.testing.assert_allclose(wrapped.module[0].weight.grad.numpy(), 2 * plain[0].weight.grad.numpy(), rtol=1e-5)


class TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk, self.used, self.unused = nn.Linear(3, 3), nn.Linear(3, 1), nn.Linear(3, 1)

    def forward(self, x):
        return self.used(self.trunk(x))


def test_a_parameter_without_gradient_is_reported_at_the_next_forward(group):
    wrapped = nn.parallel.DistributedDataParallel(TwoHeads())
    wrapped(ganglion.randn(2, 3)).sum().backward()
    with pytest.raises(RuntimeError, match=r"received no gradient: unused.weight, unused.bias\. Pass "
                                           r"find_unused_parameters=True"):
        wrapped(ganglion.randn(2, 3))


def test_find_unused_parameters(group):
    wrapped = nn.parallel.DistributedDataParallel(TwoHeads(), find_unused_parameters=True)
    for _ in range(2):
        wrapped(ganglion.randn(2, 3)).sum().backward()
    assert wrapped.reducer.reductions == 2
    assert wrapped.module.unused.weight.grad is None and wrapped.module.used.weight.grad is not None


def test_ddp_arguments_are_checked(group):
    with pytest.raises(TypeError, match="module must be an nn.Module, got function"):
        nn.parallel.DistributedDataParallel(lambda x: x)
    with pytest.raises(ValueError, match="bucket_cap_mb must be a positive number or None, got 0"):
        nn.parallel.DistributedDataParallel(_mlp(), bucket_cap_mb=0)


# ----------------------------------------------------------------------------------------------- SyncBatchNorm
def _torch_batchnorm(x, weight, bias, dy):
    xt = torch.tensor(x, requires_grad=True)
    bn = torch.nn.BatchNorm2d(x.shape[1])
    with torch.no_grad():
        bn.weight.copy_(torch.tensor(weight))
        bn.bias.copy_(torch.tensor(bias))
    y = bn(xt)
    y.backward(torch.tensor(dy))
    return y.detach().numpy(), xt.grad.numpy(), bn.weight.grad.numpy(), bn.bias.grad.numpy(), bn


def test_sync_batchnorm_function_matches_batchnorm(group):
    """The combination of per-rank statistics and the backward with reduced sums, run on one rank."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 3, 4, 5)).astype(np.float32) * 2 + 1
    weight, bias = rng.standard_normal(3).astype(np.float32), rng.standard_normal(3).astype(np.float32)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    y_ref, dx_ref, dw_ref, db_ref, bn = _torch_batchnorm(x, weight, bias, dy)
    xg = ganglion.tensor(x, requires_grad=True)
    wg, bg = ganglion.tensor(weight, requires_grad=True), ganglion.tensor(bias, requires_grad=True)
    running_mean, running_var = np.zeros(3, np.float32), np.ones(3, np.float32)
    y = SyncBatchNormFunction.apply(xg, wg, bg, eps=1e-5, group=group, running=(running_mean, running_var, 0.1))
    y.backward(ganglion.tensor(dy))
    for got, expected in ((y, y_ref), (xg.grad, dx_ref), (wg.grad, dw_ref), (bg.grad, db_ref)):
        np.testing.assert_allclose(got.numpy() if not got.requires_grad else got.detach().numpy(), expected,
                                   rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(running_mean, bn.running_mean.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(running_var, bn.running_var.numpy(), rtol=1e-5, atol=1e-6)


def test_convert_sync_batchnorm_shares_parameters_and_equals_batchnorm(group):
    ganglion.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3), nn.Sequential(nn.BatchNorm2d(3)))
    bn = model[1]
    converted = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    assert converted is model and isinstance(model[1], nn.SyncBatchNorm) and isinstance(model[2][0], nn.SyncBatchNorm)
    assert model[1].weight is bn.weight and model[1].running_mean is bn.running_mean
    assert list(model.state_dict()) == ["0.weight", "0.bias"] + [
        f"{m}.{k}" for m in ("1", "2.0") for k in ("weight", "bias", "running_mean", "running_var",
                                                   "num_batches_tracked")]
    x = ganglion.randn(4, 3, 5, 5)
    ganglion.manual_seed(1)
    reference = nn.BatchNorm2d(3)
    np.testing.assert_allclose(model[1](x).detach().numpy(), reference(x).detach().numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match=r"expected input of shape \(N, 3, \*\), got \(4, 2, 5, 5\)"):
        model[1](ganglion.randn(4, 2, 5, 5))


# ---------------------------------------------------------------------------------------- DistributedSampler
@pytest.mark.parametrize("length", [1, 7, 10, 12])
@pytest.mark.parametrize("replicas", [1, 2, 3, 5])
@pytest.mark.parametrize("drop_last", [False, True])
def test_distributed_sampler_equals_torch_unshuffled(length, replicas, drop_last):
    for rank in range(replicas):
        ours = ganglion.data.DistributedSampler(range(length), replicas, rank, shuffle=False, drop_last=drop_last)
        theirs = torch.utils.data.DistributedSampler(range(length), replicas, rank, shuffle=False,
                                                     drop_last=drop_last)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)


def test_distributed_sampler_shuffles_the_same_on_every_rank():
    data = range(11)
    shards = [ganglion.utils.data.DistributedSampler(data, 3, r, seed=5, drop_last=True) for r in range(3)]
    first = [list(s) for s in shards]
    assert sorted(i for shard in first for i in shard) == sorted(set(i for shard in first for i in shard))  # disjoint
    assert all(len(shard) == 3 for shard in first)
    assert first == [list(s) for s in shards]  # the same epoch gives the same order
    for s in shards:
        s.set_epoch(1)
    assert [list(s) for s in shards] != first
    padded = [list(ganglion.data.DistributedSampler(data, 3, r, seed=5)) for r in range(3)]
    assert sorted(set(i for shard in padded for i in shard)) == list(data) and sum(map(len, padded)) == 12


def test_distributed_sampler_arguments_are_checked():
    with pytest.raises(ValueError, match=r"invalid rank 2, rank should be in the interval \[0, 1\]"):
        ganglion.data.DistributedSampler(range(4), num_replicas=2, rank=2)
    with pytest.raises(ValueError, match="num_replicas must be an int >= 1, got 0"):
        ganglion.data.DistributedSampler(range(4), num_replicas=0, rank=0)


def test_distributed_sampler_import_paths():
    from ganglion.utils.data.distributed import DistributedSampler

    assert DistributedSampler is ganglion.data.DistributedSampler is ganglion.utils.data.DistributedSampler
