"""Dynamic axes: every exported model runs in onnxruntime on another batch size (and recurrent ones on another
sequence length too), whichever dim holds the batch, including the sizes computed from it inside the graph
(initial states, reshapes with the batch, tokens expanded to the batch). The inferred batch and time dims are
named in the file's inputs and outputs."""

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

import ganglion  # noqa: E402
import ganglion.nn as nn  # noqa: E402
from ganglion.onnx import ExportError, UnsupportedOpError, export  # noqa: E402
from ganglion.nn.utils.rnn import pack_padded_sequence  # noqa: E402
from onnx_helpers import Lambda, assert_round_trip  # noqa: E402

RNG = np.random.default_rng(5)


def floats(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def time_major_head(m, x):
    """(T, N, I) -> LSTM -> (T * N, H) -> Linear -> (T, N, 3): a reshape that bakes both T and N."""
    out, _ = m.rnn(x)
    t, n, h = out.shape
    return m.head(out.reshape(t * n, h)).view(t, n, -1)


def explicit_zero_state(m, x):
    """A GRU given its own zero state, built from the input's batch size (a constant of shape (2, N, 5))."""
    h0 = ganglion.zeros(2, x.shape[1], 5)
    out, h = m.rnn(x, h0)
    return out, h


def filled_state(m, x):
    """An LSTM started from a constant, non-zero state (L * D, N, H) that repeats along the batch."""
    h0 = ganglion.ones(2, x.shape[1], 5) * 0.5
    c0 = ganglion.full((2, x.shape[1], 5), -0.25)
    out, (h, c) = m.rnn(x, (h0, c0))
    return out, h, c


def with_state_input(m, x, h0):
    out, h = m.rnn(x, h0)
    return out, h


def class_token(m, x):
    """A learned token (1, 1, D) expanded to the batch and put before the sequence (the ViT / BERT pattern)."""
    token = m.token.weight.view(1, 1, -1).expand(x.shape[0], 1, x.shape[2])
    return m.mix(ganglion.cat([token, x], dim=1))


def cells_loop(m, x):
    """An LSTMCell stepped by hand over a batch_first sequence (B, T, I), zero state made inside."""
    h = c = None
    outs = []
    for t in range(x.shape[1]):
        h, c = m.cell(x[:, t], None if h is None else (h, c))
        outs.append(h)
    return ganglion.stack(outs, dim=1)


# (id, model factory, example shape, inputs to run on) : the run_on shape differs in batch and, for sequences, length
RECURRENT = [
    ("rnn_time_major", lambda: Lambda(lambda m, x: m.rnn(x), rnn=nn.RNN(4, 5)), (6, 3, 4), (9, 5, 4)),
    ("lstm_time_major_bidirectional_2_layers",
     lambda: Lambda(lambda m, x: m.rnn(x), rnn=nn.LSTM(4, 5, num_layers=2, bidirectional=True)), (6, 3, 4), (4, 7, 4)),
    ("gru_time_major_2_layers", lambda: Lambda(lambda m, x: m.rnn(x), rnn=nn.GRU(4, 5, num_layers=2)), (6, 3, 4),
     (8, 1, 4)),
    ("gru_batch_first_bidirectional",
     lambda: Lambda(lambda m, x: m.rnn(x), rnn=nn.GRU(4, 5, bidirectional=True, batch_first=True)), (3, 6, 4),
     (5, 9, 4)),
    ("lstm_time_major_reshape_head", lambda: Lambda(time_major_head, rnn=nn.LSTM(4, 5), head=nn.Linear(5, 3)),
     (6, 3, 4), (7, 4, 4)),
    ("gru_explicit_zero_state", lambda: Lambda(explicit_zero_state, rnn=nn.GRU(4, 5, num_layers=2)), (6, 3, 4),
     (5, 6, 4)),
    ("lstm_filled_state", lambda: Lambda(filled_state, rnn=nn.LSTM(4, 5, bidirectional=True)), (6, 3, 4), (7, 2, 4)),
    ("lstm_cell_loop", lambda: Lambda(cells_loop, cell=nn.LSTMCell(4, 5)), (3, 4, 4), (6, 4, 4)),
]


ATTENTION = [
    ("attention_time_major", lambda: Lambda(lambda m, x: m.a(x, x, x)[0], a=nn.MultiheadAttention(8, 2)), (5, 3, 8),
     (7, 4, 8)),
    ("attention_batch_first",
     lambda: Lambda(lambda m, x: m.a(x, x, x)[0], a=nn.MultiheadAttention(8, 2, batch_first=True)), (3, 5, 8),
     (4, 7, 8)),
    ("transformer_encoder_layer", lambda: nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True),
     (3, 5, 8), (6, 2, 8)),
]


