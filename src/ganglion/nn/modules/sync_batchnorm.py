"""``SyncBatchNorm``: batch normalization whose statistics are those of the global batch, across every rank.

Data-parallel training splits a batch over ranks; plain BatchNorm then normalizes each share by its own mean and
variance. SyncBatchNorm gives the result BatchNorm would give on the whole batch, forward and backward. On one
process, or in eval mode, it is BatchNorm.
"""

from ... import backend
from ...autograd.function import Function
from ...distributed import ReduceOp, all_gather_array, all_reduce_array, default_group, is_initialized
from .normalization import _BatchNorm


class SyncBatchNormFunction(Function):
    """y = (x - mean) / sqrt(var + eps) * weight + bias per channel, mean and biased var over the global batch.

    x: (N, C, *) on each rank. Forward: each rank's count n_r, mean m_r and M2_r = sum (x - m_r)^2 per channel are
    gathered (one all-gather) and combined as Chan et al.: N = sum n_r, mean = sum n_r m_r / N,
    M2 = sum (M2_r + n_r (m_r - mean)^2), var = M2 / N (no E[x^2] - E[x]^2 cancellation). Running statistics use
    the unbiased M2 / (N - 1).

    Backward, with xhat the normalized x and sums over the global batch (one all-reduce of sum(dy), sum(dy xhat)):
        dx = weight invstd (dy - sum(dy) / N - xhat sum(dy xhat) / N)
    and the local dweight = sum(dy xhat), dbias = sum(dy): DistributedDataParallel averages them with the rest.
    """

    def forward(self, x, weight, bias, eps, group, running=None):
        xp = self.xp
        channels = x.shape[1]
        axes = (0,) + tuple(range(2, x.ndim))
        shape = (1, channels) + (1,) * (x.ndim - 2)
        local_count = x.size // channels
        local_mean = x.mean(axis=axes, keepdims=True)
        centered = x - local_mean
        local_m2 = xp.square(centered).sum(axis=axes)
        stats = xp.concatenate([xp.full(1, local_count, dtype=x.dtype), local_mean.reshape(-1), local_m2])
        work, gathered = all_gather_array(stats, group, what="SyncBatchNorm statistics all_gather")
        work.wait()
        gathered = xp.asarray(gathered)
        counts, means, m2s = gathered[:, :1], gathered[:, 1:1 + channels], gathered[:, 1 + channels:]
        count = counts.sum()
        mean = (counts * means).sum(axis=0) / count
        m2 = (m2s + counts * xp.square(means - mean)).sum(axis=0)
        var = m2 / count
        invstd = (1.0 / xp.sqrt(var + float(eps))).reshape(shape)
        xhat = x - mean.reshape(shape)
        xhat *= invstd
        if running is not None:
            running_mean, running_var, momentum = running
            running_mean *= 1 - momentum
            running_mean += (momentum * mean).astype(running_mean.dtype, copy=False)
            running_var *= 1 - momentum
            running_var += (momentum * m2 / (count - 1)).astype(running_var.dtype, copy=False)
        y = xhat * weight.reshape(shape) if weight is not None else xhat.copy()
        if bias is not None:
            y += bias.reshape(shape)
        self.save(xhat, invstd, weight, axes, shape, count, group)
        return y

    def backward(self, dy):
        xhat, invstd, weight, axes, shape, count, group = self.saved
        xp = self.xp
        sum_dy = dy.sum(axis=axes)
        sum_dy_xhat = (dy * xhat).sum(axis=axes)
        dx = None
        if self.needs_input_grad[0]:
            sums = xp.concatenate([sum_dy, sum_dy_xhat])
            host = backend.to_numpy(sums).copy()
            all_reduce_array(host, ReduceOp.SUM, group, what="SyncBatchNorm gradient all_reduce").wait()
            global_sums = xp.asarray(host)
            channels = sum_dy.size
            global_dy, global_dy_xhat = global_sums[:channels].reshape(shape), global_sums[channels:].reshape(shape)
            scale = invstd if weight is None else invstd * weight.reshape(shape)
            dx = dy - global_dy / count
            dx -= xhat * (global_dy_xhat / count)
            dx *= scale
        dweight = sum_dy_xhat.reshape(weight.shape) if self.needs_input_grad[1] else None
        dbias = sum_dy if self.needs_input_grad[2] else None
        return dx, dweight, dbias


class SyncBatchNorm(_BatchNorm):
    """Batch normalization over the global batch of all ranks: input (N, C, *) per rank, output the same shape.

    Training: mean and biased variance per channel over every rank's batch (SyncBatchNormFunction), running
    statistics updated with the unbiased global variance. Eval mode, or a single process: exactly BatchNorm.
    ``process_group``: the ranks to synchronize over (the default group).
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 process_group=None, device=None, dtype=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)
        self.__dict__["process_group"] = process_group

    def _check_shape(self, x, layouts):
        if x.ndim < 2 or x.shape[1] != self.num_features:
            raise ValueError(f"{self!r}: expected input of shape (N, {self.num_features}, *), got {tuple(x.shape)}")

    def forward(self, x):
        group = self.process_group if self.process_group is not None else (default_group() if is_initialized()
                                                                           else None)
        if not self.training or group is None or group.size == 1:
            return super().forward(x)
        self._check_shape(x, ())
        momentum = 0.0 if self.momentum is None else self.momentum
        running = None
        if self.track_running_stats:
            self.num_batches_tracked.array += 1
            if self.momentum is None:
                momentum = 1.0 / float(self.num_batches_tracked.array)
            running = (self.running_mean.array, self.running_var.array, float(momentum))
        return SyncBatchNormFunction.apply(x, self.weight, self.bias, eps=self.eps, group=group, running=running)

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """``module`` with every BatchNorm1d/2d/3d inside it replaced by a SyncBatchNorm sharing its parameters
        and buffers (the module itself if it is one; otherwise the same module, changed in place)."""
        if isinstance(module, _BatchNorm) and not isinstance(module, cls):
            converted = cls(module.num_features, module.eps, module.momentum, module.affine,
                            module.track_running_stats, process_group)
            for name in ("weight", "bias"):
                setattr(converted, name, getattr(module, name))
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                converted.register_buffer(name, getattr(module, name))
            converted.train(module.training)
            return converted
        for name, child in list(module.named_children()):
            replacement = cls.convert_sync_batchnorm(child, process_group)
            if replacement is not child:
                setattr(module, name, replacement)
        return module
