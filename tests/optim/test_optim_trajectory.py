"""Trajectory parity: every ganglion optimizer follows torch.optim step for step over 200 steps on a small MLP, from
the same weights and data, with each notable flag. One table of configurations; adding one is adding a row (the
prefix of its id names the optimizer, see conftest.OPTIMIZER_PAIRS; Lion's reference is written from the paper)."""

import numpy as np
import pytest
import torch

from ganglion import optim

STEPS = 200

CONFIGS = [
    ("sgd", dict(lr=0.1)),
    ("sgd-momentum", dict(lr=0.05, momentum=0.9)),
    ("sgd-dampening", dict(lr=0.05, momentum=0.9, dampening=0.3)),
    ("sgd-nesterov", dict(lr=0.05, momentum=0.8, nesterov=True)),
    ("sgd-weight_decay", dict(lr=0.1, weight_decay=0.05)),
    ("sgd-momentum-weight_decay", dict(lr=0.05, momentum=0.9, weight_decay=0.01)),
    ("sgd-maximize", dict(lr=0.1, maximize=True)),
    ("sgd-everything", dict(lr=0.03, momentum=0.7, nesterov=True, weight_decay=0.02, maximize=True)),
    ("adam", dict(lr=0.01)),
    ("adam-betas", dict(lr=0.005, betas=(0.8, 0.95))),
    ("adam-beta1-zero", dict(lr=0.003, betas=(0.0, 0.99))),
    ("adam-eps", dict(lr=0.01, eps=1e-3)),
    ("adam-weight_decay", dict(lr=0.01, weight_decay=0.1)),
    ("adam-amsgrad", dict(lr=0.01, amsgrad=True)),
    ("adam-maximize", dict(lr=0.01, maximize=True)),
    ("adam-everything", dict(lr=0.02, betas=(0.85, 0.99), eps=1e-6, weight_decay=0.05, amsgrad=True, maximize=True)),
    ("adam-beta1-small", dict(lr=0.003, betas=(0.3, 0.99))),  # PyTorch's lerp from the other end (weight >= 0.5)
    ("adam-decoupled_weight_decay", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("adamw", dict(lr=0.01)),
    ("adamw-weight_decay", dict(lr=0.01, weight_decay=0.3)),
    ("adamw-amsgrad", dict(lr=0.01, amsgrad=True)),
    ("adamw-maximize", dict(lr=0.01, maximize=True, weight_decay=0.05)),
    ("adagrad", dict(lr=0.1)),
    ("adagrad-lr_decay", dict(lr=0.1, lr_decay=0.05)),
    ("adagrad-initial_accumulator_value", dict(lr=0.1, initial_accumulator_value=0.5)),
    ("adagrad-eps", dict(lr=0.1, eps=1e-3)),
    ("adagrad-weight_decay", dict(lr=0.05, weight_decay=0.1)),
    ("adagrad-maximize", dict(lr=0.1, maximize=True)),
    ("rmsprop", dict(lr=0.003)),
    ("rmsprop-alpha", dict(lr=0.003, alpha=0.95)),
    ("rmsprop-centered", dict(lr=0.003, centered=True)),
    ("rmsprop-momentum", dict(lr=0.002, momentum=0.8)),
    ("rmsprop-centered-momentum", dict(lr=0.002, momentum=0.8, centered=True, eps=1e-6)),
    ("rmsprop-weight_decay", dict(lr=0.003, weight_decay=0.1)),
    ("rmsprop-maximize", dict(lr=0.003, maximize=True)),
    ("adadelta", dict()),
    ("adadelta-rho", dict(lr=0.5, rho=0.7, eps=1e-5)),
    ("adadelta-weight_decay", dict(weight_decay=0.1)),
    ("adadelta-maximize", dict(maximize=True)),
    ("adamax", dict(lr=0.01)),
    ("adamax-betas", dict(lr=0.01, betas=(0.8, 0.99))),
    ("adamax-weight_decay", dict(lr=0.01, weight_decay=0.1)),
    ("adamax-maximize", dict(lr=0.01, maximize=True)),
    ("nadam", dict(lr=0.003)),
    ("nadam-momentum_decay", dict(lr=0.003, momentum_decay=0.01)),
    ("nadam-weight_decay", dict(lr=0.003, weight_decay=0.1)),
    ("nadam-decoupled_weight_decay", dict(lr=0.003, weight_decay=0.1, decoupled_weight_decay=True)),
    ("nadam-maximize", dict(lr=0.003, maximize=True)),
    ("radam", dict(lr=0.01)),
    ("radam-weight_decay", dict(lr=0.01, weight_decay=0.1)),
    ("radam-decoupled_weight_decay", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("radam-maximize", dict(lr=0.01, maximize=True)),
    ("lion", dict(lr=1e-3)),
    ("lion-betas", dict(lr=1e-3, betas=(0.8, 0.9))),
    ("lion-weight_decay", dict(lr=1e-3, weight_decay=0.5)),
    ("lion-maximize", dict(lr=1e-3, maximize=True)),
]
IDS = [c[0] for c in CONFIGS]


def train(pair, ours, theirs, steps, sign=1.0):
    for _ in range(steps):
        ours.zero_grad()
        pair.loss_ours(sign=sign).backward()
        ours.step()
        theirs.zero_grad()
        pair.loss_theirs(sign=sign).backward()
        theirs.step()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,kwargs", CONFIGS, ids=IDS)
def test_trajectory_matches_torch(name, kwargs, dtype, make_pair, params_close, optimizer_pair):
    pair = make_pair(dtype)
    start = pair.params_ours()
    ours, theirs = optimizer_pair(name, kwargs, pair)
    # maximize climbs the objective, so it is given the negated loss: both then descend the same landscape
    sign = -1.0 if kwargs.get("maximize") else 1.0
    first_loss = pair.loss_ours().item()
    train(pair, ours, theirs, STEPS, sign)
    end = pair.params_ours()
    params_close(end, pair.params_theirs(), dtype)
    assert all(p.dtype == np.dtype(dtype) for p in end.values())
    assert any(not np.allclose(end[k], start[k]) for k in start)  # the run did move the weights
    assert pair.loss_ours().item() < first_loss  # and learned something


@pytest.mark.parametrize("name,kwargs", [CONFIGS[1], CONFIGS[8]], ids=["sgd-momentum", "adam"])
def test_trajectory_parity_also_holds_step_by_step(name, kwargs, make_pair, params_close, optimizer_pair):
    """Intermediate points too, not only the end (a wrong rule can land near the same minimum)."""
    pair = make_pair(np.float64)
    ours, theirs = optimizer_pair(name, kwargs, pair)
    for _ in range(10):
        train(pair, ours, theirs, 1)
        params_close(pair.params_ours(), pair.params_theirs(), np.float64)


@pytest.mark.parametrize("name,kwargs", [CONFIGS[2], CONFIGS[11]], ids=["sgd-dampening", "adam-eps"])
def test_a_changed_hyperparameter_changes_the_trajectory(name, kwargs, make_pair, optimizer_pair):
    """Guard: the parity table would notice if a hyperparameter were ignored."""
    a, b = make_pair(np.float64), make_pair(np.float64)
    opt_a, _ = optimizer_pair(name, kwargs, a)
    opt_b, _ = optimizer_pair(name, {k: v for k, v in kwargs.items() if k not in ("dampening", "eps")}, b)
    for pair, opt in ((a, opt_a), (b, opt_b)):
        for _ in range(5):
            opt.zero_grad()
            pair.loss_ours().backward()
            opt.step()
    assert not np.allclose(a.params_ours()["fc1.weight"], b.params_ours()["fc1.weight"], rtol=1e-8, atol=0)


def test_param_groups_with_different_hyperparameters(make_pair, params_close):
    for dtype in (np.float32, np.float64):
        pair = make_pair(dtype)
        groups = lambda m: [  # noqa: E731
            {"params": m.fc1.parameters(), "lr": 0.1, "momentum": 0.9},
            {"params": m.fc2.parameters()},
        ]
        ours = optim.SGD(groups(pair.ours), lr=0.01)
        theirs = torch.optim.SGD(groups(pair.theirs), lr=0.01)
        assert [gr["lr"] for gr in ours.param_groups] == [0.1, 0.01]
        assert [gr["momentum"] for gr in ours.param_groups] == [0.9, 0]
        train(pair, ours, theirs, STEPS)
        params_close(pair.params_ours(), pair.params_theirs(), dtype)

        pair = make_pair(dtype)
        groups = lambda m: [  # noqa: E731
            {"params": [m.fc1.weight], "lr": 0.005, "betas": (0.8, 0.95)},
            {"params": [m.fc1.bias, m.fc2.weight], "amsgrad": True},
            {"params": [m.fc2.bias], "lr": 0.0},
        ]
        ours = optim.Adam(groups(pair.ours), lr=0.01)
        theirs = torch.optim.Adam(groups(pair.theirs), lr=0.01)
        bias_before = pair.params_ours()["fc2.bias"]
        train(pair, ours, theirs, STEPS)
        params_close(pair.params_ours(), pair.params_theirs(), dtype)
        np.testing.assert_array_equal(pair.params_ours()["fc2.bias"], bias_before)  # lr 0 really freezes it


def test_add_param_group_later(make_pair, params_close):
    pair = make_pair(np.float64)
    ours = optim.Adam(pair.ours.fc1.parameters(), lr=0.01)
    theirs = torch.optim.Adam(pair.theirs.fc1.parameters(), lr=0.01)
    train(pair, ours, theirs, 20)
    ours.add_param_group({"params": pair.ours.fc2.parameters(), "lr": 0.05})
    theirs.add_param_group({"params": pair.theirs.fc2.parameters(), "lr": 0.05})
    train(pair, ours, theirs, 50)
    params_close(pair.params_ours(), pair.params_theirs(), np.float64)


@pytest.mark.parametrize("set_to_none", [True, False])
@pytest.mark.parametrize("name,kwargs", [CONFIGS[1], CONFIGS[3], CONFIGS[8], CONFIGS[13]],
                         ids=["sgd-momentum", "sgd-nesterov", "adam", "adam-amsgrad"])
def test_parameters_without_gradient_on_some_steps(name, kwargs, set_to_none, make_pair, params_close, optimizer_pair):
    """A branch used only every third step. With set_to_none its grad is None in between and the optimizer skips
    it (no update, no step count, momentum frozen), exactly like torch; with zeroed grads it keeps moving."""
    pair = make_pair(np.float64, branch=True)
    ours, theirs = optimizer_pair(name, kwargs, pair)
    extra_before = pair.params_ours()["extra.weight"]
    for step in range(60):
        use = step % 3 == 0
        ours.zero_grad(set_to_none=set_to_none)
        pair.loss_ours(use_branch=use).backward()
        theirs.zero_grad(set_to_none=set_to_none)
        pair.loss_theirs(use_branch=use).backward()
        if not use:
            assert (pair.ours.extra.weight.grad is None) == set_to_none
            assert (pair.theirs.extra.weight.grad is None) == set_to_none
        ours.step()
        theirs.step()
        params_close(pair.params_ours(), pair.params_theirs(), np.float64)
    assert not np.allclose(pair.params_ours()["extra.weight"], extra_before)
    if name.startswith("adam"):
        steps = {k: float(v["step"]) for k, v in ours.state_dict()["state"].items()}
        steps_t = {k: float(v["step"]) for k, v in theirs.state_dict()["state"].items()}
        assert steps == steps_t
        assert steps[4] == (20 if set_to_none else 60)  # extra.weight is parameter 4


def test_never_used_parameter_gets_no_state_and_does_not_move(make_pair, optimizer_pair):
    pair = make_pair(np.float64, branch=True)
    ours, theirs = optimizer_pair("adam", dict(lr=0.01), pair)
    before = pair.params_ours()
    train_steps = 5
    for _ in range(train_steps):
        for opt, loss in ((ours, pair.loss_ours), (theirs, pair.loss_theirs)):
            opt.zero_grad()
            loss(use_branch=False).backward()
            opt.step()
    after = pair.params_ours()
    np.testing.assert_array_equal(after["extra.weight"], before["extra.weight"])
    np.testing.assert_array_equal(after["extra.bias"], before["extra.bias"])
    assert sorted(ours.state_dict()["state"]) == sorted(theirs.state_dict()["state"]) == [0, 1, 2, 3]


def test_step_with_closure_returns_the_loss(make_pair, params_close, optimizer_pair):
    pair = make_pair(np.float64)
    ours, theirs = optimizer_pair("sgd-momentum", dict(lr=0.05, momentum=0.9), pair)

    def closure_ours():
        ours.zero_grad()
        loss = pair.loss_ours()
        loss.backward()
        return loss

    def closure_theirs():
        theirs.zero_grad()
        loss = pair.loss_theirs()
        loss.backward()
        return loss

    for _ in range(20):
        loss, loss_t = ours.step(closure_ours), theirs.step(closure_theirs)
        np.testing.assert_allclose(loss.item(), loss_t.item(), rtol=1e-10)
    params_close(pair.params_ours(), pair.params_theirs(), np.float64)