@pytest.mark.parametrize("name, factory, shape, run_shape", ATTENTION, ids=[r[0] for r in ATTENTION])
def test_attention_runs_on_another_batch_and_length(name, factory, shape, run_shape, tmp_path):
    """Attention reshapes (L, N * heads, d) and back: both the batch and the length are read from Shape."""
    assert_round_trip(factory(), [floats(*shape)], [floats(*run_shape)], tmp_path / f"{name}.onnx", tol=1e-4)


@pytest.mark.parametrize("name, factory, shape, run_shape", RECURRENT, ids=[r[0] for r in RECURRENT])
def test_recurrent_runs_on_another_batch_and_length(name, factory, shape, run_shape, tmp_path):
    assert_round_trip(factory(), [floats(*shape)], [floats(*run_shape)], tmp_path / f"{name}.onnx")


def test_state_input_with_its_batch_in_dim_1(tmp_path):
    """A batch_first GRU fed its initial state (L, N, H) as a second input: batch_dim per input."""
    model = Lambda(with_state_input, rnn=nn.GRU(4, 5, batch_first=True))
    example = [floats(3, 6, 4), floats(1, 3, 5)]
    run_on = [floats(5, 8, 4), floats(1, 5, 5)]
    assert_round_trip(model, example, run_on, tmp_path / "state.onnx", batch_dim=(0, 1), sequence_dim=(1, None))


def test_class_token_expanded_to_the_batch(tmp_path):
    model = Lambda(class_token, token=nn.Embedding(1, 6), mix=nn.Linear(6, 2))
    assert_round_trip(model, [floats(3, 4, 6)], [floats(5, 4, 6)], tmp_path / "token.onnx")


def test_view_with_the_batch_size(tmp_path):
    model = Lambda(lambda m, x: m.head(m.conv(x).view(x.shape[0], -1)), conv=nn.Conv2d(2, 3, 3),
                   head=nn.Linear(3 * 4 * 4, 2))
    assert_round_trip(model, [floats(2, 2, 6, 6)], [floats(5, 2, 6, 6)], tmp_path / "view.onnx")


def _dims(value):
    return [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]


# (id, model, example shape, export options, expected input dims, expected dims of output 0)
NAMED_DIMS = [
    ("time_major_inferred", nn.LSTM(4, 5), (6, 3, 4), {}, ["sequence", "batch", 4], ["sequence", "batch", 5]),
    ("time_major_attention_inferred", Lambda(lambda m, x: m.a(x, x, x)[0], a=nn.MultiheadAttention(8, 2)), (5, 3, 8),
     {}, ["sequence", "batch", 8], ["sequence", "batch", 8]),
    ("batch_first_inferred", nn.GRU(4, 5, batch_first=True), (3, 6, 4), {}, ["batch", "sequence", 4],
     ["batch", "sequence", 5]),
    ("time_major_fixed_length", nn.RNN(4, 5), (6, 3, 4), {"sequence_dim": None}, [6, "batch", 4], [6, "batch", 5]),
    ("time_major_fixed_batch", nn.RNN(4, 5), (6, 3, 4), {"dynamic_batch": False}, ["sequence", 3, 4],
     ["sequence", 3, 5]),
    ("no_recurrent_layer", nn.Linear(4, 2), (3, 4), {}, ["batch", 4], ["batch", 2]),
    ("explicit_batch_dim", nn.Linear(4, 2), (5, 3, 4), {"batch_dim": 1}, [5, "batch", 4], [5, "batch", 2]),
]


