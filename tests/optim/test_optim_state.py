"""Optimizer bookkeeping: zero_grad, state_dict layout (PyTorch's names), exact resume (from ganglion's and from
PyTorch's saved state), a module moved with .to(dtype), and the errors for bad arguments."""

import copy

import numpy as np
import pytest
import torch

import ganglion as g
from ganglion import nn, optim
from optim_table import OPTIMIZER_PAIRS

SGD_MOMENTUM = dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)
ADAM = dict(lr=0.01, betas=(0.85, 0.99), weight_decay=0.01)
ADAM_AMSGRAD = dict(ADAM, amsgrad=True)
ROWS = [
    ("sgd", dict(lr=0.1)),
    ("sgd-momentum", SGD_MOMENTUM),
    ("adam", ADAM),
    ("adam-amsgrad", ADAM_AMSGRAD),
    ("adamw", dict(lr=0.01, weight_decay=0.1)),
    ("adagrad", dict(lr=0.05, lr_decay=0.01, initial_accumulator_value=0.1)),
    ("rmsprop", dict(lr=0.002, momentum=0.8, centered=True)),
    ("adadelta", dict(lr=0.5, weight_decay=0.01)),
    ("adamax", dict(lr=0.01)),
    ("nadam", dict(lr=0.003, weight_decay=0.01)),
    ("radam", dict(lr=0.01)),
    ("lion", dict(lr=1e-3, weight_decay=0.1)),
]
OPTIMIZERS = [(name, *OPTIMIZER_PAIRS[name.split("-")[0]], kwargs) for name, kwargs in ROWS]
IDS = [o[0] for o in OPTIMIZERS]


def run(pair, opt, steps, framework="ganglion"):
    loss = pair.loss_ours if framework == "ganglion" else pair.loss_theirs
    for _ in range(steps):
        opt.zero_grad()
        loss().backward()
        opt.step()


def set_params(module, values):
    for name, p in module.named_parameters():
        p.array[...] = values[name]


# ------------------------------------------------------------------------------------------------- zero_grad
def test_zero_grad_set_to_none_and_to_zero(make_pair):
    pair = make_pair()
    opt = optim.SGD(pair.ours.parameters(), lr=0.1)
    pair.loss_ours().backward()
    grads = [p.grad for p in pair.ours.parameters()]
    assert all(gr is not None and np.any(gr.numpy() != 0) for gr in grads)
    opt.zero_grad(set_to_none=False)
    for p, before in zip(pair.ours.parameters(), grads):
        assert p.grad is before and np.all(p.grad.numpy() == 0)
    opt.zero_grad()  # set_to_none=True is the default, as in PyTorch
    assert all(p.grad is None for p in pair.ours.parameters())


def test_step_without_gradients_changes_nothing(make_pair):
    pair = make_pair()
    opt = optim.Adam(pair.ours.parameters(), lr=0.1)
    before = pair.params_ours()
    opt.step()
    after = pair.params_ours()
    for k in before:
        np.testing.assert_array_equal(after[k], before[k])
    assert opt.state_dict()["state"] == {}


def test_gradients_accumulate_until_zeroed_like_torch(make_pair, params_close):
    pair = make_pair()
    ours = optim.SGD(pair.ours.parameters(), lr=0.05, momentum=0.5)
    theirs = torch.optim.SGD(pair.theirs.parameters(), lr=0.05, momentum=0.5)
    for step in range(12):
        if step % 3 == 0:  # zero only every third step: the others accumulate
            ours.zero_grad(set_to_none=step % 2 == 0)
            theirs.zero_grad(set_to_none=step % 2 == 0)
        pair.loss_ours().backward()
        pair.loss_theirs().backward()
        ours.step()
        theirs.step()
    params_close(pair.params_ours(), pair.params_theirs(), np.float64)


