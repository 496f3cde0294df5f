"""model_summary: per-layer FLOPs (multiply-adds) against hand-computed values, parameter totals against torch's
sum(p.numel()) for the same architecture, and the table's totals."""

import pytest
import torch

import ganglion.nn as nn
from ganglion.insight import layer_cost, model_summary
from ganglion.vision.models import lenet

# LeNet on (1, 1, 28, 28): conv1 28*28*6 outputs x 1*25; sigmoid/pool count elements (pool: x 4 window);
# conv2 10*10*16 x 6*25; linears in*out
LENET_FLOPS = {
    "features.0": 28 * 28 * 6 * 25, "features.1": 6 * 28 * 28, "features.2": 6 * 14 * 14 * 4,
    "features.3": 10 * 10 * 16 * 6 * 25, "features.4": 16 * 10 * 10, "features.5": 16 * 5 * 5 * 4,
    "classifier.0": 400 * 120, "classifier.1": 120, "classifier.2": 120 * 84, "classifier.3": 84,
    "classifier.4": 84 * 10,
}


class TinyResNet(nn.Module):
    """conv-bn-relu stem, one residual block (relu reused twice), global pool, linear."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(8)
        self.relu = nn.ReLU()
        self.conv_a = nn.Conv2d(8, 8, 3, padding=1, bias=False)
        self.conv_b = nn.Conv2d(8, 8, 3, stride=2, padding=1, groups=2, bias=False)
        self.down = nn.Conv2d(8, 8, 1, stride=2, bias=False)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 5)

    def forward(self, x):
        x = self.relu(self.bn(self.stem(x)))
        y = self.conv_b(self.relu(self.conv_a(x)))
        return self.fc(self.pool(y + self.down(x)).flatten(1))


RESNET_FLOPS = {
    "stem": 8 * 8 * 8 * 3 * 9, "bn": 8 * 8 * 8, "relu": 2 * 8 * 8 * 8, "conv_a": 8 * 8 * 8 * 8 * 9,
    "conv_b": 8 * 4 * 4 * 4 * 9, "down": 8 * 4 * 4 * 8, "pool": 8 * 4 * 4, "fc": 8 * 5,
}
LSTM_FLOPS = 7 * 3 * (4 * 20 * (10 + 20) + 4 * 20 * (20 + 20))  # steps x batch x (layer 1 + layer 2) gates

CASES = [  # name, model, input size, expected per-row FLOPs, torch twin for the parameter total
    ("lenet", lenet, (1, 1, 28, 28), LENET_FLOPS, 61_706),
    ("resnet", TinyResNet, (1, 3, 8, 8), RESNET_FLOPS,
     3 * 8 * 9 + 16 + 8 * 8 * 9 + 8 * 4 * 9 + 64 + 8 * 5 + 5),
    ("lstm", lambda: nn.LSTM(10, 20, num_layers=2, batch_first=True), (3, 7, 10), {"LSTM": LSTM_FLOPS},
     sum(p.numel() for p in torch.nn.LSTM(10, 20, num_layers=2).parameters())),
]


@pytest.mark.parametrize("name, make, size, flops, params", CASES, ids=[c[0] for c in CASES])
def test_rows_flops_and_totals(name, make, size, flops, params):
    model = make()
    summary = model_summary(model, size)
    rows = {r["name"]: r for r in summary.rows}
    assert {k: rows[k]["flops"] for k in flops} == flops
    assert summary.total_flops == sum(flops.values())
    assert summary.total_params == summary.trainable_params == params == sum(p.numel() for p in model.parameters())
    assert sum(r["params"] for r in summary.rows) == params
    for r in summary.rows:
        assert set(r) >= {"name", "type", "output_shape", "params", "flops", "activation_bytes"}
    text = str(summary)
    assert f"Total params: {params:,}" in text and f"Total FLOPs (mult-adds): {sum(flops.values()):,}" in text


def test_lenet_shapes_and_activation_memory_match_torch_conventions():
    summary = model_summary(lenet(), (2, 1, 28, 28))
    rows = {r["name"]: r for r in summary.rows}
    assert rows["features.0"]["output_shape"] == (2, 6, 28, 28)
    assert rows["features.0"]["activation_bytes"] == 2 * 6 * 28 * 28 * 4  # float32 outputs
    assert summary.total_flops == 2 * sum(LENET_FLOPS.values())  # the batch is costed
    assert rows["features.0"]["params"] == sum(p.numel() for p in torch.nn.Conv2d(1, 6, 5).parameters())


def test_reused_module_is_one_row_with_its_calls():
    rows = {r["name"]: r for r in model_summary(TinyResNet(), (1, 3, 8, 8)).rows}
    assert rows["relu"]["calls"] == 2 and "relu (ReLU) x2" in str(model_summary(TinyResNet(), (1, 3, 8, 8)))


def test_frozen_parameters_and_unknown_layers():
    class Scale(nn.Module):
        def __init__(self):
            super().__init__()
            self.s = nn.Parameter(__import__("ganglion").ones(4))

        def forward(self, x):
            return x * self.s

    model = nn.Sequential(nn.Linear(3, 4), Scale())
    model[0].weight.requires_grad_(False)
    summary = model_summary(model, (1, 3))
    assert summary.total_params == 20 and summary.trainable_params == 8
    assert summary.rows[1]["flops"] is None and summary.total_flops == 12
    assert "not counted (unknown layer types): 1" in str(summary)


@pytest.mark.parametrize("module, inputs, output, expected", [
    (nn.ConvTranspose2d(4, 6, 3, stride=2), ((1, 4, 5, 5),), (1, 6, 11, 11), 4 * 25 * 6 * 9),
    (nn.GRU(5, 7, bidirectional=True), ((9, 2, 5),), (9, 2, 14), 9 * 2 * 2 * 3 * 7 * (5 + 7)),
    (nn.LSTMCell(5, 7), ((3, 5),), (3, 7), 3 * 4 * 7 * 12),
    (nn.MaxPool2d(3, stride=1), ((1, 2, 5, 5),), (1, 2, 3, 3), 18 * 9),
    (nn.Dropout(0.5), ((4, 4),), (4, 4), 0),
])
def test_layer_cost_table(module, inputs, output, expected):
    assert layer_cost(module, inputs, output) == expected


@pytest.mark.parametrize("size", [(), (1, 0), "1x3", (1.5, 3)])
def test_bad_input_size_is_named(size):
    with pytest.raises(ValueError, match="model_summary: input_size"):
        model_summary(nn.Linear(3, 2), size)
