"""What several commands share: argument types, the device, and running a model over rows in batches."""

import argparse

import numpy as np

from .errors import CommandError, UsageError


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows every default (``(default: 50)``) except for options whose help already says it or that have none."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


def positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def fraction(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1), got {text!r}") from None
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text}")
    return value


def widths(text):
    """``8,6`` -> (8, 6): the hidden layers' widths."""
    try:
        values = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be comma-separated positive integers such as 8,6, got {text!r}") \
            from None
    if not all(v > 0 for v in values):
        raise argparse.ArgumentTypeError(f"must be comma-separated positive integers such as 8,6, got {text!r}")
    return values


def device(name):
    """A ganglion device from ``--device``; UsageError for a malformed name, CommandError for a GPU that is absent."""
    import ganglion

    try:
        placed = ganglion.device(name)
    except ValueError as error:
        raise UsageError(f"--device: {error}") from None
    if placed.type == "cuda" and not ganglion.cuda.is_available():
        raise CommandError(f"--device {name}: no GPU is available here (ganglion uses CuPy for GPUs: pip install "
                           "'ganglion[gpu]' on a machine with an NVIDIA GPU); use --device cpu")
    return placed


def predict_proba(model, x, batch_size=256, device=None):
    """Probabilities (n, classes) as a NumPy array of the model's dtype, from ``model`` (ending in a softmax) on
    inputs ``x``, in batches, without recording gradients."""
    import ganglion
    from ..backend import to_numpy

    model.eval()
    out = []
    with ganglion.no_grad():
        for start in range(0, len(x), batch_size):
            batch = ganglion.tensor(x[start:start + batch_size], device=device)
            out.append(to_numpy(model(batch).array))
    return np.concatenate(out) if out else np.zeros((0, 0))
