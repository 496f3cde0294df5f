"""The ``ganglion`` command: one module per subcommand.

    ganglion train       train a classifier (default: the notes' iris network) and save it as a model file
    ganglion evaluate    loss, accuracy, confusion matrix and classification report of a model file
    ganglion predict     classes and probabilities for the rows of a CSV file
    ganglion summary     layers, output shapes, parameters and FLOPs of a model file
    ganglion convert     a PyTorch .pth state_dict to .safetensors

Progress and logs go to stderr, results to stdout. Exit status: 0 done; 2 a usage error (reported with the
subcommand's usage); 1 a command that could not be carried out (a missing file, a model file it would overwrite).
"""

import argparse
import os
import sys

from . import convert, evaluate, predict, summary, train
from .common import HelpFormatter
from .errors import CommandError, UsageError

COMMANDS = (train, evaluate, predict, summary, convert)


def build_parser():
    """The parser; each subcommand's parser is ``parser.commands[name]``."""
    from .. import __version__

    parser = argparse.ArgumentParser(prog="ganglion", formatter_class=HelpFormatter,
                                     description="ganglion: train and run neural networks from the command line.")
    parser.add_argument("--version", action="version", version=f"ganglion {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    parser.commands = {}
    for module in COMMANDS:
        command = module.add_parser(sub)
        parser.commands[command.prog.split()[-1]] = command
    return parser


def main(argv=None):
    """Run ``ganglion`` with ``argv`` (default: sys.argv[1:]); returns the exit status (argparse exits with 2)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    command = parser.commands[args.command]
    try:
        return args.run(args)
    except UsageError as error:
        command.error(str(error))  # prints the subcommand's usage, exits 2
    except CommandError as error:
        print(f"{command.prog}: error: {error}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # stdout closed early (``ganglion predict ... | head``): not an error worth a traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        print(f"{command.prog}: interrupted", file=sys.stderr)
        return 130
