"""The backward walk: .grad accumulation, non-scalar roots, retain_graph, freeing the graph, deep graphs, shared
subgraphs, retain_grad and autograd.grad, against PyTorch where it has the same call."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import ganglion as g
from ganglion.autograd import Function

X = [[0.5, -1.25, 2.0], [1.5, 0.75, -0.5]]


def _leaves(data=X, dtype="float64"):
    """The same leaf in ganglion and in PyTorch."""
    return (g.tensor(data, dtype=getattr(g, dtype), requires_grad=True),
            torch.tensor(data, dtype=getattr(torch, dtype), requires_grad=True))


def _assert_grad(ours, ref, rtol=1e-12, atol=1e-14):
    assert isinstance(ours.grad, g.Tensor)
    assert ours.grad.shape == ours.shape and ours.grad.dtype == ours.dtype
    assert not ours.grad.requires_grad
    np.testing.assert_allclose(ours.grad.numpy(), ref.grad.numpy(), rtol=rtol, atol=atol)


# ------------------------------------------------------------------------------------------ .grad basics
def test_grad_is_a_tensor_matching_torch():
    x, tx = _leaves()
    ((x * x).sum() + x.exp().mean()).backward()
    ((tx * tx).sum() + tx.exp().mean()).backward()
    _assert_grad(x, tx)


def test_grad_is_none_before_backward_and_for_leaves_without_requires_grad():
    x = g.tensor([1.0, 2.0], requires_grad=True)
    c = g.tensor([3.0, 4.0])
    assert x.grad is None
    (x * c).sum().backward()
    assert x.grad.tolist() == [3.0, 4.0]
    assert c.grad is None


def test_grad_accumulates_across_backward_calls_like_torch():
    x, tx = _leaves()
    for f in (lambda t: (t ** 2).sum(), lambda t: t.tanh().sum(), lambda t: (t * 3).mean()):
        f(x).backward()
        f(tx).backward()
        _assert_grad(x, tx)


def test_zeroing_grad_between_steps():
    x = g.tensor([1.0, 2.0], requires_grad=True)
    (x * 2).sum().backward()
    x.grad.zero_()
    (x * 5).sum().backward()
    assert x.grad.tolist() == [5.0, 5.0]
    x.grad = None
    (x * 7).sum().backward()
    assert x.grad.tolist() == [7.0, 7.0]


def test_result_requires_grad_when_any_input_does():
    x = g.tensor([1.0], requires_grad=True)
    c = g.tensor([2.0])
    assert (x * c).requires_grad and (c * x).requires_grad and not (c * c).requires_grad
    assert x.is_leaf and x.grad_fn is None
    y = x * c
    assert not y.is_leaf and y.grad_fn is not None
    assert not (x > 0).requires_grad  # bool results are never differentiable
    assert not x.argmax().requires_grad


# ------------------------------------------------------------------------------------- non-scalar roots
def test_backward_with_gradient_for_non_scalar_like_torch():
    x, tx = _leaves()
    weights = [[1.0, 0.0, -2.0], [0.5, 3.0, 1.0]]
    (x.sin() * 2).backward(gradient=g.tensor(weights, dtype=g.float64))
    (tx.sin() * 2).backward(gradient=torch.tensor(weights, dtype=torch.float64))
    _assert_grad(x, tx)


def test_backward_gradient_may_be_an_array_or_a_positional_argument():
    x = g.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).backward(np.array([1.0, -1.0]))
    assert x.grad.tolist() == [3.0, -3.0] and x.grad.dtype == g.float32


def test_non_scalar_backward_without_gradient_raises_a_clear_error():
    x = g.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"only for scalar outputs.*shape \(2,\).*gradient="):
        (x * 2).backward()
    assert x.grad is None


def test_one_element_non_scalar_backward_needs_no_gradient():
    x = g.tensor([[3.0]], requires_grad=True)
    (x * x).backward()
    assert x.grad.tolist() == [[6.0]]


def test_gradient_of_wrong_shape_raises():
    x = g.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"gradient has shape \(3,\).*\(2,\)"):
        (x * 2).backward(g.ones(3))


def test_backward_of_a_tensor_outside_the_graph_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        g.tensor([1.0]).sum().backward()
    x = g.tensor([1.0], requires_grad=True)
    with g.no_grad():
        y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


def test_backward_of_a_leaf_itself():
    x = g.tensor([1.0, 2.0], requires_grad=True)
    grad = g.tensor([0.5, -1.0])
    x.backward(grad)
    assert x.grad.tolist() == [0.5, -1.0]
    grad.array[0] = 100.0  # x.grad is not the caller's array
    assert x.grad.tolist() == [0.5, -1.0]


def test_grad_does_not_alias_the_gradient_passed_in():
    x = g.tensor([1.0, 2.0], requires_grad=True)
    grad = g.tensor([1.0, 1.0])
    (x + 0.0).backward(grad)
    (x + 0.0).backward(grad)  # accumulation happens in x.grad, never in `grad`
    assert x.grad.tolist() == [2.0, 2.0] and grad.tolist() == [1.0, 1.0]


def test_autograd_backward_on_several_roots():
    x, tx = _leaves()
    g.autograd.backward([x.exp().sum(), (x * 2)], [None, g.ones(2, 3, dtype=g.float64)])
    torch.autograd.backward([tx.exp().sum(), (tx * 2)], [None, torch.ones(2, 3, dtype=torch.float64)])
    _assert_grad(x, tx)


# ----------------------------------------------------------------------------------------- retain_graph
def test_second_backward_without_retain_graph_raises():
    x = g.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward_that_accumulates():
    x, tx = _leaves()
    y, ty = (x.exp() * x).sum(), (tx.exp() * tx).sum()
    y.backward(retain_graph=True)
    ty.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    y.backward()
    ty.backward()
    _assert_grad(x, tx)
    np.testing.assert_allclose(x.grad.numpy(), 2 * first)


def test_graph_is_freed_after_backward():
    x = g.tensor([1.0, 2.0], requires_grad=True)
    h = x.exp()
    y = (h * x).sum()
    nodes = [y.grad_fn, h.grad_fn]
    assert h.grad_fn.saved != ()  # exp saves its output for backward
    y.backward()
    for node in nodes:
        assert node.saved == () and node.inputs == ()


def test_graph_is_kept_with_retain_graph():
    x = g.tensor([1.0, 2.0], requires_grad=True)
    h = x.exp()
    h.sum().backward(retain_graph=True)
    assert len(h.grad_fn.saved) == 1 and len(h.grad_fn.inputs) == 1
    np.testing.assert_allclose(h.grad_fn.saved[0], np.exp([1.0, 2.0]).astype(np.float32))


def test_branch_freed_by_one_backward_cannot_be_reused():
    x = g.tensor([1.0, 2.0], requires_grad=True)
    shared = x.exp()
    shared.sum().backward()
    with pytest.raises(RuntimeError, match="second time"):
        (shared * 2).sum().backward()


# ------------------------------------------------------------------------------------------ deep graphs
def test_100k_deep_graph_backprops_without_recursion_error():
    x = g.tensor(1.0, dtype=g.float64, requires_grad=True)
    y = x
    for _ in range(50_000):
        y = y * 1.0001 + 0.0  # two ops per step: a graph 100,000 nodes deep
    y.backward()
    np.testing.assert_allclose(x.grad.item(), 1.0001 ** 50_000, rtol=1e-9)
    np.testing.assert_allclose(y.item(), 1.0001 ** 50_000, rtol=1e-9)


def test_deep_tanh_chain_gradient_is_the_product_of_local_derivatives():
    x = g.tensor(0.8, dtype=g.float64, requires_grad=True)
    y, values = x, [0.8]
    for _ in range(2_000):
        y = y.tanh()
        values.append(y.item())
    y.backward()
    expected = np.prod(1 - np.tanh(values[:-1]) ** 2)  # d tanh(u)/du = 1 - tanh(u)^2 at each step's input
    np.testing.assert_allclose(x.grad.item(), expected, rtol=1e-10)


# --------------------------------------------------------------------------------------- shared subgraphs
def test_same_tensor_used_twice():
    x, tx = _leaves()
    (x * x).sum().backward()
    (tx * tx).sum().backward()
    _assert_grad(x, tx)
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.array(X))
    x.grad = None
    (x + x + x).sum().backward()
    assert (x.grad.numpy() == 3).all()


def test_diamond_graph_sums_both_branches_like_torch():
    x, tx = _leaves()

    def f(t, lib):
        a = t * 2                            # shared node
        b, c = a.exp(), lib.sin(a)           # two branches from it
        d = b * c + a                        # merged again, with a third path from a
        return (d * a).sum()

    f(x, g).backward()
    f(tx, torch).backward()
    _assert_grad(x, tx)


def test_wide_fan_out_from_one_node():
    x = g.tensor([0.5, 1.5], dtype=g.float64, requires_grad=True)
    h = x * 3
    sum(h * k for k in range(1, 11)).sum().backward()
    assert x.grad.tolist() == [3.0 * 55, 3.0 * 55]


def test_broadcast_inputs_get_gradients_of_their_own_shape():
    a, ta = _leaves([[1.0], [2.0], [3.0]])           # (3, 1)
    b, tb = _leaves([0.5, -1.0, 2.0, 0.25])           # (4,)
    s, ts = _leaves(2.0)                               # 0-d
    ((a * b + s) ** 2).sum().backward()
    ((ta * tb + ts) ** 2).sum().backward()
    for ours, ref in ((a, ta), (b, tb), (s, ts)):
        _assert_grad(ours, ref)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    shapes=st.sampled_from([((2, 3), (3,)), ((2, 1, 4), (3, 1)), ((1,), (5, 2)), ((), (2, 2)), ((4, 1), (1, 4))]),
    seed=st.integers(0, 2**16),
)
def test_broadcast_gradients_match_torch_for_random_shapes(shapes, seed):
    rng = np.random.default_rng(seed)
    da, db = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    a, ta = _leaves(da)
    b, tb = _leaves(db)
    (a * b.tanh() - b).sum().backward()
    (ta * tb.tanh() - tb).sum().backward()
    _assert_grad(a, ta)
    _assert_grad(b, tb)


# ------------------------------------------------------------------------------------- leaves not needed
def test_gradient_of_an_input_that_does_not_require_grad_is_never_computed():
    calls = []

    class Record(Function):
        """y = a * b, recording what backward was asked to compute."""

        def forward(self, a, b):
            self.save(a, b)
            return a * b

        def backward(self, dy):
            a, b = self.saved
            calls.append(tuple(self.needs_input_grad))
            return (dy * b if self.needs_input_grad[0] else None), (dy * a if self.needs_input_grad[1] else None)

    x = g.tensor([1.0, 2.0], requires_grad=True)
    c = g.tensor([3.0, 4.0])
    Record.apply(x, c).sum().backward()
    Record.apply(c, x).sum().backward()
    assert calls == [(True, False), (False, True)]
    assert x.grad.tolist() == [6.0, 8.0] and c.grad is None


def test_gradients_returned_for_inputs_that_do_not_need_them_are_dropped():
    class Greedy(Function):
        def forward(self, a, b):
            return a + b

        def backward(self, dy):
            return dy, dy  # computes both, whatever is needed

    x = g.tensor([1.0], requires_grad=True)
    c = g.tensor([2.0])
    Greedy.apply(x, c).sum().backward()
    assert x.grad.tolist() == [1.0] and c.grad is None


def test_subgraph_without_grad_leaves_is_not_recorded():
    c = g.tensor([1.0, 2.0])
    y = (c.exp() * 2).sum()
    assert not y.requires_grad and y.grad_fn is None


# ---------------------------------------------------------------------------------------------- retain_grad
def test_retain_grad_on_a_non_leaf_like_torch():
    x, tx = _leaves()
    h, th = x.tanh() * 2, tx.tanh() * 2
    h.retain_grad()
    th.retain_grad()
    unretained = x * 5
    ((h * h).sum() + unretained.sum()).backward()
    ((th * th).sum()).backward()
    assert isinstance(h.grad, g.Tensor) and h.grad.shape == h.shape
    np.testing.assert_allclose(h.grad.numpy(), th.grad.numpy(), rtol=1e-12)
    assert unretained.grad is None


def test_retained_grad_accumulates_like_torch():
    x, tx = _leaves()
    h, th = x * 2, tx * 2
    h.retain_grad()
    th.retain_grad()
    y, ty = (h ** 3).sum(), (th ** 3).sum()
    y.backward(retain_graph=True)
    ty.backward(retain_graph=True)
    y.backward()
    ty.backward()
    np.testing.assert_allclose(h.grad.numpy(), th.grad.numpy(), rtol=1e-12)
    _assert_grad(x, tx)


def test_retain_grad_on_a_leaf_changes_nothing():
    x = g.tensor([1.0, 2.0], requires_grad=True)
    x.retain_grad()
    (x * 2).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


# ---------------------------------------------------------------------------------------------- autograd.grad
def test_autograd_grad_returns_gradients_without_touching_grad():
    x, tx = _leaves()
    w, tw = _leaves([1.0, -2.0, 0.5])
    (gx, gw) = g.autograd.grad((x * w).tanh().sum(), [x, w])
    (rx, rw) = torch.autograd.grad((tx * tw).tanh().sum(), [tx, tw])
    assert x.grad is None and w.grad is None
    for ours, ref in ((gx, rx), (gw, rw)):
        assert isinstance(ours, g.Tensor) and ours.dtype == g.float64
        np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-12)


def test_autograd_grad_leaves_other_leaves_alone():
    x = g.tensor([1.0, 2.0], requires_grad=True)
    other = g.tensor([3.0, 4.0], requires_grad=True)
    (gx,) = g.autograd.grad((x * other).sum(), x)
    assert gx.tolist() == [3.0, 4.0] and other.grad is None and x.grad is None


def test_autograd_grad_with_respect_to_an_intermediate():
    x, tx = _leaves()
    h, th = x.exp(), tx.exp()
    (gh,) = g.autograd.grad((h * h).sum(), h)
    (rh,) = torch.autograd.grad((th * th).sum(), th)
    np.testing.assert_allclose(gh.numpy(), rh.numpy(), rtol=1e-12)
    assert x.grad is None


def test_autograd_grad_with_grad_outputs_and_retain_graph():
    x = g.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    (g1,) = g.autograd.grad(y, x, grad_outputs=g.tensor([1.0, 10.0]), retain_graph=True)
    (g2,) = g.autograd.grad(y, x, grad_outputs=g.tensor([1.0, 1.0]))
    assert g1.tolist() == [2.0, 40.0] and g2.tolist() == [2.0, 4.0]
    with pytest.raises(RuntimeError, match="second time"):
        g.autograd.grad(y, x, grad_outputs=g.ones(2))


def test_autograd_grad_unused_input():
    x = g.tensor([1.0], requires_grad=True)
    unused = g.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        g.autograd.grad((x * 2).sum(), [x, unused], retain_graph=True)
    gx, gu = g.autograd.grad((x * 2).sum(), [x, unused], allow_unused=True)
    assert gx.tolist() == [2.0] and gu is None


def test_autograd_grad_input_must_require_grad():
    x = g.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="input 1 does not require grad"):
        g.autograd.grad((x * 2).sum(), [x, g.tensor([1.0])])