# ----------------------------------------------------------------------------------------- state_dict layout
@pytest.mark.parametrize("name,ours_cls,theirs_cls,kwargs", OPTIMIZERS, ids=IDS)
def test_state_dict_layout_matches_torch(name, ours_cls, theirs_cls, kwargs, make_pair):
    pair = make_pair()
    ours, theirs = ours_cls(pair.ours.parameters(), **kwargs), theirs_cls(pair.theirs.parameters(), **kwargs)
    run(pair, ours, 3)
    run(pair, theirs, 3, "torch")
    sd, sd_t = ours.state_dict(), theirs.state_dict()
    assert set(sd) == set(sd_t) == {"state", "param_groups"}
    assert sorted(sd["state"]) == sorted(sd_t["state"])
    for index, entry in sd_t["state"].items():
        assert list(sd["state"][index]) == list(entry)  # the same names, in the same order
        for key, value in entry.items():
            ours_value = sd["state"][index][key]
            assert tuple(ours_value.shape) == tuple(value.shape), (index, key)
    assert len(sd["param_groups"]) == len(sd_t["param_groups"]) == 1
    group, group_t = sd["param_groups"][0], sd_t["param_groups"][0]
    assert group["params"] == group_t["params"] == [0, 1, 2, 3]
    assert set(group) <= set(group_t)  # every ganglion hyperparameter is one of PyTorch's
    for key in group:
        assert group[key] == group_t[key], key


def test_state_names():
    p = nn.Parameter(g.ones(3))
    p.grad = g.ones(3)
    expected = [
        (optim.SGD([p], lr=0.1, momentum=0.9), ["momentum_buffer"]),
        (optim.Adam([p]), ["step", "exp_avg", "exp_avg_sq"]),
        (optim.Adam([p], amsgrad=True), ["step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"]),
    ]
    for opt, names in expected:
        opt.step()
        assert list(opt.state_dict()["state"][0]) == names
    plain = optim.SGD([p], lr=0.1)
    plain.step()
    assert plain.state_dict()["state"] == {}  # PyTorch keeps no state for momentum-free SGD


def test_state_dict_is_a_snapshot(make_pair):
    pair = make_pair()
    opt = optim.Adam(pair.ours.parameters(), lr=0.01)
    run(pair, opt, 2)
    sd = opt.state_dict()
    saved = sd["state"][0]["exp_avg"].numpy().copy()
    assert float(sd["state"][0]["step"]) == 2
    run(pair, opt, 2)
    np.testing.assert_array_equal(sd["state"][0]["exp_avg"].numpy(), saved)
    assert float(sd["state"][0]["step"]) == 2
    assert float(opt.state_dict()["state"][0]["step"]) == 4


# ----------------------------------------------------------------------------------------------------- resume
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,ours_cls,theirs_cls,kwargs", OPTIMIZERS, ids=IDS)
def test_resume_from_saved_state_reproduces_the_uninterrupted_run_exactly(name, ours_cls, theirs_cls, kwargs, dtype,
                                                                          make_pair):
    whole = make_pair(dtype)
    opt = ours_cls(whole.ours.parameters(), **kwargs)
    run(whole, opt, 40)
    middle_params, middle_state = whole.params_ours(), opt.state_dict()
    run(whole, opt, 40)

    resumed = make_pair(dtype, seed=1)  # different starting weights, overwritten below
    set_params(resumed.ours, middle_params)
    opt2 = ours_cls(resumed.ours.parameters(), lr=123.0)  # hyperparameters come back from the state too
    opt2.load_state_dict(middle_state)
    assert opt2.param_groups[0]["lr"] == kwargs["lr"]
    run(resumed, opt2, 40)
    final, final2 = whole.params_ours(), resumed.params_ours()
    for k in final:
        np.testing.assert_array_equal(final2[k], final[k], err_msg=k)

    if name != "sgd":  # without the saved state the run differs: the test above can fail
        fresh = make_pair(dtype, seed=1)
        set_params(fresh.ours, middle_params)
        run(fresh, ours_cls(fresh.ours.parameters(), **kwargs), 40)
        assert not np.array_equal(fresh.params_ours()["fc1.weight"], final["fc1.weight"])


