"""Keras recurrent layers (SimpleRNN, LSTM, GRU, Bidirectional) against references written in PyTorch from Keras'
definitions, in Keras' weight layout (kernel (features, G u) with gates i, f, c, o / z, r, h; recurrent_kernel (u, G u);
GRU bias (2, 3u) with reset_after): forward values and the gradients of the input and of every Keras weight. A row:
(id, layer factory, input shape). Adding a case is adding a row. Also: PyTorch's own nn.LSTM / nn.GRU under the
documented weight mapping, the step loop against the fused op, float64 gradchecks.
"""

import numpy as np
import pytest
import torch

import ganglion as g
from ganglion.autograd import gradcheck
from ganglion.keras import layers as L

ACT = {
    "tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu, "linear": lambda t: t,
    "hard_sigmoid": lambda t: torch.clamp(t + 3.0, 0.0, 6.0) / 6.0,
}


def keras_recurrence(layer, x, weights, initial=None):
    """Keras' recurrence (written from its documentation) in PyTorch. Returns (output, [final states])."""
    cfg = layer.get_config()
    u, act = cfg["units"], ACT[cfg["activation"]]
    ract = ACT[cfg.get("recurrent_activation", "linear")]
    kernel, rk = weights[0], weights[1]
    bias = weights[2] if cfg["use_bias"] else None
    seq = x.flip(1) if cfg["go_backwards"] else x
    batch = x.shape[0]
    h = torch.zeros(batch, u, dtype=x.dtype) if initial is None else initial[0]
    c = torch.zeros(batch, u, dtype=x.dtype) if initial is None or len(initial) < 2 else initial[1]
    outs = []
    for t in range(seq.shape[1]):
        xt = seq[:, t]
        if isinstance(layer, L.LSTM):
            z = xt @ kernel + h @ rk + (bias if bias is not None else 0)
            i, f, cc, o = z.split(u, -1)
            c = ract(f) * c + ract(i) * act(cc)
            h = ract(o) * act(c)
        elif isinstance(layer, L.GRU):
            if cfg["reset_after"]:
                mx = xt @ kernel + (bias[0] if bias is not None else 0)
                mi = h @ rk + (bias[1] if bias is not None else 0)
                z = ract(mx[:, :u] + mi[:, :u])
                r = ract(mx[:, u:2 * u] + mi[:, u:2 * u])
                hh = act(mx[:, 2 * u:] + r * mi[:, 2 * u:])
            else:
                mx = xt @ kernel + (bias if bias is not None else 0)
                mi = h @ rk[:, :2 * u]
                z = ract(mx[:, :u] + mi[:, :u])
                r = ract(mx[:, u:2 * u] + mi[:, u:2 * u])
                hh = act(mx[:, 2 * u:] + (r * h) @ rk[:, 2 * u:])
            h = z * h + (1 - z) * hh
        else:
            h = act(xt @ kernel + h @ rk + (bias if bias is not None else 0))
        outs.append(h)
    out = torch.stack(outs, 1) if cfg["return_sequences"] else h
    return out, ([h, c] if isinstance(layer, L.LSTM) else [h])


ROWS = [
    ("lstm", lambda: L.LSTM(5), (3, 6, 4)),
    ("lstm_seq_state_backwards", lambda: L.LSTM(4, return_sequences=True, return_state=True, go_backwards=True),
     (2, 5, 3)),
    ("lstm_relu_hard_sigmoid", lambda: L.LSTM(3, activation="relu", recurrent_activation="hard_sigmoid"), (2, 4, 3)),
    ("lstm_no_bias", lambda: L.LSTM(3, use_bias=False, return_sequences=True), (2, 4, 2)),
    ("gru", lambda: L.GRU(5), (3, 6, 4)),
    ("gru_reset_before", lambda: L.GRU(4, reset_after=False, return_sequences=True), (2, 5, 3)),
    ("gru_no_bias_state", lambda: L.GRU(3, use_bias=False, return_state=True), (2, 4, 3)),
    ("gru_backwards_seq", lambda: L.GRU(3, go_backwards=True, return_sequences=True, return_state=True), (2, 4, 3)),
    ("gru_linear", lambda: L.GRU(3, activation=None), (2, 4, 2)),
    ("simple_tanh", lambda: L.SimpleRNN(4, return_sequences=True), (2, 5, 3)),
    ("simple_relu_state", lambda: L.SimpleRNN(4, activation="relu", return_state=True), (2, 5, 3)),
    ("simple_sigmoid_backwards", lambda: L.SimpleRNN(3, activation="sigmoid", go_backwards=True), (2, 4, 3)),
]


