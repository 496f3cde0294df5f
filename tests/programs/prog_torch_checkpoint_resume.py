"""Saving a PyTorch training run and resuming it.

A small classifier trains for 3 epochs with Adam and a StepLR schedule; a checkpoint dict (epoch, model, optimizer
and scheduler state_dicts, last loss) goes to disk with ``torch.save``; fresh model, optimizer and scheduler objects
load it with ``torch.load`` / ``load_state_dict`` and train 3 more epochs. Each epoch's batch order is drawn from a
generator seeded by the epoch number, so the resumed run must equal 6 uninterrupted epochs exactly.
"""

import os
import tempfile

import numpy as np
import torch
import torch.nn as nn

from ganglion.data import datasets  # the iris table ships with ganglion (no download); plain NumPy arrays


def make_model():
    return nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))


def make_training(model):
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    return optimizer, scheduler


def train_epoch(model, optimizer, x, y, epoch, batch_size=16):
    model.train()
    loss_fn = nn.CrossEntropyLoss()
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(epoch))
    total = 0.0
    for start in range(0, len(x), batch_size):
        index = order[start:start + batch_size]
        optimizer.zero_grad()
        loss = loss_fn(model(x[index]), y[index])
        loss.backward()
        optimizer.step()
        total += loss.item() * len(index)
    return total / len(x)


def parameters_of(model):
    return np.concatenate([p.detach().numpy().ravel() for p in model.parameters()])


def main():
    features, species = datasets.load_iris(return_X_y=True)
    features = (features - features.mean(axis=0)) / features.std(axis=0)
    x = torch.tensor(features, dtype=torch.float32)
    y = torch.tensor(species, dtype=torch.long)

    # six epochs in one go
    torch.manual_seed(0)
    model = make_model()
    optimizer, scheduler = make_training(model)
    straight_losses = []
    for epoch in range(6):
        straight_losses.append(train_epoch(model, optimizer, x, y, epoch))
        scheduler.step()
    straight = parameters_of(model)

    # three epochs, a checkpoint, three more epochs in new objects
    torch.manual_seed(0)
    model = make_model()
    optimizer, scheduler = make_training(model)
    resumed_losses = []
    for epoch in range(3):
        resumed_losses.append(train_epoch(model, optimizer, x, y, epoch))
        scheduler.step()
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "checkpoint.pt")
        torch.save({
            "epoch": 3,
            "model_state_dict": model.state_dict(),
            "optimizer_state_dict": optimizer.state_dict(),
            "scheduler_state_dict": scheduler.state_dict(),
            "loss": resumed_losses[-1],
        }, path)
        del model, optimizer, scheduler

        torch.manual_seed(123)  # the fresh model's own initial weights must not matter
        model = make_model()
        optimizer, scheduler = make_training(model)
        checkpoint = torch.load(path)
        model.load_state_dict(checkpoint["model_state_dict"])
        optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
        scheduler.load_state_dict(checkpoint["scheduler_state_dict"])
        start_epoch = checkpoint["epoch"]
        saved_loss = checkpoint["loss"]
    for epoch in range(start_epoch, 6):
        resumed_losses.append(train_epoch(model, optimizer, x, y, epoch))
        scheduler.step()
    resumed = parameters_of(model)

    model.eval()
    with torch.no_grad():
        accuracy = (model(x).argmax(dim=1) == y).float().mean().item()

    return {
        "resumed_vs_straight_parameters": float(np.max(np.abs(resumed - straight))),
        "resumed_vs_straight_losses": float(np.max(np.abs(np.array(resumed_losses) - np.array(straight_losses)))),
        "saved_loss_vs_epoch_3": abs(saved_loss - straight_losses[2]),
        "start_epoch": start_epoch,
        "final_lr": optimizer.param_groups[0]["lr"],
        "first_epoch_loss": straight_losses[0],
        "last_epoch_loss": straight_losses[-1],
        "train_accuracy": accuracy,
    }


if __name__ == "__main__":
    print(main())
