"""Recurrent layers, embeddings and whole models (the zoo's LeNet, a small ResNet and VGG, an LSTM classifier)
exported and run in onnxruntime on another batch size (recurrent layers also on another sequence length), compared
with ganglion."""

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

import ganglion.nn as nn  # noqa: E402
from ganglion.vision.models import lenet, resnet18, vgg_net  # noqa: E402
from onnx_helpers import assert_round_trip  # noqa: E402

RNG = np.random.default_rng(1)


def floats(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


class SequenceClassifier(nn.Module):
    """Embedding -> LSTM (2 layers, bidirectional, batch_first) -> Linear on the last step."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(20, 6)
        self.lstm = nn.LSTM(6, 5, num_layers=2, bidirectional=True, batch_first=True)
        self.head = nn.Linear(10, 3)

    def forward(self, tokens):
        out, _ = self.lstm(self.embed(tokens))
        return self.head(out[:, -1])


class LastState(nn.Module):
    """A recurrent layer's outputs and final state(s), all exported."""

    def __init__(self, layer):
        super().__init__()
        self.layer = layer

    def forward(self, x):
        return self.layer(x)


def batch_norms_with_stats(model):
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            c = m.num_features
            m.running_mean.array[...] = RNG.standard_normal(c).astype(np.float32) * 0.1
            m.running_var.array[...] = RNG.uniform(0.5, 1.5, c).astype(np.float32)
    return model


# (id, model factory, example shape, tolerance)
RECURRENT = [
    ("rnn_tanh", lambda: nn.RNN(4, 5), (6, 3, 4), 1e-5),
    ("rnn_relu_2_layers", lambda: nn.RNN(4, 5, num_layers=2, nonlinearity="relu"), (6, 3, 4), 1e-5),
    ("lstm", lambda: nn.LSTM(4, 5), (6, 3, 4), 1e-5),
    ("lstm_bidirectional_2_layers", lambda: nn.LSTM(4, 5, num_layers=2, bidirectional=True), (6, 3, 4), 1e-5),
    ("lstm_batch_first_no_bias", lambda: nn.LSTM(4, 5, bias=False, batch_first=True), (3, 6, 4), 1e-5),
    ("gru", lambda: nn.GRU(4, 5), (6, 3, 4), 1e-5),
    ("gru_bidirectional_2_layers", lambda: nn.GRU(4, 5, num_layers=2, bidirectional=True), (6, 3, 4), 1e-5),
]


@pytest.mark.parametrize("name, factory, shape, tol", RECURRENT, ids=[r[0] for r in RECURRENT])
def test_recurrent_round_trip(name, factory, shape, tol, tmp_path):
    """Both the batch (dim 1 time-major, dim 0 batch_first, inferred from the layer) and the sequence length
    change."""
    other = floats(shape[0] + 2, shape[1] + 3, *shape[2:])
    assert_round_trip(LastState(factory()), [floats(*shape)], [other], tmp_path / f"{name}.onnx", tol=tol)


def test_embedding_gathers_rows(tmp_path):
    model = nn.Sequential(nn.Embedding(10, 4), nn.Flatten(), nn.Linear(12, 2))
    tokens = RNG.integers(0, 10, (5, 3)).astype(np.int64)
    other = RNG.integers(0, 10, (7, 3)).astype(np.int64)
    assert_round_trip(model, [tokens], [other], tmp_path / "embedding.onnx")


# (id, model factory, example shape, tolerance): deep models get 1e-4
MODELS = [
    ("mlp", lambda: nn.Sequential(nn.Flatten(), nn.Linear(12, 32), nn.Tanh(), nn.Dropout(0.3), nn.Linear(32, 10),
                                  nn.LogSoftmax(dim=1)), (4, 3, 4), 1e-5),
    ("lenet", lambda: lenet(), (2, 1, 28, 28), 1e-4),
    ("resnet18_small", lambda: batch_norms_with_stats(resnet18(widths=(8, 16, 32, 64), cifar_stem=True,
                                                                num_classes=10)), (2, 3, 16, 16), 1e-4),
    ("vgg_small", lambda: vgg_net(((1, 4), (1, 8)), num_classes=5, in_channels=1, image_size=16,
                                  hidden_features=32), (2, 1, 16, 16), 1e-4),
]


@pytest.mark.parametrize("name, factory, shape, tol", MODELS, ids=[r[0] for r in MODELS])
def test_model_round_trip(name, factory, shape, tol, tmp_path):
    model = factory()
    assert_round_trip(model, [floats(*shape)], [floats(shape[0] + 1, *shape[1:])], tmp_path / f"{name}.onnx",
                      tol=tol)


def test_lstm_classifier_with_embedding(tmp_path):
    tokens = RNG.integers(0, 20, (3, 7)).astype(np.int64)
    other = RNG.integers(0, 20, (5, 10)).astype(np.int64)  # another batch and another length
    assert_round_trip(SequenceClassifier(), [tokens], [other], tmp_path / "classifier.onnx", tol=1e-4)


def test_export_leaves_training_mode_and_requires_grad_as_they_were(tmp_path):
    model = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5), nn.BatchNorm1d(3))
    model.train()
    model[0].weight.requires_grad = False
    from ganglion.onnx import export

    export(model, floats(4, 3), tmp_path / "m.onnx")
    assert all(m.training for m in model.modules())
    assert [p.requires_grad for p in model.parameters()] == [False, True, True, True]