def randomize(layer, rng, scale=0.5):
    weights = [(rng.standard_normal(w.shape) * scale).astype(np.float32) for w in layer.weights]
    layer.set_weights(weights)
    return weights


def keras_grads(layer):
    """The engine parameters' gradients, in Keras' layout."""
    out = []
    for w in layer.weights:
        if hasattr(w, "recurrent_bias"):  # GRU (2, 3u) bias over two engine vectors
            out.append(np.stack([w.layout.to_keras(p.grad.numpy()) for p in (w.parameter, w.recurrent_bias)]))
        else:
            out.append(w.to_keras(w.parameter.grad.numpy()))
    return out


def run_both(layer, x, weights, initial=None, training=None):
    xg = g.tensor(x, requires_grad=True)
    init_g = None if initial is None else [g.tensor(s) for s in initial]
    out = layer(xg, initial_state=init_g, training=training) if init_g else layer(xg, training=training)
    outs = out if isinstance(out, list) else [out]
    xt = torch.tensor(x, requires_grad=True)
    wt = [torch.tensor(w, requires_grad=True) for w in weights]
    ref, states = keras_recurrence(layer, xt, wt, None if initial is None else [torch.tensor(s) for s in initial])
    refs = [ref] + states if layer.return_state else [ref]
    # one scalar from every output, so every output's gradient path is checked
    probes = [np.linspace(-1, 1, int(np.prod(r.shape))).reshape(tuple(r.shape)).astype(np.float32) for r in refs]
    sum(((o * g.tensor(p)).sum() for o, p in zip(outs, probes)), g.tensor(0.0)).backward()
    sum((r * torch.tensor(p)).sum() for r, p in zip(refs, probes)).backward()
    return outs, refs, xg, xt, wt


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_forward_and_gradients_match_keras_definition(row):
    _, make, shape = row
    rng = np.random.default_rng(0)
    layer = make()
    x = rng.standard_normal(shape).astype(np.float32)
    layer(x)  # build
    weights = randomize(layer, rng)
    outs, refs, xg, xt, wt = run_both(layer, x, weights)
    assert len(outs) == len(refs)
    for o, r in zip(outs, refs):
        assert tuple(o.shape) == tuple(r.shape)
        np.testing.assert_allclose(o.detach().numpy(), r.detach().numpy(), atol=2e-5)
    np.testing.assert_allclose(xg.grad.numpy(), xt.grad.numpy(), atol=5e-5)
    for grad, ref in zip(keras_grads(layer), wt):
        np.testing.assert_allclose(grad, ref.grad.numpy(), atol=5e-5)


@pytest.mark.parametrize("row", [r for r in ROWS if r[0] in ("lstm", "gru", "simple_tanh", "simple_relu_state",
                                                                   "lstm_seq_state_backwards")],
                         ids=lambda r: r[0])
def test_step_loop_matches_fused_op(row):
    _, make, shape = row
    rng = np.random.default_rng(1)
    layer = make()
    x = rng.standard_normal(shape).astype(np.float32)
    layer(x)
    randomize(layer, rng)
    assert layer._uses_fused_op(False)
    fused = layer(x)
    layer._force_steps = True
    steps = layer(x)
    for a, b in zip(fused if isinstance(fused, list) else [fused], steps if isinstance(steps, list) else [steps]):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=1e-6)


