"""The harness switches a program to ganglion through its import statements alone, and refuses programs that reach
the original framework some other way."""

import ast

import pytest
from programs_harness import RewriteError, rewrite, run_program, translate


def imports_of(source):
    """The rewritten program's import statements, as source text."""
    tree = rewrite(source)
    return [ast.unparse(node) for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))]


@pytest.mark.parametrize("original, switched", [
    ("torch", "ganglion"),
    ("torch.nn.functional", "ganglion.nn.functional"),
    ("torch.nn.utils.rnn", "ganglion.nn.utils.rnn"),
    ("torch.utils.data", "ganglion.data"),
    ("torch.utils.data.DataLoader", "ganglion.data.DataLoader"),
    ("keras.layers", "ganglion.keras.layers"),
    ("numpy.linalg", "numpy.linalg"),
    ("torchvision", "torchvision"),
])
def test_translate(original, switched):
    assert translate(original) == switched


@pytest.mark.parametrize("source, expected", [
    ("import torch", ["import ganglion as torch"]),
    ("import torch.nn as nn", ["import ganglion.nn as nn"]),
    ("import torch.nn", ["import ganglion.nn", "import ganglion as torch"]),
    ("from torch import nn, optim", ["from ganglion import nn, optim"]),
    ("from torch.utils.data import DataLoader as DL", ["from ganglion.data import DataLoader as DL"]),
    ("from torch.utils import data", ["import ganglion.data as data"]),
    ("import keras", ["import ganglion.keras as keras"]),
    ("from keras import layers", ["from ganglion.keras import layers"]),
    ("import numpy as np, torch", ["import numpy as np", "import ganglion as torch"]),
    ("def f():\n    import torch.optim as optim", ["import ganglion.optim as optim"]),
])
def test_imports_are_switched(source, expected):
    assert imports_of(source) == expected


def test_other_lines_are_left_alone():
    source = "import numpy as np\nimport torch\nx = torch.zeros(3)\ny = np.ones(2)\n"
    rewritten = ast.unparse(rewrite(source)).splitlines()
    assert rewritten == ["import numpy as np", "import ganglion as torch", "x = torch.zeros(3)", "y = np.ones(2)"]


@pytest.mark.parametrize("source, complaint", [
    ("import torch\nloader = torch.utils.data.DataLoader([])", "torch.utils.data.DataLoader would become"),
    ("import torch.utils.data\nx = torch.utils.data.TensorDataset", "ganglion spells it ganglion.data.TensorDataset"),
    ("x = torch.zeros(2)", "'torch' is used but never imported"),
    ("import importlib\nt = importlib.import_module('numpy')", "import_module(...)"),
    ("m = __import__('os')", "__import__(...)"),
    ("name = 'torch.nn'", "the string 'torch.nn' names a framework module"),
    ("from keras import *", "hides which names it uses"),
])
def test_what_the_rewrite_cannot_cover_is_refused(source, complaint):
    with pytest.raises(RewriteError, match="(?s)" + complaint.replace("(", r"\(").replace(")", r"\)")):
        rewrite(source)


def test_method_named_compile_is_allowed():
    assert imports_of("import keras\nm = keras.Sequential([])\nm.compile(loss='mse')") == [
        "import ganglion.keras as keras"]


def test_a_program_runs_on_both_and_returns_its_dict(tmp_path):
    program = tmp_path / "prog_tiny.py"
    program.write_text("import torch\n\ndef main():\n    return {'framework': torch.__name__, "
                       "'total': float(torch.ones(3).sum().item())}\n")
    reference, _ = run_program(program, "reference")
    switched, _ = run_program(program, "ganglion")
    assert reference == {"framework": "torch", "total": 3.0}
    assert switched == {"framework": "ganglion", "total": 3.0}


def test_a_name_still_holding_the_framework_is_refused(tmp_path):
    program = tmp_path / "prog_leak.py"
    program.write_text("import sys\nreal = sys.modules['tor' + 'ch']  # past the static checks\n\n"
                       "def main():\n    return {}\n")
    assert run_program(program, "reference")[0] == {}
    with pytest.raises(RewriteError, match="real -> torch"):
        run_program(program, "ganglion")


def test_main_must_return_a_dict(tmp_path):
    program = tmp_path / "prog_bad.py"
    program.write_text("def main():\n    return [1, 2]\n")
    with pytest.raises(TypeError, match="must return a dict"):
        run_program(program, "reference")
