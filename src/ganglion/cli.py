"""The ``ganglion`` command. ``ganglion train`` trains the notes' iris network offline and saves it; ``ganglion
convert`` turns a PyTorch weight file into safetensors (``ganglion.vision.convert``; needs PyTorch for that step).

    ganglion train [--epochs 50] [--batch-size 2] [--lr 0.001] [--test-size 0.2] [--seed 0]
                   [--out models/iris.safetensors] [--no-progress]
    ganglion convert IN.pth OUT.safetensors [--key state_dict]
"""

import argparse
import sys

import numpy as np


def build_iris_model():
    """The notes' network: 4 -> 8 -> 6 -> 3 with ReLU, ReLU and a softmax output."""
    from . import nn

    return nn.Sequential(
        nn.Linear(4, 8), nn.ReLU(),
        nn.Linear(8, 6), nn.ReLU(),
        nn.Linear(6, 3), nn.Softmax(dim=1),
    )


def split_indices(n, test_size, rng):
    """A shuffled (train, test) split of range(n) with round(test_size * n) test rows."""
    order = rng.permutation(n)
    n_test = int(round(test_size * n))
    return order[n_test:], order[:n_test]


def train_iris(epochs=50, batch_size=2, lr=1e-3, test_size=0.2, seed=0, progress=True, out=None, stream=None):
    """Train the iris network with Adam and categorical cross-entropy; returns a dict of the results.

    The softmax is the model's last layer; training feeds the layers before it to ``CrossEntropyLoss``, which
    applies softmax and cross-entropy as one stable op.
    """
    import ganglion
    from tqdm import tqdm

    from .data.datasets import load_iris
    from .io import save_model
    from .nn import functional as F

    stream = stream or sys.stdout
    ganglion.manual_seed(seed)
    X, y = load_iris(return_X_y=True)
    train_idx, test_idx = split_indices(len(X), test_size, np.random.default_rng(seed))
    x_train, y_train = ganglion.tensor(X[train_idx]), ganglion.tensor(y[train_idx])
    x_test, y_test = ganglion.tensor(X[test_idx]), ganglion.tensor(y[test_idx])

    model = build_iris_model()
    logits_model = model[:-1]  # shares the layers; the last one is the softmax
    optimizer = ganglion.optim.Adam(model.parameters(), lr=lr)
    batch_rng = np.random.default_rng(seed + 1)
    n = len(train_idx)

    bar = tqdm(range(1, epochs + 1), desc="train", unit="epoch", disable=not progress, file=stream, leave=True)
    for epoch in bar:
        model.train()
        order = batch_rng.permutation(n)
        total, correct = 0.0, 0
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            xb, yb = x_train[idx], y_train[idx]
            logits = logits_model(xb)
            loss = F.cross_entropy(logits, yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
            correct += int((logits.array.argmax(axis=1) == yb.array).sum())
        bar.set_postfix(loss=f"{total / n:.4f}", accuracy=f"{correct / n:.3f}")

    model.eval()
    with ganglion.no_grad():
        test_loss = F.cross_entropy(logits_model(x_test), y_test).item()
        probabilities = model(x_test)
    test_accuracy = float((probabilities.array.argmax(axis=1) == y_test.array).mean())
    result = {"test_loss": test_loss, "test_accuracy": test_accuracy, "epochs": epochs, "train_rows": n,
              "test_rows": len(test_idx)}
    if out:
        save_model(model, out, extra={"task": "iris", **result})
        result["out"] = out
    return result


def _positive_int(text):
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _fraction(text):
    value = float(text)
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"must be in (0, 1), got {text}")
    return value


def build_parser():
    parser = argparse.ArgumentParser(prog="ganglion", description="ganglion: train and run neural networks.")
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train the iris network (4-8-6-3, Adam) on the bundled iris data")
    train.add_argument("--epochs", type=_positive_int, default=50)
    train.add_argument("--batch-size", type=_positive_int, default=2)
    train.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (default 0.001)")
    train.add_argument("--test-size", type=_fraction, default=0.2, help="fraction held out for testing")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--out", default="models/iris.safetensors", help="where to save the trained model")
    train.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    convert = commands.add_parser("convert", help="convert a PyTorch .pth/.pt state_dict to .safetensors")
    convert.add_argument("src", metavar="IN.pth", help="file written by torch.save (a state_dict or a checkpoint)")
    convert.add_argument("dst", metavar="OUT.safetensors", help="where to write the safetensors file (atomically)")
    convert.add_argument("--key", default=None, help="the checkpoint entry holding the state_dict (default: the "
                         "file itself, else 'state_dict' or 'model')")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.command == "train":
        if args.lr <= 0:
            build_parser().error(f"--lr must be positive, got {args.lr}")
        result = train_iris(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, test_size=args.test_size,
                            seed=args.seed, progress=not args.no_progress, out=args.out)
        print(f"test loss: {result['test_loss']:.4f}")
        print(f"test accuracy: {result['test_accuracy']:.4f} ({result['test_rows']} rows)")
        print(f"saved model to {result['out']}")
    elif args.command == "convert":
        from .vision.convert import convert

        try:
            names = convert(args.src, args.dst, key=args.key)
        except (ImportError, OSError, ValueError) as error:  # reported, with the exit status saying it failed
            print(f"ganglion convert: {error}", file=sys.stderr)
            return 1
        print(f"converted {len(names)} tensors from {args.src} to {args.dst}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