def test_torch_lstm_with_mapped_weights():
    """kernel^T -> weight_ih, recurrent_kernel^T -> weight_hh, bias -> bias_ih, bias_hh = 0 (gates i, f, c, o)."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 5, 4)).astype(np.float32)
    layer = L.LSTM(6, return_sequences=True, return_state=True)
    layer(x)
    kernel, rk, bias = randomize(layer, rng)
    ref = torch.nn.LSTM(4, 6, batch_first=True)
    with torch.no_grad():
        ref.weight_ih_l0.copy_(torch.tensor(kernel.T))
        ref.weight_hh_l0.copy_(torch.tensor(rk.T))
        ref.bias_ih_l0.copy_(torch.tensor(bias))
        ref.bias_hh_l0.zero_()
    out, h, c = layer(x)
    tout, (th, tc) = ref(torch.tensor(x))
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(h.detach().numpy(), th[0].detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(c.detach().numpy(), tc[0].detach().numpy(), atol=1e-5)


def test_torch_gru_with_mapped_weights():
    """Keras gates (z, r, h) -> PyTorch (r, z, n); bias row 0 -> bias_ih, row 1 -> bias_hh (reset_after=True)."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 5, 4)).astype(np.float32)
    layer = L.GRU(6, return_sequences=True)
    layer(x)
    kernel, rk, bias = randomize(layer, rng)
    swap = lambda a: np.concatenate([a[6:12], a[:6], a[12:]])  # noqa: E731 - (z, r, h) rows -> (r, z, n)
    ref = torch.nn.GRU(4, 6, batch_first=True)
    with torch.no_grad():
        ref.weight_ih_l0.copy_(torch.tensor(swap(kernel.T)))
        ref.weight_hh_l0.copy_(torch.tensor(swap(rk.T)))
        ref.bias_ih_l0.copy_(torch.tensor(swap(bias[0])))
        ref.bias_hh_l0.copy_(torch.tensor(swap(bias[1])))
    np.testing.assert_allclose(layer(x).detach().numpy(), ref(torch.tensor(x))[0].detach().numpy(), atol=1e-5)


@pytest.mark.parametrize("make", [
    lambda: L.LSTM(2, return_sequences=True, dtype="float64"),
    lambda: L.LSTM(2, activation="relu", dtype="float64"),
    lambda: L.GRU(2, return_sequences=True, dtype="float64"),
    lambda: L.GRU(2, reset_after=False, dtype="float64"),
    lambda: L.SimpleRNN(2, activation="sigmoid", dtype="float64"),
], ids=["lstm", "lstm_steps", "gru", "gru_reset_before", "simple_steps"])
def test_gradcheck_float64(make):
    rng = np.random.default_rng(4)
    layer = make()
    x = g.tensor(rng.standard_normal((2, 3, 2)), dtype=g.float64, requires_grad=True)
    layer(x)
    randomize(layer, rng, scale=0.8)
    layer.set_weights([w.astype(np.float64) for w in layer.get_weights()])
    params = [p for p in layer.parameters()]
    assert all(p.dtype == g.float64 for p in params)
    assert gradcheck(lambda x, *ps: layer(x), (x, *params))


def test_initial_state_is_used():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 4, 3)).astype(np.float32)
    layer = L.LSTM(3, return_sequences=True)
    layer(x)
    weights = randomize(layer, rng)
    initial = [rng.standard_normal((2, 3)).astype(np.float32) for _ in range(2)]
    outs, refs, *_ = run_both(layer, x, weights, initial=initial)
    np.testing.assert_allclose(outs[0].detach().numpy(), refs[0].detach().numpy(), atol=2e-5)
    # the list form [x, h0, c0] is the same call
    same = layer([g.tensor(x)] + [g.tensor(s) for s in initial])
    np.testing.assert_allclose(same.detach().numpy(), outs[0].detach().numpy(), atol=1e-6)


MERGES = [("concat", lambda a, b: torch.cat([a, b], -1)), ("sum", lambda a, b: a + b), ("mul", lambda a, b: a * b),
          ("ave", lambda a, b: (a + b) / 2), (None, None)]


@pytest.mark.parametrize("merge_mode, merge", MERGES, ids=[str(m[0]) for m in MERGES])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_bidirectional_merges(merge_mode, merge, return_sequences):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 4, 3)).astype(np.float32)
    layer = L.Bidirectional(L.GRU(3, return_sequences=return_sequences), merge_mode=merge_mode)
    out = layer(x)
    assert [w.name for w in layer.weights] == ["kernel", "recurrent_kernel", "bias"] * 2
    assert layer.forward_layer.name.startswith("forward_") and layer.backward_layer.go_backwards
    weights = randomize(layer, rng)
    out = layer(g.tensor(x))
    xt = torch.tensor(x)
    fwd, _ = keras_recurrence(layer.forward_layer, xt, [torch.tensor(w) for w in weights[:3]])
    bwd, _ = keras_recurrence(layer.backward_layer, xt, [torch.tensor(w) for w in weights[3:]])
    if return_sequences:
        bwd = bwd.flip(1)  # step t of both outputs belongs to input step t
    if merge is None:
        assert isinstance(out, list) and len(out) == 2
        np.testing.assert_allclose(out[0].detach().numpy(), fwd.numpy(), atol=2e-5)
        np.testing.assert_allclose(out[1].detach().numpy(), bwd.numpy(), atol=2e-5)
    else:
        np.testing.assert_allclose(out.detach().numpy(), merge(fwd, bwd).numpy(), atol=2e-5)


