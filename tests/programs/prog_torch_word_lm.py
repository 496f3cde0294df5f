"""A PyTorch word-level language model on a tiny synthetic corpus, in the style of the word_language_model example.

The corpus is sentences from a small grammar ("the cat sees a dog ." ...), tokenized into one long stream of word
ids and cut into ``batch_size`` columns (``batchify``). An Embedding -> 2-layer LSTM -> Linear model reads windows of
``bptt`` steps (``get_batch``); the hidden state is carried from one window to the next but detached from the graph
(truncated backpropagation through time). CrossEntropyLoss is taken over the flattened logits, gradients are clipped
by ``clip_grad_norm_`` before each Adam step. Perplexity on held-out text must fall well
below the vocabulary size.
"""

import math
import random

import torch
import torch.nn as nn

SUBJECTS = ["the cat", "a dog", "the bird", "my friend", "a teacher"]
VERBS = ["sees", "likes", "follows", "hears"]
OBJECTS = ["the cat", "a dog", "the bird", "the house", "a tree"]


def make_corpus(n_sentences, rng):
    words = []
    for _ in range(n_sentences):
        words += f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} .".split()
    return words


class Dictionary:
    def __init__(self):
        self.word2idx, self.idx2word = {}, []

    def add_word(self, word):
        if word not in self.word2idx:
            self.idx2word.append(word)
            self.word2idx[word] = len(self.idx2word) - 1
        return self.word2idx[word]

    def __len__(self):
        return len(self.idx2word)


def tokenize(words, dictionary):
    return torch.tensor([dictionary.add_word(w) for w in words], dtype=torch.long)


def batchify(data, batch_size):
    n_batch = data.size(0) // batch_size
    data = data[:n_batch * batch_size]
    return data.view(batch_size, -1).t().contiguous()


def get_batch(source, i, bptt):
    seq_len = min(bptt, len(source) - 1 - i)
    return source[i:i + seq_len], source[i + 1:i + 1 + seq_len].reshape(-1)


class RNNModel(nn.Module):
    def __init__(self, ntoken, ninp, nhid, nlayers, dropout=0.2):
        super().__init__()
        self.ntoken = ntoken
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        self.rnn = nn.LSTM(ninp, nhid, nlayers, dropout=dropout)
        self.decoder = nn.Linear(nhid, ntoken)
        self.nlayers, self.nhid = nlayers, nhid
        nn.init.uniform_(self.encoder.weight, -0.1, 0.1)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -0.1, 0.1)

    def forward(self, input, hidden):
        emb = self.drop(self.encoder(input))
        output, hidden = self.rnn(emb, hidden)
        output = self.drop(output)
        decoded = self.decoder(output).view(-1, self.ntoken)
        return decoded, hidden

    def init_hidden(self, bsz):
        weight = next(self.parameters())
        return (weight.new_zeros(self.nlayers, bsz, self.nhid), weight.new_zeros(self.nlayers, bsz, self.nhid))


def repackage_hidden(h):
    """Wrap hidden states in new tensors, to detach them from their history."""
    if isinstance(h, torch.Tensor):
        return h.detach()
    return tuple(repackage_hidden(v) for v in h)


def evaluate(model, source, criterion, bptt, batch_size):
    model.eval()
    total_loss = 0.0
    hidden = model.init_hidden(batch_size)
    with torch.no_grad():
        for i in range(0, source.size(0) - 1, bptt):
            data, targets = get_batch(source, i, bptt)
            output, hidden = model(data, hidden)
            hidden = repackage_hidden(hidden)
            total_loss += len(data) * criterion(output, targets).item()
    return total_loss / (len(source) - 1)


def main():
    torch.manual_seed(0)
    rng = random.Random(0)
    dictionary = Dictionary()
    train_data = batchify(tokenize(make_corpus(300, rng), dictionary), 8)
    val_data = batchify(tokenize(make_corpus(60, rng), dictionary), 8)
    ntokens, bptt, clip, lr = len(dictionary), 10, 0.5, 0.01

    model = RNNModel(ntokens, 24, 32, 2, dropout=0.1)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    initial_ppl = math.exp(evaluate(model, val_data, criterion, bptt, 8))
    largest_norm, epoch_ppl = 0.0, []
    for epoch in range(10):
        model.train()
        hidden = model.init_hidden(8)
        total_loss, steps = 0.0, 0
        for i in range(0, train_data.size(0) - 1, bptt):
            data, targets = get_batch(train_data, i, bptt)
            hidden = repackage_hidden(hidden)
            optimizer.zero_grad()
            output, hidden = model(data, hidden)
            loss = criterion(output, targets)
            loss.backward()
            largest_norm = max(largest_norm, float(torch.nn.utils.clip_grad_norm_(model.parameters(), clip)))
            optimizer.step()
            total_loss += loss.item()
            steps += 1
        epoch_ppl.append(math.exp(total_loss / steps))
    val_ppl = math.exp(evaluate(model, val_data, criterion, bptt, 8))

    return {
        "vocabulary": ntokens,
        "train_columns": list(train_data.shape),
        "initial_val_ppl": initial_ppl,
        "first_epoch_ppl": epoch_ppl[0],
        "last_epoch_ppl": epoch_ppl[-1],
        "val_ppl": val_ppl,
        "largest_grad_norm": largest_norm,
        "hidden_requires_grad_after_detach": repackage_hidden(hidden)[0].requires_grad,
    }


if __name__ == "__main__":
    print(main())
