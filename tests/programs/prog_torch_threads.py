"""Two PyTorch models trained at the same time in two threads, against the same two trained one after the other.

Each thread owns its model, optimizer, data and a seeded generator for its DataLoader's shuffling, so the numbers
are fixed by the seeds alone. Thread "digits" trains an MLP on the 8 x 8 digits; thread "iris" trains a smaller MLP
on iris and, after every step, measures its accuracy on held-out rows under ``torch.no_grad()`` in eval mode, while
the other thread is recording a graph for backward. Grad mode and everything else a step touches must be private to
the thread, so the threaded run has to give exactly the parameters, losses and accuracies of the sequential run.
"""

import sys
import threading

import numpy as np
import torch
from torch import nn, optim
from torch.utils.data import DataLoader, TensorDataset

from ganglion.data import datasets  # the iris and digits tables ship with ganglion (no download)


def standardized(features, n_train):
    mean, std = features[:n_train].mean(axis=0), features[:n_train].std(axis=0) + 1e-6
    return torch.from_numpy(((features - mean) / std).astype(np.float32))


def make_task(name, seed):
    """A model (initialized from ``seed``), its train / test tensors and its batch size."""
    if name == "digits":
        features, labels = datasets.load_digits(return_X_y=True)
        features, labels, n_train, batch = features[:600], labels[:600], 450, 25
        sizes = (64, 32, 10)
    else:
        features, labels = datasets.load_iris(return_X_y=True)
        order = np.random.default_rng(seed).permutation(len(labels))
        features, labels, n_train, batch = features[order], labels[order], 110, 10
        sizes = (4, 16, 3)
    x, y = standardized(features, n_train), torch.from_numpy(labels)
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(sizes[0], sizes[1]), nn.Tanh(), nn.Linear(sizes[1], sizes[2]))
    return model, (x[:n_train], y[:n_train]), (x[n_train:], y[n_train:]), batch


def accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        correct = (model(x).argmax(dim=1) == y).float().mean().item()
    model.train()
    return correct


def train(model, train_data, test_data, batch, seed, epochs, evaluate_every_step, record):
    """Train with SGD + momentum; write losses, per-step accuracies and the final accuracy into ``record``."""
    loader = DataLoader(TensorDataset(*train_data), batch_size=batch, shuffle=True,
                        generator=torch.Generator().manual_seed(seed))
    optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    losses, accuracies = [], []
    model.train()
    for _ in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            if evaluate_every_step:
                accuracies.append(accuracy(model, *test_data))
    record.update(losses=losses, accuracies=accuracies, final_accuracy=accuracy(model, *test_data),
                  parameters=[p.detach().clone() for p in model.parameters()])


JOBS = {"digits": dict(seed=1, epochs=4, evaluate_every_step=False),
        "iris": dict(seed=2, epochs=12, evaluate_every_step=True)}


def run(threaded):
    """Both jobs, in two threads or one after the other; the records by job name."""
    records, errors, workers = {name: {} for name in JOBS}, [], []
    for name, job in JOBS.items():
        model, train_data, test_data, batch = make_task(name, job["seed"])  # built here, so each seed is used alone
        args = (model, train_data, test_data, batch, job["seed"], job["epochs"], job["evaluate_every_step"],
                records[name])

        def work(args=args):
            try:
                train(*args)
            except BaseException as error:  # re-raised by the main thread
                errors.append(error)

        workers.append(threading.Thread(target=work))
        if not threaded:
            work()
    if threaded:
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    if errors:
        raise errors[0]
    return records


def difference(a, b):
    """The largest difference between two records' losses, accuracies and parameters."""
    gaps = [np.abs(np.subtract(a[key], b[key])).max() for key in ("losses", "final_accuracy")]
    if a["accuracies"]:
        gaps.append(np.abs(np.subtract(a["accuracies"], b["accuracies"])).max())
    gaps += [(p - q).abs().max().item() for p, q in zip(a["parameters"], b["parameters"])]
    return float(max(gaps))


def main():
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads often, so the two steps interleave everywhere
    try:
        sequential, threaded = run(threaded=False), run(threaded=True)
    finally:
        sys.setswitchinterval(interval)
    results = {}
    for name in JOBS:
        results[f"{name}_accuracy"] = sequential[name]["final_accuracy"]
        results[f"{name}_first_loss"] = sequential[name]["losses"][0]
        results[f"{name}_last_loss"] = float(np.mean(sequential[name]["losses"][-5:]))
        results[f"{name}_threaded_vs_sequential"] = difference(sequential[name], threaded[name])
    results["iris_evaluations"] = len(sequential["iris"]["accuracies"])
    return results


if __name__ == "__main__":
    print(main())