@pytest.mark.parametrize("name,ours_cls,theirs_cls,kwargs", OPTIMIZERS, ids=IDS)
def test_resume_after_a_round_trip_through_torch_save(name, ours_cls, theirs_cls, kwargs, make_pair, tmp_path):
    """ganglion's state_dict converted to torch tensors, saved with torch.save and loaded back still resumes exactly."""
    whole = make_pair()
    opt = ours_cls(whole.ours.parameters(), **kwargs)
    run(whole, opt, 30)
    sd = opt.state_dict()
    converted = {
        "state": {i: {k: torch.from_numpy(np.array(v.numpy())) for k, v in e.items()} for i, e in sd["state"].items()},
        "param_groups": sd["param_groups"],
    }
    torch.save({"model": {k: torch.from_numpy(v.numpy().copy()) for k, v in whole.ours.state_dict().items()},
                "optim": converted}, tmp_path / "ckpt.pt")
    run(whole, opt, 30)

    ckpt = torch.load(tmp_path / "ckpt.pt")
    resumed = make_pair(seed=2)
    resumed.ours.load_state_dict(ckpt["model"])
    opt2 = ours_cls(resumed.ours.parameters(), **kwargs)
    opt2.load_state_dict(ckpt["optim"])
    run(resumed, opt2, 30)
    for k, v in whole.params_ours().items():
        np.testing.assert_array_equal(resumed.params_ours()[k], v, err_msg=k)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,ours_cls,theirs_cls,kwargs", OPTIMIZERS, ids=IDS)
def test_load_torch_optimizer_state_into_ganglion(name, ours_cls, theirs_cls, kwargs, dtype, make_pair,
                                                  params_close):
    """Train in torch, move model and optimizer state into ganglion, continue: the same path as torch continuing."""
    pair = make_pair(dtype)
    theirs = theirs_cls(pair.theirs.parameters(), **kwargs)
    run(pair, theirs, 60, "torch")
    pair.ours.load_state_dict(pair.theirs.state_dict())
    ours = ours_cls(pair.ours.parameters(), **kwargs)
    ours.load_state_dict(theirs.state_dict())
    # torch runs on first, on purpose: its state_dict() shares its live tensors, so the load must have copied them
    run(pair, theirs, 60, "torch")
    run(pair, ours, 60)
    params_close(pair.params_ours(), pair.params_theirs(), dtype)
    assert list(ours.state_dict()["state"]) == list(theirs.state_dict()["state"])
    if "step" in theirs.state_dict()["state"].get(0, {}):
        assert float(ours.state_dict()["state"][0]["step"]) == float(theirs.state_dict()["state"][0]["step"]) == 120


@pytest.mark.parametrize("name,ours_cls,theirs_cls,kwargs", OPTIMIZERS, ids=IDS)
def test_loading_an_earlier_state_replaces_the_current_one_like_torch(name, ours_cls, theirs_cls, kwargs, make_pair,
                                                                      params_close):
    """Loading the state saved before the first step (no per-parameter state) forgets the momentum gathered since;
    loading one saved after step 3 rewinds step counts and moments to it."""
    pair = make_pair()
    ours, theirs = ours_cls(pair.ours.parameters(), **kwargs), theirs_cls(pair.theirs.parameters(), **kwargs)
    initial, initial_t = ours.state_dict(), copy.deepcopy(theirs.state_dict())
    for _ in range(2):
        run(pair, ours, 3)
        run(pair, theirs, 3, "torch")
    after3, after3_t = ours.state_dict(), copy.deepcopy(theirs.state_dict())
    run(pair, ours, 5)
    run(pair, theirs, 5, "torch")
    ours.load_state_dict(initial)
    theirs.load_state_dict(initial_t)
    rewound, rewound_t = ours.state_dict()["state"], theirs.state_dict()["state"]
    assert list(rewound) == list(rewound_t)  # empty, or (Adagrad) every parameter back at step 0
    assert all(float(entry.get("step", 0)) == 0 for entry in list(rewound.values()) + list(rewound_t.values()))
    run(pair, ours, 5)
    run(pair, theirs, 5, "torch")
    params_close(pair.params_ours(), pair.params_theirs(), np.float64)
    ours.load_state_dict(after3)
    theirs.load_state_dict(after3_t)
    run(pair, ours, 5)
    run(pair, theirs, 5, "torch")
    params_close(pair.params_ours(), pair.params_theirs(), np.float64)


