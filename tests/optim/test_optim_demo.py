"""The notes' pictures, asserted: on the Rosenbrock valley, momentum reaches the minimum in far fewer steps than plain
gradient descent at the same learning rate, and Adam converges at a learning rate where plain gradient descent
diverges; near a saddle point, momentum and the adaptive methods (Adam, RMSprop) escape long before plain gradient
descent does. Gradients are the functions' exact derivatives (the point here is the optimizers, not autograd)."""

import numpy as np
import pytest

import ganglion as g
from ganglion import nn, optim


def rosenbrock(v):
    """f = (1 - x)^2 + 100 (y - x^2)^2, minimum 0 at (1, 1) at the bottom of a long curved valley; returns (f, grad)."""
    x, y = v
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2, np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])


def saddle(v):
    """f = x^2 + y^4 / 4 - y^2 / 2: a saddle at (0, 0), minima at (0, +-1); returns (f, grad)."""
    x, y = v
    return x * x + y**4 / 4 - y * y / 2, np.array([2 * x, y**3 - y])


def run(function, start, make_optimizer, reached, max_steps):
    """Steps until ``reached(point)`` (returns (steps, point, f)) or max_steps (returns (None, point, f))."""
    p = nn.Parameter(g.tensor(start, dtype=g.float64))
    opt = make_optimizer([p])
    for step in range(1, max_steps + 1):
        value, grad = function(p.detach().numpy())
        if not np.isfinite(value) or value > 1e12:  # diverged
            return None, p.detach().numpy().copy(), value
        p.grad = g.from_numpy(grad)
        opt.step()
        if reached(p.detach().numpy()):
            return step, p.detach().numpy().copy(), function(p.detach().numpy())[0]
    return None, p.detach().numpy().copy(), function(p.detach().numpy())[0]


def near_minimum(point):
    return np.linalg.norm(point - 1.0) < 1e-2


def escaped(point):
    return abs(point[1]) > 0.9 and abs(point[0]) < 0.1


ROSENBROCK_START, SADDLE_START = [-1.5, 2.0], [1.0, 1e-4]


@pytest.mark.parametrize("name,make", [
    ("momentum", lambda ps: optim.SGD(ps, lr=1e-3, momentum=0.9)),
    ("nesterov", lambda ps: optim.SGD(ps, lr=1e-3, momentum=0.9, nesterov=True)),
])
def test_momentum_crosses_the_rosenbrock_valley_much_faster_than_plain_gradient_descent(name, make):
    steps, point, _ = run(rosenbrock, ROSENBROCK_START, make, near_minimum, 2000)
    assert steps is not None, f"{name} did not reach (1, 1) in 2000 steps: stopped at {point}"
    start_value = rosenbrock(np.array(ROSENBROCK_START))[0]
    plain_steps, plain_point, plain_value = run(
        rosenbrock, ROSENBROCK_START, lambda ps: optim.SGD(ps, lr=1e-3), near_minimum, 3 * steps)
    assert plain_steps is None  # three times the budget is not enough for plain gradient descent ...
    assert plain_value < start_value / 10  # ... although it is descending the valley
    assert np.linalg.norm(plain_point - 1.0) > 10 * np.linalg.norm(point - 1.0)


def test_adam_converges_at_a_learning_rate_where_plain_gradient_descent_diverges():
    steps, point, _ = run(rosenbrock, ROSENBROCK_START, lambda ps: optim.Adam(ps, lr=1e-2), near_minimum, 5000)
    assert steps is not None, f"Adam did not reach (1, 1): stopped at {point}"
    plain_steps, _, plain_value = run(rosenbrock, ROSENBROCK_START, lambda ps: optim.SGD(ps, lr=1e-2), near_minimum,
                                      5000)
    assert plain_steps is None and not plain_value < 1e12  # blew up


@pytest.mark.parametrize("name,make", [
    ("momentum", lambda ps: optim.SGD(ps, lr=1e-3, momentum=0.9)),
    ("adam", lambda ps: optim.Adam(ps, lr=1e-3)),
    ("rmsprop", lambda ps: optim.RMSprop(ps, lr=1e-3)),
    ("adadelta", lambda ps: optim.Adadelta(ps)),
])
def test_momentum_and_adaptive_methods_escape_a_saddle_point_long_before_plain_gradient_descent(name, make):
    steps, point, value = run(saddle, SADDLE_START, make, escaped, 2000)
    assert steps is not None, f"{name} stayed near the saddle: {point}"
    assert value == pytest.approx(-0.25, abs=0.05)  # in a minimum, f(0, +-1) = -1/4
    plain_steps, plain_point, plain_value = run(saddle, SADDLE_START, lambda ps: optim.SGD(ps, lr=1e-3), escaped,
                                                3 * steps)
    assert plain_steps is None
    assert abs(plain_point[1]) < 0.05  # still on the ridge: the gradient across it is too small to push it off
    assert plain_value > value + 0.2  # nowhere near a minimum
