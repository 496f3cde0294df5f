"""LBFGS follows torch.optim.LBFGS step for step (float64, same initial weights): parameters, returned losses and
the global state (func_evals, n_iter, history) after every ``step(closure)``, with and without the strong-Wolfe line
search, on Rosenbrock and on small Linear models; a state_dict taken mid-run (ours or PyTorch's) continues the same
run; bad arguments raise as PyTorch does."""

import numpy as np
import pytest
import torch

import ganglion as g
from ganglion import nn, optim
from ganglion.optim.lbfgs import _cubic_interpolate, _strong_wolfe


# ------------------------------------------------------------------------------------------------- problems
def rosenbrock(x):
    """sum_i 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2, for a ganglion or a torch vector."""
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


def wavy(x):
    """sum_i 2 cos(2 x_i) + sin(3 x_i) + 0.2 x_i^2: many local minima, so the line search zooms and bisects."""
    return ((x * 2).cos() * 2 + (x * 3).sin() + 0.2 * x**2).sum()


class Rosenbrock:
    start = np.array([-1.2, 1.0, -0.5, 0.8, 1.3, -0.7])

    def __init__(self, fn=rosenbrock):
        self.fn = fn
        self.ours = [nn.Parameter(g.from_numpy(self.start.copy()))]
        self.theirs = [torch.nn.Parameter(torch.from_numpy(self.start.copy()))]

    def loss_ours(self):
        return self.fn(self.ours[0])

    def loss_theirs(self):
        return self.fn(self.theirs[0])


class LinearFit:
    """A 5 -> out Linear model: least squares (out=2) or logistic regression (out=1, binary labels)."""

    def __init__(self, logistic=False):
        rng = np.random.default_rng(3)
        out = 1 if logistic else 2
        self.logistic = logistic
        self.model_ours = nn.Linear(5, out).double()
        self.model_theirs = torch.nn.Linear(5, out).double()
        weight, bias = rng.uniform(-0.5, 0.5, (out, 5)), rng.uniform(-0.5, 0.5, out)
        self.model_ours.weight.array[...] = weight
        self.model_ours.bias.array[...] = bias
        with torch.no_grad():
            self.model_theirs.weight.copy_(torch.from_numpy(weight))
            self.model_theirs.bias.copy_(torch.from_numpy(bias))
        self.x = rng.standard_normal((32, 5))
        self.y = (rng.standard_normal((32, 1)) > 0).astype(float) if logistic else rng.standard_normal((32, 2))
        self.ours = list(self.model_ours.parameters())
        self.theirs = list(self.model_theirs.parameters())

    def loss_ours(self):
        out = self.model_ours(g.from_numpy(self.x))
        if self.logistic:
            return nn.functional.binary_cross_entropy_with_logits(out, g.from_numpy(self.y))
        return ((out - g.from_numpy(self.y)) ** 2).mean()

    def loss_theirs(self):
        out = self.model_theirs(torch.from_numpy(self.x))
        if self.logistic:
            return torch.nn.functional.binary_cross_entropy_with_logits(out, torch.from_numpy(self.y))
        return ((out - torch.from_numpy(self.y)) ** 2).mean()


def closures(problem, ours, theirs):
    def closure_ours():
        ours.zero_grad()
        loss = problem.loss_ours()
        loss.backward()
        return loss

    def closure_theirs():
        theirs.zero_grad()
        loss = problem.loss_theirs()
        loss.backward()
        return loss

    return closure_ours, closure_theirs


