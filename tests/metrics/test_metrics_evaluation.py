"""``metrics.evaluate`` (training error beside test error, with the fit diagnosis) and ``epoch_errors`` on models
of both faces; the errors are checked against predictions made here by hand."""

import numpy as np
import pytest

import ganglion as G
from ganglion import metrics, nn, optim
from ganglion.keras import layers, losses, models, utils


def _blobs(n, seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    centres = np.array([[2.0, 0.0], [-2.0, 0.0], [0.0, 2.5]])
    return (centres[y] + rng.standard_normal((n, 2)) * 0.8).astype(np.float32), y


def _train_module(model, X, y, steps=150, lr=0.05):
    opt = optim.Adam(model.parameters(), lr=lr)
    x, t = G.tensor(X), G.tensor(y)
    for _ in range(steps):
        loss = nn.functional.cross_entropy(model(x), t)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model


def test_evaluate_a_pytorch_face_classifier_matches_its_predictions_and_restores_train_mode():
    G.manual_seed(0)
    (X_tr, y_tr), (X_te, y_te) = _blobs(120, 1), _blobs(80, 2)
    model = _train_module(nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 3)), X_tr, y_tr)
    model.train()
    report = metrics.evaluate(model, train=(X_tr, y_tr), test=(X_te, y_te))
    assert model.training  # the mode it had
    model.eval()
    with G.no_grad():
        by_hand = [float((model(G.tensor(X)).argmax(dim=1).numpy() != y).mean()) for X, y in ((X_tr, y_tr), (X_te, y_te))]
    assert (report.train_error, report.test_error) == pytest.approx(by_hand, abs=1e-12)
    assert report.test_accuracy > 0.85 and (report.n_train, report.n_test) == (120, 80)
    assert report.diagnosis.verdict == "good fit" and "training" in str(report) and "test" in str(report)


def test_evaluate_a_keras_face_model_and_a_binary_sigmoid_output():
    utils.set_random_seed(0)
    (X_tr, y_tr), (X_te, y_te) = _blobs(90, 3), _blobs(60, 4)
    y_tr, y_te = (y_tr == 0).astype(np.int64), (y_te == 0).astype(np.int64)  # class 0 against the rest
    model = models.Sequential([layers.Input((2,)), layers.Dense(8, activation="relu"),
                               layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.fit(X_tr, y_tr, epochs=30, batch_size=16, verbose=0)
    report = metrics.evaluate(model, (X_tr, y_tr), (X_te, y_te))
    expected = float(((model.predict(X_te, verbose=0)[:, 0] > 0.5).astype(int) != y_te).mean())
    assert report.test_error == pytest.approx(expected, abs=1e-12)
    assert report.test_accuracy > 0.85


def test_a_memorising_model_is_diagnosed_as_overfitting():
    G.manual_seed(0)
    rng = np.random.default_rng(5)
    X = rng.standard_normal((24, 2)).astype(np.float32)
    y = rng.integers(0, 2, 24)  # labels unrelated to X: only memorising fits them
    X_te, y_te = rng.standard_normal((200, 2)).astype(np.float32), rng.integers(0, 2, 200)
    model = _train_module(nn.Sequential(nn.Linear(2, 128), nn.ReLU(), nn.Linear(128, 2)), X, y, steps=600, lr=0.02)
    report = metrics.evaluate(model, (X, y), (X_te, y_te))
    assert report.train_error <= 0.05 and report.test_error >= 0.3
    assert report.diagnosis.overfitting and "overfitting" in str(report)


def test_epoch_errors_from_a_keras_history_find_the_best_epoch():
    utils.set_random_seed(1)
    X, y = _blobs(150, 6)
    model = models.Sequential([layers.Input((2,)), layers.Dense(8, activation="relu"), layers.Dense(3)])
    model.compile(optimizer="adam", loss=losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    history = model.fit(X, y, epochs=8, batch_size=32, validation_split=0.3, verbose=0)
    errors = metrics.epoch_errors(history)
    val_acc = np.asarray(history.history["val_accuracy"])
    np.testing.assert_allclose(errors.val, 1 - val_acc)
    assert errors.measure == "error" and errors.best_epoch == int(np.argmax(val_acc))
    by_loss = metrics.epoch_errors({"loss": [1.0, 0.5, 0.2], "val_loss": [1.1, 0.7, 0.9]})
    assert by_loss.measure == "loss" and by_loss.best_epoch == 1
    assert by_loss.diagnose(max_gap=0.5).overfitting


@pytest.mark.parametrize("call, message", [
    (lambda m: metrics.evaluate(m, train=([[0.0, 0.0]],), test=([[0.0, 0.0]], [0])), "train must be an"),
    (lambda m: metrics.evaluate(m, train=(np.zeros((0, 2), np.float32), []), test=([[0.0, 0.0]], [0])), "empty"),
    (lambda m: metrics.evaluate(m, train=(np.zeros((2, 2), np.float32), [0, 1, 1]), test=([[0.0, 0.0]], [0])),
     "train_y"),
    (lambda m: metrics.epoch_errors({"loss": [1.0]}), "no validation"),
    (lambda m: metrics.epoch_errors({"loss": [1.0, 2.0], "val_loss": [1.0]}), "same number"),
])
def test_bad_input_is_named(call, message):
    with pytest.raises(ValueError, match=message):
        call(nn.Linear(2, 2))