@pytest.mark.parametrize("name, model, shape, options, input_dims, output_dims", NAMED_DIMS,
                         ids=[r[0] for r in NAMED_DIMS])
def test_dynamic_dims_are_named(name, model, shape, options, input_dims, output_dims, tmp_path):
    import onnx

    path = tmp_path / f"{name}.onnx"
    export(model, floats(*shape), path, **options)
    graph = onnx.load(str(path)).graph
    assert _dims(graph.input[0]) == input_dims
    assert _dims(graph.output[0]) == output_dims


class Packed(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(4, 5)

    def forward(self, x):
        out, _ = self.rnn(pack_padded_sequence(x, [x.shape[0]] * x.shape[1]))
        return out.data


class Mixed(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = nn.GRU(4, 4), nn.GRU(4, 4, batch_first=True)

    def forward(self, x):
        return self.b(self.a(x)[0])[0]


def varying_constant(m, x):
    """A constant of shape (N, 1) whose rows differ: no Expand of one row can stand for it."""
    return x + ganglion.tensor(np.arange(x.shape[0], dtype=np.float32)[:, None])


# (id, model, example inputs, options, error, pattern)
REFUSED = [
    ("lstm_proj_size", nn.LSTM(4, 6, proj_size=3), [floats(5, 2, 4)], {}, UnsupportedOpError, r"proj_size > 0"),
    ("packed_sequence", Packed(), [floats(5, 2, 4)], {"dynamic_batch": False, "sequence_dim": None},
     UnsupportedOpError, r"PackedSequence"),
    ("constant_varying_along_batch", Lambda(varying_constant), [floats(3, 4)], {}, UnsupportedOpError,
     r"a constant of shape \(3, 1\) changes with a dynamic axis .*values differ"),
    ("mixed_layouts", Mixed(), [floats(5, 2, 4)], {}, ValueError, r"mixes time-major and batch_first sequence layers.*batch_dim="),
    ("batch_dim_out_of_range", nn.Linear(4, 2), [floats(3, 4)], {"batch_dim": 2}, ValueError,
     r"batch_dim 2 is not a dim of input 0 of shape \(3, 4\)"),
    ("batch_dim_per_input_count", nn.Linear(4, 2), [floats(3, 4)], {"batch_dim": (0, 1)}, ValueError,
     r"batch_dim must be an int, None or a tuple of 1"),
    ("same_dim_twice", nn.Linear(4, 2), [floats(3, 4)], {"batch_dim": 0, "sequence_dim": 0}, ValueError,
     r"name the same dim"),
    ("length_fixed_by_flatten", Lambda(lambda m, x: m.head(m.rnn(x)[0].flatten(1)), rnn=nn.GRU(4, 3, batch_first=True),
                                       head=nn.Linear(18, 2)), [floats(2, 6, 4)], {}, ExportError,
     r"sequence 7, to check that the sequence size can change; pass sequence_dim=None"),
]


@pytest.mark.parametrize("name, model, example, options, error, pattern", REFUSED, ids=[r[0] for r in REFUSED])
def test_refused(name, model, example, options, error, pattern, tmp_path):
    path = tmp_path / "m.onnx"
    with pytest.raises(error, match=pattern):
        export(model, tuple(example), path, **options)
    assert not path.exists()


def test_flatten_after_a_recurrent_layer_exports_with_a_fixed_length(tmp_path):
    model = Lambda(lambda m, x: m.head(m.rnn(x)[0].flatten(1)), rnn=nn.GRU(4, 3, batch_first=True),
                   head=nn.Linear(18, 2))
    assert_round_trip(model, [floats(2, 6, 4)], [floats(5, 6, 4)], tmp_path / "m.onnx", sequence_dim=None)
