"""Numerical parity of the Keras face with the engine and with PyTorch: the same weights give the same outputs, and
one ``fit`` epoch (shuffle=False) equals the hand-written PyTorch-style loop step for step. Also: the loss computed
from the logits of a softmax/sigmoid output (the fast path) equals the probability path, and sample and class
weights weigh the loss as Keras does."""

import numpy as np
import pytest
import torch

import ganglion
import ganglion.nn.functional as F
from ganglion import nn
from ganglion.keras import Input, Model, Sequential, callbacks, losses, optimizers, regularizers
from ganglion.keras.layers import Dense


def _data(n=12, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 4)).astype(np.float32)
    labels = rng.integers(0, 3, n)
    return x, labels, np.eye(3, dtype=np.float32)[labels]


def _keras_model(l2=0.01):
    ganglion.manual_seed(3)
    return Sequential([Dense(8, activation="relu", input_shape=(4,)),
                       Dense(6, activation="tanh", kernel_regularizer=regularizers.L2(l2)),
                       Dense(3, activation="softmax")])


def _engine_model(keras_model):
    w = keras_model.get_weights()
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 6), nn.Tanh(), nn.Linear(6, 3))
    for layer, i in zip([model[0], model[2], model[4]], (0, 2, 4)):
        layer.weight.data = ganglion.tensor(w[i].T.copy())
        layer.bias.data = ganglion.tensor(w[i + 1])
    return model


def _torch_model(keras_model):
    w = keras_model.get_weights()
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 6), torch.nn.Tanh(),
                                torch.nn.Linear(6, 3))
    with torch.no_grad():
        for layer, i in zip([model[0], model[2], model[4]], (0, 2, 4)):
            layer.weight.copy_(torch.from_numpy(w[i].T.copy()))
            layer.bias.copy_(torch.from_numpy(w[i + 1]))
    return model


