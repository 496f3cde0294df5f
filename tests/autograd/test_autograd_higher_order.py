"""Higher-order gradients: ``create_graph=True`` against PyTorch, on the uses that need it (gradient penalties,
Hessian-vector products, third derivatives), and the checks that catch a wrong rule.

Every op of the op table is also run through float64 ``gradgradcheck`` in ``tests/ops/test_parity.py``.
"""

import numpy as np
import pytest
import torch

import ganglion as G
import ganglion.nn.functional as F


def _pair(array, requires_grad=True):
    return (G.tensor(array, dtype=G.float64, requires_grad=requires_grad),
            torch.tensor(array, dtype=torch.float64, requires_grad=requires_grad))


def _close(g, t, tol=1e-10):
    if t is None:  # no gradient reached it in PyTorch either (a bias does not change d output / d input)
        assert g is None
        return
    np.testing.assert_allclose(g.detach().numpy(), t.detach().numpy(), rtol=tol, atol=tol)


def test_third_derivative_of_a_polynomial_and_exp():
    x, tx = _pair([0.5, -1.0, 2.0])
    for lib, v in ((G, x), (torch, tx)):
        y = (v ** 4 + lib.exp(v) * v).sum()
        (d1,) = lib.autograd.grad(y, v, create_graph=True)
        (d2,) = lib.autograd.grad(d1.sum(), v, create_graph=True)
        (d3,) = lib.autograd.grad(d2.sum(), v)
        if lib is G:
            ours = (d1, d2, d3)
        else:
            theirs = (d1, d2, d3)
    for g, t in zip(ours, theirs):
        _close(g, t)


def test_hessian_vector_product_of_an_mlp_loss_matches_torch():
    rng = np.random.default_rng(0)
    x_np, y_np = rng.standard_normal((6, 3)), rng.standard_normal((6, 1))
    w1, tw1 = _pair(rng.standard_normal((3, 5)) * 0.5)
    w2, tw2 = _pair(rng.standard_normal((5, 1)) * 0.5)
    v1_np, v2_np = rng.standard_normal((3, 5)), rng.standard_normal((5, 1))
    results = []
    for lib, (a, b) in ((G, (w1, w2)), (torch, (tw1, tw2))):
        x = lib.tensor(x_np, dtype=lib.float64)
        target = lib.tensor(y_np, dtype=lib.float64)
        loss = (((x @ a).tanh() @ b - target) ** 2).mean()
        ga, gb = lib.autograd.grad(loss, [a, b], create_graph=True)
        dot = (ga * lib.tensor(v1_np, dtype=lib.float64)).sum() + (gb * lib.tensor(v2_np, dtype=lib.float64)).sum()
        results.append(lib.autograd.grad(dot, [a, b]))
    for g, t in zip(*results):
        _close(g, t)


def test_gradient_penalty_on_a_conv_critic_matches_torch():
    """WGAN-GP: the penalty (|d critic / d input| - 1)^2 trained by backward, through conv, leaky ReLU and linear
    layers; its parameter gradients need the second derivative of every layer."""
    rng = np.random.default_rng(1)
    real, fake = rng.standard_normal((4, 2, 6, 6)), rng.standard_normal((4, 2, 6, 6))
    eps = rng.uniform(size=(4, 1, 1, 1))
    conv_w, tconv_w = _pair(rng.standard_normal((3, 2, 3, 3)) * 0.3)
    conv_b, tconv_b = _pair(rng.standard_normal(3) * 0.1)
    lin_w, tlin_w = _pair(rng.standard_normal((1, 3 * 3 * 3)) * 0.3)

    def critic(lib, functional, x, cw, cb, lw):
        h = functional.conv2d(x, cw, cb, stride=2, padding=1)
        h = lib.where(h > 0, h, 0.2 * h)  # leaky ReLU from ops
        return h.reshape(h.shape[0], -1) @ lw.transpose(0, 1)

    grads = []
    for lib, functional, params in ((G, F, (conv_w, conv_b, lin_w)), (torch, torch.nn.functional,
                                                                      (tconv_w, tconv_b, tlin_w))):
        mixed = lib.tensor(eps * real + (1 - eps) * fake, dtype=lib.float64, requires_grad=True)
        score = critic(lib, functional, mixed, *params)
        (g,) = lib.autograd.grad(score.sum(), mixed, create_graph=True)
        penalty = ((g.reshape(4, -1).norm(dim=1) - 1) ** 2).mean()
        penalty.backward()
        grads.append([p.grad for p in params] + [penalty])
    for g, t in zip(*grads):
        _close(g, t, 1e-9)


def test_backward_with_create_graph_leaves_a_differentiable_grad():
    x, tx = _pair([1.0, 2.0])
    for v, lib in ((x, G), (tx, torch)):
        (v ** 3).sum().backward(create_graph=True)
        assert v.grad.requires_grad
        first = v.grad.detach().clone() if lib is torch else v.grad.detach()
        (v.grad.sum()).backward()  # accumulates d(3 v^2)/dv = 6 v into v.grad (which keeps its graph term)
        if lib is G:
            ours = (first, v.grad)
        else:
            theirs = (first, v.grad)
    for g, t in zip(ours, theirs):
        _close(g, t)


