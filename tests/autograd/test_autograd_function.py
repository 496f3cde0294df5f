"""Custom ``Function``s in ganglion's native style (instance methods on arrays, ``self.save``/``self.saved``) and in
PyTorch's style (static methods on Tensors, ``ctx.save_for_backward``/``ctx.saved_tensors``), each compared with
the same function written as a ``torch.autograd.Function`` and checked with ``gradcheck``."""

import numpy as np
import pytest
import torch

import ganglion as g
from ganglion.autograd import Function, gradcheck

DATA = [[0.5, -1.25, 2.0], [1.5, 0.75, -0.5]]


# ------------------------------------------------------------------------------- softplus, three ways
class NativeSoftplus(Function):
    """y = log(1 + e^x);  dy/dx = sigmoid(x)."""

    def forward(self, x):
        xp = self.xp
        self.save(x)
        return xp.logaddexp(0, x)

    def backward(self, dy):
        (x,) = self.saved
        return dy / (1 + self.xp.exp(-x))


class CtxSoftplus(Function):
    """The same op in PyTorch's style."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return (x.exp() + 1).log()

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x.sigmoid()


class TorchSoftplus(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return (x.exp() + 1).log()

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x.sigmoid()


@pytest.mark.parametrize("fn", [NativeSoftplus, CtxSoftplus], ids=["native", "ctx"])
def test_custom_function_matches_torch_function(fn):
    x = g.tensor(DATA, dtype=g.float64, requires_grad=True)
    tx = torch.tensor(DATA, dtype=torch.float64, requires_grad=True)
    y, ty = fn.apply(x), TorchSoftplus.apply(tx)
    assert isinstance(y, g.Tensor) and y.requires_grad and y.dtype == g.float64
    assert isinstance(y.grad_fn, fn)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12)
    weights = [[1.0, 2.0, -1.0], [0.5, 0.0, 3.0]]
    y.backward(g.tensor(weights, dtype=g.float64))
    ty.backward(torch.tensor(weights, dtype=torch.float64))
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("fn", [NativeSoftplus, CtxSoftplus], ids=["native", "ctx"])
def test_custom_function_passes_gradcheck(fn):
    x = g.tensor(DATA, dtype=g.float64, requires_grad=True)
    assert gradcheck(fn.apply, (x,))
    assert gradcheck(lambda t: fn.apply(t * t).sum(), (x,))


@pytest.mark.parametrize("fn", [NativeSoftplus, CtxSoftplus], ids=["native", "ctx"])
def test_custom_function_composes_with_builtin_ops(fn):
    x = g.tensor(DATA, dtype=g.float64, requires_grad=True)
    tx = torch.tensor(DATA, dtype=torch.float64, requires_grad=True)
    (fn.apply(x * 2).tanh() * x).sum().backward()
    (TorchSoftplus.apply(tx * 2).tanh() * tx).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


def test_repr_names_the_custom_function():
    y = NativeSoftplus.apply(g.tensor([1.0], requires_grad=True))
    assert "grad_fn=<NativeSoftplusBackward>" in repr(y)


@pytest.mark.parametrize("fn", [NativeSoftplus, CtxSoftplus], ids=["native", "ctx"])
def test_custom_function_without_grad_inputs_or_under_no_grad_records_nothing(fn):
    y = fn.apply(g.tensor([1.0, 2.0]))
    assert not y.requires_grad and y.grad_fn is None
    with g.no_grad():
        z = fn.apply(g.tensor([1.0, 2.0], requires_grad=True))
    assert not z.requires_grad and z.grad_fn is None
    np.testing.assert_allclose(z.numpy(), np.log1p(np.exp([1.0, 2.0])), rtol=1e-6)


def test_ctx_style_forward_runs_without_recording():
    seen = []

    class Probe(Function):
        @staticmethod
        def forward(ctx, x):
            seen.append((g.is_grad_enabled(), x.requires_grad))
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            seen.append(g.is_grad_enabled())
            return grad * 2

    x = g.tensor([1.0], requires_grad=True)
    Probe.apply(x).sum().backward()
    assert seen == [(False, False), False] and x.grad.tolist() == [2.0]


def test_ctx_style_saved_tensors_after_the_graph_is_freed_raises():
    x = g.tensor([1.0, 2.0], requires_grad=True)
    h = CtxSoftplus.apply(x)
    ctx = h.grad_fn
    assert len(ctx.saved_tensors) == 1
    y = h.sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        ctx.saved_tensors


def test_ctx_style_forward_must_return_tensors():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x):
            return x.numpy()

        @staticmethod
        def backward(ctx, grad):
            return grad

    with pytest.raises(TypeError, match="Bad.forward must return a Tensor"):
        Bad.apply(g.tensor([1.0], requires_grad=True))


def test_function_without_backward_raises_when_differentiated():
    class ForwardOnly(Function):
        def forward(self, x):
            return x + 1

    y = ForwardOnly.apply(g.tensor([1.0], requires_grad=True))
    assert y.tolist() == [2.0]
    with pytest.raises(NotImplementedError, match="ForwardOnly does not support backward"):
        y.sum().backward()


# ---------------------------------------------------------------------------- non-tensor args, kwargs
class NativeScale(Function):
    """y = k x^p;  dy/dx = k p x^(p-1); k positional, p a keyword."""

    def forward(self, x, k, p=2):
        self.save(x, k, p)
        return k * x ** p

    def backward(self, dy):
        x, k, p = self.saved
        return dy * k * p * x ** (p - 1), None


class CtxScale(Function):
    @staticmethod
    def forward(ctx, x, k, p=2):
        ctx.save_for_backward(x)
        ctx.k, ctx.p = k, p
        return k * x ** p

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * ctx.k * ctx.p * x ** (ctx.p - 1), None


class TorchScale(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, k, p=2):
        ctx.save_for_backward(x)
        ctx.k, ctx.p = k, p
        return k * x ** p

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * ctx.k * ctx.p * x ** (ctx.p - 1), None, None


@pytest.mark.parametrize("fn", [NativeScale, CtxScale], ids=["native", "ctx"])
def test_non_tensor_arguments_and_keywords(fn):
    x = g.tensor(DATA, dtype=g.float64, requires_grad=True)
    tx = torch.tensor(DATA, dtype=torch.float64, requires_grad=True)
    y, ty = fn.apply(x, 0.5, p=3), TorchScale.apply(tx, 0.5, 3)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12)
    y.sum().backward()
    ty.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)
    assert gradcheck(lambda t: fn.apply(t, -1.5, p=2), (g.tensor(DATA, dtype=g.float64, requires_grad=True),))


# ------------------------------------------------------------------------------------------ several outputs
class NativeSinCos(Function):
    """(sin x, cos x);  backward: d1 cos x - d2 sin x."""

    def forward(self, x):
        self.save(x)
        return self.xp.sin(x), self.xp.cos(x)

    def backward(self, d_sin, d_cos):
        (x,) = self.saved
        return d_sin * self.xp.cos(x) - d_cos * self.xp.sin(x)


class CtxSinCos(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.sin(), x.cos()

    @staticmethod
    def backward(ctx, d_sin, d_cos):
        (x,) = ctx.saved_tensors
        return d_sin * x.cos() - d_cos * x.sin()


class TorchSinCos(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.sin(), x.cos()

    @staticmethod
    def backward(ctx, d_sin, d_cos):
        (x,) = ctx.saved_tensors
        return d_sin * x.cos() - d_cos * x.sin()


@pytest.mark.parametrize("fn", [NativeSinCos, CtxSinCos], ids=["native", "ctx"])
def test_multi_output_function_matches_torch(fn):
    x = g.tensor(DATA, dtype=g.float64, requires_grad=True)
    tx = torch.tensor(DATA, dtype=torch.float64, requires_grad=True)
    s, c = fn.apply(x)
    ts, tc = TorchSinCos.apply(tx)
    assert s.requires_grad and c.requires_grad and s.grad_fn is c.grad_fn
    np.testing.assert_allclose(s.detach().numpy(), ts.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(c.detach().numpy(), tc.detach().numpy(), rtol=1e-12)
    (s * c * 3 + c ** 2).sum().backward()
    (ts * tc * 3 + tc ** 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("fn", [NativeSinCos, CtxSinCos], ids=["native", "ctx"])
def test_multi_output_function_with_one_output_unused(fn):
    x = g.tensor(DATA, dtype=g.float64, requires_grad=True)
    tx = torch.tensor(DATA, dtype=torch.float64, requires_grad=True)
    _, c = fn.apply(x)
    _, tc = TorchSinCos.apply(tx)
    c.sum().backward()  # the unused output's gradient arrives as zeros
    tc.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


class ConstantAndCopy(Function):
    """(0 * x, x); backward hands the second output's gradient straight back as x's, whatever it is."""

    def forward(self, x):
        return 0 * x, x.copy()

    def backward(self, d_constant, d_copy):
        ConstantAndCopy.received = d_copy
        return d_copy


def test_an_unused_output_gets_a_read_only_zero_view_and_a_leaf_never_keeps_it():
    x = g.tensor(DATA, dtype=g.float64, requires_grad=True)
    constant, _ = ConstantAndCopy.apply(x)
    constant.sum().backward()  # the copy is unused: its gradient is the engine's stand-in, passed to the leaf
    stand_in = ConstantAndCopy.received
    assert not any(stand_in.strides) and not stand_in.flags.writeable and not stand_in.any()
    assert x.grad.array.flags.writeable and x.grad.array.base is None
    _, copy = ConstantAndCopy.apply(x)
    (2 * copy).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full_like(DATA, 2.0))


@pytest.mark.parametrize("fn", [NativeSinCos, CtxSinCos], ids=["native", "ctx"])
def test_an_output_no_gradient_reached_has_none_as_torch(fn):
    x = g.tensor(DATA, dtype=g.float64, requires_grad=True)
    tx = torch.tensor(DATA, dtype=torch.float64, requires_grad=True)
    s, c = fn.apply(x)
    ts, tc = TorchSinCos.apply(tx)
    ours = g.autograd.grad(c.sum(), [s, c], allow_unused=True)
    theirs = torch.autograd.grad(tc.sum(), [ts, tc], allow_unused=True)
    assert ours[0] is None and theirs[0] is None
    np.testing.assert_allclose(ours[1].numpy(), theirs[1].numpy())
    s, c = fn.apply(x)
    ts, tc = TorchSinCos.apply(tx)
    s.retain_grad(), ts.retain_grad()
    c.sum().backward()
    tc.sum().backward()
    assert s.grad is None and ts.grad is None


@pytest.mark.parametrize("fn", [NativeSinCos, CtxSinCos], ids=["native", "ctx"])
def test_multi_output_function_passes_gradcheck(fn):
    x = g.tensor(DATA, dtype=g.float64, requires_grad=True)
    assert gradcheck(fn.apply, (x,))


def test_mark_non_differentiable_output():
    class SortWithIndex(Function):
        @staticmethod
        def forward(ctx, x):
            order = np.argsort(x.numpy())
            ctx.order = order
            out, rank = g.tensor(x.numpy()[order], dtype=x.dtype), g.tensor(order.astype(np.float64), dtype=x.dtype)
            ctx.mark_non_differentiable(rank)
            return out, rank

        @staticmethod
        def backward(ctx, grad, _):
            dx = np.zeros_like(grad.numpy())
            dx[ctx.order] = grad.numpy()
            return g.tensor(dx, dtype=grad.dtype)

    x = g.tensor([3.0, 1.0, 2.0], requires_grad=True)
    values, rank = SortWithIndex.apply(x)
    assert values.requires_grad and not rank.requires_grad and rank.tolist() == [1.0, 2.0, 0.0]
    (values * g.tensor([1.0, 10.0, 100.0])).sum().backward()
    assert x.grad.tolist() == [100.0, 1.0, 10.0]


# --------------------------------------------------------------------------------------- gradients returned
def test_backward_may_return_broadcast_gradients_that_the_engine_reduces():
    class AddBias(Function):
        def forward(self, x, b):
            return x + b

        def backward(self, dy):
            return dy, dy  # dy has x's shape; the engine sums it to b's

    x = g.tensor(DATA, dtype=g.float64, requires_grad=True)
    b = g.tensor([1.0, 2.0, 3.0], dtype=g.float64, requires_grad=True)
    AddBias.apply(x, b).sum().backward()
    assert b.grad.shape == (3,) and b.grad.tolist() == [2.0, 2.0, 2.0]
    assert gradcheck(AddBias.apply, (x, b))


def test_backward_returning_none_gives_that_input_no_gradient():
    class FirstOnly(Function):
        def forward(self, a, b):
            return a * b

        def backward(self, dy):
            return dy, None

    a = g.tensor([1.0], requires_grad=True)
    b = g.tensor([2.0], requires_grad=True)
    FirstOnly.apply(a, b).sum().backward()
    assert a.grad.tolist() == [1.0] and b.grad is None
