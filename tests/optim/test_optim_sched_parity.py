"""Learning-rate schedules against torch.optim.lr_scheduler: the same lrs (and cycled momenta) at every step, and the
same 200-step training trajectory. The schedules are listed in sched_table.py: adding one is adding a row there."""

import numpy as np
import pytest
import torch
import torch.optim.lr_scheduler as torch_schedules

import ganglion as g
from ganglion import nn, optim
from ganglion.optim import lr_scheduler as schedules
from optim_table import OPTIMIZER_PAIRS
from sched_table import IDS, ROWS, reference

STEPS = 200


def _groups(first, second, lr):
    return [{"params": first}, {"params": second, "lr": lr * 0.4}]


def _momenta(opt):
    return [group["betas"][0] if "betas" in group else group["momentum"] for group in opt.param_groups]


def build(row, ours_params, theirs_params):
    """(ganglion optimizer, its schedule, PyTorch optimizer, its schedule) for ``row``."""
    _, opt_name, kwargs, make = row[:4]
    ours_cls, theirs_cls = OPTIMIZER_PAIRS[opt_name]
    ours = ours_cls(_groups(*ours_params, kwargs["lr"]), **kwargs)
    theirs = theirs_cls(_groups(*theirs_params, kwargs["lr"]), **kwargs)
    return ours, make(schedules, ours), theirs, reference(row)(torch_schedules, theirs)


def assert_lrs_equal(ours, theirs, exact):
    if exact:
        assert ours == theirs
    else:  # a schedule checked against a differently written PyTorch formula
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_lrs_and_momenta_match_torch_at_every_step(row):
    ours_params = [nn.Parameter(g.ones(2))], [nn.Parameter(g.ones(3))]
    theirs_params = [torch.nn.Parameter(torch.ones(2))], [torch.nn.Parameter(torch.ones(3))]
    ours, sched, theirs, sched_t = build(row, ours_params, theirs_params)
    exact = len(row) == 4
    assert_lrs_equal(sched.get_last_lr(), sched_t.get_last_lr(), exact)
    seen = set()
    for _ in range(STEPS):
        ours.step()
        theirs.step()
        sched.step()
        sched_t.step()
        assert_lrs_equal(sched.get_last_lr(), sched_t.get_last_lr(), exact)
        assert_lrs_equal([gr["lr"] for gr in ours.param_groups], [gr["lr"] for gr in theirs.param_groups], exact)
        assert _momenta(ours) == _momenta(theirs)
        seen.add(round(sched.get_last_lr()[0], 12))
    assert len(seen) >= 2  # the schedule did change the lr


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_training_trajectory_with_the_schedule_matches_torch(row, dtype, make_pair, params_close):
    pair = make_pair(dtype)
    ours, sched, theirs, sched_t = build(
        row, (pair.ours.fc1.parameters(), pair.ours.fc2.parameters()),
        (pair.theirs.fc1.parameters(), pair.theirs.fc2.parameters()))
    for _ in range(STEPS):
        for opt, loss, schedule in ((ours, pair.loss_ours, sched), (theirs, pair.loss_theirs, sched_t)):
            opt.zero_grad()
            loss().backward()
            opt.step()
            schedule.step()
    params_close(pair.params_ours(), pair.params_theirs(), dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_reduce_lr_on_plateau_trajectory_matches_torch(dtype, make_pair, params_close):
    """Stepped with the loss each epoch: the lr drops at the same epochs in both."""
    pair = make_pair(dtype)
    kwargs = dict(mode="min", factor=0.5, patience=2, threshold=0.05, cooldown=2, min_lr=[1e-3, 1e-4])
    ours = optim.SGD(_groups(pair.ours.fc1.parameters(), pair.ours.fc2.parameters(), 0.3), lr=0.3, momentum=0.5)
    theirs = torch.optim.SGD(_groups(pair.theirs.fc1.parameters(), pair.theirs.fc2.parameters(), 0.3), lr=0.3,
                             momentum=0.5)
    sched = schedules.ReduceLROnPlateau(ours, **kwargs)
    sched_t = torch_schedules.ReduceLROnPlateau(theirs, **kwargs)
    lrs = []
    for _ in range(STEPS):
        for opt, loss, schedule in ((ours, pair.loss_ours, sched), (theirs, pair.loss_theirs, sched_t)):
            opt.zero_grad()
            value = loss()
            value.backward()
            opt.step()
            schedule.step(value.item())
        assert sched.get_last_lr() == sched_t.get_last_lr()
        assert (sched.best, sched.num_bad_epochs, sched.cooldown_counter) == pytest.approx(
            (sched_t.best, sched_t.num_bad_epochs, sched_t.cooldown_counter), rel=1e-5)
        lrs.append(sched.get_last_lr()[0])
    assert len(set(lrs)) > 2  # it did reduce, more than once
    assert min(lrs) >= 1e-3  # and stopped at min_lr
    params_close(pair.params_ours(), pair.params_theirs(), dtype)


@pytest.mark.parametrize("mode,threshold_mode", [("min", "rel"), ("min", "abs"), ("max", "rel"), ("max", "abs")])
def test_reduce_lr_on_plateau_decisions_match_torch(mode, threshold_mode):
    metrics = [5.0, 4.0, 4.0, 3.99, 3.995, 4.2, 4.1, 2.0, 2.0, 2.0, 2.0, 2.0, 1.99, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 0.5]
    metrics = metrics if mode == "min" else [-m for m in metrics]
    p, tp = nn.Parameter(g.ones(1)), torch.nn.Parameter(torch.ones(1))
    ours, theirs = optim.SGD([p], lr=1.0), torch.optim.SGD([tp], lr=1.0)
    kwargs = dict(mode=mode, threshold_mode=threshold_mode, factor=0.5, patience=1, threshold=0.01, cooldown=1,
                  eps=0.3)
    sched = schedules.ReduceLROnPlateau(ours, **kwargs)
    sched_t = torch_schedules.ReduceLROnPlateau(theirs, **kwargs)
    for m in metrics * 3:
        sched.step(m)
        sched_t.step(m)
        assert sched.get_last_lr() == sched_t.get_last_lr()
        assert (sched.best, sched.num_bad_epochs, sched.cooldown_counter, sched.in_cooldown) == (
            sched_t.best, sched_t.num_bad_epochs, sched_t.cooldown_counter, sched_t.in_cooldown)
    assert sched.get_last_lr()[0] < 1.0
