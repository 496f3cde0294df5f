"""model.summary() prints Keras 3's table (as Keras prints it when its output is captured): the column widths for
a line length, the box characters, wrapped cells, the "Connected to" column of non-chain models, the parameter
counts (non-trainable ones, optimizer variables) and their sizes."""

import numpy as np
import pytest

from ganglion.keras import Input, Model, Sequential, layers
from ganglion.keras.layers import Dense
from ganglion.keras.models.summary import column_widths, readable_memory_size, wrap

IRIS_88 = """\
Model: "iris"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━┓
┃ Layer (type)                         ┃ Output Shape                ┃         Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━┩
│ dense (Dense)                        │ (None, 8)                   │              40 │
├──────────────────────────────────────┼─────────────────────────────┼─────────────────┤
│ dense_1 (Dense)                      │ (None, 6)                   │              54 │
├──────────────────────────────────────┼─────────────────────────────┼─────────────────┤
│ dense_2 (Dense)                      │ (None, 3)                   │              21 │
└──────────────────────────────────────┴─────────────────────────────┴─────────────────┘
 Total params: 115 (460.00 B)
 Trainable params: 115 (460.00 B)
 Non-trainable params: 0 (0.00 B)
"""

# what Keras prints in an 80-column terminal (line length 76)
IRIS_76_TRAINED = """\
Model: "iris"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ dense (Dense)                   │ (None, 8)              │            40 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense_1 (Dense)                 │ (None, 6)              │            54 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense_2 (Dense)                 │ (None, 3)              │            21 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 347 (1.36 KB)
 Trainable params: 115 (460.00 B)
 Non-trainable params: 0 (0.00 B)
 Optimizer params: 232 (932.00 B)
"""


def _iris():
    return Sequential([Dense(8, activation="relu", input_shape=(4,), name="dense"),
                       Dense(6, activation="relu", name="dense_1"),
                       Dense(3, activation="softmax", name="dense_2")], name="iris")


def test_iris_example_table_at_the_default_width(monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "200")  # a wide terminal: Keras' default line length, 88
    _iris().summary()
    assert capsys.readouterr().out == IRIS_88


def test_iris_table_in_an_80_column_terminal_after_training(monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "80")
    model = _iris()
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    model.fit(np.zeros((4, 4)), np.eye(3)[[0, 1, 2, 0]], verbose=0)
    model.summary()  # Adam: 2 slots per weight + iterations (int64) + learning rate (float32)
    assert capsys.readouterr().out == IRIS_76_TRAINED
    lines = []
    model.summary(line_length=76, print_fn=lines.append)
    assert lines == [IRIS_76_TRAINED[:-1]]


@pytest.mark.parametrize("line_length, positions, widths", [
    (88, [0.45, 0.80, 1.0], [38, 29, 17]),
    (76, [0.45, 0.80, 1.0], [33, 24, 15]),
    (108, [0.3, 0.56, 0.74, 1.0], [31, 27, 17, 28]),
    (100, [0.405, 0.72, 0.9, 1.0], [39, 31, 16, 9]),
    (60, [0.45, 0.80, 1.0], [26, 19, 11]),
    (88, [30, 60, 88], [29, 28, 27]),  # absolute positions
])
def test_column_widths_fit_the_line_length(line_length, positions, widths):
    got = column_widths(line_length, positions)
    assert got == widths and sum(got) + len(got) + 1 == line_length


def test_cells_wrap_words_and_cut_long_ones():
    assert wrap("batch_normalization (BatchNormalization)", 31) == ["batch_normalization", "(BatchNormalization)"]
    assert wrap("a b c", 10) == ["a b c"]
    assert wrap("Trainable", 7) == ["Traina…"]
    with pytest.raises(ValueError, match="at least 4"):
        column_widths(10, [0.45, 0.8, 1.0])


def test_memory_sizes():
    assert [readable_memory_size(n) for n in (0, 460, 1392, 5 * 1024 ** 2)] == ["0.00 B", "460.00 B", "1.36 KB",
                                                                                "5.00 MB"]