def assert_same(problem, ours, theirs, loss_ours, loss_theirs, tol=1e-8):
    assert float(loss_ours) == pytest.approx(float(loss_theirs), rel=tol, abs=tol)
    for p, q in zip(problem.ours, problem.theirs):
        np.testing.assert_allclose(p.array, q.detach().numpy(), rtol=tol, atol=tol)
    mine, reference = ours.state[problem.ours[0]], theirs.state[problem.theirs[0]]
    assert set(mine) == set(reference)
    assert (mine["func_evals"], mine["n_iter"]) == (reference["func_evals"], reference["n_iter"])
    if "d" in reference:
        assert len(mine["old_dirs"]) == len(reference["old_dirs"])
        assert float(mine["t"]) == pytest.approx(float(reference["t"]), rel=1e-6, abs=tol)
        np.testing.assert_allclose(mine["d"], reference["d"].numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(mine["prev_flat_grad"], reference["prev_flat_grad"].numpy(), rtol=1e-5, atol=1e-6)


def run_pair(problem, steps, **kwargs):
    ours = optim.LBFGS(problem.ours, **kwargs)
    theirs = torch.optim.LBFGS(problem.theirs, **kwargs)
    closure_ours, closure_theirs = closures(problem, ours, theirs)
    for _ in range(steps):
        loss_ours, loss_theirs = ours.step(closure_ours), theirs.step(closure_theirs)
        assert_same(problem, ours, theirs, loss_ours, loss_theirs)
    return ours, theirs


# ------------------------------------------------------------------------------------------------ parity
@pytest.mark.parametrize("kwargs", [
    dict(line_search_fn="strong_wolfe"),
    dict(line_search_fn="strong_wolfe", history_size=3, max_iter=10),
    dict(lr=0.02, max_iter=15),
    dict(lr=0.02, history_size=2),
], ids=["wolfe", "wolfe-short-history", "fixed-step", "fixed-step-short-history"])
def test_rosenbrock_matches_torch(kwargs):
    problem = Rosenbrock()
    run_pair(problem, steps=3, **kwargs)
    assert rosenbrock(problem.ours[0]).item() < rosenbrock(g.from_numpy(Rosenbrock.start)).item()


@pytest.mark.parametrize("fn,kwargs", [
    (rosenbrock, dict(lr=200, max_iter=10)),  # overshoots: the zoom swaps its ends, interpolates right to left
    (wavy, dict(lr=200, max_iter=10)),  # trial points near the bracket's edges are moved inside
    (wavy, dict(lr=200, max_iter=10, tolerance_change=1e-4)),
], ids=["rosenbrock-long-steps", "wavy", "wavy-tolerance_change"])
def test_line_search_zoom_matches_torch(fn, kwargs):
    run_pair(Rosenbrock(fn), steps=3, line_search_fn="strong_wolfe", **kwargs)


def test_failed_line_search_stays_put_as_torch():
    # max_iter=1 leaves max_eval=1: no evaluation left for the line search, which keeps t=0 once a trial step fails
    problem = Rosenbrock()
    ours, _ = run_pair(problem, steps=25, line_search_fn="strong_wolfe", max_iter=1, history_size=3)
    assert float(ours.state[problem.ours[0]]["t"]) == 0.0


def test_rosenbrock_line_search_reaches_the_minimum_as_torch():
    problem = Rosenbrock()
    ours, _ = run_pair(problem, steps=6, line_search_fn="strong_wolfe", max_iter=50)
    np.testing.assert_allclose(problem.ours[0].array, np.ones(6), atol=1e-5)


@pytest.mark.parametrize("logistic", [False, True], ids=["least-squares", "logistic"])
@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_linear_model_matches_torch(logistic, line_search_fn):
    problem = LinearFit(logistic)
    run_pair(problem, steps=3, max_iter=8, history_size=4, line_search_fn=line_search_fn)


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_one_iteration_per_step_matches_torch(line_search_fn):
    problem = LinearFit(logistic=True)
    ours, _ = run_pair(problem, steps=12, max_iter=1, line_search_fn=line_search_fn)
    assert ours.state[problem.ours[0]]["n_iter"] == 12


def test_max_eval_limits_the_line_search_as_torch():
    problem = Rosenbrock()
    ours, _ = run_pair(problem, steps=3, line_search_fn="strong_wolfe", max_iter=20, max_eval=6)
    assert ours.state[problem.ours[0]]["func_evals"] <= 3 * (6 + 1)  # the line search may end one past max_eval


def test_converged_step_returns_after_one_evaluation():
    problem = LinearFit()
    ours, _ = run_pair(problem, steps=2, tolerance_grad=1e3)
    assert ours.state[problem.ours[0]]["func_evals"] == 2
    assert "d" not in ours.state[problem.ours[0]]


def test_cubic_interpolate_matches_torch():
    from torch.optim.lbfgs import _cubic_interpolate as reference

    rng = np.random.default_rng(5)
    no_minimum = 0
    for _ in range(300):
        x1, f1, g1, x2, f2, g2 = rng.standard_normal(6)
        bounds = tuple(sorted(rng.uniform(-3, 3, 2))) if rng.random() < 0.5 else None
        ours = _cubic_interpolate(x1, f1, np.float64(g1), x2, f2, np.float64(g2), bounds)
        theirs = reference(x1, f1, torch.tensor(g1), x2, f2, torch.tensor(g2), bounds)
        assert float(ours) == pytest.approx(float(theirs), rel=1e-12, abs=1e-12)
        no_minimum += (g1 + g2 - 3 * (f1 - f2) / (x1 - x2)) ** 2 < g1 * g2
    assert no_minimum > 10  # the midpoint branch was taken


def _kinked(lib, x):
    return lib.abs(x - 0.3).sum() + 0.01 * (x**2).sum(), lib.sign(x - 0.3) + 0.02 * x


def _wavy_1d(lib, x):
    return (2 * lib.cos(2 * x) + lib.sin(3 * x) + 0.2 * x**2).sum(), -4 * lib.sin(2 * x) + 3 * lib.cos(3 * x) + 0.4 * x


LINE_SEARCHES = [  # (objective, x0, first step t, tolerance_change, max_ls)
    (_kinked, -2.0, 1.0, 1e-9, 25),  # the curvature condition never holds at the kink: the bracket shrinks
    (_kinked, -2.0, 1.0, 1e-2, 25),  # ... until it is narrower than tolerance_change
    (_kinked, -2.0, 1.0, 1e-9, 2),  # out of evaluations while extrapolating
    (_kinked, -2.0, 40.0, 1e-9, 25),
    (_wavy_1d, 0.3, 1.0, 1e-9, 25),
    (_wavy_1d, 0.3, 0.05, 1e-9, 25),
    (_wavy_1d, 0.3, 7.0, 1e-9, 25),
    (_wavy_1d, -1.0, 30.0, 1e-9, 25),
    (_wavy_1d, 2.2, 3.0, 1e-9, 25),
]


@pytest.mark.parametrize("objective,x0,t,tolerance_change,max_ls", LINE_SEARCHES)
def test_strong_wolfe_matches_torch(objective, x0, t, tolerance_change, max_ls):
    from torch.optim.lbfgs import _strong_wolfe as reference

    x0 = np.array([x0])
    f0, g0 = objective(np, x0)
    d = -g0

    def ours(x, t, d):
        f, grad = objective(np, x + t * d)
        return float(f), grad

    def theirs(x, t, d):
        f, grad = objective(torch, x + t * d)
        return float(f), grad

    mine = _strong_wolfe(ours, x0, t, d, float(f0), g0, g0.dot(d), tolerance_change=tolerance_change, max_ls=max_ls)
    tx, td = torch.from_numpy(x0), torch.from_numpy(d)
    f0, g0 = objective(torch, tx)
    expected = reference(theirs, tx, t, td, float(f0), g0, g0.dot(td), tolerance_change=tolerance_change,
                         max_ls=max_ls)
    assert mine[0] == pytest.approx(expected[0], rel=1e-12)
    # the gradient is a sum of terms of size ~5 that nearly cancel at the line search's end: NumPy's and PyTorch's
    # sin and cos may differ by an ulp (NumPy's AVX-512 loops on a Xeon: 4.6e-15 apart at -0.0025), hence the atol
    np.testing.assert_allclose(mine[1], expected[1].numpy(), rtol=1e-12, atol=1e-13)
    assert float(mine[2]) == pytest.approx(float(expected[2]), rel=1e-12)
    assert mine[3] == expected[3] <= max_ls + 1


# ------------------------------------------------------------------------------------------------- state
@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_state_dict_round_trip_continues_the_run(line_search_fn):
    kwargs = dict(max_iter=4, history_size=3, line_search_fn=line_search_fn)
    whole, resumed = LinearFit(), LinearFit()
    opt_whole = optim.LBFGS(whole.ours, **kwargs)
    opt_first = optim.LBFGS(resumed.ours, **kwargs)
    for problem, opt in ((whole, opt_whole), (resumed, opt_first)):
        for _ in range(2):
            opt.step(closures(problem, opt, None)[0])
    saved = opt_first.state_dict()
    assert saved["param_groups"][0]["params"] == [0, 1] and set(saved["state"]) == {0}
    opt_first.step(closures(resumed, opt_first, None)[0])  # the snapshot must not follow the live state
    for p, q in zip(resumed.ours, whole.ours):
        p.array[...] = q.array
    opt_second = optim.LBFGS(resumed.ours, lr=0.5, **kwargs)
    opt_second.load_state_dict(saved)
    assert opt_second.param_groups[0]["lr"] == 1
    for _ in range(3):
        loss_whole = opt_whole.step(closures(whole, opt_whole, None)[0])
        loss_resumed = opt_second.step(closures(resumed, opt_second, None)[0])
        assert float(loss_whole) == float(loss_resumed)
        for p, q in zip(resumed.ours, whole.ours):
            np.testing.assert_array_equal(p.array, q.array)


def test_loads_torch_state_dict_mid_run():
    kwargs = dict(max_iter=3, history_size=4, line_search_fn="strong_wolfe")
    problem = Rosenbrock()
    ours, theirs = run_pair(problem, steps=2, **kwargs)
    fresh = optim.LBFGS(problem.ours, **kwargs)
    fresh.load_state_dict(theirs.state_dict())
    closure_ours, closure_theirs = closures(problem, fresh, theirs)
    for _ in range(3):
        assert_same(problem, fresh, theirs, fresh.step(closure_ours), theirs.step(closure_theirs))


# ------------------------------------------------------------------------------------------------ errors
def test_step_needs_a_closure():
    opt = optim.LBFGS([nn.Parameter(g.ones(2))])
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'closure'"):
        opt.step()


def test_one_param_group_only():
    groups = [{"params": [nn.Parameter(g.ones(2))]}, {"params": [nn.Parameter(g.ones(3))], "lr": 0.1}]
    with pytest.raises(ValueError, match="doesn't support per-parameter options"):
        optim.LBFGS(groups)
    opt = optim.LBFGS([nn.Parameter(g.ones(2))])
    with pytest.raises(ValueError, match="doesn't support per-parameter options"):
        opt.add_param_group({"params": [nn.Parameter(g.ones(3))]})


def test_unknown_line_search_is_named():
    with pytest.raises(ValueError, match="'wolfe'"):
        optim.LBFGS([nn.Parameter(g.ones(2))], line_search_fn="wolfe")


def test_negative_learning_rate():
    with pytest.raises(ValueError, match="Invalid learning rate"):
        optim.LBFGS([nn.Parameter(g.ones(2))], lr=-1)


def test_defaults_as_torch():
    opt = optim.LBFGS([nn.Parameter(g.ones(2))], max_iter=8)
    reference = torch.optim.LBFGS([torch.nn.Parameter(torch.ones(2))], max_iter=8)
    assert {k: v for k, v in opt.param_groups[0].items() if k != "params"} == \
        {k: v for k, v in reference.param_groups[0].items() if k != "params"}


# ------------------------------------------------------------------------------------------------ tutorial
def test_tutorial_loop_fits_a_line():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 1)).astype(np.float32)
    y = 3 * x - 2
    model = nn.Linear(1, 1)
    optimizer = optim.LBFGS(model.parameters(), lr=1, max_iter=20, line_search_fn="strong_wolfe")
    loss_fn = nn.MSELoss()

    def closure():
        optimizer.zero_grad()
        loss = loss_fn(model(g.from_numpy(x)), g.from_numpy(y))
        loss.backward()
        return loss

    for _ in range(3):
        optimizer.step(closure)
    assert closure().item() < 1e-8
    assert model.weight.item() == pytest.approx(3, abs=1e-4)
    assert model.bias.item() == pytest.approx(-2, abs=1e-4)
