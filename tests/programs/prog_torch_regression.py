"""A PyTorch custom training loop for regression on synthetic data.

A two-layer ``nn.Module`` learns y = sin(x1) + 0.5 x2^2 - x3 + noise from three inputs: MSELoss, SGD with momentum
and weight decay, a CosineAnnealingLR schedule stepped once per epoch, a second model under ReduceLROnPlateau,
gradients clipped by ``nn.utils.clip_grad_norm_`` before each step, ``model.train()`` while learning and
``model.eval()`` with ``torch.no_grad()`` for the validation loss.
"""

import math

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


def make_data(n, generator):
    x = torch.randn(n, 3, generator=generator)
    y = torch.sin(x[:, 0]) + 0.5 * x[:, 1] ** 2 - x[:, 2] + 0.05 * torch.randn(n, generator=generator)
    return x, y.unsqueeze(1)


class Regressor(nn.Module):
    def __init__(self, hidden=32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(3, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(),
                                 nn.Linear(hidden, 1))

    def forward(self, x):
        return self.net(x)


def train_epoch(model, loader, loss_fn, optimizer, max_norm):
    model.train()
    total, count, largest_norm = 0.0, 0, 0.0
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        norm = nn.utils.clip_grad_norm_(model.parameters(), max_norm=max_norm)
        largest_norm = max(largest_norm, float(norm))
        optimizer.step()
        total += loss.item() * len(x)
        count += len(x)
    return total / count, largest_norm


def evaluate(model, x, y, loss_fn):
    model.eval()
    with torch.no_grad():
        return loss_fn(model(x), y).item()


def main():
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(1)
    x_train, y_train = make_data(512, generator)
    x_val, y_val = make_data(128, generator)
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=64, shuffle=True)
    loss_fn = nn.MSELoss()
    epochs = 20

    model = Regressor()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs, eta_min=0.001)
    initial_val_loss = evaluate(model, x_val, y_val, loss_fn)
    train_losses, largest_norm = [], 0.0
    for _ in range(epochs):
        loss, norm = train_epoch(model, loader, loss_fn, optimizer, max_norm=1.0)
        train_losses.append(loss)
        largest_norm = max(largest_norm, norm)
        scheduler.step()
    val_loss = evaluate(model, x_val, y_val, loss_fn)

    # the same loop with a schedule that reacts to the validation loss
    plateau_model = Regressor()
    plateau_optimizer = torch.optim.SGD(plateau_model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(plateau_optimizer, mode="min", factor=0.5, patience=1)
    for _ in range(8):
        train_epoch(plateau_model, loader, loss_fn, plateau_optimizer, max_norm=1.0)
        plateau.step(evaluate(plateau_model, x_val, y_val, loss_fn))
    plateau_val_loss = evaluate(plateau_model, x_val, y_val, loss_fn)

    return {
        "initial_val_loss": initial_val_loss,
        "first_epoch_loss": train_losses[0],
        "last_epoch_loss": train_losses[-1],
        "val_loss": val_loss,
        "final_lr": optimizer.param_groups[0]["lr"],
        "expected_final_lr": 0.001 + (0.1 - 0.001) * (1 + math.cos(math.pi)) / 2,
        "largest_grad_norm_before_clipping": largest_norm,
        "plateau_val_loss": plateau_val_loss,
        "plateau_lr_not_above_start": plateau_optimizer.param_groups[0]["lr"] <= 0.1,
        "training_mode_after_eval": model.training,
    }


if __name__ == "__main__":
    print(main())
