"""Keras 3 masking in ganglion.keras, against Keras 3 itself (torch backend). Each model is written once as a
function of the Keras module and built in both frameworks with the same weights; predictions on padded batches
(right padding, and zeros anywhere, rows with nothing kept included) and short fits must agree, and a padded
sentence must get the prediction of the unpadded one. Also: which layers support masking, the warning when a mask
is dropped, explicit masks (subclassed models, ``Model(x, mask=...)``), initial states, and the fused op on right
padding against the step loop."""

import os
import warnings

import numpy as np
import pytest

from ganglion import keras as gk
from ganglion.keras.layers import _masked_lengths

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
if keras.backend.backend() != "torch":
    pytest.skip("the Keras oracle runs on its torch backend", allow_module_level=True)
import torch  # noqa: E402  (after the backend choice)

# Keras on torch converts tensors with np.array(x, copy=False), which NumPy 2 warns about on every call; Keras' own
# warnings about dropped masks are expected where ganglion's are asserted
pytestmark = [pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword"),
              pytest.mark.filterwarnings("ignore:.*does not support masking:UserWarning:keras")]
FRAMEWORKS = {"keras": keras, "ganglion": gk}
VOCAB = 7
IDS_RIGHT = np.array([[3, 1, 4, 0, 0, 0], [5, 2, 6, 2, 5, 3], [1, 0, 0, 0, 0, 0], [2, 6, 5, 3, 0, 0]])
IDS_GAPS = np.array([[3, 0, 4, 1, 0, 0], [0, 0, 6, 2, 5, 3], [1, 2, 0, 0, 0, 6], [0, 0, 0, 0, 0, 0]])


def _floats(rows_kept):
    """(4, 6, 3) floats; the steps not in ``rows_kept[b]`` are all zeros (masked by Masking(0.0))."""
    x = np.random.default_rng(1).normal(size=(4, 6, 3)).astype(np.float32)
    for b, kept in enumerate(rows_kept):
        x[b, [t for t in range(6) if t not in kept]] = 0.0
    return x


FLOATS_RIGHT = _floats([range(3), range(6), range(1), range(4)])
FLOATS_GAPS = _floats([(0, 2, 3), (2, 3, 4, 5), (0, 1, 5), (1, 4)])


# ------------------------------------------------------------------------------------------ models, written once
def _ids(K):
    return K.Input(shape=(None,), dtype="int64")


def _embedded(K, *layers):
    return K.Sequential([_ids(K), K.layers.Embedding(VOCAB, 3, mask_zero=True), *layers])


def _functional_concat(K):
    L = K.layers
    ids = _ids(K)
    x = L.Embedding(VOCAB, 3, mask_zero=True)(ids)
    a = L.LSTM(3, return_sequences=True)(x)
    b = L.GRU(2, return_sequences=True, go_backwards=True)(x)
    return K.Model(ids, L.Dense(2)(L.GlobalAveragePooling1D()(L.Concatenate()([a, b]))))


def _functional_nested_add(K):
    L = K.layers
    encoder = K.Sequential([_ids(K), L.Embedding(VOCAB, 3, mask_zero=True), L.LSTM(4, return_sequences=True)])
    ids = _ids(K)
    h = encoder(ids)
    summed = L.Add()([h, L.Dense(4)(h)])  # both masked: the sum keeps the mask
    return K.Model(ids, L.SimpleRNN(2)(summed))