def test_custom_function_with_a_differentiable_backward_supports_double_backward():
    class Cube(G.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x * x

        @staticmethod
        def backward(ctx, dy):
            (x,) = ctx.saved_tensors
            return dy * 3 * x * x

    x = G.tensor([1.0, -2.0], dtype=G.float64, requires_grad=True)
    (d1,) = G.autograd.grad(Cube.apply(x).sum(), x, create_graph=True)
    (d2,) = G.autograd.grad(d1.sum(), x)
    np.testing.assert_allclose(d2.numpy(), [6.0, -12.0])


def test_gradgradcheck_catches_a_wrong_second_derivative():
    class BadSquare(G.autograd.Function):
        """y = x^2 with a correct first derivative but a second derivative that is off by a factor."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, dy):
            (x,) = ctx.saved_tensors
            return dy * (2 * x.detach() + 0 * x) + (x - x.detach()) * dy * 5  # value 2x dy, derivative 5 dy

    x = G.tensor([0.3, 1.2], dtype=G.float64, requires_grad=True)
    assert G.autograd.gradcheck(BadSquare.apply, (x,))
    assert not G.autograd.gradgradcheck(BadSquare.apply, (x,), raise_exception=False)
    with pytest.raises(G.autograd.GradcheckError, match="disagrees"):
        G.autograd.gradgradcheck(BadSquare.apply, (x,))


class _ArrayOnlySquare(G.autograd.Function):
    """y = x^2 with an array backward and no rule for double backward (as a user's op may be written)."""

    def forward(self, x):
        self.save(x)
        return x * x

    def backward(self, dy):
        (x,) = self.saved
        return 2 * x * dy


def test_an_op_without_double_backward_says_so():
    x = G.tensor([1.0, 2.0], dtype=G.float64, requires_grad=True)
    assert G.autograd.grad(_ArrayOnlySquare.apply(x).sum(), x)[0].tolist() == [2.0, 4.0]
    with pytest.raises(RuntimeError, match="double backward through _ArrayOnlySquare is not supported"):
        G.autograd.grad(_ArrayOnlySquare.apply(x).sum(), x, create_graph=True)


def test_grad_with_respect_to_an_intermediate_does_not_run_the_graph_before_it():
    """autograd.grad runs only the nodes between the outputs and the tensors asked for: an op upstream without a
    double backward does not stop create_graph=True downstream of it."""
    x = G.tensor([0.5, 1.5], dtype=G.float64, requires_grad=True)
    s = _ArrayOnlySquare.apply(x)
    (g,) = G.autograd.grad((s ** 3).sum(), s, create_graph=True)
    (h,) = G.autograd.grad(g.sum(), s)
    np.testing.assert_allclose(h.numpy(), 6 * s.detach().numpy())


def test_second_derivatives_of_det_at_a_singular_matrix_and_of_singular_values_match_torch():
    rng = np.random.default_rng(4)
    singular = rng.uniform(-2, 2, (3, 3))
    singular[:, 2] = singular[:, 0]
    rectangular = rng.standard_normal((4, 3))
    for fn_g, fn_t, a in ((G.linalg.det, torch.linalg.det, singular),
                          (lambda m: G.linalg.svdvals(m).pow(3).sum(), lambda m: torch.linalg.svdvals(m).pow(3).sum(),
                           rectangular)):
        results = []
        for lib, fn in ((G, fn_g), (torch, fn_t)):
            m = lib.tensor(a, dtype=lib.float64, requires_grad=True)
            (g,) = lib.autograd.grad(fn(m), m, create_graph=True)
            (h,) = lib.autograd.grad((g * g).sum(), m)
            results.append(h.detach().numpy())
        np.testing.assert_allclose(results[0], results[1], rtol=1e-8, atol=1e-10)


def test_second_backward_through_a_freed_graph_still_raises():
    x = G.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    G.autograd.grad(y.sum(), x)
    with pytest.raises(RuntimeError, match="second time"):
        G.autograd.grad(y.sum(), x)


def test_weight_norm_penalties_and_backward_hooks_differentiate_twice():
    from ganglion import nn
    from ganglion.nn.utils.penalties import ElasticNet

    rng = np.random.default_rng(6)
    x = G.tensor(rng.standard_normal((2, 3)), dtype=G.float64, requires_grad=True)
    normed = nn.utils.weight_norm(nn.Linear(3, 2).double())
    assert G.autograd.gradgradcheck(lambda x: normed(x).tanh(), (x,))
    assert G.autograd.gradgradcheck(lambda w: ElasticNet.apply(w, l1=0.1, l2=0.3), (x,))
    hooked = nn.Linear(3, 2).double()
    seen = []
    hooked.register_full_backward_hook(lambda module, grad_in, grad_out: seen.append(grad_in[0].requires_grad))
    assert G.autograd.gradgradcheck(lambda x: hooked(x).tanh(), (x,))
    assert True in seen  # under create_graph the hook saw gradients that carry a graph
