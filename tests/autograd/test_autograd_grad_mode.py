"""Grad modes (no_grad, enable_grad, set_grad_enabled as context managers, decorators and calls), detach,
requires_grad_, and the rule for in-place operations on tensors that are part of the graph."""

import numpy as np
import pytest
import torch

import ganglion as g


def _leaf():
    return g.tensor([1.0, 2.0, 3.0], requires_grad=True)


# ----------------------------------------------------------------------------------------------- no_grad
def test_no_grad_context_stops_recording_and_restores():
    x = _leaf()
    assert g.is_grad_enabled()
    with g.no_grad():
        assert not g.is_grad_enabled()
        y = x * 2
    assert g.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None and y.is_leaf
    assert y.tolist() == [2.0, 4.0, 6.0]
    assert (x * 2).requires_grad


def test_no_grad_restores_the_mode_after_an_exception():
    with pytest.raises(ZeroDivisionError):
        with g.no_grad():
            1 / 0
    assert g.is_grad_enabled()


def test_no_grad_as_decorator():
    x = _leaf()

    @g.no_grad()
    def double(t):
        """Doubles."""
        assert not g.is_grad_enabled()
        return t * 2

    y = double(x)
    assert not y.requires_grad and g.is_grad_enabled()
    assert double.__name__ == "double" and double.__doc__ == "Doubles."


def test_no_grad_decorator_restores_after_an_exception():
    @g.no_grad()
    def fail():
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        fail()
    assert g.is_grad_enabled()


def test_no_grad_matches_torch_semantics():
    x, tx = _leaf(), torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with g.no_grad(), torch.no_grad():
        y, ty = x.exp(), tx.exp()
    assert y.requires_grad == ty.requires_grad == False  # noqa: E712
    z, tz = (y * x).sum(), (ty * tx).sum()  # y is a constant in the graph built afterwards
    z.backward()
    tz.backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-6)


# ------------------------------------------------------------------------------------------- enable_grad
def test_enable_grad_inside_no_grad():
    x = _leaf()
    with g.no_grad():
        with g.enable_grad():
            assert g.is_grad_enabled()
            y = x * 2
        assert not g.is_grad_enabled()
    assert y.requires_grad
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0]


def test_enable_grad_as_decorator_inside_no_grad():
    @g.enable_grad()
    def square(t):
        return t * t

    x = _leaf()
    with g.no_grad():
        y = square(x)
        assert not g.is_grad_enabled()
    assert y.requires_grad


def test_nested_modes_restore_in_order():
    with g.no_grad():
        with g.enable_grad():
            with g.no_grad():
                assert not g.is_grad_enabled()
            assert g.is_grad_enabled()
        assert not g.is_grad_enabled()
    assert g.is_grad_enabled()


# ------------------------------------------------------------------------------------------ set_grad_enabled
def test_set_grad_enabled_as_a_call():
    x = _leaf()
    g.set_grad_enabled(False)
    assert not g.is_grad_enabled() and not (x * 2).requires_grad
    g.set_grad_enabled(True)
    assert g.is_grad_enabled() and (x * 2).requires_grad


@pytest.mark.parametrize("mode", [False, True])
def test_set_grad_enabled_as_a_context_manager(mode):
    x = _leaf()
    with g.no_grad():
        with g.set_grad_enabled(mode):
            assert g.is_grad_enabled() is mode
            y = x * 2
        assert not g.is_grad_enabled()
    assert y.requires_grad is mode
    assert g.is_grad_enabled()


def test_set_grad_enabled_as_a_decorator():
    @g.set_grad_enabled(False)
    def frozen(t):
        return t * 2

    assert g.is_grad_enabled()  # building the decorator did not switch the mode
    x = _leaf()
    assert not frozen(x).requires_grad
    assert g.is_grad_enabled()


def test_is_grad_enabled_returns_a_bool():
    assert g.is_grad_enabled() is True
    with g.no_grad():
        assert g.is_grad_enabled() is False
    assert g.autograd.is_grad_enabled is g.is_grad_enabled


def test_decorated_functions_keep_working_many_times():
    calls = []

    @g.no_grad()
    def f(t):
        calls.append(g.is_grad_enabled())
        return t + 1

    x = _leaf()
    for _ in range(3):
        assert not f(x).requires_grad
    assert calls == [False] * 3 and g.is_grad_enabled()


# -------------------------------------------------------------------------------------------------- detach
def test_detach_shares_memory_and_leaves_the_graph():
    x = _leaf()
    d = (x * 2).detach()
    assert not d.requires_grad and d.is_leaf and d.grad_fn is None
    e = x.detach()
    assert np.shares_memory(e.array, x.array)
    with g.no_grad():
        x.mul_(10)
    assert e.tolist() == [10.0, 20.0, 30.0]


def test_detach_stops_the_gradient_like_torch():
    x, tx = _leaf(), torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x.detach()).sum().backward()
    (tx * tx.detach()).sum().backward()
    assert x.grad.tolist() == tx.grad.tolist() == [1.0, 2.0, 3.0]


def test_detach_in_place():
    x = _leaf()
    y = x * 2
    assert y.detach_() is y
    assert not y.requires_grad and y.grad_fn is None


# --------------------------------------------------------------------------------------------- requires_grad_
def test_requires_grad_method():
    t = g.tensor([1.0, 2.0])
    assert t.requires_grad is False
    assert t.requires_grad_() is t and t.requires_grad is True
    (t * 4).sum().backward()
    assert t.grad.tolist() == [4.0, 4.0]
    t.requires_grad_(False)
    assert not (t * 4).requires_grad


def test_requires_grad_cannot_be_turned_off_on_a_non_leaf():
    y = _leaf() * 2
    with pytest.raises(RuntimeError, match=r"leaf tensors.*detach\(\)"):
        y.requires_grad_(False)
    y.requires_grad_(True)  # already on: allowed