def test_bidirectional_return_state_and_initial_state():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 4, 3)).astype(np.float32)
    layer = L.Bidirectional(L.LSTM(2, return_state=True))
    out = layer(x)
    assert len(out) == 5 and tuple(out[0].shape) == (2, 4) and all(tuple(s.shape) == (2, 2) for s in out[1:])
    states = [rng.standard_normal((2, 2)).astype(np.float32) for _ in range(4)]
    with_state = layer(x, initial_state=[g.tensor(s) for s in states])
    fwd = layer.forward_layer(x, initial_state=[g.tensor(s) for s in states[:2]])
    np.testing.assert_allclose(with_state[1].detach().numpy(), fwd[1].detach().numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="even"):
        layer(x, initial_state=[g.tensor(s) for s in states[:3]])


def summary_text(model):
    lines = []
    model.summary(print_fn=lines.append)
    return "\n".join(lines)


@pytest.mark.parametrize("make, params", [
    (lambda: L.LSTM(8), 4 * 8 * (4 + 8 + 1)),
    (lambda: L.GRU(8), 3 * 8 * (4 + 8 + 2)),
    (lambda: L.GRU(8, reset_after=False), 3 * 8 * (4 + 8 + 1)),
    (lambda: L.SimpleRNN(8), 8 * (4 + 8 + 1)),
    (lambda: L.Bidirectional(L.LSTM(8)), 2 * 4 * 8 * (4 + 8 + 1)),
    (lambda: L.LSTM(8, use_bias=False), 4 * 8 * (4 + 8)),
], ids=["lstm", "gru", "gru_reset_before", "simple", "bidirectional_lstm", "lstm_no_bias"])
def test_summary_counts(make, params):
    from ganglion.keras.models import Sequential

    model = Sequential([L.Input((5, 4)), make()])
    text = summary_text(model)
    assert f"Total params: {params:,}" in text
    assert f"Trainable params: {params:,}" in text
    assert model.count_params() == params


@pytest.mark.parametrize("make", [
    lambda: L.LSTM(3, activation="relu", recurrent_activation="hard_sigmoid", return_sequences=True,
                   unit_forget_bias=False, dropout=0.1, recurrent_dropout=0.2, seed=3, go_backwards=True),
    lambda: L.GRU(3, reset_after=False, return_state=True, kernel_regularizer="l2"),
    lambda: L.SimpleRNN(2, activation="relu", use_bias=False, stateful=True),
    lambda: L.Bidirectional(L.GRU(3, return_sequences=True), merge_mode="ave"),
    lambda: L.Bidirectional(L.LSTM(2), backward_layer=L.LSTM(2, go_backwards=True)),
], ids=["lstm", "gru", "simple", "bidirectional", "bidirectional_custom_backward"])
def test_config_round_trip(make):
    rng = np.random.default_rng(8)
    x = rng.standard_normal((2, 4, 3)).astype(np.float32)
    layer = make()
    layer(x)
    config = layer.get_config()
    clone = type(layer).from_config(config)
    clone(x)
    cfg_a, cfg_b = dict(config), dict(clone.get_config())
    cfg_a.pop("name"), cfg_b.pop("name")
    assert cfg_a == cfg_b
    clone.set_weights(layer.get_weights())
    if hasattr(layer, "reset_states"):
        layer.reset_states(), clone.reset_states()
    a, b = layer(x), clone(x)
    for u, v in zip(a if isinstance(a, list) else [a], b if isinstance(b, list) else [b]):
        np.testing.assert_allclose(u.detach().numpy(), v.detach().numpy(), atol=1e-6)


