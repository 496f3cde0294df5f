"""A small residual CNN in PyTorch, CIFAR-tutorial style: 3x3 convolutions of 32 and 64 channels, batch norm, ReLU,
identity and strided 1x1 shortcuts, global average pooling, SGD with momentum and weight decay, a MultiStepLR
schedule; ``train()`` for the epochs, ``eval()`` and ``no_grad()`` for the test accuracy.

Part one starts from weights the program sets itself (from a seeded NumPy generator) and records the loss, the
logits and every gradient's norm for one fixed batch, then for a batch of another size: those numbers are the
framework's alone. Part two trains the same network on the bundled 8 x 8 digits stretched to 16 x 16 (classes 0-4),
with a last batch smaller than the others.
"""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import optim
from torch.utils.data import DataLoader, TensorDataset

from ganglion.data import datasets  # the digits table ships with ganglion (no download); plain NumPy arrays
from digits_images import stretch  # 8 x 8 -> larger, NumPy alone


class Block(nn.Module):
    """relu(bn(conv(relu(bn(conv(x))))) + shortcut(x)); the shortcut is a strided 1x1 conv where the shape changes."""

    def __init__(self, channels_in, channels_out, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(channels_in, channels_out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels_out)
        self.conv2 = nn.Conv2d(channels_out, channels_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels_out)
        self.shortcut = nn.Sequential()
        if stride != 1 or channels_in != channels_out:
            self.shortcut = nn.Sequential(nn.Conv2d(channels_in, channels_out, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(channels_out))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResidualNet(nn.Module):
    def __init__(self, classes):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU())
        self.stage1 = Block(32, 32, 1)   # 16 x 16
        self.stage2 = Block(32, 64, 2)   # 8 x 8
        self.stage3 = Block(64, 64, 1)
        self.head = nn.Linear(64, classes)

    def forward(self, x):
        x = self.stage3(self.stage2(self.stage1(self.stem(x))))
        return self.head(F.adaptive_avg_pool2d(x, 1).flatten(1))


def set_weights(model, seed):
    """Every parameter from one seeded generator, scaled by its fan-in: the same start in any framework."""
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            shape = tuple(parameter.shape)
            if len(shape) == 1 and name.endswith("weight"):  # a batch norm's scale
                values = 1.0 + 0.1 * rng.standard_normal(shape)
            elif len(shape) == 1:  # a shift or a bias
                values = 0.1 * rng.standard_normal(shape)
            else:
                values = rng.standard_normal(shape) / np.sqrt(np.prod(shape[1:]))
            parameter.copy_(torch.tensor(values.astype(np.float32)))


def fixed_batch_numbers(model, images, labels):
    """The loss, the logits and each parameter's gradient norm for one batch, in training mode."""
    model.train()
    model.zero_grad()
    logits = model(images)
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    norms = [float(p.grad.norm()) for p in model.parameters()]
    return loss.item(), logits.detach().numpy().ravel().tolist(), norms


def main():
    torch.manual_seed(0)
    digits = datasets.load_digits(n_class=5)
    order = np.random.default_rng(0).permutation(len(digits.target))[:420]
    images = (stretch(digits.images[order], 16) / 16.0).astype("float32")[:, None]  # (n, 1, 16, 16)
    labels = digits.target[order].astype("int64")

    # part one: set weights, one batch of 32 and one of 7
    model = ResidualNet(5)
    set_weights(model, seed=1)
    loss_32, logits_32, norms_32 = fixed_batch_numbers(model, torch.tensor(images[:32]), torch.tensor(labels[:32]))
    loss_7, logits_7, norms_7 = fixed_batch_numbers(model, torch.tensor(images[32:39]), torch.tensor(labels[32:39]))

    # part two: train it
    train = TensorDataset(torch.tensor(images[:340]), torch.tensor(labels[:340]))
    test = TensorDataset(torch.tensor(images[340:]), torch.tensor(labels[340:]))
    loader = DataLoader(train, batch_size=48, shuffle=True)  # 7 batches of 48, then one of 4
    optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    schedule = optim.lr_scheduler.MultiStepLR(optimizer, milestones=[4], gamma=0.2)
    epoch_losses = []
    for _ in range(6):
        model.train()
        total, count = 0.0, 0
        for batch_images, batch_labels in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(batch_images), batch_labels)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch_labels)
            count += len(batch_labels)
        schedule.step()
        epoch_losses.append(total / count)

    model.eval()
    correct = 0
    with torch.no_grad():
        for batch_images, batch_labels in DataLoader(test, batch_size=32):
            correct += int((model(batch_images).argmax(dim=1) == batch_labels).sum())

    return {
        "fixed_loss_32": loss_32, "fixed_logits_32": logits_32, "fixed_grad_norms_32": norms_32,
        "fixed_loss_7": loss_7, "fixed_logits_7": logits_7, "fixed_grad_norms_7": norms_7,
        "first_epoch_loss": epoch_losses[0], "last_epoch_loss": epoch_losses[-1],
        "final_lr": optimizer.param_groups[0]["lr"],
        "test_accuracy": correct / len(test),
    }


if __name__ == "__main__":
    print(main())
