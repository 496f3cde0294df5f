"""The training doctor names each broken setup (a table of small broken trainings) and stays quiet on healthy
ones (iris and digits MLPs with Adam): no false alarms."""

import math

import numpy as np
import pytest

import ganglion as g
import ganglion.nn as nn
import ganglion.nn.functional as F
from ganglion import optim
from ganglion.data.datasets import load_digits, load_iris
from ganglion.insight import Diagnosis, Doctor


def _data(n=64, features=8, classes=3, seed=0, random_labels=False):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, features)).astype(np.float32)
    y = rng.integers(0, classes, n) if random_labels else np.argmax(x[:, :classes], axis=1)
    return g.tensor(x), g.tensor(y)


def _mlp(sizes, act=nn.ReLU, last=None):
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(act())
    if last is not None:
        layers.append(last)
    return nn.Sequential(*layers)


def _init(model, std, bias=0.0):
    for m in model.modules():
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0.0, std)
            nn.init.constant_(m.bias, bias)
    return model


def _train(model, opt, x, y, steps, loss_fn=F.cross_entropy, target=None, val=None, val_every=10):
    with Doctor(model, optimizer=opt) as doctor:
        for i in range(steps):
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            kwargs = {"target": target} if target is not None else {}
            if val is not None and i % val_every == val_every - 1:
                with g.no_grad():
                    kwargs["val_loss"] = loss_fn(model(val[0]), val[1])
            doctor.step(loss, **kwargs)
            opt.step()
            if not math.isfinite(loss.item()):
                break
    return doctor


def vanishing():
    g.manual_seed(0)
    model = _init(_mlp([8] + [32] * 8 + [3], act=nn.Sigmoid), 0.05)
    return _train(model, optim.SGD(model.parameters(), lr=0.1), *_data(), 20)


def exploding():
    g.manual_seed(0)
    model = _init(_mlp([8, 64, 64, 64, 3]), 3.0)
    return _train(model, optim.SGD(model.parameters(), lr=1e-3), *_data(), 10)


def dead_relus():
    g.manual_seed(0)
    model = _mlp([8, 32, 3])
    nn.init.constant_(model[0].bias, -20.0)
    return _train(model, optim.Adam(model.parameters(), lr=1e-3), *_data(), 25)


def lr_too_high():
    g.manual_seed(0)
    model = _mlp([8, 32, 3])
    return _train(model, optim.SGD(model.parameters(), lr=10.0), *_data(), 30)


def lr_too_low():
    g.manual_seed(0)
    model = _mlp([8, 32, 3])
    return _train(model, optim.SGD(model.parameters(), lr=1e-7), *_data(), 30)


def overfitting():
    g.manual_seed(0)
    model = _mlp([8, 128, 3])
    x, y = _data(16, random_labels=True)
    val = _data(64, seed=1, random_labels=True)
    return _train(model, optim.Adam(model.parameters(), lr=1e-2), x, y, 80, val=val)


def softmax_into_cross_entropy():
    g.manual_seed(0)
    model = _mlp([8, 32, 3], last=nn.Softmax(dim=1))
    return _train(model, optim.Adam(model.parameters(), lr=1e-2), *_data(), 20)


def mse_on_a_softmax_classifier():
    g.manual_seed(0)
    model = _mlp([8, 32, 3], last=nn.Softmax(dim=1))
    x, y = _data()
    one_hot = g.tensor(np.eye(3, dtype=np.float32)[y.numpy()])
    return _train(model, optim.Adam(model.parameters(), lr=1e-2), x, one_hot, 20, loss_fn=F.mse_loss)


def bce_on_class_indices():
    g.manual_seed(0)
    model = _mlp([8, 32, 1])
    x, y = _data()
    y = g.tensor(y.numpy().astype(np.float32).reshape(-1, 1))  # 0, 1, 2: three classes given to a binary loss
    return _train(model, optim.Adam(model.parameters(), lr=1e-2), x, y, 20,
                  loss_fn=F.binary_cross_entropy_with_logits, target=y)


BROKEN = [
    ("vanishing_gradients", vanishing),
    ("exploding_gradients", exploding),
    ("dead_relus", dead_relus),
    ("learning_rate_too_high", lr_too_high),
    ("learning_rate_too_low", lr_too_low),
    ("overfitting", overfitting),
    ("probabilities_into_logit_loss", softmax_into_cross_entropy),
    ("labels_loss_mismatch", mse_on_a_softmax_classifier),
    ("labels_loss_mismatch", bce_on_class_indices),
]


@pytest.mark.parametrize("expected, setup", BROKEN, ids=[f"{name}-{f.__name__}" for name, f in BROKEN])
def test_doctor_names_the_problem(expected, setup):
    doctor = setup()
    report = doctor.report()
    names = [d.name for d in report]
    assert expected in names, str(doctor)
    diagnosis = report[names.index(expected)]
    assert isinstance(diagnosis, Diagnosis) and diagnosis.numbers and diagnosis.remedy
    assert expected in str(doctor) and diagnosis.remedy in str(doctor)


def iris_adam():
    g.manual_seed(0)
    x, y = load_iris(return_X_y=True)
    x = (x - x.mean(0)) / x.std(0)
    x, y = g.tensor(x.astype(np.float32)), g.tensor(y)
    model = _mlp([4, 16, 3])
    return _train(model, optim.Adam(model.parameters(), lr=1e-2), x, y, 100)


def digits_minibatches():
    g.manual_seed(0)
    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32)
    xt, yt = g.tensor(x[:1000]), g.tensor(y[:1000])
    val = (g.tensor(x[1000:1300]), g.tensor(y[1000:1300]))
    model = _mlp([64, 64, 32, 10])
    opt = optim.Adam(model.parameters(), lr=1e-3)
    with Doctor(model, optimizer=opt) as doctor:
        for epoch in range(4):
            for start in range(0, 1000, 100):
                opt.zero_grad()
                loss = F.cross_entropy(model(xt[start:start + 100]), yt[start:start + 100])
                loss.backward()
                doctor.step(loss)
                opt.step()
            with g.no_grad():
                doctor.step(loss, val_loss=F.cross_entropy(model(val[0]), val[1]))
    return doctor


@pytest.mark.parametrize("setup", [iris_adam, digits_minibatches])
def test_healthy_training_gets_no_diagnosis(setup):
    doctor = setup()
    assert doctor.report() == [], str(doctor)
    assert "no problems found" in str(doctor)
    assert doctor.steps > 20


def test_close_removes_the_hooks_and_context_manager_closes():
    model = _mlp([8, 16, 3])
    doctor = Doctor(model)
    x, y = _data()
    model(x)
    seen = doctor.obs.activation_batches()
    doctor.close()
    model(x)
    assert seen == 1 and doctor.obs.activation_batches() == 1
    with Doctor(model) as inner:
        pass
    model(x)
    assert inner.obs.activation_batches() == 0


@pytest.mark.parametrize("kwargs, message", [
    ({"thresholds": {"dead": 0.5}}, "unknown thresholds ['dead']"),
    ({"window": 1}, "window must be an int of at least 2"),
])
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        Doctor(_mlp([2, 2]), **kwargs)
