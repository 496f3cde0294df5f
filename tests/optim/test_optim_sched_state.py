"""Schedules' bookkeeping: state_dict()/load_state_dict() resume exactly (from ganglion's state and from PyTorch's),
get_last_lr(), the step-order and get_lr() warnings, step(epoch)'s closed form, the notes' inverse-time and
piecewise-constant decays by their formulas, and the errors for bad arguments."""

import copy
import math
import warnings

import pytest
import torch
import torch.optim.lr_scheduler as torch_schedules

import ganglion as g
from ganglion import nn, optim
from ganglion.optim import lr_scheduler as schedules
from optim_table import OPTIMIZER_PAIRS
from sched_table import IDS, ROWS


def _optimizer(row, framework="ganglion"):
    _, opt_name, kwargs = row[:3]
    cls = OPTIMIZER_PAIRS[opt_name][0 if framework == "ganglion" else 1]
    if framework == "ganglion":
        params = [nn.Parameter(g.ones(2))], [nn.Parameter(g.ones(3))]
    else:
        params = [torch.nn.Parameter(torch.ones(2))], [torch.nn.Parameter(torch.ones(3))]
    return cls([{"params": params[0]}, {"params": params[1], "lr": kwargs["lr"] * 0.4}], **kwargs)


def _run(opt, sched, steps):
    lrs = []
    for _ in range(steps):
        opt.step()
        sched.step()
        lrs.append(list(sched.get_last_lr()))
    return lrs


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_resume_from_state_dict_reproduces_the_uninterrupted_schedule(row):
    make = row[3]
    opt = _optimizer(row)
    sched = make(schedules, opt)
    _run(opt, sched, 70)
    saved_opt, saved_sched = opt.state_dict(), copy.deepcopy(sched.state_dict())
    expected = _run(opt, sched, 60)

    opt2 = _optimizer(row)
    sched2 = make(schedules, opt2)  # built fresh (its own epoch 0), then overwritten by the saved state
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved_sched)
    assert getattr(sched2, "last_epoch", 70) == 70  # (ChainedScheduler has no epoch of its own, as in PyTorch)
    assert _run(opt2, sched2, 60) == expected


@pytest.mark.parametrize("row", [r for r in ROWS if len(r) == 4], ids=[r[0] for r in ROWS if len(r) == 4])
def test_pytorch_scheduler_state_loads_into_ganglion(row):
    """Train the schedule in PyTorch, load its optimizer and scheduler state into ganglion, and go on identically."""
    make = row[3]
    theirs = _optimizer(row, "torch")
    sched_t = make(torch_schedules, theirs)
    _run(theirs, sched_t, 70)
    saved_opt, saved_sched = theirs.state_dict(), copy.deepcopy(sched_t.state_dict())
    ours = _optimizer(row)
    sched = make(schedules, ours)
    ours.load_state_dict(saved_opt)
    sched.load_state_dict(saved_sched)
    assert _run(ours, sched, 60) == _run(theirs, sched_t, 60)


def test_state_dict_holds_no_optimizer_and_no_plain_functions():
    opt = optim.SGD([nn.Parameter(g.ones(2))], lr=0.1)

    class Decay:  # a callable object: its attributes are saved, as in PyTorch
        def __init__(self):
            self.rate = 0.5

        def __call__(self, epoch):
            return self.rate**epoch

    sched = schedules.LambdaLR(opt, [Decay()])
    state = sched.state_dict()
    assert "optimizer" not in state and state["lr_lambdas"] == [{"rate": 0.5}]
    assert schedules.LambdaLR(opt, lambda e: 1.0).state_dict()["lr_lambdas"] == [None]
    other = schedules.LambdaLR(opt, [Decay()])
    state["lr_lambdas"] = [{"rate": 0.25}]
    other.load_state_dict(state)
    assert other.lr_lambdas[0].rate == 0.25


# ------------------------------------------------------------------------------------------- get_last_lr, order
def test_get_last_lr_after_construction_is_the_first_epochs_lr():
    opt = optim.SGD([{"params": [nn.Parameter(g.ones(2))]}, {"params": [nn.Parameter(g.ones(2))], "lr": 0.5}],
                    lr=0.1)
    sched = schedules.LinearLR(opt, start_factor=0.5, total_iters=4)
    assert sched.get_last_lr() == [0.05, 0.25]
    assert [gr["initial_lr"] for gr in opt.param_groups] == [0.1, 0.5]
    assert sched.base_lrs == [0.1, 0.5] and sched.last_epoch == 0


def test_scheduler_stepped_before_the_optimizer_warns_like_torch():
    opt = optim.SGD([nn.Parameter(g.ones(2))], lr=0.1)
    sched = schedules.StepLR(opt, step_size=1)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()
    opt2 = optim.SGD([nn.Parameter(g.ones(2))], lr=0.1)
    sched2 = schedules.StepLR(opt2, step_size=1)
    opt2.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched2.step()  # the right order: no warning
        sched2.step()