MODELS = {  # id: (builder, data kind)
    "lstm_last": (lambda K: _embedded(K, K.layers.LSTM(4), K.layers.Dense(2)), "ids"),
    "lstm_seq_through_dense": (lambda K: _embedded(K, K.layers.LSTM(4, return_sequences=True),
                                                   K.layers.Dropout(0.3), K.layers.Dense(3),
                                                   K.layers.Activation("tanh")), "ids"),
    "gru_backwards_seq": (lambda K: _embedded(K, K.layers.GRU(4, go_backwards=True, return_sequences=True)), "ids"),
    "simple_rnn_backwards": (lambda K: _embedded(K, K.layers.SimpleRNN(4, go_backwards=True)), "ids"),
    "gru_reset_before_seq": (lambda K: _embedded(K, K.layers.GRU(3, reset_after=False, return_sequences=True)),
                             "ids"),
    "lstm_hard_sigmoid": (lambda K: _embedded(K, K.layers.LSTM(3, recurrent_activation="hard_sigmoid")), "ids"),
    "stacked_lstm_gru": (lambda K: _embedded(K, K.layers.LSTM(4, return_sequences=True), K.layers.GRU(3)), "ids"),
    "bidirectional_concat_pool": (lambda K: _embedded(
        K, K.layers.Bidirectional(K.layers.LSTM(3, return_sequences=True)), K.layers.GlobalAveragePooling1D(),
        K.layers.Dense(2)), "ids"),
    "bidirectional_sum_last": (lambda K: _embedded(
        K, K.layers.Bidirectional(K.layers.GRU(3), merge_mode="sum")), "ids"),
    "bidirectional_seq_ave": (lambda K: _embedded(
        K, K.layers.Bidirectional(K.layers.SimpleRNN(2, return_sequences=True), merge_mode="ave")), "ids"),
    "functional_concat_pool": (_functional_concat, "ids"),
    "functional_nested_add": (_functional_nested_add, "ids"),
    "masking_lstm_seq": (lambda K: K.Sequential([K.Input(shape=(6, 3)), K.layers.Masking(0.0),
                                                 K.layers.LSTM(4, return_sequences=True)]), "floats"),
    "masking_bn_gru": (lambda K: K.Sequential([K.Input(shape=(6, 3)), K.layers.Masking(0.0),
                                               K.layers.BatchNormalization(), K.layers.GRU(3)]), "floats"),
    "masking_dense_pool": (lambda K: K.Sequential([K.Input(shape=(6, 3)), K.layers.Masking(0.0),
                                                   K.layers.Dense(4), K.layers.GlobalAveragePooling1D()]), "floats"),
}
DATA = {"ids": (IDS_RIGHT, IDS_GAPS), "floats": (FLOATS_RIGHT, FLOATS_GAPS)}


def _pair(builder, seed=0):
    """The model built in Keras and in ganglion, with the same random weights."""
    k, g = builder(keras), builder(gk)
    rng = np.random.default_rng(seed)
    weights = [rng.normal(0.0, 0.5, np.shape(w)).astype(np.float32) for w in k.get_weights()]
    k.set_weights(weights)
    g.set_weights(weights)
    return k, g


@pytest.mark.parametrize("name", list(MODELS))
def test_predictions_match_keras_on_padded_batches(name):
    builder, kind = MODELS[name]
    k, g = _pair(builder)
    right, gaps = DATA[kind]
    for x in (right, gaps):
        with np.errstate(invalid="ignore"):  # pooling a row with no kept step is 0 / 0 = nan, in Keras too
            np.testing.assert_allclose(g.predict(x, verbose=0), k.predict(x, verbose=0), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ["lstm_last", "simple_rnn_backwards", "stacked_lstm_gru", "bidirectional_sum_last",
                                  "bidirectional_concat_pool", "functional_nested_add"])
def test_padded_sentence_gets_the_unpadded_prediction(name):
    model = MODELS[name][0](gk)
    padded = model.predict(IDS_RIGHT, verbose=0)
    for row, ids in zip(padded, IDS_RIGHT):
        alone = model.predict(ids[ids != 0][None], verbose=0)[0]
        np.testing.assert_allclose(row, alone, rtol=1e-5, atol=1e-6)


def test_sequence_outputs_of_padded_steps_follow_keras_rules():
    """return_sequences: a padded step repeats the last kept output; in a Bidirectional both halves are 0 there."""
    lstm = gk.layers.LSTM(3, return_sequences=True)
    bi = gk.layers.Bidirectional(gk.layers.LSTM(2, return_sequences=True))
    x = gk.layers.Embedding(VOCAB, 3, mask_zero=True)
    out = gk.Sequential([_ids(gk), x, lstm]).predict(IDS_RIGHT, verbose=0)
    np.testing.assert_array_equal(out[0, 3:], np.repeat(out[0, 2:3], 3, axis=0))
    out = gk.Sequential([_ids(gk), gk.layers.Embedding(VOCAB, 3, mask_zero=True), bi]).predict(IDS_RIGHT, verbose=0)
    np.testing.assert_array_equal(out[0, 3:], 0.0)
    assert np.abs(out[0, :3]).min() > 0


