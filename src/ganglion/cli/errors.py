"""The two ways a command fails: ``UsageError`` (the command line asks for something impossible: exit 2 with the
subcommand's usage, as argparse does) and ``CommandError`` (the command was understood but could not be done: a
missing file, a model file that would be overwritten; exit 1)."""


class UsageError(Exception):
    """An argument, or a combination of arguments, that cannot work: reported with the subcommand's usage, exit 2."""


class CommandError(Exception):
    """A well-formed command that could not be carried out: reported on stderr, exit 1."""
