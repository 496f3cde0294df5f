"""A tiny PyTorch Transformer encoder classifier on a synthetic sequence task.

Sequences of 10 tokens from a vocabulary of 8; the label says whether token 1 appears before token 2 (each appears
once), so the answer depends on positions and on tokens far apart, which attention over a learned positional
embedding can see. The model: Embedding + learned positional Embedding -> nn.TransformerEncoder of two
nn.TransformerEncoderLayer (batch_first=True) -> mean over positions -> Linear. Some sequences are padded at the
end and the padding is hidden by ``src_key_padding_mask``; the prediction of a padded sequence must equal that of the
same sequence unpadded, in eval mode.
"""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

VOCAB, LENGTH, PAD = 8, 10, 0


def make_data(n, generator):
    x = torch.randint(3, VOCAB, (n, LENGTH), generator=generator)
    positions = torch.stack([torch.randperm(LENGTH, generator=generator)[:2] for _ in range(n)])
    rows = torch.arange(n)
    x[rows, positions[:, 0]] = 1
    x[rows, positions[:, 1]] = 2
    y = (positions[:, 0] < positions[:, 1]).long()
    return x, y


class TransformerClassifier(nn.Module):
    def __init__(self, vocab, length, d_model=32, nhead=4, num_layers=2, num_classes=2):
        super().__init__()
        self.embed = nn.Embedding(vocab, d_model, padding_idx=PAD)
        self.position = nn.Embedding(length, d_model)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=64, dropout=0.1, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=num_layers)
        self.head = nn.Linear(d_model, num_classes)

    def forward(self, x, padding_mask=None):
        positions = torch.arange(x.size(1)).unsqueeze(0)
        h = self.encoder(self.embed(x) + self.position(positions), src_key_padding_mask=padding_mask)
        if padding_mask is None:
            pooled = h.mean(dim=1)
        else:
            keep = (~padding_mask).unsqueeze(-1).float()
            pooled = (h * keep).sum(dim=1) / keep.sum(dim=1)
        return self.head(pooled)


def main():
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(0)
    x_train, y_train = make_data(512, generator)
    x_test, y_test = make_data(256, generator)
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=64, shuffle=True)

    model = TransformerClassifier(VOCAB, LENGTH)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    loss_fn = nn.CrossEntropyLoss()
    epoch_losses = []
    for _ in range(8):
        model.train()
        total = 0.0
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(xb)
        epoch_losses.append(total / len(x_train))

    model.eval()
    with torch.no_grad():
        logits = model(x_test)
        accuracy = (logits.argmax(dim=1) == y_test).float().mean().item()
        # the same sequences with three padding tokens after them, masked out
        padded = torch.cat([x_test[:8], torch.full((8, 3), PAD)], dim=1)
        mask = torch.zeros(8, LENGTH + 3, dtype=torch.bool)
        mask[:, LENGTH:] = True
        model.position = nn.Embedding.from_pretrained(
            torch.cat([model.position.weight, torch.zeros(3, model.position.embedding_dim)]))
        padded_logits = model(padded, padding_mask=mask)

    return {
        "parameter_count": sum(p.numel() for p in model.parameters()),
        "encoder_layers": len(model.encoder.layers),
        "first_epoch_loss": epoch_losses[0],
        "last_epoch_loss": epoch_losses[-1],
        "test_accuracy": accuracy,
        "padded_vs_unpadded": (padded_logits - logits[:8]).abs().max().item(),
        "logits_shape": list(logits.shape),
    }


if __name__ == "__main__":
    print(main())
