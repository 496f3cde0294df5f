"""RNN / LSTM / GRU against PyTorch, forward and backward (input, initial states, every weight and bias), over a grid
of configurations: layers, directions, batch_first, initial states, packed batches of unequal lengths, projections,
no bias, unbatched inputs, float32 and float64. Adding a configuration is adding a row."""

import itertools

import pytest

from nn_rnn_helpers import Config, compare_with_torch

MODES = ["LSTM", "GRU", "RNN_TANH", "RNN_RELU"]

# the acceptance grid: every mode x (1 layer, 2 bidirectional layers) x batch_first x (padded, packed), with states
GRID = [
    Config(mode, num_layers=layers, bidirectional=bi, batch_first=bf, lengths=lengths)
    for mode, (layers, bi), bf, lengths in itertools.product(
        MODES, [(1, False), (2, True)], [False, True], [None, (3, 5, 2)]
    )
]

EXTRA = [
    Config("LSTM", num_layers=3),
    Config("LSTM", num_layers=2, bidirectional=True, proj_size=2),
    Config("LSTM", num_layers=2, bidirectional=True, proj_size=3, batch_first=True, lengths=(5, 1, 4)),
    Config("LSTM", bias=False, initial_state=False),
    Config("GRU", num_layers=2, bidirectional=True, bias=False, lengths=(2, 5, 5)),
    Config("RNN_TANH", num_layers=2, initial_state=False, batch_first=True),
    Config("LSTM", num_layers=2, bidirectional=True, unbatched=True),
    Config("GRU", unbatched=True, initial_state=False),
    Config("RNN_RELU", bidirectional=True, unbatched=True),
    Config("LSTM", num_layers=2, bidirectional=True, lengths=(5, 5, 5)),  # packed, all full length
    Config("GRU", lengths=(1, 1, 1), steps=1),
    Config("LSTM", num_layers=2, bidirectional=True, batch_first=True, lengths=(4, 2, 5), dtype="float32"),
    Config("GRU", num_layers=2, bidirectional=True, dtype="float32", hidden_size=16, input_size=8, steps=12),
    Config("RNN_TANH", num_layers=2, bidirectional=True, dtype="float32"),
    # float32 LSTMs run the compiled step kernels (kernels/recurrent.py) where numba is installed
    Config("LSTM", num_layers=2, bidirectional=True, proj_size=2, lengths=(3, 5, 2), dtype="float32"),
    Config("LSTM", dtype="float32", hidden_size=16, input_size=8, steps=12, initial_state=False),
]


@pytest.mark.parametrize("cfg", GRID + EXTRA, ids=str)
def test_matches_torch_forward_and_backward(cfg):
    compare_with_torch(cfg, tol=1e-10 if cfg.dtype == "float64" else 2e-5)


# one output left out of the loss: its gradient is the engine's zero stand-in (the last-hidden-state classifier uses
# only h_n; a sequence tagger only the output)
PARTIAL = [
    (Config(mode, num_layers=layers, bidirectional=bi, lengths=lengths), used)
    for mode, (layers, bi), lengths, used in itertools.product(
        MODES, [(1, False), (2, True)], [None, (3, 5, 2)], [(0,), (1,)]
    )
] + [(Config("LSTM", proj_size=2), (2,)), (Config("LSTM", batch_first=True), (1, 2))]


@pytest.mark.parametrize("cfg, used", PARTIAL, ids=lambda v: str(v))
def test_matches_torch_when_only_some_outputs_reach_the_loss(cfg, used):
    compare_with_torch(cfg, tol=1e-10, used=used)