def test_init_follows_keras():
    layer = L.LSTM(4)
    layer(np.zeros((1, 2, 3), np.float32))
    kernel, rk, bias = layer.get_weights()
    np.testing.assert_array_equal(bias, np.r_[np.zeros(4), np.ones(4), np.zeros(8)])  # unit_forget_bias
    np.testing.assert_allclose(rk @ rk.T, np.eye(4), atol=1e-5)  # orthogonal recurrent kernel
    assert np.abs(kernel).max() <= np.sqrt(6 / (3 + 16)) + 1e-6  # glorot_uniform on (3, 16)
    gru = L.GRU(4, bias_initializer="ones")
    gru(np.zeros((1, 2, 3), np.float32))
    assert gru.get_weights()[2].shape == (2, 12) and np.all(gru.get_weights()[2] == 1)


def test_dropout_is_training_only_and_seeded():
    rng = np.random.default_rng(9)
    x = rng.standard_normal((4, 5, 3)).astype(np.float32)
    make = lambda: L.LSTM(4, dropout=0.5, recurrent_dropout=0.5, seed=11)  # noqa: E731
    a, b, plain = make(), make(), L.LSTM(4)
    a(x), b(x), plain(x)
    b.set_weights(a.get_weights()), plain.set_weights(a.get_weights())
    np.testing.assert_allclose(a(x).detach().numpy(), plain(x).detach().numpy(), atol=1e-6)  # inference: no dropout
    ya, yb = a(x, training=True), b(x, training=True)
    np.testing.assert_array_equal(ya.detach().numpy(), yb.detach().numpy())  # same seed, same masks
    assert not np.allclose(ya.detach().numpy(), plain(x).detach().numpy())
    ya.sum().backward()
    assert a.rnn.weight_hh_l0.grad is not None


def test_stateful_carries_states_across_calls():
    rng = np.random.default_rng(10)
    x = rng.standard_normal((2, 6, 3)).astype(np.float32)
    layer = L.GRU(3, stateful=True, return_sequences=True)
    full_layer = L.GRU(3, return_sequences=True)
    layer(x[:, :1]), full_layer(x)
    layer.set_weights(full_layer.get_weights())
    layer.reset_states()
    halves = np.concatenate([layer(x[:, :3]).detach().numpy(), layer(x[:, 3:]).detach().numpy()], axis=1)
    np.testing.assert_allclose(halves, full_layer(x).detach().numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="reset_states"):
        layer(x[:1])
    layer.reset_states()
    np.testing.assert_allclose(layer(x[:, :3]).detach().numpy(), halves[:, :3], atol=1e-6)


@pytest.mark.parametrize("call, match", [
    (lambda: L.LSTM(3)(np.zeros((2, 3), np.float32)), "expected ndim=3"),
    (lambda: _built(L.GRU(3))(np.zeros((2, 4, 5), np.float32)), "expected axis -1 of input shape to have value 2"),
    (lambda: _built(L.LSTM(3))(np.zeros((2, 4, 2), np.float32), initial_state=[np.zeros((2, 3), np.float32)]),
     "expects 2 initial state"),
    (lambda: _built(L.GRU(3))(np.zeros((2, 4, 2), np.float32), initial_state=[np.zeros((2, 4), np.float32)]),
     r"initial states of shape \(2, 3\)"),
    (lambda: L.LSTM(3, dropout=1.5), "dropout must be a number in"),
    (lambda: L.LSTM(0), "units must be a positive int"),
    (lambda: L.LSTM(3, activation="nope"), "accepted names are"),
    (lambda: L.Bidirectional(L.Dense(3)), "must be a recurrent layer"),
    (lambda: L.Bidirectional(L.LSTM(3), merge_mode="max"), "merge_mode should be one of"),
    (lambda: L.Bidirectional(L.LSTM(3), backward_layer=L.LSTM(3)), "opposite directions"),
], ids=["rank", "features", "state_count", "state_shape", "dropout", "units", "activation", "wrap_dense",
        "merge_mode", "backward_direction"])
def test_bad_input_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def _built(layer):
    layer(np.zeros((2, 4, 2), np.float32))
    return layer