def test_load_state_dict_checks_group_sizes(make_pair):
    pair = make_pair()
    opt = optim.Adam(pair.ours.parameters())
    run(pair, opt, 1)
    sd = opt.state_dict()
    other = optim.Adam(pair.ours.fc1.parameters())
    with pytest.raises(ValueError, match="group"):
        other.load_state_dict(sd)
    two_groups = optim.Adam([{"params": pair.ours.fc1.parameters()}, {"params": pair.ours.fc2.parameters()}])
    with pytest.raises(ValueError, match="group"):
        two_groups.load_state_dict(sd)


def test_load_state_dict_rejects_a_state_of_the_wrong_size(make_pair):
    pair = make_pair()
    opt = optim.SGD(pair.ours.parameters(), lr=0.1, momentum=0.9)
    run(pair, opt, 1)
    sd = opt.state_dict()
    sd["state"][0]["momentum_buffer"] = g.zeros(5, 5, dtype=g.float64)
    fresh = optim.SGD(pair.ours.parameters(), lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="momentum_buffer"):
        fresh.load_state_dict(sd)
        run(pair, fresh, 1)


# --------------------------------------------------------------------------------------------- .to(dtype)
@pytest.mark.parametrize("name,ours_cls,theirs_cls,kwargs", OPTIMIZERS[1:], ids=IDS[1:])
def test_module_moved_to_another_dtype_keeps_its_optimizer_state(name, ours_cls, theirs_cls, kwargs, make_pair):
    moved = make_pair(np.float32)
    opt = ours_cls(moved.ours.parameters(), **kwargs)
    run(moved, opt, 5)
    state_before = opt.state_dict()
    params_before = moved.params_ours()

    moved.ours.to(g.float64)
    moved.x, moved.y = moved.x.astype(np.float64), moved.y.astype(np.float64)
    assert all(p.dtype == g.float64 for p in moved.ours.parameters())
    state_after_move = opt.state_dict()
    for index, entry in state_before["state"].items():
        for key, value in entry.items():
            np.testing.assert_allclose(np.asarray(state_after_move["state"][index][key].numpy(), dtype=np.float64),
                                       value.numpy().astype(np.float64), rtol=1e-7, err_msg=key)
    run(moved, opt, 5)
    assert all(p.dtype == g.float64 for p in moved.ours.parameters())  # the optimizer did not cast them back
    moved_after = moved.params_ours()
    assert not np.array_equal(moved_after["fc1.weight"], params_before["fc1.weight"].astype(np.float64))

    # the reference: a float64 model and optimizer resumed from the state saved before the move
    ref = make_pair(np.float64)
    set_params(ref.ours, {k: v.astype(np.float64) for k, v in params_before.items()})
    ref.x, ref.y = moved.x, moved.y
    ref_opt = ours_cls(ref.ours.parameters(), **kwargs)
    ref_opt.load_state_dict(state_before)
    run(ref, ref_opt, 5)
    for k, v in ref.params_ours().items():
        np.testing.assert_array_equal(moved_after[k], v, err_msg=k)

    # and it is not what a fresh optimizer would do (the state mattered)
    fresh = make_pair(np.float64)
    set_params(fresh.ours, {k: v.astype(np.float64) for k, v in params_before.items()})
    fresh.x, fresh.y = moved.x, moved.y
    fresh_opt = ours_cls(fresh.ours.parameters(), **kwargs)
    run(fresh, fresh_opt, 5)
    # (Lion's sign step can coincide for a few steps; its moments still differ)
    first_state = next(k for k in opt.state_dict()["state"][0] if k != "step")
    assert not (np.allclose(fresh.params_ours()["fc1.weight"], moved_after["fc1.weight"], rtol=1e-6, atol=0)
                and np.allclose(fresh_opt.state_dict()["state"][0][first_state].numpy(),
                                opt.state_dict()["state"][0][first_state].numpy(), rtol=1e-6, atol=0))


