"""``ganglion predict MODEL INPUT.csv``: each row's class and the probability of every class, as CSV or JSON.

The input rows are what the model was trained on before preprocessing (the model file holds that): a table's
feature columns (found by name when the CSV has a header naming them, so extra columns such as the target are
ignored; otherwise by position), or an image's pixels in height, width, channel order with their original range.
"""

import csv
import io
import json
import os
import sys

import numpy as np

from .common import command_parser, positive_int, predict_proba
from .errors import CommandError


def add_parser(commands):
    parser = command_parser(
        commands, "predict", "classify the rows of a CSV file with a saved model",
        "Classify the rows of a CSV file with a model file written by `ganglion train`: the predicted class and every "
        "class's probability, one line (CSV) or object (JSON) per input row.", model_file=True)
    parser.add_argument("input", metavar="INPUT.csv", help="rows to classify (raw values, as in the training data)")
    parser.add_argument("--format", choices=("csv", "json"), default="csv",
                        help="csv: a header (class, then each class name) and one line per row; json: an object "
                             "with classes and predictions")
    parser.add_argument("--output", metavar="PATH", help="write the predictions here (atomically) instead of stdout")
    parser.add_argument("--batch-size", type=positive_int, default=256, help="rows per forward pass")
    parser.set_defaults(run=run)
    return parser


def _header(path):
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.reader(f):
            if row and any(cell.strip() for cell in row):
                return [cell.strip() for cell in row]
    return []


def read_rows(path, features):
    """Rows (n, len(features)) of ``path``: the columns named ``features`` if the header names them all, else every
    column by position."""
    from ..data.datasets import load_csv

    if not os.path.isfile(path):
        raise CommandError(f"no input file at {path}")
    try:
        if set(features) <= set(_header(path)):
            return load_csv(path, target_column=None, feature_columns=features, header=True, dtype=np.float64)
        x = load_csv(path, target_column=None, dtype=np.float64)
    except ValueError as error:
        raise CommandError(str(error)) from None
    if x.shape[1] != len(features):
        shown = ", ".join(features[:6]) + (", ..." if len(features) > 6 else "")
        raise CommandError(f"{path} has {x.shape[1]} columns; the model takes {len(features)} ({shown}): give them in "
                           "that order, or a header naming them")
    return x


def render(classes, proba, fmt):
    if fmt == "json":
        rows = [{"class": classes[i], "probabilities": dict(zip(classes, map(float, p)))}
                for i, p in zip(proba.argmax(axis=1), proba)]
        return json.dumps({"classes": classes, "predictions": rows}, indent=2) + "\n"
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["class", *classes])
    for i, p in zip(proba.argmax(axis=1), proba):
        writer.writerow([classes[i], *(repr(float(v)) for v in p)])
    return text.getvalue()


def run(args):
    from . import modelfile, preprocess
    from ..io import atomic_write_bytes

    model, meta = modelfile.load(args.model)
    x = read_rows(args.input, meta["features"])
    if np.isnan(x).any():
        raise CommandError(f"{args.input}: row {int(np.argwhere(np.isnan(x))[0][0]) + 1} has an empty cell")
    proba = predict_proba(model, preprocess.apply(meta["preprocessing"], x), args.batch_size)
    text = render(meta["classes"], proba, args.format)
    if args.output:
        try:
            atomic_write_bytes(args.output, text.encode("utf-8"))
        except OSError as error:
            raise CommandError(f"cannot write {args.output}: {error.strerror or error}") from None
        print(f"wrote {len(x)} predictions to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