def test_requires_grad_needs_a_floating_dtype():
    with pytest.raises(RuntimeError, match="floating point"):
        g.tensor([1, 2]).requires_grad_()
    with pytest.raises(RuntimeError, match="floating point"):
        g.zeros(2, dtype=g.int64, requires_grad=True)


# ------------------------------------------------------------------------------------------- in-place rules
IN_PLACE = {
    "add_": lambda t: t.add_(1.0),
    "add_alpha": lambda t: t.add_(g.ones(3), alpha=2),
    "sub_": lambda t: t.sub_(1.0),
    "mul_": lambda t: t.mul_(2.0),
    "div_": lambda t: t.div_(2.0),
    "clamp_": lambda t: t.clamp_(0.0, 2.0),
    "copy_": lambda t: t.copy_(g.tensor([7.0, 8.0, 9.0])),
    "fill_": lambda t: t.fill_(5.0),
    "zero_": lambda t: t.zero_(),
    "uniform_": lambda t: t.uniform_(),
    "normal_": lambda t: t.normal_(),
    "setitem": lambda t: t.__setitem__(0, 4.0),
    "iadd": lambda t: t.__iadd__(1.0),
    "isub": lambda t: t.__isub__(1.0),
    "imul": lambda t: t.__imul__(2.0),
    "itruediv": lambda t: t.__itruediv__(2.0),
}


@pytest.mark.parametrize("name", sorted(IN_PLACE))
def test_in_place_on_a_leaf_that_requires_grad_raises_under_grad_mode(name):
    x = _leaf()
    with pytest.raises(RuntimeError, match=r"in-place.*no_grad"):
        IN_PLACE[name](x)
    assert x.tolist() == [1.0, 2.0, 3.0]  # untouched


@pytest.mark.parametrize("name", sorted(IN_PLACE))
def test_in_place_on_a_leaf_works_under_no_grad(name):
    x = _leaf()
    with g.no_grad():
        out = IN_PLACE[name](x)
    assert x.tolist() != [1.0, 2.0, 3.0]
    assert x.requires_grad and x.is_leaf
    if name != "setitem":
        assert out is x


def test_in_place_results_match_torch():
    x, tx = _leaf(), torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with g.no_grad(), torch.no_grad():
        x.add_(g.tensor([1.0, 1.0, 1.0]), alpha=0.5).mul_(3).sub_(2).div_(4).clamp_(0.5, 1.5)
        tx.add_(torch.tensor([1.0, 1.0, 1.0]), alpha=0.5).mul_(3).sub_(2).div_(4).clamp_(0.5, 1.5)
        x[1] = -1.0
        tx[1] = -1.0
    assert x.tolist() == tx.tolist()


def test_sgd_style_update_under_no_grad():
    w = g.tensor([1.0, -2.0], requires_grad=True)
    (w * w).sum().backward()
    with g.no_grad():
        w -= 0.1 * w.grad
    assert w.is_leaf and w.requires_grad
    np.testing.assert_allclose(w.detach().numpy(), [0.8, -1.6], rtol=1e-6)


def test_in_place_on_a_non_leaf_under_grad_mode():
    """add_ and sub_ write over a non-leaf no recorded op has used yet (as ``+=``); on one that an op has used, and
    item assignment, raise."""
    x = _leaf()
    y = x * 2
    assert y.add_(1.0) is y and y.sub_(g.tensor([1.0, 1.0, 1.0]), alpha=2.0) is y and y.tolist() == [1.0, 3.0, 5.0]
    z = y * 1.0
    with pytest.raises(RuntimeError, match="add_: in place on a tensor that another op has already used"):
        y.add_(1.0)
    with pytest.raises(RuntimeError, match="in-place"):
        y[0] = 0.0
    z.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0]


def test_augmented_assignment_on_a_non_leaf():
    """``+=`` writes over a non-leaf no recorded op has used yet, as PyTorch's (``in_place_refusal``); ``*=``, and
    ``+=`` on a tensor an op has used, record a new node and rebind the name."""
    x = _leaf()
    y = x * 2
    before = y
    y += 1
    assert y is before and before.tolist() == [3.0, 5.0, 7.0] and y._version == 1
    y *= 3
    assert y is not before and before.tolist() == [3.0, 5.0, 7.0]
    y.sum().backward()
    assert x.grad.tolist() == [6.0, 6.0, 6.0]
    used = x * 2
    z = used + 0.5
    held = used
    used -= 1  # `used` is an input of z's node already
    assert used is not held and held.tolist() == [2.0, 4.0, 6.0] and z.tolist() == [2.5, 4.5, 6.5]


def test_in_place_on_tensors_outside_the_graph_is_allowed():
    c = g.tensor([1.0, 2.0])
    c.add_(1.0)
    c[0] = 10.0
    c *= 2
    assert c.tolist() == [20.0, 6.0]


def test_in_place_with_a_grad_requiring_operand_records_instead():
    c = g.tensor([1.0, 2.0])
    x = g.tensor([3.0, 4.0], requires_grad=True)
    c += x  # would lose the gradient in place: rebinds to a new node instead
    assert c.requires_grad
    (c * 2).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_grad_modes_as_decorators_without_parentheses_like_torch():
    @g.no_grad
    def frozen(t):
        """Frozen."""
        return t * 2

    @g.enable_grad
    def recorded(t):
        return t * 2

    x = _leaf()
    assert not frozen(x).requires_grad and frozen.__doc__ == "Frozen."
    with g.no_grad():
        assert recorded(x).requires_grad
        assert not g.is_grad_enabled()
    assert g.is_grad_enabled()
