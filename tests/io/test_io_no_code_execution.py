"""Loading never executes code from a file: the loaders' source imports no pickle-like module and calls nothing
that evaluates or unpickles, and a round trip works with unpickling disabled."""

import ast
import pathlib
import pickle

import numpy as np
import pytest

import ganglion
from ganglion import nn
from ganglion.io import load_model, save_model
from ganglion.keras import Input, Sequential
from ganglion.keras.layers import Dense
from ganglion.keras.models import load_model as keras_load_model

SRC = pathlib.Path(ganglion.__file__).parent
LOADERS = sorted((SRC / "io").glob("*.py")) + sorted((SRC / "keras" / "saving").glob("*.py"))
FORBIDDEN_MODULES = {"pickle", "_pickle", "cPickle", "marshal", "shelve", "dill", "cloudpickle", "joblib", "torch",
                     "importlib", "runpy", "code", "codeop"}
FORBIDDEN_BUILTINS = {"eval", "exec", "compile", "__import__", "breakpoint"}  # called by bare name
FORBIDDEN_METHODS = {"Unpickler", "import_module", "fromfile", "memmap", "load_module", "exec_module"}


def test_the_loaders_exist():
    assert len(LOADERS) >= 10 and any(p.name == "safetensors_format.py" for p in LOADERS)


@pytest.mark.parametrize("path", LOADERS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_loader_imports_or_calls_code_execution(path):
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            names = {(node.module or "").split(".")[0]} if node.level == 0 else set()
        else:
            names = set()
        assert not names & FORBIDDEN_MODULES, f"{path.name}:{node.lineno} imports {names & FORBIDDEN_MODULES}"
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
            owner = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else None
            if isinstance(func, ast.Name):
                assert name not in FORBIDDEN_BUILTINS, f"{path.name}:{node.lineno} calls {name}"
            elif name in {"load", "loads"}:
                # only JSON parsing by that name, through json_fields or the json module
                assert owner in {"json", "json_fields"}, f"{path.name}:{node.lineno} calls {owner}.{name}"
            else:
                assert name not in FORBIDDEN_METHODS, f"{path.name}:{node.lineno} calls .{name}"
        if isinstance(node, ast.keyword):
            assert node.arg != "allow_pickle", f"{path.name}:{node.lineno} passes allow_pickle"


def test_round_trips_work_with_unpickling_disabled(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a loader tried to unpickle")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, refuse)
    monkeypatch.setattr(np, "load", refuse)
    ganglion.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 2), nn.Tanh())
    save_model(model, tmp_path / "m.safetensors")
    assert isinstance(load_model(tmp_path / "m.safetensors")[0], nn.Linear)
    keras_model = Sequential([Input(shape=(3,)), Dense(2)])
    keras_model.save(tmp_path / "k.keras")
    assert keras_load_model(tmp_path / "k.keras").layers[0].units == 2
