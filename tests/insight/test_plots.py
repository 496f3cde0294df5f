"""Each insight plot renders to a PNG with Agg, and the data in its axes is what the plot claims; the init report
shows the notes' picture (too small weights shrink the activations with depth, He keeps them level)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import ganglion as g  # noqa: E402
import ganglion.nn as nn  # noqa: E402
import ganglion.nn.functional as F  # noqa: E402
from ganglion import optim  # noqa: E402
from ganglion.insight import (  # noqa: E402
    Doctor, init_report, optimizer_paths, plot_activation_functions, plot_gradient_flow, plot_init_report,
    plot_lr_schedules, plot_optimizer_paths,
)
from ganglion.insight.plots import elongated_bowl  # noqa: E402


def _save(fig, tmp_path, name):
    path = tmp_path / f"{name}.png"
    fig.savefig(path)
    plt.close(fig)
    assert path.stat().st_size > 1000 and path.read_bytes()[:4] == b"\x89PNG"


def test_gradient_flow_plots_the_doctors_norms(tmp_path):
    g.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    x, y = g.randn(16, 4), g.tensor(np.arange(16) % 3)
    with Doctor(model) as doctor:
        for _ in range(3):
            model.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            doctor.step(loss)
    ax = plot_gradient_flow(doctor)
    mean_line = ax.get_lines()[0]
    expected = [np.mean(v) for v in doctor.gradient_norms().values()]
    np.testing.assert_allclose(mean_line.get_ydata(), expected)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "2"]
    _save(ax.figure, tmp_path, "flow")


def test_gradient_flow_without_steps_is_refused():
    with pytest.raises(ValueError, match="no gradients yet"):
        plot_gradient_flow(Doctor(nn.Linear(2, 2)))


def test_activation_functions_and_autograd_derivatives(tmp_path):
    axes = plot_activation_functions(("sigmoid", "tanh", "relu"))
    x, s = axes[0].get_lines()[0].get_data()
    _, ds = axes[0].get_lines()[1].get_data()
    np.testing.assert_allclose(ds, s * (1 - s), atol=1e-6)
    _, dt = axes[1].get_lines()[1].get_data()
    np.testing.assert_allclose(dt, 1 - np.tanh(x) ** 2, atol=1e-6)
    _, dr = axes[2].get_lines()[1].get_data()
    assert set(np.unique(dr)) <= {0.0, 1.0} and dr[-1] == 1.0 and dr[0] == 0.0
    _save(axes[0].figure, tmp_path, "activations")
    with pytest.raises(ValueError, match="unknown activations \\['swoosh'\\]"):
        plot_activation_functions(("swoosh",))


def test_optimizer_paths_on_a_quadratic(tmp_path):
    ax, paths = plot_optimizer_paths(steps=60)
    assert set(paths) == {"SGD", "Momentum", "AdaGrad", "RMSprop", "Adam"}
    for name, path in paths.items():
        assert path.shape == (61, 2)
        np.testing.assert_allclose(path[0], (-4.0, 2.0))
        assert elongated_bowl(path[-1]) < elongated_bowl(path[0]) / 100, name
    assert np.linalg.norm(paths["Adam"][-1]) < 0.2  # Adam reaches the minimum's region
    drawn = {line.get_label(): line for line in ax.get_lines()}
    np.testing.assert_allclose(drawn["Adam"].get_xdata(), paths["Adam"][:, 0])
    _save(ax.figure, tmp_path, "paths")
    # SGD on x^2/20 + y^2 with lr 0.4: x <- 0.96 x, y <- 0.2 y each step
    np.testing.assert_allclose(optimizer_paths(steps=5)["SGD"][-1], (-4.0 * 0.96 ** 5, 2.0 * 0.2 ** 5), rtol=1e-5)


def test_lr_schedules(tmp_path):
    from ganglion.optim import lr_scheduler

    ax, values = plot_lr_schedules({
        "step": lambda o: lr_scheduler.StepLR(o, step_size=10, gamma=0.5),
        "exp": lambda o: lr_scheduler.ExponentialLR(o, gamma=0.9),
    }, epochs=30, lr=0.1)
    np.testing.assert_allclose(values["step"][:11], [0.1] * 10 + [0.05])
    np.testing.assert_allclose(values["exp"][:3], [0.1, 0.09, 0.081])
    assert len(ax.get_lines()) == 2 and len(ax.get_lines()[0].get_xdata()) == 30
    _save(ax.figure, tmp_path, "lr")


def _deep_relu():
    layers = []
    for _ in range(6):
        layers += [nn.Linear(64, 64), nn.ReLU()]
    return nn.Sequential(*layers)


def test_init_report_shows_variance_with_depth(tmp_path):
    report = init_report(_deep_relu, (256, 64))
    assert report.layers == [str(2 * i) for i in range(6)]
    standard = report.results["standard"]["activation_var"]
    he = report.results["he"]["activation_var"]
    random = report.results["random"]["activation_var"]
    assert standard[-1] < standard[0] * 1e-6            # N(0, 0.01^2) shrinks the signal layer after layer
    assert 0.2 < he[-1] / he[0] < 5                     # He keeps it level under ReLU
    assert random[-1] > random[0] * 1e6                 # N(0, 1) blows it up
    assert all(v > 0 for v in report.results["xavier"]["gradient_var"])
    text = str(report)
    assert "activation variance" in text and "he" in text.splitlines()[1]
    axes = plot_init_report(report)
    assert len(axes[0].get_lines()) == 4
    np.testing.assert_allclose(axes[0].get_lines()[3].get_ydata(), he)
    _save(axes[0].figure, tmp_path, "init")
    with pytest.raises(ValueError, match="unknown initializers \\['lecun'\\]"):
        init_report(_deep_relu, (4, 64), initializers=("lecun",))
