"""The compiled LSTM step kernels (``ganglion.kernels.recurrent``) against their own loops run uncompiled and the NumPy
reference path of ``LSTMSequence``, and whole LSTM layers with the kernels on and off (``GANGLION_COMPILED``)."""

import types

import numpy as np
import pytest

import ganglion as g
from ganglion import kernels

pytestmark = pytest.mark.skipif(not kernels.available(), reason="numba is not installed")

from ganglion.kernels import recurrent as K  # noqa: E402  (imports numba)
from ganglion.nn.functional.recurrent_lstm import LSTMSequence  # noqa: E402

NUMPY_STEP = types.SimpleNamespace(xp=np)  # what LSTMSequence's NumPy methods read from self


def _gate_inputs(rng, n, hidden):
    gates = np.stack([rng.uniform(0.01, 0.99, (n, hidden)) for _ in range(3)] + [rng.uniform(-0.99, 0.99, (n, hidden))])
    arrays = [rng.uniform(-0.99, 0.99, (n, hidden)), rng.standard_normal((n, hidden))]  # tanh(c'), c
    return gates.astype(np.float32), [a.astype(np.float32) for a in arrays]


def test_tanh32_is_within_three_ulps_of_numpy_over_all_magnitudes():
    x = np.concatenate([np.linspace(-20, 20, 40001), np.geomspace(1e-30, 1, 301), [0.0, 7.9, 8.0, 1e30]])
    x = np.concatenate([x, -x]).astype(np.float32)
    ours = np.array([K.tanh32(v) for v in x], dtype=np.float32)
    reference = np.tanh(x)
    np.testing.assert_allclose(ours, reference, rtol=4e-7, atol=0)
    np.testing.assert_array_equal(ours[: len(x) // 2], -ours[len(x) // 2 :])  # odd
    assert ours.max() == 1 and ours.min() == -1


@pytest.mark.parametrize("n, hidden, projected", [(3, 5, False), (1, 8, True), (4, 1, False)])
def test_forward_step_kernel_equals_its_loop_and_the_numpy_step(n, hidden, projected):
    rng = np.random.default_rng(n + hidden)
    preactivation = (rng.standard_normal((n, 4 * hidden)) * 4).astype(np.float32)
    cell_prev = rng.standard_normal((n, hidden)).astype(np.float32)
    width = hidden if projected else hidden + 3  # the state slot of the next input rows [h x 1] is wider than H

    def run(step):
        gates = np.empty((4, n, hidden), np.float32)
        cell, tanh_cell = np.empty((n, hidden), np.float32), np.empty((n, hidden), np.float32)
        hidden_rows = np.full((n, width), 7, np.float32)
        step(gates, cell, tanh_cell, hidden_rows)
        return gates, cell, tanh_cell, hidden_rows

    compiled = run(lambda gs, c, tc, hr: K.lstm_step_forward(preactivation, cell_prev, *gs, c, tc, hr))
    loop = run(lambda gs, c, tc, hr: K.lstm_step_forward.py_func(preactivation, cell_prev, *gs, c, tc, hr))
    gate_view = preactivation.reshape(n, 4, hidden).transpose(1, 0, 2)
    numpy = run(lambda gs, c, tc, hr: LSTMSequence._step_forward_numpy(
        NUMPY_STEP, gate_view, cell_prev, gs, c, tc, hr[:, :hidden], np.empty((n, hidden), np.float32)))
    for ours, looped, reference in zip(compiled, loop, numpy):
        np.testing.assert_allclose(ours, looped, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(ours, reference, rtol=1e-6, atol=5e-7)
    assert (compiled[3][:, hidden:] == 7).all()  # only the state columns are written


@pytest.mark.parametrize("n, hidden", [(3, 5), (1, 8), (4, 1)])
def test_backward_step_kernel_equals_its_loop_and_the_numpy_formulas(n, hidden):
    rng = np.random.default_rng(10 * n + hidden)
    gates, (tanh_cell, cell_prev) = _gate_inputs(rng, n, hidden)
    dm = rng.standard_normal((n, hidden)).astype(np.float32)
    dc_in = rng.standard_normal((n, hidden)).astype(np.float32)

    def run(kernel):
        dc, dz = dc_in.copy(), np.full((n, 4 * hidden), np.nan, np.float32)
        kernel(dm, dc, *gates, tanh_cell, cell_prev, dz)
        return dc, dz

    o, i, f, gg = gates.astype(np.float64)
    dcell = dc_in + dm * o * (1 - tanh_cell**2)
    expected_dz = np.concatenate([dm * tanh_cell * o * (1 - o), dcell * gg * i * (1 - i),
                                  dcell * cell_prev * f * (1 - f), dcell * i * (1 - gg**2)], axis=1)
    for dc, dz in (run(K.lstm_step_backward), run(K.lstm_step_backward.py_func)):
        np.testing.assert_allclose(dz, expected_dz, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(dc, dcell * f, rtol=1e-5, atol=1e-6)


def _layer_results(monkeypatch, compiled, kwargs, lengths, seed=0):
    monkeypatch.setenv("GANGLION_COMPILED", "1" if compiled else "0")
    g.manual_seed(seed)
    layer = g.nn.LSTM(3, 6, **kwargs)
    rng = np.random.default_rng(seed)
    x = g.tensor(rng.standard_normal((5, 3, 3)).astype(np.float32), requires_grad=True)
    layer_input = g.nn.utils.rnn.pack_padded_sequence(x, lengths, enforce_sorted=False) if lengths else x
    out, (h, c) = layer(layer_input)
    if lengths:
        out = g.nn.utils.rnn.pad_packed_sequence(out)[0]
    before = [t.detach().numpy().copy() for t in (out, h, c)]
    loss = (out * out).sum() if kwargs.get("proj_size") else out.sum() + (h * c).sum()
    loss.backward()
    layer(g.tensor(rng.standard_normal((5, 3, 3)).astype(np.float32)))  # a second call reuses the work arrays
    after = [t.detach().numpy() for t in (out, h, c)]
    for a, b in zip(before, after):
        np.testing.assert_array_equal(a, b)  # outputs are never work arrays
    return after + [x.grad.numpy()] + [p.grad.numpy() for p in layer.parameters()]


@pytest.mark.parametrize("kwargs, lengths", [
    ({}, None),
    ({"num_layers": 2, "bidirectional": True}, (5, 2, 4)),
    ({"bidirectional": True, "proj_size": 2}, None),
    ({"proj_size": 4}, (3, 5, 1)),
], ids=str)
def test_lstm_layer_with_and_without_kernels_agree(monkeypatch, kwargs, lengths):
    on = _layer_results(monkeypatch, True, kwargs, lengths)
    off = _layer_results(monkeypatch, False, kwargs, lengths)
    for a, b in zip(on, off):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=2e-6)


@pytest.mark.parametrize("kwargs, lengths", [
    ({}, None),
    ({"num_layers": 2, "bidirectional": True}, (5, 2, 4)),
    ({"bidirectional": True}, (1, 5, 3)),
], ids=str)
def test_the_whole_sequence_in_one_call_equals_the_python_step_loop(monkeypatch, call_spy, kwargs, lengths):
    """``lstm_forward_steps``/``lstm_backward_steps`` (the step loop compiled, its products through
    ``kernels.blas``) against the Python loop over the same kernels and products (``blas.ENABLED = False``): the
    same BLAS calls on the same arrays, so the same bits, packed and reversed sequences included."""
    from ganglion.kernels import blas

    if blas.gemm(np.float32) is None:
        pytest.skip("NumPy's BLAS has no cblas gemm to call from a kernel here")
    spy = call_spy(K, "lstm_forward_steps", "lstm_backward_steps")
    fused = _layer_results(monkeypatch, True, kwargs, lengths)
    assert "lstm_forward_steps" in spy and "lstm_backward_steps" in spy
    spy.clear()
    monkeypatch.setattr(blas, "ENABLED", False)
    by_python = _layer_results(monkeypatch, True, kwargs, lengths)
    assert not spy
    for a, b in zip(fused, by_python):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kwargs, lengths", [
    ({}, None),
    ({"num_layers": 2, "bidirectional": True}, (5, 2, 4)),
    ({"bidirectional": True}, (1, 5, 3)),
], ids=str)
def test_the_batch_rows_shared_over_threads_equal_one_call(monkeypatch, call_spy, kwargs, lengths):
    """``over_batch_rows`` with every batch row its own share (three shares on two threads; the first steps of a packed
    sequence take none of some shares' rows) against the whole batch in one call: each row's recurrence is the same
    products and kernels, so the same numbers to BLAS's rounding (a product of fewer rows may block differently)."""
    from ganglion.kernels import blas, conv

    if blas.gemm(np.float32) is None:
        pytest.skip("NumPy's BLAS has no cblas gemm to call from a kernel here")
    threads = g.get_num_threads()
    g.set_num_threads(2)
    try:
        whole = _layer_results(monkeypatch, True, kwargs, lengths)
        shares = []
        real_forward = K.lstm_forward_steps

        def forward_steps(*args):
            shares.append(args[-2:])
            return real_forward(*args)

        monkeypatch.setattr(K, "lstm_forward_steps", forward_steps)
        monkeypatch.setattr(K, "MIN_ROWS_PER_THREAD", 1)
        monkeypatch.setattr(K, "MIN_WORK_PER_THREAD", 1)
        monkeypatch.setattr(K, "blas_threads_spinning", lambda: False)
        monkeypatch.setattr(conv, "blas_threads_spinning", lambda: False)
        monkeypatch.setattr(conv, "MIN_WORK_PER_THREAD", 1)
        shared = _layer_results(monkeypatch, True, kwargs, lengths)
    finally:
        g.set_num_threads(threads)
    assert sorted(set(shares)) == [(0, 1), (1, 1), (2, 1)]  # every row its own share
    for a, b in zip(whole, shared):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_over_batch_rows_keeps_one_call_while_blas_threads_spin(monkeypatch):
    """While OpenBLAS's workers may be spinning after a product on its threads, a loop on ganglion's threads would get
    half a core: ``over_batch_rows`` then makes one call for the whole batch, as it does for a short batch."""
    from ganglion.kernels import blas

    calls = []
    monkeypatch.setattr(K, "get_num_threads", lambda: 2)
    monkeypatch.setattr(K, "machine_busy", lambda: False)
    monkeypatch.setattr(blas, "_threaded_product_end", [float("-inf")])
    K.over_batch_rows(lambda first, count: calls.append((first, count)), 64, 1 << 30)
    assert sorted(calls) == [(0, 32), (32, 32)]
    calls.clear()
    blas.note_threaded_product(blas.THREADED_MULTIPLY_ADDS - 1)  # too small for OpenBLAS to share
    assert not blas.blas_threads_spinning()
    blas.note_threaded_product(blas.THREADED_MULTIPLY_ADDS)
    assert blas.blas_threads_spinning()
    K.over_batch_rows(lambda first, count: calls.append((first, count)), 64, 1 << 30)
    assert calls == [(0, 64)]
    calls.clear()
    K.over_batch_rows(lambda first, count: calls.append((first, count)), 16, 1 << 30)  # one share's rows: one call
    assert calls == [(0, 16)]
    blas._threaded_product_end[0] -= blas.SPIN_SECONDS
    assert not blas.blas_threads_spinning()
