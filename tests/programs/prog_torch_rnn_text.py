"""Recurrent text classifiers in PyTorch: Embedding -> LSTM / GRU -> Linear on sequences of varying length.

Each synthetic "sentence" is filler tokens with one marker token somewhere in it; the marker (1, 2 or 3) is the
class, so the network has to carry what it saw to the end. Sentences are 1 to 12 tokens long. Three models learn it:
- an LSTM over padded batches packed with ``pack_padded_sequence`` (a DataLoader whose batch sampler gives batches of
  changing size, 1 included, and whose collate function pads);
- a bidirectional GRU over the same packed batches;
- an LSTM over batches that hold sentences of one length only (no packing: lengths 1..12, batches of 1 included).
Afterwards each model runs on batches of awkward shapes (one sentence of length 1, all the length-1 sentences, one
long sentence, ordinary batches) and checks that everything it returned earlier (outputs, final states, logits)
still holds its values after the later calls, and that a loss's gradient does not change when other batches run
between its forward and its backward.
"""

import numpy as np
import torch
from torch import nn, optim
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence
from torch.utils.data import DataLoader

PAD, MARKERS, VOCAB, MAX_LEN = 0, (1, 2, 3), 12, 12


def make_sentences(n, rng):
    """n (token tensor, label) pairs: filler tokens 4..11 with the marker label + 1 at a random position."""
    pairs = []
    for _ in range(n):
        length = int(rng.integers(1, MAX_LEN + 1))
        label = int(rng.integers(0, 3))
        tokens = rng.integers(len(MARKERS) + 1, VOCAB, length)
        tokens[rng.integers(0, length)] = MARKERS[label]
        pairs.append((torch.tensor(tokens, dtype=torch.int64), label))
    return pairs


def pad_batch(pairs):
    """collate_fn: (B, T) padded tokens, (B,) lengths, (B,) labels."""
    tokens = pad_sequence([t for t, _ in pairs], batch_first=True, padding_value=PAD)
    lengths = torch.tensor([len(t) for t, _ in pairs])
    return tokens, lengths, torch.tensor([label for _, label in pairs])


def ragged_batches(n, rng, sizes=(16, 1, 7, 32, 3, 24)):
    """Index lists for a batch sampler: a shuffled pass over n items, cut into batches of cycling sizes."""
    order, batches, start, i = rng.permutation(n).tolist(), [], 0, 0
    while start < n:
        batches.append(order[start:start + sizes[i % len(sizes)]])
        start, i = start + sizes[i % len(sizes)], i + 1
    return batches


def same_length_batches(pairs, rng, size=16):
    """Index lists whose sentences all have one length; a lone sentence of its length is a batch of 1."""
    by_length = {}
    for index in rng.permutation(len(pairs)).tolist():
        by_length.setdefault(len(pairs[index][0]), []).append(index)
    batches = [group[i:i + size] for group in by_length.values() for i in range(0, len(group), size)]
    return [batches[i] for i in rng.permutation(len(batches))] + [[by_length[1][0]]]


class PackedClassifier(nn.Module):
    """Embedding -> (bi)LSTM / GRU over a packed batch -> Linear on the final hidden state(s)."""

    def __init__(self, cell, bidirectional=False):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, 8, padding_idx=PAD)
        self.rnn = cell(8, 16, batch_first=True, bidirectional=bidirectional)
        self.head = nn.Linear(32 if bidirectional else 16, 3)

    def forward(self, tokens, lengths):
        packed = pack_padded_sequence(self.embed(tokens), lengths, batch_first=True, enforce_sorted=False)
        output, state = self.rnn(packed)
        hidden = state[0] if isinstance(state, tuple) else state  # an LSTM's state is (h, c)
        last = torch.cat([hidden[-2], hidden[-1]], dim=1) if self.rnn.bidirectional else hidden[-1]
        return self.head(last), output, state


