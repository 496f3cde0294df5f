"""PyTorch training from weights the program sets itself, so that every number is the framework's alone.

A small convolutional net and a bidirectional LSTM over a packed batch start from weights drawn by a seeded NumPy
generator and loaded with ``load_state_dict`` (PyTorch's key names), then train for a fixed sequence of batches
(no shuffling, no dropout) with SGD + momentum, weight decay and a StepLR schedule. The losses along the way, the
final outputs on a probe batch and the trained state_dict saved with ``torch.save`` and read back with
``torch.load`` must match across frameworks to float32 rounding.
"""

import os
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence


class ConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 3, padding=1)
        self.bn = nn.BatchNorm2d(6)
        self.conv2 = nn.Conv2d(6, 8, 3, stride=2)
        self.fc = nn.Linear(8 * 2 * 2, 4)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn(self.conv1(x))), 2)   # 12 -> 6
        x = F.avg_pool2d(F.relu(self.conv2(x)), 1)             # 6 -> 2
        return self.fc(x.flatten(1))


class SequenceNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 5, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(10, 4)

    def forward(self, x, lengths):
        _, (h, _) = self.lstm(pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False))
        return self.fc(torch.cat([h[0], h[1]], dim=1))


def set_weights(model, rng):
    """Every parameter and buffer drawn from ``rng`` (running variances kept positive), loaded by name."""
    state = {}
    for name, value in model.state_dict().items():
        if name.endswith("num_batches_tracked"):
            state[name] = value
        elif name.endswith("running_var"):
            state[name] = torch.from_numpy(rng.uniform(0.5, 1.5, tuple(value.shape)).astype(np.float32))
        else:
            state[name] = torch.from_numpy(rng.normal(0.0, 0.3, tuple(value.shape)).astype(np.float32))
    model.load_state_dict(state)


def train(model, batches, probe):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-3)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=4, gamma=0.5)
    losses = []
    model.train()
    for *inputs, target in batches:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(*inputs), target)
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        outputs = model(*probe)
    path = os.path.join(tempfile.mkdtemp(), "model.pt")
    torch.save(model.state_dict(), path)
    restored = {name: value.numpy() for name, value in torch.load(path).items()}
    return losses, outputs.numpy(), restored


def main():
    rng = np.random.default_rng(0)
    images = [torch.from_numpy(rng.normal(size=(n, 1, 12, 12)).astype(np.float32)) for n in (8, 5, 8, 3, 8, 1, 8, 6)]
    conv_batches = [(x, torch.from_numpy(rng.integers(0, 4, len(x)))) for x in images]
    sequence_batches = []
    for n in (6, 1, 4, 6, 2, 5):
        lengths = torch.from_numpy(rng.integers(1, 7, n))
        x = torch.from_numpy(rng.normal(size=(n, int(lengths.max()), 3)).astype(np.float32))
        sequence_batches.append((x, lengths, torch.from_numpy(rng.integers(0, 4, n))))

    results = {}
    for name, model, batches in (("conv", ConvNet(), conv_batches), ("lstm", SequenceNet(), sequence_batches)):
        set_weights(model, rng)
        probe = batches[0][:-1]
        losses, outputs, state = train(model, batches, probe)
        results[f"{name}_losses"] = losses
        results[f"{name}_probe_outputs"] = outputs.ravel().tolist()
        results[f"{name}_saved_state"] = np.concatenate([v.ravel() for v in state.values()]).tolist()
        results[f"{name}_state_keys"] = list(state)
    return results


if __name__ == "__main__":
    print({key: value[:4] for key, value in main().items()})
