"""``ganglion evaluate MODEL``: loss, accuracy, confusion matrix and classification report of a saved model.

The rows scored: an image dataset's test split; for the table the model was trained on (same data, same rows), the
rows training held out for validation (rebuilt from the seed and fraction the model file records); any other table
whole. ``--data`` defaults to the data the model was trained on.
"""

import sys

import numpy as np

from . import data as datasets
from .common import add_placement_arguments, command_parser, device, positive_int, predict_proba
from .errors import CommandError

SPLIT_DATASETS = ("mnist", "fashion_mnist", "cifar10")  # those with an official test split


def add_parser(commands):
    parser = command_parser(
        commands, "evaluate", "score a saved model: loss, accuracy, confusion matrix",
        "Score a model file written by `ganglion train`: loss, accuracy, confusion matrix and classification report, "
        "on an image dataset's test split, the rows held out in training, or a whole other table.", model_file=True)
    parser.add_argument("--data", help="iris, digits, mnist, fashion_mnist, cifar10 or a .csv path (default: the "
                        "data the model was trained on)")
    parser.add_argument("--target", metavar="COLUMN", help="the class column of a .csv --data (default: the one the "
                        "model was trained with)")
    parser.add_argument("--batch-size", type=positive_int, default=256, help="rows per forward pass")
    add_placement_arguments(parser)
    parser.set_defaults(run=run)
    return parser


def _default_data(meta, args):
    source = meta["data"]
    if source.get("data") == "csv":
        return source["path"], args.target or source["target"]
    return source["data"], args.target


def select_rows(meta, examples):
    """(row indices, description) of the rows of ``examples`` to score."""
    from .train import split_indices

    training = meta["training"]
    same = examples.source == meta["data"] and len(examples.x) == training["rows"]
    if same and training["val_split"] > 0 and examples.source["data"] not in SPLIT_DATASETS:
        _, held_out = split_indices(len(examples.x), training["val_split"], np.random.default_rng(training["seed"]))
        return held_out, f"the {len(held_out)} rows of {examples.description} held out for validation in training"
    return np.arange(len(examples.x)), examples.description


def model_labels(examples, classes, where):
    """The data's labels as indices into the model's ``classes`` (matched by name)."""
    unknown = [c for c in examples.classes if c not in classes]
    if unknown:
        raise CommandError(f"{where} holds classes the model does not know: {unknown}; the model's classes are "
                           f"{classes}")
    return np.array([classes.index(c) for c in examples.classes], dtype=np.int64)[examples.y]


def align_columns(examples, features):
    """The rows of ``examples`` with the model's input columns: matched by name when the data names them all,
    otherwise by position (said on stderr)."""
    if examples.features == features:
        return examples.x
    if set(features) <= set(examples.features):
        return examples.x[:, [examples.features.index(name) for name in features]]
    if examples.x.shape[1] != len(features):
        raise CommandError(f"{examples.description} has {examples.x.shape[1]} input columns; the model takes "
                           f"{len(features)} ({', '.join(features[:6])}{', ...' if len(features) > 6 else ''})")
    print("the data's column names differ from the model's; taking the columns by position", file=sys.stderr)
    return examples.x


def confusion_table(matrix, classes):
    width = max(len(c) for c in classes)
    cell = max(width, len(str(matrix.max())))
    lines = [" " * width + "  " + "  ".join(c.rjust(cell) for c in classes)]
    lines += [name.ljust(width) + "  " + "  ".join(str(v).rjust(cell) for v in row)
              for name, row in zip(classes, matrix)]
    return "\n".join(lines)


def run(args):
    from . import modelfile, preprocess
    from ..metrics import accuracy_score, classification_report, confusion_matrix, log_loss

    placed = device(args.device)
    model, meta = modelfile.load(args.model)
    data, target = (args.data, args.target) if args.data else _default_data(meta, args)
    split = "test" if data in SPLIT_DATASETS else "train"
    examples = datasets.load(data, split, target, args.data_root, args.download)
    spec, classes = meta["preprocessing"], meta["classes"]
    x = align_columns(examples, meta["features"])
    rows, described = select_rows(meta, examples)
    y = model_labels(examples, classes, data)[rows]
    print(f"evaluating on {described}", file=sys.stderr)
    model.to(placed)
    proba = predict_proba(model, preprocess.apply(spec, x[rows]), args.batch_size, placed)
    predicted = proba.argmax(axis=1)
    labels = list(range(len(classes)))
    print(f"rows: {len(rows)}")
    print(f"loss: {log_loss(y, proba, labels=labels):.4f}")
    print(f"accuracy: {accuracy_score(y, predicted):.4f}")
    print("\nconfusion matrix (rows: true class, columns: predicted class):")
    print(confusion_table(confusion_matrix(y, predicted, labels=labels), classes))
    print("\nclassification report:")
    print(classification_report(y, predicted, labels=labels, target_names=classes, digits=4, zero_division=0))
    return 0
