"""Ops that reuse work arrays never hand them to a caller: outputs and gradients stay what they were.

The bug this guards against: an LSTM with one step and batch 1 returned a view of a pooled work array, which the
next call overwrote. It needs repeated shapes (a pool is keyed by shape), size-1 dims (which make a view count as
contiguous) and several calls alive at once, so each example below runs a random sequence of calls drawn from a few
shapes, keeps every output and graph, and only then compares everything with PyTorch.
"""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import ganglion as g
from ganglion import memory

F = g.nn.functional


def _conv_case(nd, transposed):
    """A convolution with random kernel, stride and padding over small inputs whose dims may be 0 or 1."""

    @st.composite
    def case(draw):
        k = draw(st.integers(1, 3))
        stride = draw(st.integers(1, 2))
        padding = 0 if transposed else draw(st.integers(0, k // 2))
        c_in, c_out = draw(st.integers(1, 2)), draw(st.integers(1, 3))
        low = 1 if transposed else max(1, k - 2 * padding)
        shapes = draw(st.lists(
            st.tuples(st.integers(0, 2), *[st.integers(low, 5)] * nd).map(lambda s: (s[0], c_in) + s[1:]),
            min_size=1, max_size=3))
        w_shape = (c_in, c_out) + (k,) * nd if transposed else (c_out, c_in) + (k,) * nd
        name = f"conv_transpose{nd}d" if transposed else f"conv{nd}d"
        bias = draw(st.booleans())
        return name, shapes, w_shape, bias, dict(stride=stride, padding=padding)

    return case()


@st.composite
def _pool_case(draw):
    k = draw(st.integers(1, 3))
    padding = draw(st.integers(0, k // 2))
    stride = draw(st.integers(1, 2))
    shapes = draw(st.lists(st.tuples(st.integers(0, 2), st.integers(1, 2), st.integers(k, 5), st.integers(k, 5)),
                           min_size=1, max_size=3))
    name = draw(st.sampled_from(["max_pool2d", "avg_pool2d"]))
    return name, shapes, None, False, dict(kernel_size=k, stride=stride, padding=padding)


def _inputs_for(shapes, draw_order, rng):
    return [rng.standard_normal(shapes[i]) for i in draw_order]


def _functional_pair(name, x, w, b, kwargs, lib):
    fn = getattr(F if lib is g else torch.nn.functional, name)
    if w is None:
        return fn(x, **kwargs)
    return fn(x, w, b, **kwargs)


@settings(max_examples=30, deadline=None)
@given(case=st.one_of(_conv_case(1, False), _conv_case(2, False), _conv_case(3, False), _conv_case(1, True),
                      _conv_case(2, True), _pool_case()),
       order=st.lists(st.integers(0, 2), min_size=4, max_size=8), seed=st.integers(0, 2**16))
def test_window_ops_keep_every_output_and_gradient(case, order, seed):
    name, shapes, w_shape, bias, kwargs = case
    order = [i % len(shapes) for i in order]
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(w_shape) if w_shape else None
    b = rng.standard_normal(w_shape[1] if "transpose" in name else w_shape[0]) if bias else None
    xs = _inputs_for(shapes, order, rng)

    ours, graphs = [], []
    gw = g.tensor(w, dtype=g.float64, requires_grad=True) if w is not None else None
    gb = g.tensor(b, dtype=g.float64, requires_grad=True) if b is not None else None
    for i, x in enumerate(xs):  # every second call records a graph, kept alive across the later calls
        gx = g.tensor(x, dtype=g.float64, requires_grad=i % 2 == 0)
        if i % 2:
            with g.no_grad():
                y = _functional_pair(name, gx, gw, gb, kwargs, g)
        else:
            y = _functional_pair(name, gx, gw, gb, kwargs, g)
            graphs.append((gx, y))
        ours.append(y)
    dys = [rng.standard_normal(y.shape) for _, y in graphs]
    grads = []
    for (gx, y), dy in reversed(list(zip(graphs, dys))):  # backward in reverse order, reusing each other's arrays
        if gw is not None:
            gw.grad = None
        y.backward(g.tensor(dy, dtype=g.float64))
        grads.append((gx.grad.numpy().copy(), gw.grad.numpy().copy() if gw is not None else None))
    grads.reverse()

    tw = torch.tensor(w, requires_grad=True) if w is not None else None
    tb = torch.tensor(b) if b is not None else None
    graph_index = 0
    for i, (x, y) in enumerate(zip(xs, ours)):
        tx = torch.tensor(x, requires_grad=True)
        ty = _functional_pair(name, tx, tw, tb, kwargs, torch)
        np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), atol=1e-10, err_msg=f"output of call {i}")
        if i % 2 == 0:
            if tw is not None:
                tw.grad = None
            ty.backward(torch.tensor(dys[graph_index]))
            dx, dw = grads[graph_index]
            np.testing.assert_allclose(dx, tx.grad.numpy(), atol=1e-10, err_msg=f"input gradient of call {i}")
            if tw is not None:
                np.testing.assert_allclose(dw, tw.grad.numpy(), atol=1e-10, err_msg=f"weight gradient of call {i}")
            graph_index += 1


@st.composite
def _recurrent_case(draw):
    kind = draw(st.sampled_from(["LSTM", "GRU", "RNN"]))
    kwargs = dict(num_layers=draw(st.integers(1, 2)), bidirectional=draw(st.booleans()))
    if kind == "LSTM" and draw(st.booleans()):
        kwargs["proj_size"] = 2
    shapes = draw(st.lists(st.tuples(st.integers(1, 4), st.integers(0, 3)), min_size=1, max_size=3))
    return kind, kwargs, shapes


@settings(max_examples=25, deadline=None)
@given(case=_recurrent_case(), order=st.lists(st.integers(0, 2), min_size=4, max_size=8), seed=st.integers(0, 2**16))
def test_recurrent_layers_keep_every_output_and_gradient(case, order, seed):
    kind, kwargs, shapes = case
    order = [i % len(shapes) for i in order]
    rng = np.random.default_rng(seed)
    g.manual_seed(seed)
    ours = getattr(g.nn, kind)(3, 4, dtype=g.float64, **kwargs)
    theirs = getattr(torch.nn, kind)(3, 4, dtype=torch.float64, **kwargs)
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    xs = [rng.standard_normal(shapes[i] + (3,)) for i in order]

    results, graphs = [], []
    for i, x in enumerate(xs):
        gx = g.tensor(x, dtype=g.float64, requires_grad=i % 2 == 0)
        if i % 2:
            with g.no_grad():
                out, _ = ours(gx)
        else:
            out, _ = ours(gx)
            graphs.append((gx, out))
        results.append(out)
    dys = [rng.standard_normal(out.shape) for _, out in graphs]
    dxs = []
    for (gx, out), dy in reversed(list(zip(graphs, dys))):
        out.backward(g.tensor(dy, dtype=g.float64))
        dxs.append(gx.grad.numpy().copy())
    dxs.reverse()

    graph_index = 0
    for i, (x, out) in enumerate(zip(xs, results)):
        tx = torch.tensor(x, requires_grad=True)
        t_out, _ = theirs(tx)
        np.testing.assert_allclose(out.detach().numpy(), t_out.detach().numpy(), atol=1e-10,
                                   err_msg=f"output of call {i}")
        if i % 2 == 0:
            t_out.backward(torch.tensor(dys[graph_index]))
            np.testing.assert_allclose(dxs[graph_index], tx.grad.numpy(), atol=1e-10,
                                       err_msg=f"input gradient of call {i}")
            graph_index += 1


def test_the_issue_example_one_step_batch_one_bidirectional_lstm():
    m = g.nn.LSTM(3, 4, bidirectional=True)
    x = g.randn(1, 1, 3)
    with g.no_grad():
        a, _ = m(x)
        before = a.numpy().copy()
        b, _ = m(g.cat([x, x], dim=1))
    np.testing.assert_array_equal(a.numpy(), before)
    np.testing.assert_allclose(a.numpy()[:, 0], b.numpy()[:, 0], atol=1e-6)


@pytest.mark.parametrize("reuse", [True, False])
def test_results_are_the_same_with_reuse_on_and_off(reuse):
    g.manual_seed(0)
    conv, lstm = g.nn.Conv2d(2, 3, 3, padding=1), g.nn.LSTM(4, 5)
    x_img, x_seq = g.randn(2, 2, 6, 6), g.randn(3, 2, 4)
    previous = memory.buffer_reuse_enabled()
    try:
        memory.set_buffer_reuse(reuse)
        y = conv(x_img).sum() + lstm(x_seq)[0].sum()
        y.backward()
        values = [y.item(), conv.weight.grad.numpy().copy(), lstm.weight_hh_l0.grad.numpy().copy()]
    finally:
        memory.set_buffer_reuse(previous)
    conv.zero_grad(), lstm.zero_grad()
    memory.set_buffer_reuse(not reuse)
    try:
        y = conv(x_img).sum() + lstm(x_seq)[0].sum()
        y.backward()
    finally:
        memory.set_buffer_reuse(previous)
    assert y.item() == values[0]
    np.testing.assert_array_equal(conv.weight.grad.numpy(), values[1])
    np.testing.assert_array_equal(lstm.weight_hh_l0.grad.numpy(), values[2])