# --------------------------------------------------------------------------------------------- training
FIT_CASES = {  # id: (SGD learning rate, momentum, loss). SGD: Adam's and RMSprop's normalized steps would blow
    # float32 rounding in near-zero gradients up to visible differences, which says nothing about masks
    "lstm_last": (0.1, 0.0, "sparse_categorical_crossentropy"),
    "bidirectional_concat_pool": (0.1, 0.9, "mse"),
    "masking_bn_gru": (0.1, 0.0, "mse"),  # BatchNormalization's batch statistics skip the masked steps
    "functional_nested_add": (0.05, 0.5, "mse"),
}


@pytest.mark.parametrize("name", list(FIT_CASES))
def test_fit_matches_keras(name):
    lr, momentum, loss = FIT_CASES[name]
    builder, kind = MODELS[name]
    k, g = _pair(builder, seed=2)
    x = np.concatenate(DATA[kind][:1] * 2)[:6]
    y = (np.arange(6) % 2 if loss.startswith("sparse") else
         np.random.default_rng(3).normal(size=(6, k.output_shape[-1])).astype(np.float32))
    histories = {}
    for fw, model in (("keras", k), ("ganglion", g)):
        model.compile(optimizer=FRAMEWORKS[fw].optimizers.SGD(lr, momentum=momentum), loss=loss)
        histories[fw] = model.fit(x, y, batch_size=3, epochs=3, shuffle=False, verbose=0).history["loss"]
    np.testing.assert_allclose(histories["ganglion"], histories["keras"], rtol=1e-5)
    for wg, wk in zip(g.get_weights(), k.get_weights()):
        np.testing.assert_allclose(wg, wk, rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------------------- explicit masks
def _subclassed(K):
    class Tagger(K.Model):
        """Keras' masking guide: the subclassed model hands the embedding's mask to the LSTM itself."""

        def __init__(self):
            super().__init__()
            self.embedding = K.layers.Embedding(VOCAB, 3, mask_zero=True)
            self.lstm = K.layers.LSTM(4)
            self.dense = K.layers.Dense(2)

        def call(self, inputs):
            mask = self.embedding.compute_mask(inputs)
            return self.dense(self.lstm(self.embedding(inputs), mask=mask))

    return Tagger()


def test_subclassed_model_passes_the_mask_explicitly():
    k, g = _subclassed(keras), _subclassed(gk)
    k(IDS_RIGHT), g(IDS_RIGHT)
    rng = np.random.default_rng(4)
    weights = [rng.normal(0.0, 0.5, np.shape(w)).astype(np.float32) for w in k.get_weights()]
    k.set_weights(weights)
    g.set_weights(weights)
    for x in (IDS_RIGHT, IDS_GAPS):
        np.testing.assert_allclose(g.predict(x, verbose=0), k.predict(x, verbose=0), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(g.predict(IDS_RIGHT[:1], verbose=0), g.predict(IDS_RIGHT[:1, :3], verbose=0),
                               rtol=1e-6)


def test_model_called_with_a_mask_argument():
    def build(K):
        x = K.Input(shape=(6, 3))
        return K.Model(x, K.layers.GRU(3, return_sequences=True)(x))

    k, g = _pair(build)
    mask = np.ones((4, 6), bool)
    mask[0, 2:], mask[1, :3], mask[2, 4] = False, False, False
    expected = k(FLOATS_RIGHT, mask=torch.tensor(mask)).detach().numpy()
    np.testing.assert_allclose(g(FLOATS_RIGHT, mask=mask).detach().numpy(), expected, rtol=1e-5, atol=1e-6)
    assert np.abs(g(FLOATS_RIGHT).detach().numpy() - expected).max() > 1e-3  # the mask changed the result


def test_functional_layer_called_with_a_symbolic_mask():
    """``lstm(x, mask=m)`` with ``m`` another layer's output: the graph feeds the mask like any input."""
    def build(K):
        ids = _ids(K)
        keep = K.layers.Lambda(lambda t: t > 1)(ids)  # tokens 0 and 1 are skipped
        return K.Model(ids, K.layers.LSTM(3)(K.layers.Embedding(VOCAB, 2)(ids), mask=keep))

    k, g = _pair(build)
    np.testing.assert_allclose(g.predict(IDS_GAPS[:3], verbose=0), k.predict(IDS_GAPS[:3], verbose=0), rtol=1e-5,
                               atol=1e-5)
    np.testing.assert_allclose(g.predict(np.array([[1, 4, 1, 5, 0]]), verbose=0), g.predict(np.array([[4, 5]]),
                                                                                           verbose=0), rtol=1e-6)


def test_initial_states_take_no_mask_unless_given_as_keras():
    """Keras hands a layer its input's mask only when the call has one tensor argument: with initial_state, an
    LSTM runs over the padding (and its output still carries the mask)."""
    def build(K):
        ids, h0, c0 = _ids(K), K.Input(shape=(3,)), K.Input(shape=(3,))
        x = K.layers.Embedding(VOCAB, 2, mask_zero=True)(ids)
        seq = K.layers.LSTM(3, return_sequences=True)(x, initial_state=[h0, c0])
        return K.Model([ids, h0, c0], K.layers.GlobalAveragePooling1D()(seq))

    k, g = _pair(build)
    states = np.random.default_rng(5).normal(size=(2, 4, 3)).astype(np.float32)
    inputs = [IDS_RIGHT, states[0], states[1]]
    np.testing.assert_allclose(g.predict(inputs, verbose=0), k.predict(inputs, verbose=0), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("with_mask_fn", [False, True])
def test_lambda_keeps_the_mask_only_with_a_mask_function(with_mask_fn):
    def build(K):
        kw = {"mask": lambda inputs, mask: mask} if with_mask_fn else {}
        return _embedded(K, K.layers.Lambda(lambda t: t * 2.0, **kw), K.layers.LSTM(3))

    k, g = _pair(build)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = g.predict(IDS_GAPS[:3], verbose=0)
    np.testing.assert_allclose(got, k.predict(IDS_GAPS[:3], verbose=0), rtol=1e-5, atol=1e-5)
    assert g.layers[1].supports_masking is with_mask_fn
    assert any("does not support masking" in str(w.message) for w in caught) is not with_mask_fn


# ------------------------------------------------------------------------------------- the layers' side
LAYERS = {
    "Dense": lambda L: L.Dense(2), "Activation": lambda L: L.Activation("relu"), "Dropout": lambda L: L.Dropout(0.1),
    "SpatialDropout1D": lambda L: L.SpatialDropout1D(0.1), "Flatten": lambda L: L.Flatten(),
    "Conv1D": lambda L: L.Conv1D(2, 2), "GlobalMaxPooling1D": lambda L: L.GlobalMaxPooling1D(),
    "GlobalAveragePooling1D": lambda L: L.GlobalAveragePooling1D(),
    "BatchNormalization": lambda L: L.BatchNormalization(), "LayerNormalization": lambda L: L.LayerNormalization(),
    "GroupNormalization": lambda L: L.GroupNormalization(1), "Rescaling": lambda L: L.Rescaling(2.0),
    "Normalization": lambda L: L.Normalization(), "Add": lambda L: L.Add(), "Concatenate": lambda L: L.Concatenate(),
    "Lambda": lambda L: L.Lambda(lambda x: x), "Embedding": lambda L: L.Embedding(3, 2),
    "Embedding_mask_zero": lambda L: L.Embedding(3, 2, mask_zero=True), "LSTM": lambda L: L.LSTM(2),
    "Bidirectional": lambda L: L.Bidirectional(L.GRU(2)), "Masking": lambda L: L.Masking(),
    "Reshape": lambda L: L.Reshape((2,)), "RepeatVector": lambda L: L.RepeatVector(2),
    "ZeroPadding1D": lambda L: L.ZeroPadding1D(), "MaxPooling1D": lambda L: L.MaxPooling1D(),
}


def test_supports_masking_as_keras():
    for name, make in LAYERS.items():
        assert make(gk.layers).supports_masking == make(keras.layers).supports_masking, name


def test_a_layer_without_masking_support_drops_the_mask_with_keras_warning():
    model = _embedded(gk, gk.layers.Conv1D(2, 1), gk.layers.LSTM(2))
    with pytest.warns(UserWarning, match="does not support masking"):
        padded = model.predict(IDS_RIGHT[:1], verbose=0)
        unpadded = model.predict(IDS_RIGHT[:1, :3], verbose=0)
    assert np.abs(padded - unpadded).max() > 1e-4  # the LSTM saw the padding


def _structure(fn, x):
    """``fn`` on every array of ``x`` (an array, None, or a list of them); None stays None."""
    if isinstance(x, list):
        return [_structure(fn, item) for item in x]
    return None if x is None else fn(x)


def _flat_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def test_computed_masks_match_keras():
    x = np.random.default_rng(6).normal(size=(2, 4, 3)).astype(np.float32)
    x[0, 1] = 0.5
    x[1, 2:] = 0.5
    m1 = np.array([[True, False, True, True], [True, True, False, False]])
    m2 = np.array([[False, False, True, True], [True, False, False, True]])
    cases = [  # (layer factory, inputs, input mask)
        (lambda L: L.Masking(0.5), x, None),
        (lambda L: L.Concatenate(), [x, x], [m1, None]),
        (lambda L: L.Concatenate(axis=1), [x, x], [m1, m2]),
        (lambda L: L.Add(), [x, x], [m1, m2]),
        (lambda L: L.Add(), [x, x], [m1, None]),
        (lambda L: L.LSTM(2, return_sequences=True), x, m1),
        (lambda L: L.LSTM(2, return_state=True), x, m1),
        (lambda L: L.Bidirectional(L.LSTM(2, return_sequences=True), merge_mode=None), x, [m1]),
    ]
    for make, inputs, mask in cases:
        expected = make(keras.layers).compute_mask(_structure(torch.tensor, inputs), _structure(torch.tensor, mask))
        got = make(gk.layers).compute_mask(_structure(gk.layers.base.as_tensor, inputs),
                                           _structure(gk.layers.base.as_tensor, mask))
        assert len(_flat_list(got)) == len(_flat_list(expected))
        for e, g in zip(_flat_list(expected), _flat_list(got)):
            assert (e is None) == (g is None)
            if e is not None:
                np.testing.assert_array_equal(g.numpy(), e.numpy())


def test_masking_layer_output_and_saved_model(tmp_path):
    x = FLOATS_GAPS + 0.5 * (FLOATS_GAPS == 0)  # the masked steps hold 0.5 everywhere
    expected = keras.layers.Masking(0.5)(torch.tensor(x)).detach().numpy()
    np.testing.assert_array_equal(gk.layers.Masking(0.5)(x).numpy(), expected)
    model = gk.Sequential([gk.Input(shape=(None, 3)), gk.layers.Masking(0.5), gk.layers.GRU(2)])
    model.save(tmp_path / "masked.keras")
    loaded = gk.models.load_model(tmp_path / "masked.keras")
    assert loaded.layers[0].mask_value == 0.5
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    np.testing.assert_allclose(loaded.predict(x[:1], verbose=0), loaded.predict(x[:1, [0, 2, 3]], verbose=0),
                               rtol=1e-5, atol=1e-6)  # row 0 keeps steps 0, 2, 3 (two code paths: float32 rounding)


# ------------------------------------------------------------------------------ fused op vs the step loop
@pytest.mark.parametrize("cls", ["SimpleRNN", "LSTM", "GRU"])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("return_sequences,zero_output", [(False, False), (True, False), (True, True)])
def test_right_padding_on_the_fused_op_equals_the_step_loop(cls, go_backwards, return_sequences, zero_output,
                                                            monkeypatch):
    packed_runs = []
    run_packed = _masked_lengths.run_packed
    monkeypatch.setattr(_masked_lengths, "run_packed", lambda *a: packed_runs.append(1) or run_packed(*a))
    rng = np.random.default_rng(7)
    x = rng.normal(size=(4, 5, 3)).astype(np.float32)
    mask = np.arange(5)[None, :] < np.array([2, 5, 1, 3])[:, None]
    units = 3
    states = [rng.normal(size=(4, units)).astype(np.float32) for _ in range(2 if cls == "LSTM" else 1)]
    results = []
    for force_steps in (False, True):
        layer = getattr(gk.layers, cls)(units, go_backwards=go_backwards, return_sequences=return_sequences,
                                        return_state=True)
        layer.build((None, 5, 3))
        layer.set_weights(_weights_for(layer))
        layer.zero_output_for_mask = zero_output
        layer.__dict__["_force_steps"] = force_steps
        xt = gk.layers.base.as_tensor(x)
        xt.requires_grad_(True)
        out = layer(xt, initial_state=states, mask=mask)
        total = sum((o * (i + 1.0)).sum() for i, o in enumerate(out))
        total.backward()
        results.append([o.detach().numpy() for o in out] + [xt.grad.numpy()] +
                       [w.parameter.grad.numpy() for w in layer.weights])
    assert packed_runs == [1]  # the first layer ran on the fused op, the second on the step loop
    for fused, steps in zip(*results):
        np.testing.assert_allclose(fused, steps, rtol=1e-5, atol=1e-6)


def _weights_for(layer):
    rng = np.random.default_rng(8)
    return [rng.normal(0.0, 0.5, w.shape).astype(np.float32) for w in layer.weights]