def test_optimizer_still_updates_the_module_after_its_arrays_are_replaced(make_pair):
    pair = make_pair()
    opt = optim.SGD(pair.ours.parameters(), lr=0.1)
    run(pair, opt, 1)
    pair.ours.fc1.weight.data = g.zeros(8, 3, dtype=g.float64)
    run(pair, opt, 1)
    assert np.any(pair.ours.fc1.weight.detach().numpy() != 0)


# --------------------------------------------------------------------------------------------------- errors
def _params():
    return [nn.Parameter(g.ones(2)), nn.Parameter(g.ones(3))]


@pytest.mark.parametrize("make,match", [
    (lambda: optim.SGD(_params(), lr=-0.1), "learning rate"),
    (lambda: optim.Adam(_params(), lr=-1e-3), "learning rate"),
    (lambda: optim.SGD(_params(), lr=0.1, momentum=-0.5), "momentum"),
    (lambda: optim.SGD(_params(), lr=0.1, weight_decay=-1), "weight_decay"),
    (lambda: optim.Adam(_params(), weight_decay=-1), "weight_decay"),
    (lambda: optim.Adam(_params(), eps=-1e-8), "epsilon"),
    (lambda: optim.Adam(_params(), betas=(1.0, 0.999)), "beta"),
    (lambda: optim.Adam(_params(), betas=(0.9, 1.0)), "beta"),
    (lambda: optim.Adam(_params(), betas=(-0.1, 0.999)), "beta"),
    (lambda: optim.Adam(_params(), betas=(0.9, 1.5)), "beta"),
    (lambda: optim.SGD(_params(), lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "[Nn]esterov"),
    (lambda: optim.SGD(_params(), lr=0.1, nesterov=True), "[Nn]esterov"),
    (lambda: optim.SGD(_params(), lr=float("nan")), "learning rate"),
], ids=["sgd-lr", "adam-lr", "momentum", "sgd-wd", "adam-wd", "eps", "beta1=1", "beta2=1", "beta1<0", "beta2>1",
        "nesterov-dampening", "nesterov-no-momentum", "nan-lr"])
def test_bad_hyperparameters_raise_value_error(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_hyperparameter_in_a_group_raises():
    with pytest.raises(ValueError, match="learning rate"):
        optim.SGD([{"params": _params(), "lr": -1.0}], lr=0.1)
    opt = optim.Adam(_params())
    with pytest.raises(ValueError, match="beta"):
        opt.add_param_group({"params": _params(), "betas": (0.9, 1.0)})
    assert len(opt.param_groups) == 1


def test_the_same_parameter_twice_raises():
    p, q = _params()
    with pytest.raises(ValueError, match="duplicate"):
        optim.SGD([p, q, p], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.Adam([{"params": [p]}, {"params": [q, p]}])


@pytest.mark.parametrize("params,error,match", [
    (nn.Parameter(g.ones(2)), TypeError, "Tensor"),
    (5, TypeError, "iterable"),
    (None, TypeError, "iterable"),
    ([], ValueError, "empty"),
    (iter([]), ValueError, "empty"),
    ([g.ones(2), "weight"], TypeError, "str"),
], ids=["bare-tensor", "int", "none", "empty-list", "empty-generator", "not-a-tensor"])
@pytest.mark.parametrize("cls", [optim.SGD, optim.Adam])
def test_bad_params_argument(cls, params, error, match):
    with pytest.raises(error, match=match):
        cls(params, lr=0.1)


def test_non_leaf_tensor_raises():
    x = nn.Parameter(g.ones(2))
    with pytest.raises(ValueError, match="leaf"):
        optim.SGD([x * 2], lr=0.1)


def test_a_generator_of_parameters_is_consumed_once_and_kept(make_pair):
    pair = make_pair()
    opt = optim.SGD(pair.ours.parameters(), lr=0.1)
    assert len(opt.param_groups[0]["params"]) == 4
    before = pair.params_ours()
    run(pair, opt, 1)
    assert all(not np.array_equal(before[k], v) for k, v in pair.params_ours().items())


def test_repr_lists_the_hyperparameters():
    text = repr(optim.Adam(_params(), lr=0.005, amsgrad=True))
    assert text.startswith("Adam (") and "lr: 0.005" in text and "amsgrad: True" in text