def test_same_weights_same_outputs_as_engine_and_torch():
    x, _, _ = _data()
    keras_model = _keras_model()
    engine = _engine_model(keras_model)
    expected = F.softmax(engine(ganglion.tensor(x)), dim=-1).detach().numpy()
    np.testing.assert_allclose(keras_model.predict(x, verbose=0), expected, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(keras_model(x).detach().numpy(), expected, rtol=1e-6, atol=1e-7)
    reference = torch.softmax(_torch_model(keras_model)(torch.from_numpy(x)), dim=-1).detach().numpy()
    np.testing.assert_allclose(expected, reference, rtol=1e-5, atol=1e-6)


class _Snapshots(callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.weights = []

    def on_train_batch_end(self, batch, logs=None):
        self.weights.append(self.model.get_weights())


@pytest.mark.parametrize("optimizer, engine_opt, torch_opt", [
    (lambda: optimizers.SGD(0.1), lambda p: ganglion.optim.SGD(p, lr=0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
    (lambda: optimizers.SGD(0.05, momentum=0.9, nesterov=True),
     lambda p: ganglion.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
     lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True)),
    (lambda: optimizers.Adam(0.01), lambda p: ganglion.optim.Adam(p, lr=0.01, eps=1e-7),
     lambda p: torch.optim.Adam(p, lr=0.01, eps=1e-7)),
])
def test_one_fit_epoch_equals_the_hand_written_loop(optimizer, engine_opt, torch_opt):
    x, _, y = _data(12)
    keras_model = _keras_model(l2=0.01)
    engine, reference = _engine_model(keras_model), _torch_model(keras_model)
    keras_model.compile(optimizer=optimizer(), loss=losses.categorical_crossentropy)
    snapshots = _Snapshots()
    history = keras_model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0, callbacks=[snapshots])

    opt, topt = engine_opt(engine.parameters()), torch_opt(reference.parameters())
    losses_seen = []
    for step, start in enumerate(range(0, 12, 4)):
        xb, yb = x[start:start + 4], y[start:start + 4]
        loss = F.cross_entropy(engine(ganglion.tensor(xb)), ganglion.tensor(yb)) + 0.01 * (engine[2].weight ** 2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        tloss = torch.nn.functional.cross_entropy(reference(torch.from_numpy(xb)), torch.from_numpy(yb)) + \
            0.01 * (reference[2].weight ** 2).sum()
        topt.zero_grad()
        tloss.backward()
        topt.step()
        losses_seen.append(loss.item())
        for i, layer in enumerate([engine[0], engine[2], engine[4]]):  # step for step
            np.testing.assert_allclose(snapshots.weights[step][2 * i], layer.weight.detach().numpy().T, rtol=1e-5, atol=1e-7)
            np.testing.assert_allclose(snapshots.weights[step][2 * i + 1], layer.bias.detach().numpy(), rtol=1e-5, atol=1e-7)
    for i, layer in enumerate([reference[0], reference[2], reference[4]]):
        np.testing.assert_allclose(keras_model.get_weights()[2 * i], layer.weight.detach().numpy().T, rtol=1e-4,
                                   atol=1e-6)
    np.testing.assert_allclose(history.history["loss"][0], np.mean(losses_seen), rtol=1e-5)


@pytest.mark.parametrize("loss, output_activation, make_y", [
    ("categorical_crossentropy", "softmax", lambda labels: np.eye(3, dtype=np.float32)[labels]),
    (losses.CategoricalCrossentropy(label_smoothing=0.1), "softmax",
     lambda labels: np.eye(3, dtype=np.float32)[labels]),
    ("sparse_categorical_crossentropy", "softmax", lambda labels: labels),
    ("sparse_categorical_crossentropy", "softmax", lambda labels: labels.reshape(-1, 1)),
    ("binary_crossentropy", "sigmoid", lambda labels: np.eye(3, dtype=np.float32)[labels]),
    (losses.BinaryCrossentropy(label_smoothing=0.2), "sigmoid", lambda labels: np.eye(3, dtype=np.float32)[labels]),
])
@pytest.mark.parametrize("weighted", [False, True])
def test_logits_fast_path_equals_the_probability_path(loss, output_activation, make_y, weighted):
    """With a graph the loss reads the softmax/sigmoid's logits; without one (evaluation) the probabilities. Values
    and gradients match each other and PyTorch."""
    x, labels, _ = _data(6)
    y = make_y(labels)
    sw = np.linspace(0.5, 2.0, 6).astype(np.float32) if weighted else None
    ganglion.manual_seed(0)
    inputs = Input(shape=(4,))
    model = Model(inputs, Dense(3, activation=output_activation)(inputs))
    model.compile(optimizer="sgd", loss=loss)
    xt, yt = ganglion.tensor(x), ganglion.tensor(y)
    swt = None if sw is None else ganglion.tensor(sw)
    pred = model(xt, training=True)
    fast = model.compute_loss(y=yt, y_pred=pred, sample_weight=swt)
    assert pred._node is not None and fast._node is not pred._node
    with ganglion.no_grad():
        slow = model.compute_loss(y=yt, y_pred=model(xt), sample_weight=swt)
    np.testing.assert_allclose(fast.item(), slow.item(), rtol=1e-5)
    fast.backward()
    kernel_grad = model.layers[1].linear.weight.grad.numpy()

    w = torch.from_numpy(model.layers[1].linear.weight.detach().numpy().copy()).requires_grad_()
    b = torch.from_numpy(model.layers[1].linear.bias.detach().numpy().copy())
    logits = torch.from_numpy(x) @ w.T + b
    smoothing = getattr(loss, "_fn_kwargs", {}).get("label_smoothing", 0.0)
    if output_activation == "softmax":
        target = torch.from_numpy(np.asarray(labels))
        per = torch.nn.functional.cross_entropy(logits, torch.from_numpy(y) if y.ndim == 2 and y.shape[1] == 3 else
                                                target, reduction="none", label_smoothing=smoothing)
    else:
        soft = torch.from_numpy(y) * (1 - smoothing) + 0.5 * smoothing
        per = torch.nn.functional.binary_cross_entropy_with_logits(logits, soft, reduction="none").mean(-1)
    total = (per * (torch.from_numpy(sw) if weighted else 1)).mean()
    total.backward()
    np.testing.assert_allclose(fast.item(), total.item(), rtol=1e-5)
    np.testing.assert_allclose(kernel_grad, w.grad.numpy(), rtol=1e-4, atol=1e-6)


def test_class_weight_is_sample_weight_by_class():
    x, labels, y = _data(12)
    class_weight = {0: 1.0, 1: 3.0, 2: 0.5}
    results = []
    for kwargs in ({"class_weight": class_weight},
                   {"sample_weight": np.array([class_weight[c] for c in labels], dtype=np.float32)}):
        model = _keras_model(l2=0.0)
        model.compile(optimizer=optimizers.SGD(0.1), loss="categorical_crossentropy")
        history = model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0, **kwargs)
        results.append((history.history["loss"], model.get_weights()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-6)
    for a, b in zip(results[0][1], results[1][1]):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_regularization_is_part_of_the_loss():
    x, _, y = _data(8)
    model = _keras_model(l2=0.5)
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    kernel = model.layers[1].get_weights()[0]
    penalty = 0.5 * float((kernel.astype(np.float64) ** 2).sum())
    with_penalty = model.evaluate(x, y, verbose=0, batch_size=8)
    plain = float(np.mean(-np.log((model.predict(x, verbose=0) * y).sum(axis=1))))
    np.testing.assert_allclose(with_penalty, plain + penalty, rtol=1e-5)
    assert len(model.losses) == 1 and abs(model.losses[0].item() - penalty) < 1e-4 * penalty
