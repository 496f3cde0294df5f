"""A sequence classifier in PyTorch: a two-layer bidirectional LSTM over packed batches of noisy signals, large
enough (batch 64, hidden 48, up to 32 steps) that ganglion shares each layer's batch rows over its threads.

Each example is 1 to 32 steps of 12 noisy features; from a random step on, one of the first 4 features is raised by
one. The class is which feature, so the network has to notice the rise and carry it to the end (forwards) or to the
start (backwards). Batches are padded, sorted by nothing, and packed with ``pack_padded_sequence``.

- Training: Adam from PyTorch's default initialisation (so each framework starts from its own random draw), a few
  epochs, then accuracy on held-out examples.
- Fixed weights: a second model whose parameters are set from a NumPy generator runs forward and backward on one
  packed batch. Its outputs, final states and gradients are the framework's arithmetic alone, compared across
  frameworks to float32 rounding.
- Two threads: while the main thread trains, a second thread evaluates the fixed-weights model again and again under
  ``no_grad`` on batches of changing size and checks that each result equals the first one it computed.
"""

import threading

import numpy as np
import torch
from torch import nn, optim
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

FEATURES, CLASSES, HIDDEN, MAX_LEN, BATCH = 12, 4, 48, 32, 64


def make_examples(n, rng):
    """(x (n, MAX_LEN, FEATURES) float32 zero-padded, lengths (n,), labels (n,))."""
    lengths = rng.integers(1, MAX_LEN + 1, n)
    labels = rng.integers(0, CLASSES, n)
    x = (rng.standard_normal((n, MAX_LEN, FEATURES)) * 0.5).astype(np.float32)
    for i, (length, label) in enumerate(zip(lengths, labels)):
        onset = rng.integers(0, length)
        x[i, onset:length, label] += 1.0
        x[i, length:] = 0.0
    return x, lengths, labels


class WaveClassifier(nn.Module):
    """A 2-layer bidirectional LSTM over a packed batch -> Linear on both directions' last hidden states."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(FEATURES, HIDDEN, num_layers=2, bidirectional=True, batch_first=True)
        self.head = nn.Linear(2 * HIDDEN, CLASSES)

    def forward(self, x, lengths):
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        output, (h, c) = self.rnn(packed)
        return self.head(torch.cat([h[-2], h[-1]], dim=1)), output, (h, c)


def batches(x, lengths, labels, rng):
    order = rng.permutation(len(labels))
    for start in range(0, len(order), BATCH):
        idx = order[start:start + BATCH]
        yield torch.from_numpy(x[idx]), torch.from_numpy(lengths[idx]), torch.from_numpy(labels[idx])


def accuracy(model, x, lengths, labels):
    model.eval()
    with torch.no_grad():
        logits = model(torch.from_numpy(x), torch.from_numpy(lengths))[0]
    model.train()
    return (logits.argmax(dim=1).numpy() == labels).mean().item()


def set_fixed_weights(model, seed):
    """Every parameter from a NumPy generator (uniform in +-1/sqrt(HIDDEN), PyTorch's LSTM range)."""
    rng = np.random.default_rng(seed)
    bound = HIDDEN ** -0.5
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.from_numpy(rng.uniform(-bound, bound, tuple(p.shape)).astype(np.float32)))


def fixed_weights_numbers(model, x, lengths, labels):
    """Forward and backward of the fixed-weights model on one packed batch: a few sums of what came out."""
    model.zero_grad()
    logits, output, (h, c) = model(torch.from_numpy(x), torch.from_numpy(lengths))
    padded, out_lengths = pad_packed_sequence(output, batch_first=True, total_length=MAX_LEN)
    loss = nn.functional.cross_entropy(logits, torch.from_numpy(labels))
    loss.backward()
    grads = {name: p.grad.abs().sum().item() for name, p in model.named_parameters()}
    return {
        "fixed_loss": loss.item(),
        "fixed_logits_sum": logits.abs().sum().item(),
        "fixed_output_sum": padded.abs().sum().item(),
        "fixed_padding_is_zero": float(all(padded[i, n:].abs().sum().item() == 0
                                           for i, n in enumerate(out_lengths.tolist()))),
        "fixed_h_sum": h.abs().sum().item(),
        "fixed_c_sum": c.abs().sum().item(),
        "fixed_grad_w_ih_l0": grads["rnn.weight_ih_l0"],
        "fixed_grad_w_hh_l1_reverse": grads["rnn.weight_hh_l1_reverse"],
        "fixed_grad_head": grads["head.weight"],
    }


def evaluate_repeatedly(model, x, lengths, stop, report):
    """Another thread: the fixed-weights model under no_grad on batches of sizes 64, 17, 64, 1, ... until ``stop``;
    report how many calls ran and how far any result moved from the first one for its batch size."""
    sizes, first, moved, calls = (64, 17, 64, 1, 40), {}, 0.0, 0
    while not stop.is_set() or calls < len(sizes):
        n = sizes[calls % len(sizes)]
        with torch.no_grad():
            logits = model(torch.from_numpy(x[:n]), torch.from_numpy(lengths[:n]))[0].numpy().copy()
        if n in first:
            moved = max(moved, float(np.abs(logits - first[n]).max()))
        else:
            first[n] = logits
        calls += 1
    report.update(eval_thread_calls=calls, eval_thread_moved_by=moved)


def main():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    train = make_examples(640, rng)
    test = make_examples(256, rng)
    fixed_batch = make_examples(BATCH, np.random.default_rng(7))

    fixed = WaveClassifier()
    set_fixed_weights(fixed, seed=3)
    results = fixed_weights_numbers(fixed, *fixed_batch)

    evaluated = WaveClassifier()
    set_fixed_weights(evaluated, seed=3)
    evaluated.eval()
    stop, report = threading.Event(), {}
    worker = threading.Thread(target=evaluate_repeatedly, args=(evaluated, test[0], test[1], stop, report))
    worker.start()

    model = WaveClassifier()
    opt = optim.Adam(model.parameters(), lr=1e-2)
    loss_fn = nn.CrossEntropyLoss()
    epoch_losses = []
    try:
        for _ in range(3):
            total = count = 0
            for x, lengths, labels in batches(*train, rng):
                logits = model(x, lengths)[0]
                loss = loss_fn(logits, labels)
                opt.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                opt.step()
                total += loss.item() * len(labels)
                count += len(labels)
            epoch_losses.append(total / count)
    finally:
        stop.set()
        worker.join()

    results.update(report)
    results.update(
        first_epoch_loss=epoch_losses[0],
        last_epoch_loss=epoch_losses[-1],
        test_accuracy=accuracy(model, *test),
        fixed_again_loss=fixed_weights_numbers(fixed, *fixed_batch)["fixed_loss"],
    )
    return results


if __name__ == "__main__":
    print(main())
