"""``linear``: y = x W^T + b as one fused op (one matrix product forward, two backward)."""

import time

from ... import kernels
from ...kernels.blas import note_threaded_product
from ...kernels.conv import single_threaded_blas
from ...autograd.function import Function

STALLED_SPEED = 5e9
"""Multiply-adds a second below which a product on BLAS's threads (that took over ``kernels.STALL_SECONDS``) counts as
stalled: these products run at 20-50 G a second on one idle core; a stalled one waited a scheduler time slice."""


def _matmul(a, b):
    """a @ b. On NumPy arrays with compiled kernels on: on BLAS's own threads (faster on an idle machine for these
    products), unless ``kernels.machine_busy()``, then on one thread: with the other core busy OpenBLAS's threads
    wait for each other a time slice at a time, and LeNet-5's step took 2.5x, the MNIST MLP's 3.7x, the time on one
    thread. A product that stalls so says ``kernels.note_stall()``. Else plain ``@`` (CuPy, the Tensors of a double
    backward).

    While ganglion's own threads are at work (``kernels.pool_recently_used``: a convolution or an LSTM shared a loop
    over them in the last second), on single-threaded BLAS instead: after a product on its threads, OpenBLAS's
    workers spin for ~0.1 s (``kernels.blas``), taking a core from those loops. LeNet-5's step (its three linear
    layers on BLAS's threads before) took 0.94x the time (three runs of 30 steps each way, each in its own process;
    with NumPy's BLAS on one thread throughout, 0.89x)."""
    if not kernels.usable(a, b) or kernels.machine_busy():  # busy: BLAS already on one thread (note_stall)
        return a @ b
    if kernels.pool_recently_used():  # ganglion's threads are at work: keep OpenBLAS's asleep
        with single_threaded_blas():
            return a @ b
    start = time.perf_counter()
    product = a @ b
    took = time.perf_counter() - start
    multiply_adds = product.size * a.shape[-1]
    if took > kernels.STALL_SECONDS and took * STALLED_SPEED > multiply_adds:
        kernels.note_stall()
    if kernels.get_num_threads() > 1:
        note_threaded_product(multiply_adds)
    return product


class Linear(Function):
    """y = x W^T + b.  x: (*, in), W: (out, in), b: (out,) -> y: (*, out).

    dL/dx = dy W,  dL/dW = dy^T x (summed over all leading dims),  dL/db = sum of dy over leading dims.
    The backward is products and sums of the saved inputs, so it also runs on Tensors (double backward).
    """

    backward_composes = True

    def forward(self, x, weight, bias):
        y = _matmul(x, weight.T)
        if bias is not None:
            y += bias
        self.save(x, weight)
        return y

    def backward(self, dy):
        x, weight = self.saved
        needs = self.needs_input_grad
        dx = _matmul(dy, weight) if needs[0] else None
        dw = db = None
        if needs[1]:
            if dy.ndim == 2:
                dw = _matmul(dy.T, x)
            else:
                dw = _matmul(dy.reshape(-1, dy.shape[-1]).T, x.reshape(-1, x.shape[-1]))
        if needs[2]:
            db = dy.sum(axis=0) if dy.ndim == 2 else dy.reshape(-1, dy.shape[-1]).sum(axis=0)
        return dx, dw, db


def linear(input, weight, bias=None):
    """y = x W^T + b for x of shape (*, in_features) and W of shape (out_features, in_features)."""
    _check_dtypes(input, weight, bias)
    if input.ndim == 0 or input.array.shape[-1] != weight.array.shape[-1]:
        raise ValueError(
            f"linear: input of shape {tuple(input.shape)} does not match weight of shape {tuple(weight.shape)}: "
            f"expected the last dimension to be {weight.shape[-1]}"
        )
    return Linear.apply(input, weight, bias)


def _check_dtypes(input, weight, bias):
    """PyTorch multiplies only like dtypes: an integer (or bool) input against float weights is a RuntimeError, not a
    silent float64 product. All-integer operands of one dtype stay allowed, as in PyTorch."""
    dtype = weight.dtype
    if input.dtype == dtype and (bias is None or bias.dtype == dtype):  # the usual case, checked first: every call
        return
    named = [("input", input), ("weight", weight)] + ([("bias", bias)] if bias is not None else [])
    dtypes = {name: getattr(t, "dtype", None) for name, t in named}
    if all(d is None or d.kind in "fc" for d in dtypes.values()) or len(set(dtypes.values())) == 1:
        return
    got = ", ".join(f"{name} {d}" for name, d in dtypes.items())
    hint = " (convert the input with .float())" if dtypes["input"].kind not in "fc" else ""
    raise RuntimeError(f"linear (nn.Linear / F.linear): mat1 and mat2 must have the same dtype, got {got}{hint}")