FUNCTIONAL_108 = """\
Model: "two_inputs"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━┓
┃ Layer (type)                  ┃ Output Shape              ┃         Param # ┃ Connected to               ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━┩
│ left (InputLayer)             │ (None, 4)                 │               0 │ -                          │
├───────────────────────────────┼───────────────────────────┼─────────────────┼────────────────────────────┤
│ hidden (Dense)                │ (None, 3)                 │              15 │ left[0][0]                 │
├───────────────────────────────┼───────────────────────────┼─────────────────┼────────────────────────────┤
│ right (InputLayer)            │ (None, 2)                 │               0 │ -                          │
├───────────────────────────────┼───────────────────────────┼─────────────────┼────────────────────────────┤
│ join (Concatenate)            │ (None, 5)                 │               0 │ hidden[0][0], right[0][0]  │
├───────────────────────────────┼───────────────────────────┼─────────────────┼────────────────────────────┤
│ out (Dense)                   │ (None, 1)                 │               6 │ join[0][0]                 │
└───────────────────────────────┴───────────────────────────┴─────────────────┴────────────────────────────┘
 Total params: 21 (84.00 B)
 Trainable params: 21 (84.00 B)
 Non-trainable params: 0 (0.00 B)
"""


def test_functional_model_with_two_inputs_gets_the_connected_to_column(monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "200")
    left, right = Input(shape=(4,), name="left"), Input(shape=(2,), name="right")
    hidden = Dense(3, name="hidden")(left)
    joined = layers.Concatenate(name="join")([hidden, right])
    model = Model([left, right], Dense(1, name="out")(joined), name="two_inputs")
    model.summary()
    assert capsys.readouterr().out == FUNCTIONAL_108


def test_chain_functional_model_has_three_columns(capsys):
    inputs = Input(shape=(4,), name="x")
    model = Model(inputs, Dense(2, name="y")(Dense(3, name="h")(inputs)), name="chain")
    model.summary(line_length=60)
    out = capsys.readouterr().out.splitlines()
    assert out[2] == "┃ Layer (type)             ┃ Output Shape      ┃   Param # ┃"
    assert out[4] == "│ x (InputLayer)           │ (None, 4)         │         0 │"


def test_counts_for_conv_batchnorm_lstm_and_non_trainable_params(capsys):
    model = Sequential([Input(shape=(10, 10, 3)), layers.Conv2D(8, 3, padding="same", name="conv"),
                        layers.BatchNormalization(name="bn"), layers.MaxPool2D(name="pool"),
                        layers.Reshape((5, 40), name="reshape"), layers.LSTM(16, name="lstm"),
                        Dense(2, name="head")], name="mixed")
    model.summary(line_length=88)
    out = capsys.readouterr().out
    rows = {line.split("│")[1].split()[0]: [c.strip() for c in line.split("│")[2:4]]
            for line in out.splitlines() if line.startswith("│ ")}
    assert rows == {"conv": ["(None, 10, 10, 8)", "224"], "bn": ["(None, 10, 10, 8)", "32"],
                    "pool": ["(None, 5, 5, 8)", "0"], "reshape": ["(None, 5, 40)", "0"],
                    "lstm": ["(None, 16)", "3,648"], "head": ["(None, 2)", "34"]}
    total = 224 + 32 + 3648 + 34
    assert f" Total params: {total:,} ({readable_memory_size(4 * total)})" in out
    assert f" Trainable params: {total - 16:,}" in out and " Non-trainable params: 16 (64.00 B)" in out


def test_unbuilt_model_layer_range_expand_nested_and_show_trainable(capsys):
    unbuilt = Sequential([Dense(3, name="d")], name="lazy")
    lines = []
    unbuilt.summary(line_length=60, print_fn=lines.append)
    assert lines[0].splitlines()[4:6] == ["│ d (Dense)                │ ?                 │         0 │",
                                          "│                          │                   │ (unbuilt) │"]
    assert " Total params: 0 (0.00 B)" in lines[0]

    block = Sequential([Dense(4, name="inner_a"), Dense(4, name="inner_b")], name="block")
    model = Sequential([Input(shape=(2,)), Dense(3, name="first"), block, Dense(1, name="last")], name="outer")
    block.trainable = False
    lines = []
    model.summary(line_length=100, expand_nested=True, show_trainable=True, print_fn=lines.append)
    text = lines[0]
    assert "│ └ inner_a (Dense)" in text and "│ └ inner_b (Dense)" in text
    assert text.count(" N ") >= 3 and " Y " in text
    lines = []
    model.summary(line_length=80, layer_range=["block", "last"], print_fn=lines.append)
    assert "first (Dense)" not in lines[0] and "block (Sequential)" in lines[0] and "last (Dense)" in lines[0]
    with pytest.raises(ValueError, match="matches no layer"):
        model.summary(layer_range=["nope", "last"])
