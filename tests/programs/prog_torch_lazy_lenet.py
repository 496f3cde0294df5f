"""LeNet in the style of Dive into Deep Learning: lazy layers, a shape walk on a dummy input, then training.

The layers are ``nn.LazyConv2d`` and ``nn.LazyLinear``, which learn their input sizes from the first batch. As the
book does, a dummy 1x1x28x28 input is passed through ``net`` layer by layer, printing each layer's class name and
output shape; that first pass also materializes the lazy parameters, which are then initialized with Xavier uniform
via ``net.apply``. ReLU and max pooling stand in for the 1998 sigmoid and average pooling, as in the book's
modernized version, so a few epochs suffice. The net then learns to tell apart five kinds of generated 28x28
pictures (a horizontal bar, a vertical bar, a box, a diagonal, a blob) with noise, through a DataLoader.
"""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


def make_images(n, generator):
    labels = torch.randint(0, 5, (n,), generator=generator)
    images = 0.3 * torch.randn(n, 1, 28, 28, generator=generator)
    shifts = torch.randint(-4, 5, (n, 2), generator=generator)
    for image, label, (dy, dx) in zip(images, labels.tolist(), shifts.tolist()):
        cy, cx = 14 + dy, 14 + dx
        if label == 0:
            image[0, cy - 1:cy + 2, 4:24] += 1.0
        elif label == 1:
            image[0, 4:24, cx - 1:cx + 2] += 1.0
        elif label == 2:
            image[0, cy - 6:cy + 6, cx - 6] += 1.0
            image[0, cy - 6:cy + 6, cx + 5] += 1.0
            image[0, cy - 6, cx - 6:cx + 6] += 1.0
            image[0, cy + 5, cx - 6:cx + 6] += 1.0
        elif label == 3:
            for k in range(-8, 8):
                image[0, cy + k, cx + k] += 1.0
        else:
            image[0, cy - 3:cy + 3, cx - 3:cx + 3] += 1.0
    return images, labels


INITIALIZED = []


def init_cnn(module):
    if type(module) == nn.Linear or type(module) == nn.Conv2d:
        nn.init.xavier_uniform_(module.weight)
        INITIALIZED.append(type(module).__name__)


def lenet(num_classes=5):
    return nn.Sequential(
        nn.LazyConv2d(6, kernel_size=5, padding=2), nn.ReLU(),
        nn.MaxPool2d(kernel_size=2, stride=2),
        nn.LazyConv2d(16, kernel_size=5), nn.ReLU(),
        nn.MaxPool2d(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.LazyLinear(120), nn.ReLU(),
        nn.LazyLinear(84), nn.ReLU(),
        nn.LazyLinear(num_classes))


def main():
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(0)
    INITIALIZED.clear()
    net = lenet()

    X = torch.randn(1, 1, 28, 28)
    shapes, names = [], []
    for layer in net:
        X = layer(X)
        print(layer.__class__.__name__, "output shape:\t", X.shape)
        names.append(layer.__class__.__name__)
        shapes.append(list(X.shape))
    net.apply(init_cnn)

    x_train, y_train = make_images(400, generator)
    x_test, y_test = make_images(200, generator)
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=32, shuffle=True)
    optimizer = torch.optim.Adam(net.parameters(), lr=0.002)
    loss_fn = nn.CrossEntropyLoss()
    epoch_losses = []
    for _ in range(4):
        net.train()
        total, count = 0.0, 0
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = loss_fn(net(xb), yb)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(xb)
            count += len(xb)
        epoch_losses.append(total / count)

    net.eval()
    with torch.no_grad():
        accuracy = (net(x_test).argmax(dim=1) == y_test).float().mean().item()

    return {
        "layer_names": names,
        "layer_shapes": shapes,
        "parameter_shapes": [list(p.shape) for p in net.parameters()],
        "xavier_initialized": INITIALIZED,
        "parameter_count": sum(p.numel() for p in net.parameters()),
        "first_epoch_loss": epoch_losses[0],
        "last_epoch_loss": epoch_losses[-1],
        "test_accuracy": accuracy,
    }


if __name__ == "__main__":
    print(main())