def test_get_lr_outside_step_warns_and_get_last_lr_does_not():
    opt = optim.SGD([nn.Parameter(g.ones(2))], lr=0.1)
    sched = schedules.ExponentialLR(opt, gamma=0.5)
    with pytest.warns(UserWarning, match="get_last_lr"):
        sched.get_lr()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert sched.get_last_lr() == [0.1]


CLOSED_FORMS = [
    ("step", lambda S, o: S.StepLR(o, step_size=7, gamma=0.5)),
    ("multistep", lambda S, o: S.MultiStepLR(o, milestones=[3, 9, 9], gamma=0.5)),
    ("constant", lambda S, o: S.ConstantLR(o, factor=0.25, total_iters=6)),
    ("linear", lambda S, o: S.LinearLR(o, start_factor=0.2, total_iters=10)),
    ("exponential", lambda S, o: S.ExponentialLR(o, gamma=0.9)),
    ("polynomial", lambda S, o: S.PolynomialLR(o, total_iters=12, power=1.5)),
    ("cosine", lambda S, o: S.CosineAnnealingLR(o, T_max=10, eta_min=0.01)),
    ("warm-restarts", lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=4, T_mult=2)),
]


@pytest.mark.parametrize("name,make", CLOSED_FORMS, ids=[c[0] for c in CLOSED_FORMS])
def test_step_with_an_epoch_jumps_there_like_torch(name, make):
    ours = optim.SGD([nn.Parameter(g.ones(2))], lr=0.1)
    theirs = torch.optim.SGD([torch.nn.Parameter(torch.ones(2))], lr=0.1)
    sched, sched_t = make(schedules, ours), make(torch_schedules, theirs)
    ours.step()
    for epoch in (5, 2, 11, 17, 3.5 if name == "warm-restarts" else 8):
        if name == "warm-restarts":  # its step(epoch) is the documented way to step by fractions: no warning
            sched.step(epoch)
        else:
            with pytest.warns(UserWarning, match="epoch"):
                sched.step(epoch)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sched_t.step(epoch)
        assert sched.get_last_lr() == pytest.approx(sched_t.get_last_lr(), rel=1e-12)
        assert sched.last_epoch == sched_t.last_epoch


# ------------------------------------------------------------------------------------------- the notes' decays
def test_inverse_time_decay_is_a0_over_1_plus_kt():
    opt = optim.SGD([nn.Parameter(g.ones(2))], lr=0.2)
    sched = schedules.InverseTimeLR(opt, decay_rate=0.1)
    for t in range(1, 60):
        opt.step()
        sched.step()
        assert sched.get_last_lr()[0] == pytest.approx(0.2 / (1 + 0.1 * t), rel=1e-12)
    stairs = schedules.InverseTimeLR(optim.SGD([nn.Parameter(g.ones(2))], lr=1.0), decay_rate=1.0, decay_steps=10,
                                     staircase=True)
    lrs = [stairs.get_last_lr()[0]]
    for _ in range(30):
        stairs.optimizer.step()
        stairs.step()
        lrs.append(stairs.get_last_lr()[0])
    assert lrs[:10] == [1.0] * 10 and lrs[10:20] == pytest.approx([0.5] * 10) and lrs[20:30] == pytest.approx(
        [1 / 3] * 10)


def test_piecewise_constant_decay_takes_the_value_of_each_piece():
    opt = optim.SGD([{"params": [nn.Parameter(g.ones(2))]}, {"params": [nn.Parameter(g.ones(2))]}], lr=0.3)
    sched = schedules.PiecewiseConstantLR(opt, boundaries=[2, 5], values=[[0.1, 0.01, 0.001], [1.0, 0.5, 0.25]])
    seen = [sched.get_last_lr()]
    for _ in range(7):
        opt.step()
        sched.step()
        seen.append(sched.get_last_lr())
    # epoch:      0         1         2          3           4           5           6            7
    assert [s[0] for s in seen] == [0.1, 0.1, 0.1, 0.01, 0.01, 0.01, 0.001, 0.001]
    assert [s[1] for s in seen] == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25]


# ----------------------------------------------------------------------------------------------------- errors
def _sgd(momentum=0.9):
    return optim.SGD([nn.Parameter(g.ones(2))], lr=0.1, momentum=momentum)


