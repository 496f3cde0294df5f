"""Run ``ganglion`` as a user does: ``python -m ganglion ...`` in a fresh folder, with its own dataset cache."""

import os
import subprocess
import sys

import pytest


def runner(folder):
    """run(*args) -> CompletedProcess (text stdout/stderr) of ``python -m ganglion *args`` in ``folder``, with
    $GANGLION_HOME at folder/home; UserWarnings are errors, so a warning the command prints fails a test."""
    env = {**os.environ, "GANGLION_HOME": str(folder / "home"), "PYTHONWARNINGS": "error::UserWarning"}

    def run(*args):
        return subprocess.run([sys.executable, "-m", "ganglion", *map(str, args)], cwd=folder, env=env,
                              capture_output=True, text=True, timeout=300)

    return run


@pytest.fixture
def ganglion_cli(tmp_path):
    return runner(tmp_path)


@pytest.fixture
def ganglion_main(tmp_path, monkeypatch, capsys):
    """The same command in this process (for the many quick usage errors): run(*args) -> (exit status, stdout,
    stderr), the status SystemExit's code where argparse exits."""
    from ganglion import cli

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GANGLION_HOME", str(tmp_path / "home"))

    def run(*args):
        try:
            status = cli.main([str(a) for a in args])
        except SystemExit as stop:
            status = stop.code
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    return run
