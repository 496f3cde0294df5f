"""Full-batch L-BFGS in PyTorch: ``optim.LBFGS(line_search_fn="strong_wolfe")`` driven by a closure.

Two fits on all the data at once. A logistic regression (nn.Linear + BCEWithLogitsLoss + a small L2 penalty) on two
overlapping Gaussian clouds, whose optimum is unique, so both frameworks must reach the same loss and nearly the
same weights. And a curve fit of y = a exp(-b x) + c with three raw Parameters from a fixed start; the noise-free
data make the true (a, b, c) the answer. Each ``optimizer.step(closure)`` re-evaluates the loss as often as the
line search needs; the closure counts its calls.
"""

import numpy as np
import torch
import torch.nn as nn


def logistic_data(n, rng):
    """Drawn with NumPy, so that both frameworks fit the very same points."""
    labels = rng.integers(0, 2, n).astype(np.float32)
    x = rng.normal(size=(n, 2)).astype(np.float32) + (2 * labels[:, None] - 1) * np.float32([1.0, 0.5])
    return torch.tensor(x), torch.tensor(labels).unsqueeze(1)


def fit_logistic(x, y):
    model = nn.Linear(2, 1)
    loss_fn = nn.BCEWithLogitsLoss()
    optimizer = torch.optim.LBFGS(model.parameters(), lr=1, max_iter=50, history_size=10,
                                  line_search_fn="strong_wolfe")
    calls = [0]

    def closure():
        optimizer.zero_grad()
        loss = loss_fn(model(x), y) + 1e-3 * model.weight.pow(2).sum()
        loss.backward()
        calls[0] += 1
        return loss

    losses = [optimizer.step(closure).item() for _ in range(3)]
    with torch.no_grad():
        final = loss_fn(model(x), y) + 1e-3 * model.weight.pow(2).sum()
        accuracy = ((model(x) > 0).float() == y).float().mean().item()
        gradient_norm = max(p.grad.abs().max().item() for p in model.parameters())
    return model, losses, final.item(), accuracy, calls[0], gradient_norm


class Decay(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Parameter(torch.tensor(1.0))
        self.b = nn.Parameter(torch.tensor(0.5))
        self.c = nn.Parameter(torch.tensor(0.0))

    def forward(self, x):
        return self.a * torch.exp(-self.b * x) + self.c


def fit_curve():
    x = torch.linspace(0, 4, 40)
    y = 2.5 * torch.exp(-1.3 * x) + 0.4
    model = Decay()
    optimizer = torch.optim.LBFGS(model.parameters(), lr=1, max_iter=100, tolerance_grad=1e-9,
                                  tolerance_change=1e-12, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        return loss

    initial = closure().item()
    for _ in range(3):
        optimizer.step(closure)
    return initial, closure().item(), [model.a.item(), model.b.item(), model.c.item()]


def main():
    torch.manual_seed(0)
    x, y = logistic_data(400, np.random.default_rng(0))
    model, losses, final_loss, accuracy, calls, gradient_norm = fit_logistic(x, y)
    initial_curve_loss, curve_loss, abc = fit_curve()
    return {
        "logistic_first_step_loss": losses[0],
        "logistic_final_loss": final_loss,
        "logistic_weights": model.weight.detach().flatten().tolist() + model.bias.detach().tolist(),
        "logistic_accuracy": accuracy,
        "logistic_gradient_at_end": gradient_norm,
        "closure_calls": calls,
        "curve_initial_loss": initial_curve_loss,
        "curve_loss": curve_loss,
        "curve_abc": abc,
        "curve_abc_error": max(abs(g - t) for g, t in zip(abc, [2.5, 1.3, 0.4])),
    }


if __name__ == "__main__":
    print(main())