class SameLengthClassifier(nn.Module):
    """Embedding -> LSTM over a batch of equal-length sentences -> Linear on the last step's output."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, 8)
        self.rnn = nn.LSTM(8, 16, batch_first=True)
        self.head = nn.Linear(16, 3)

    def forward(self, tokens, lengths):
        output, state = self.rnn(self.embed(tokens))
        return self.head(output[:, -1]), output, state


def accuracy(model, loader):
    model.eval()
    correct = count = 0
    with torch.no_grad():
        for tokens, lengths, labels in loader:
            logits = model(tokens, lengths)[0]
            correct += (logits.argmax(dim=1) == labels).sum().item()
            count += len(labels)
    return correct / count


def probe_batches(pairs, batches_for, rng):
    """Batches of every awkward shape: one sentence of length 1 alone, all the length-1 sentences together, one
    long sentence alone, a few ordinary batches, and the first one again."""
    ones = [i for i, (tokens, _) in enumerate(pairs) if len(tokens) == 1]
    longest = max(range(len(pairs)), key=lambda i: len(pairs[i][0]))
    index_lists = [[ones[0]], ones, [longest], *batches_for(pairs, rng)[:5], [ones[1]], [ones[0]]]
    return [pad_batch([pairs[i] for i in indices]) for indices in index_lists]


def kept_results_change(model, batches, training):
    """Run the model on each batch in turn, keeping every tensor each call returned; return how far any kept tensor
    moved by the end. In training mode with autograd recording, else in eval mode under no_grad."""
    model.train(training)
    kept = []
    with torch.set_grad_enabled(training):
        for tokens, lengths, _ in batches:
            logits, output, state = model(tokens, lengths)
            output = output.data if isinstance(output, nn.utils.rnn.PackedSequence) else output
            for tensor in [logits, output, *(state if isinstance(state, tuple) else [state])]:
                kept.append((tensor, tensor.detach().clone()))
    return max((tensor.detach() - copy).abs().max().item() for tensor, copy in kept)


def gradient_change(model, loss_fn, batch, other_batches):
    """How far the gradient of one batch's loss moves when other forwards and backwards run before its backward."""
    model.train()
    tokens, lengths, labels = batch
    model.zero_grad()
    loss_fn(model(tokens, lengths)[0], labels).backward()
    alone = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    pending = loss_fn(model(tokens, lengths)[0], labels)
    for other_tokens, other_lengths, other_labels in other_batches:
        loss_fn(model(other_tokens, other_lengths)[0], other_labels).backward()
    model.zero_grad()
    pending.backward()
    return max((p.grad - g).abs().max().item() for p, g in zip(model.parameters(), alone))


def train(model, train_pairs, test_pairs, batches_for, seed, epochs=3):
    rng = np.random.default_rng(seed)
    optimizer = optim.Adam(model.parameters(), lr=0.02)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(epochs):
        model.train()
        for tokens, lengths, labels in DataLoader(train_pairs, batch_sampler=batches_for(train_pairs, rng),
                                                  collate_fn=pad_batch):
            optimizer.zero_grad()
            loss = loss_fn(model(tokens, lengths)[0], labels)
            loss.backward()
            optimizer.step()
    test_loader = DataLoader(test_pairs, batch_sampler=batches_for(test_pairs, rng), collate_fn=pad_batch)
    probes = probe_batches(test_pairs, batches_for, rng)
    return {
        "accuracy": accuracy(model, test_loader),
        "kept_outputs_changed_by": kept_results_change(model, probes, training=False),
        "kept_training_outputs_changed_by": kept_results_change(model, probes, training=True),
        "gradient_changed_by": gradient_change(model, loss_fn, probes[0], probes[1:]),
    }


def main():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    train_pairs, test_pairs = make_sentences(240, rng), make_sentences(100, rng)
    ragged = lambda pairs, rng: ragged_batches(len(pairs), rng)  # noqa: E731
    results = {}
    for name, model, batches_for in (
        ("lstm_packed", PackedClassifier(nn.LSTM), ragged),
        ("bigru_packed", PackedClassifier(nn.GRU, bidirectional=True), ragged),
        ("lstm_same_length", SameLengthClassifier(), same_length_batches),
    ):
        for key, value in train(model, train_pairs, test_pairs, batches_for, seed=len(results)).items():
            results[f"{name}_{key}"] = value
    return results


if __name__ == "__main__":
    print(main())
