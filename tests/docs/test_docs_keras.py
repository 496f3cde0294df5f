"""docs/keras.md runs as written: its python blocks, in order, as one program (in a temporary folder)."""

import pathlib
import re

DOC = pathlib.Path(__file__).resolve().parents[2] / "docs" / "keras.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


def test_keras_tutorial_has_its_sections():
    assert len(BLOCKS) >= 5
    text = DOC.read_text(encoding="utf-8")
    for heading in ("## Saving and resuming", "## The functional API", "## Subclassing", "## How it works"):
        assert heading in text


def test_keras_tutorial_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "keras_tutorial"}
    for index, block in enumerate(BLOCKS):
        exec(compile(block, f"docs/keras.md block {index}", "exec"), namespace)
    out = capsys.readouterr().out
    assert "Total params: 115 (460.00 B)" in out and "Connected to" in out
    assert (tmp_path / "models" / "iris.keras").is_file() and (tmp_path / "models" / "iris.weights.h5").is_file()
