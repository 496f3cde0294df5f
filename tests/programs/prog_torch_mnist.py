"""An MNIST-style PyTorch training loop: the lecture notes' convolutional classifier.

An ``nn.Module`` subclass (conv -> relu -> max-pool twice, then two linear layers) trained on 28 x 28 digit images
with a shuffling DataLoader, CrossEntropyLoss, Adam and a StepLR schedule (the rate drops to 30% after two epochs); ``model.train()`` for the
epochs, ``model.eval()`` and ``torch.no_grad()`` for the accuracy on held-out images. The images are the bundled
8 x 8 digits stretched to 28 x 28 by bilinear interpolation.
"""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import optim
from torch.utils.data import DataLoader, TensorDataset

from ganglion.data import datasets  # the digits table ships with ganglion (no download); plain NumPy arrays
from digits_images import stretch  # 8 x 8 -> larger, NumPy alone


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, kernel_size=5)   # 28 -> 24, pooled to 12
        self.conv2 = nn.Conv2d(8, 16, kernel_size=5)  # 12 -> 8, pooled to 4
        self.fc1 = nn.Linear(16 * 4 * 4, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        return self.fc2(F.relu(self.fc1(x)))


def train_epoch(model, loader, loss_fn, optimizer):
    model.train()
    total, count = 0.0, 0
    for images, labels in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(images), labels)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(labels)
        count += len(labels)
    return total / count


def evaluate(model, loader, loss_fn):
    model.eval()
    correct, total_loss, count = 0, 0.0, 0
    with torch.no_grad():
        for images, labels in loader:
            logits = model(images)
            total_loss += loss_fn(logits, labels).item() * len(labels)
            correct += (logits.argmax(dim=1) == labels).sum().item()
            count += len(labels)
    return total_loss / count, correct / count


def main():
    torch.manual_seed(0)
    digits = datasets.load_digits()
    order = np.random.default_rng(0).permutation(len(digits.target))[:700]
    images = torch.from_numpy((stretch(digits.images[order], 28) / 16.0 - 0.5).astype(np.float32)).unsqueeze(1)
    labels = torch.from_numpy(digits.target[order])
    train_set = TensorDataset(images[:560], labels[:560])
    test_set = TensorDataset(images[560:], labels[560:])
    train_loader = DataLoader(train_set, batch_size=32, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=64)

    model = Net()
    loss_fn = nn.CrossEntropyLoss()
    optimizer = optim.Adam(model.parameters(), lr=0.005)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.3)
    train_losses = []
    for _ in range(3):
        train_losses.append(train_epoch(model, train_loader, loss_fn, optimizer))
        scheduler.step()
    test_loss, test_accuracy = evaluate(model, test_loader, loss_fn)

    return {
        "first_epoch_loss": train_losses[0],
        "last_epoch_loss": train_losses[-1],
        "test_loss": test_loss,
        "test_accuracy": test_accuracy,
        "final_lr": optimizer.param_groups[0]["lr"],
        "still_training_mode": model.training,
    }


if __name__ == "__main__":
    print(main())
