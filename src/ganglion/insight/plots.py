"""Plots that show why training behaves as it does: gradient flow by layer (from a ``Doctor``), activation
functions with their derivatives (computed by ganglion's autograd), optimizer paths on a 2-D loss surface (run with
``ganglion.optim``), learning-rate schedules (from ``ganglion.optim.lr_scheduler`` objects), and the init report.
Training-history curves live in ``ganglion.metrics.plots.plot_history`` (re-exported here).

matplotlib is imported when a plot is drawn (``pip install "ganglion[viz]"``). Every function draws on ``ax`` (a
new figure when None) and returns the axes, so a test or a notebook can read the lines back.
"""

import numpy as np

from .. import optim
from ..factories import tensor
from ..metrics.plots import plot_history  # noqa: F401  (one home for history curves)
from ..nn import functional as F
from ..utils.pyplot import axes, pyplot


def _pyplot():
    return pyplot("ganglion.insight.plots")


def _axes(ax):
    return axes(ax, "ganglion.insight.plots")


# -------------------------------------------------------------------------------------------- gradient flow
def plot_gradient_flow(doctor, ax=None):
    """Mean (and max) gradient norm per weighted layer over the steps a ``Doctor`` saw, input side on the left,
    on a log scale: a slope down to the left is vanishing gradients, up to the left exploding ones."""
    norms = doctor.gradient_norms()
    if not norms or not any(norms.values()):
        raise ValueError("plot_gradient_flow: the doctor has recorded no gradients yet (call doctor.step(loss) "
                         "after loss.backward())")
    names = list(norms)
    mean = [float(np.mean(norms[n])) for n in names]
    peak = [float(np.max(norms[n])) for n in names]
    ax = _axes(ax)
    x = np.arange(len(names))
    ax.plot(x, mean, "o-", label="mean gradient norm")
    ax.plot(x, peak, "x--", label="max gradient norm")
    ax.set_yscale("log")
    ax.set_xticks(x)
    ax.set_xticklabels(names, rotation=45, ha="right")
    ax.set(xlabel="layer (input -> output)", ylabel="gradient norm", title="Gradient flow")
    ax.legend()
    return ax


# ------------------------------------------------------------------------------------- activation functions
ACTIVATIONS = {
    "sigmoid": F.sigmoid, "tanh": F.tanh, "relu": F.relu, "leaky_relu": lambda x: F.leaky_relu(x, 0.1),
    "elu": F.elu, "gelu": F.gelu, "softplus": F.softplus, "silu": F.silu,
}


def activation_curves(names=("sigmoid", "tanh", "relu", "leaky_relu"), x_range=(-5.0, 5.0), points=201):
    """{name: (x, f(x), f'(x))} with f' from ganglion's autograd (backward of sum f(x))."""
    unknown = [n for n in names if n not in ACTIVATIONS]
    if unknown:
        raise ValueError(f"activation_curves: unknown activations {unknown}; the accepted ones are {list(ACTIVATIONS)}")
    curves = {}
    for name in names:
        x = tensor(np.linspace(*x_range, points), requires_grad=True)
        y = ACTIVATIONS[name](x)
        y.sum().backward()
        curves[name] = (np.asarray(x.array), np.asarray(y.array), np.asarray(x.grad.array))
    return curves


def plot_activation_functions(names=("sigmoid", "tanh", "relu", "leaky_relu"), x_range=(-5.0, 5.0), axes=None):
    """One panel per activation: the function (solid) and its derivative (dashed). Returns the list of axes."""
    curves = activation_curves(names, x_range)
    if axes is None:
        axes = list(np.ravel(_pyplot().subplots(1, len(curves), figsize=(3.2 * len(curves), 3))[1]))
    for ax, (name, (x, y, dy)) in zip(axes, curves.items()):
        ax.plot(x, y, label=name)
        ax.plot(x, dy, "--", label=f"d {name} / dx")
        ax.axhline(0, color="grey", linewidth=0.5)
        ax.set(title=name, xlabel="x")
        ax.legend(fontsize="small")
    return axes


# ------------------------------------------------------------------------------------------ optimizer paths
def elongated_bowl(p):
    """f(x, y) = x^2 / 20 + y^2: a valley 20x longer than it is wide, minimum 0 at (0, 0)."""
    return p[0] ** 2 / 20 + p[1] ** 2


