"""Module hooks against PyTorch's: forward pre-hooks, forward hooks, full backward (pre-)hooks, removal."""

import numpy as np
import pytest
import torch

import ganglion as g
from ganglion import nn


def linear_pair():
    rng = np.random.default_rng(0)
    w, b = rng.standard_normal((2, 3)).astype(np.float32), rng.standard_normal(2).astype(np.float32)
    ours, theirs = nn.Linear(3, 2), torch.nn.Linear(3, 2)
    ours.load_state_dict({"weight": w, "bias": b})
    theirs.load_state_dict({"weight": torch.from_numpy(w), "bias": torch.from_numpy(b)})
    x = rng.standard_normal((4, 3)).astype(np.float32)
    return ours, theirs, x


def arrays(items):
    return [None if t is None else np.asarray(t.detach().numpy() if hasattr(t, "detach") else t) for t in items]


def test_forward_pre_hook_and_forward_hook_change_input_and_output_like_torch():
    ours, theirs, x = linear_pair()
    for m in (ours, theirs):
        m.register_forward_pre_hook(lambda mod, args: (args[0] * 2,))
        m.register_forward_hook(lambda mod, args, out: out + 1)
    np.testing.assert_allclose(ours(g.tensor(x)).detach().numpy(), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-6)


def test_forward_hook_sees_inputs_and_output():
    seen = []
    m = nn.Linear(3, 2)
    m.register_forward_hook(lambda mod, args, out: seen.append((mod, args[0].shape, out.shape)))
    m(g.zeros(5, 3))
    assert seen == [(m, (5, 3), (5, 2))]


@pytest.mark.parametrize("input_requires_grad", [True, False])
@pytest.mark.filterwarnings("ignore:Full backward hook is firing")
def test_full_backward_hook_gets_torchs_gradients(input_requires_grad):
    ours, theirs, x = linear_pair()
    upstream = np.random.default_rng(1).standard_normal((4, 2)).astype(np.float32)
    records = {}
    for name, m, lib in (("ours", ours, g), ("torch", theirs, torch)):
        calls = records[name] = []
        m.register_full_backward_hook(lambda mod, gi, go, calls=calls: calls.append((arrays(gi), arrays(go))))
        xin = lib.tensor(x, requires_grad=input_requires_grad)
        m(xin).backward(lib.tensor(upstream))
    assert len(records["ours"]) == len(records["torch"]) == 1
    (gi_o, go_o), (gi_t, go_t) = records["ours"][0], records["torch"][0]
    assert len(gi_o) == len(gi_t) and len(go_o) == len(go_t)
    np.testing.assert_allclose(go_o[0], go_t[0], rtol=1e-6)
    for a, b in zip(gi_o, gi_t):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-5)


def test_backward_hook_can_replace_grad_input_and_pre_hook_grad_output():
    ours, theirs, x = linear_pair()
    grads = {}
    for name, m, lib in (("ours", ours, g), ("torch", theirs, torch)):
        m.register_full_backward_pre_hook(lambda mod, go: (go[0] * 3,))
        m.register_full_backward_hook(lambda mod, gi, go: (gi[0] * 0.5,))
        xin = lib.tensor(x, requires_grad=True)
        m(xin).sum().backward()
        grads[name] = (xin.grad.numpy(), m.weight.grad.numpy())
    np.testing.assert_allclose(grads["ours"][0], grads["torch"][0], rtol=1e-5)
    np.testing.assert_allclose(grads["ours"][1], grads["torch"][1], rtol=1e-5)


def test_removed_hooks_stop_running_and_handles_work_as_context_managers():
    calls = []
    m = nn.Linear(3, 2)
    handle = m.register_forward_hook(lambda *a: calls.append(1))
    m(g.zeros(1, 3))
    handle.remove()
    m(g.zeros(1, 3))
    assert calls == [1]
    with m.register_forward_pre_hook(lambda *a: calls.append(2)):
        m(g.zeros(1, 3))
    m(g.zeros(1, 3))
    assert calls == [1, 2]
    assert not m._has_hooks


def test_hooks_must_be_callable():
    with pytest.raises(TypeError, match="callable"):
        nn.Linear(1, 1).register_forward_hook("not a function")


def test_backward_hooks_inside_sequential_fire_in_reverse_order():
    order = []
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    for i, layer in enumerate(model):
        layer.register_full_backward_hook(lambda mod, gi, go, i=i: order.append(i))
    model(g.randn(4, 2, requires_grad=True)).sum().backward()
    assert order == [2, 1, 0]
