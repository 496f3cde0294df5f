"""What several commands share: argument types, the device, and running a model over rows in batches."""

import argparse
import os

import numpy as np

from .errors import CommandError, UsageError


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows every default (``(default: 50)``) except for options whose help already says it or that have none."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


def command_parser(commands, name, summary, description=None, model_file=False):
    """The parser of subcommand ``name`` (defaults shown in its help), and with ``model_file`` its MODEL argument: a
    model file written by ``ganglion train``. It runs the ``run`` its module sets with ``set_defaults``."""
    parser = commands.add_parser(name, formatter_class=HelpFormatter, help=summary, description=description)
    if model_file:
        parser.add_argument("model", metavar="MODEL", help="a .safetensors model file written by `ganglion train`")
    return parser


def add_placement_arguments(parser):
    """``--device``, and where the image datasets' files are read from (``--data-root``, ``--download``)."""
    from ..data.datasets import default_root

    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (a GPU needs CuPy)")
    parser.add_argument("--data-root", default=os.fspath(default_root()),
                        help="folder of the image datasets' files ($GANGLION_HOME/datasets when set)")
    parser.add_argument("--download", action="store_true",
                        help="fetch missing image-dataset files (checksummed; needs the network)")


def _argument_type(name, convert, accepts, expected):
    """An argparse ``type``: ``convert`` the text and keep the value when ``accepts`` it; otherwise an
    ArgumentTypeError saying what was ``expected`` and what came."""

    def parse(text):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {expected}, got {text!r}") from None
        if not accepts(value):
            raise argparse.ArgumentTypeError(f"must be {expected}, got {text}")
        return value

    parse.__name__ = name
    return parse


positive_int = _argument_type("positive_int", int, lambda v: v > 0, "a positive integer")
positive_float = _argument_type("positive_float", float, lambda v: 0 < v < float("inf"), "a positive number")
fraction = _argument_type("fraction", float, lambda v: 0.0 <= v < 1.0, "in [0, 1)")


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