def test_functional_encoder_decoder_saves_and_loads(tmp_path):
    """initial_state given as symbolic tensors joins the graph, so the model replays and reloads."""
    from ganglion.keras.models import Model, load_model

    enc_in, dec_in = L.Input((5, 3)), L.Input((4, 3))
    _, h, c = L.LSTM(4, return_state=True)(enc_in)
    seq = L.LSTM(4, return_sequences=True)(dec_in, initial_state=[h, c])
    model = Model([enc_in, dec_in], L.Dense(2)(seq))
    rng = np.random.default_rng(12)
    data = [rng.standard_normal((2, 5, 3)).astype(np.float32), rng.standard_normal((2, 4, 3)).astype(np.float32)]
    before = model.predict(data, verbose=0)
    model.save(tmp_path / "seq2seq.keras")
    np.testing.assert_allclose(load_model(tmp_path / "seq2seq.keras").predict(data, verbose=0), before, atol=1e-6)


def test_constraints_act_on_keras_layout_after_each_step():
    """MaxNorm(axis=0) bounds each column of the Keras kernel (features, 3u); the GRU bias (2, 3u) stays >= 0."""
    from ganglion.keras import constraints, regularizers
    from ganglion.keras.models import Sequential

    rng = np.random.default_rng(13)
    x = rng.standard_normal((8, 4, 3)).astype(np.float32)
    y = rng.standard_normal((8, 3)).astype(np.float32) * 5
    gru = L.GRU(3, kernel_constraint=constraints.MaxNorm(0.5, axis=0), bias_constraint=constraints.NonNeg(),
                recurrent_regularizer=regularizers.L2(0.01))
    model = Sequential([L.Input((4, 3)), gru])
    model.compile(optimizer="sgd", loss="mse")
    gru.set_weights([w * 10 - 1 for w in gru.get_weights()])  # norms and signs the constraints must fix
    expected_penalty = 0.01 * float((gru.get_weights()[1] ** 2).sum())
    assert abs(float(sum(p.item() for p in gru.losses)) - expected_penalty) < 1e-3 * expected_penalty
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    kernel, _, bias = gru.get_weights()
    assert np.all(np.linalg.norm(kernel, axis=0) <= 0.5 + 1e-5)
    assert np.all(bias >= 0)


@pytest.mark.parametrize("make", [lambda: L.LSTM(3, return_sequences=True, return_state=True),
                                  lambda: L.GRU(3, return_sequences=True, return_state=True, go_backwards=True)],
                         ids=["lstm", "gru_backwards"])
def test_mask_skips_padded_steps(make):
    """Right-padded sequences with a mask give each sample the final state of its unpadded sequence; a masked step
    repeats the previous output."""
    rng = np.random.default_rng(14)
    x = rng.standard_normal((3, 5, 2)).astype(np.float32)
    lengths = [5, 3, 1]
    mask = np.arange(5)[None, :] < np.array(lengths)[:, None]
    layer = make()
    out, h, *_ = layer(x, mask=mask)
    for i, n in enumerate(lengths):
        alone, h_alone, *_ = layer(x[i:i + 1, :n])
        np.testing.assert_allclose(h.detach().numpy()[i], h_alone.detach().numpy()[0], atol=1e-6)
        if not layer.go_backwards:
            np.testing.assert_allclose(out.detach().numpy()[i, :n], alone.detach().numpy()[0], atol=1e-6)
            np.testing.assert_allclose(out.detach().numpy()[i, n:], np.repeat(alone.detach().numpy()[:, -1],
                                                                              5 - n, axis=0), atol=1e-6)
    with pytest.raises(ValueError, match="mask must have shape"):
        layer(x, mask=mask[:, :4])


def test_bidirectional_mask_zeroes_padded_steps():
    rng = np.random.default_rng(15)
    x = rng.standard_normal((2, 4, 2)).astype(np.float32)
    mask = np.array([[True] * 4, [True, True, False, False]])
    layer = L.Bidirectional(L.SimpleRNN(2, return_sequences=True))
    out = layer(x, mask=mask).detach().numpy()
    assert np.all(out[1, 2:] == 0)
    np.testing.assert_allclose(out[1, :2], layer(x[1:, :2]).detach().numpy()[0], atol=1e-6)


def test_activity_regularizer_penalizes_every_output():
    layer = L.LSTM(3, activity_regularizer="l2", return_state=True)
    x = np.random.default_rng(16).standard_normal((2, 4, 3)).astype(np.float32)
    out, h, c = layer(x)
    expected = 0.01 * sum(float((t.detach().numpy() ** 2).sum()) for t in (out, h, c))
    (penalty,) = layer.losses
    assert abs(float(penalty.item()) - expected) < 1e-6