BAD = [
    ("not-an-optimizer", lambda: schedules.StepLR("sgd", step_size=1), TypeError, "not an Optimizer"),
    ("step_size-0", lambda: schedules.StepLR(_sgd(), step_size=0), ValueError, "step_size"),
    ("constant-factor", lambda: schedules.ConstantLR(_sgd(), factor=2.0), ValueError, "factor"),
    ("linear-start_factor", lambda: schedules.LinearLR(_sgd(), start_factor=0), ValueError, "start_factor"),
    ("linear-end_factor", lambda: schedules.LinearLR(_sgd(), end_factor=1.5), ValueError, "end_factor"),
    ("lambda-count", lambda: schedules.LambdaLR(_sgd(), [lambda e: 1, lambda e: 1]), ValueError, "lr_lambdas"),
    ("multiplicative-not-callable", lambda: schedules.MultiplicativeLR(_sgd(), 0.9), TypeError, "function"),
    ("warm-restarts-T_0", lambda: schedules.CosineAnnealingWarmRestarts(_sgd(), T_0=0), ValueError, "T_0"),
    ("warm-restarts-T_mult", lambda: schedules.CosineAnnealingWarmRestarts(_sgd(), T_0=2, T_mult=0), ValueError,
     "T_mult"),
    ("onecycle-no-length", lambda: schedules.OneCycleLR(_sgd(), max_lr=0.1), ValueError, "total_steps"),
    ("onecycle-pct_start", lambda: schedules.OneCycleLR(_sgd(), max_lr=0.1, total_steps=10, pct_start=1.5),
     ValueError, "pct_start"),
    ("onecycle-anneal", lambda: schedules.OneCycleLR(_sgd(), max_lr=0.1, total_steps=10, anneal_strategy="exp"),
     ValueError, "anneal_strategy"),
    ("onecycle-max_lr-count", lambda: schedules.OneCycleLR(_sgd(), max_lr=[0.1, 0.2], total_steps=10), ValueError,
     "max_lr"),
    ("cyclic-mode", lambda: schedules.CyclicLR(_sgd(), 0.01, 0.1, mode="sawtooth"), ValueError, "mode"),
    ("cyclic-no-momentum", lambda: schedules.CyclicLR(optim.Adagrad([nn.Parameter(g.ones(2))]), 0.01, 0.1),
     ValueError, "momentum"),
    ("plateau-factor", lambda: schedules.ReduceLROnPlateau(_sgd(), factor=1.0), ValueError, "factor"),
    ("plateau-mode", lambda: schedules.ReduceLROnPlateau(_sgd(), mode="lowest"), ValueError, "mode"),
    ("plateau-threshold_mode", lambda: schedules.ReduceLROnPlateau(_sgd(), threshold_mode="pct"), ValueError,
     "threshold mode"),
    ("plateau-min_lr-count", lambda: schedules.ReduceLROnPlateau(_sgd(), min_lr=[0.1, 0.2]), ValueError, "min_lr"),
    ("inverse-time-rate", lambda: schedules.InverseTimeLR(_sgd(), decay_rate=-1), ValueError, "decay_rate"),
    ("inverse-time-steps", lambda: schedules.InverseTimeLR(_sgd(), decay_rate=1, decay_steps=0), ValueError,
     "decay_steps"),
    ("piecewise-count", lambda: schedules.PiecewiseConstantLR(_sgd(), [1, 2], [0.1, 0.01]), ValueError,
     "len\\(boundaries\\) \\+ 1"),
    ("piecewise-order", lambda: schedules.PiecewiseConstantLR(_sgd(), [5, 2], [0.1, 0.01, 0.001]), ValueError,
     "increasing"),
    ("resume-without-initial_lr", lambda: schedules.StepLR(_sgd(), step_size=2, last_epoch=5), KeyError,
     "initial_lr"),
]


@pytest.mark.parametrize("name,make,error,match", BAD, ids=[b[0] for b in BAD])
def test_bad_arguments_raise_a_clear_error(name, make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_composite_schedules_check_their_members():
    opt, other = _sgd(), _sgd()
    with pytest.raises(ValueError, match="one milestone fewer"):
        schedules.SequentialLR(opt, [schedules.StepLR(opt, 2), schedules.StepLR(opt, 3)], milestones=[2, 4])
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        schedules.SequentialLR(opt, [schedules.StepLR(opt, 2), schedules.ReduceLROnPlateau(opt)], milestones=[2])
    with pytest.raises(ValueError, match="same optimizer"):
        schedules.ChainedScheduler([schedules.StepLR(opt, 2), schedules.StepLR(other, 2)])
    with pytest.raises(ValueError, match="at least one"):
        schedules.ChainedScheduler([])


def test_onecycle_stepped_past_its_length_raises():
    opt = _sgd()
    sched = schedules.OneCycleLR(opt, max_lr=0.1, total_steps=3)
    for _ in range(3):
        opt.step()
        sched.step()
    with pytest.raises(ValueError, match="total steps is 3"):
        sched.step()
    assert math.isfinite(sched.get_last_lr()[0])