OPTIMIZERS = {
    "SGD": lambda params: optim.SGD(params, lr=0.4),
    "Momentum": lambda params: optim.SGD(params, lr=0.05, momentum=0.9),
    "AdaGrad": lambda params: optim.Adagrad(params, lr=1.0),
    "RMSprop": lambda params: optim.RMSprop(params, lr=0.1),
    "Adam": lambda params: optim.Adam(params, lr=0.3),
}


def optimizer_paths(loss=elongated_bowl, start=(-4.0, 2.0), steps=50, optimizers=None):
    """{name: array (steps + 1, 2)} of the points each optimizer visits minimizing ``loss`` (a function of a
    2-element Tensor) from ``start``; ``optimizers``: {name: params -> optimizer}, default ``OPTIMIZERS``."""
    paths = {}
    for name, make in (optimizers or OPTIMIZERS).items():
        p = tensor(np.asarray(start, dtype=np.float64), requires_grad=True)
        opt = make([p])
        points = [np.array(p.array, dtype=np.float64)]
        for _ in range(steps):
            opt.zero_grad()
            loss(p).backward()
            opt.step()
            points.append(np.array(p.array, dtype=np.float64))
        paths[name] = np.stack(points)
    return paths


def plot_optimizer_paths(loss=elongated_bowl, start=(-4.0, 2.0), steps=50, optimizers=None, ax=None):
    """The loss surface's contours with each optimizer's path; returns (ax, paths)."""
    paths = optimizer_paths(loss, start, steps, optimizers)
    every = np.concatenate(list(paths.values()))
    lo = np.minimum(every.min(axis=0), -1.0) - 0.5
    hi = np.maximum(every.max(axis=0), 1.0) + 0.5
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], 80), np.linspace(lo[1], hi[1], 80))
    z = np.asarray(loss(tensor(np.stack([gx, gy]))).array)
    ax = _axes(ax)
    ax.contour(gx, gy, z, levels=20, cmap="Greys", linewidths=0.6)
    for name, path in paths.items():
        ax.plot(path[:, 0], path[:, 1], ".-", markersize=3, label=name)
    ax.plot([start[0]], [start[1]], "k*", markersize=10)
    ax.set(xlabel="w1", ylabel="w2", title="Optimizer paths")
    ax.legend()
    return ax, paths


# --------------------------------------------------------------------------------------- learning-rate plans
def lr_schedule_values(make_scheduler, epochs, lr=0.1):
    """The learning rate of each of ``epochs`` epochs under ``make_scheduler(optimizer)``."""
    p = tensor(np.zeros(1), requires_grad=True)
    opt = optim.SGD([p], lr=lr)
    scheduler = make_scheduler(opt)
    values = []
    for _ in range(epochs):
        values.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step()
    return values


def plot_lr_schedules(schedules, epochs=50, lr=0.1, ax=None):
    """``schedules``: {label: optimizer -> lr_scheduler object}; draws each schedule's learning rate per epoch and
    returns (ax, {label: values})."""
    values = {label: lr_schedule_values(make, epochs, lr) for label, make in schedules.items()}
    ax = _axes(ax)
    for label, v in values.items():
        ax.plot(np.arange(epochs), v, label=label)
    ax.set(xlabel="epoch", ylabel="learning rate", title="Learning-rate schedules")
    ax.legend()
    return ax, values


# ---------------------------------------------------------------------------------------------- init report
def plot_init_report(report, axes=None):
    """Two panels, activation and weight-gradient variance by layer (log scale), one line per initialization."""
    if axes is None:
        axes = list(_pyplot().subplots(1, 2, figsize=(10, 3.5))[1])
    x = np.arange(len(report.layers))
    for ax, what, title in zip(axes, ("activation_var", "gradient_var"),
                               ("activation variance", "weight-gradient variance")):
        for scheme, result in report.results.items():
            ax.plot(x, np.maximum(result[what], 1e-300), "o-", label=scheme)
        ax.set_yscale("log")
        ax.set(xlabel="layer", ylabel="variance", title=title)
        ax.legend(fontsize="small")
    return axes
