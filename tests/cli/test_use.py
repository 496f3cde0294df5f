"""``ganglion evaluate``, ``predict`` and ``summary`` on models ``ganglion train`` saved, run as a user does."""

import csv
import importlib.util
import io
import json
import re

import numpy as np
import pytest


from cli_files import write_flowers
from conftest import runner


@pytest.fixture(scope="module")
def flowers(tmp_path_factory):
    """(folder, run, path of the model, train's stdout): a model trained once on an iris CSV with a named target."""
    folder = tmp_path_factory.mktemp("flowers")
    run = runner(folder)
    write_flowers(folder / "flowers.csv")
    result = run("train", "--data", "flowers.csv", "--target", "species", "--hidden", "16", "--lr", "0.01",
                 "--epochs", "30", "--batch-size", "8", "--no-progress")
    assert result.returncode == 0, result.stderr
    return folder, run, "models/flowers-mlp.safetensors", result.stdout


def test_predict_csv_and_json(flowers):
    tmp_path, ganglion_cli, model, _ = flowers
    rows = [0, 1, 50, 51, 100, 101]
    _, names = write_flowers(tmp_path / "some.csv", rows)  # with the target column: ignored, columns found by name
    as_csv = ganglion_cli("predict", model, "some.csv")
    assert as_csv.returncode == 0, as_csv.stderr
    table = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert list(table[0]) == ["class", "setosa", "versicolor", "virginica"] and len(table) == len(rows)
    for row in table:
        probabilities = [float(row[c]) for c in ("setosa", "versicolor", "virginica")]
        assert sum(probabilities) == pytest.approx(1.0, abs=1e-5)
        assert row["class"] == ("setosa", "versicolor", "virginica")[int(np.argmax(probabilities))]
    assert sum(row["class"] == name for row, name in zip(table, names)) >= 5

    as_json = ganglion_cli("predict", model, "some.csv", "--format", "json", "--output", "out/p.json")
    assert as_json.returncode == 0, as_json.stderr
    assert as_json.stdout == "" and "6 predictions" in as_json.stderr
    parsed = json.loads((tmp_path / "out" / "p.json").read_text())
    assert parsed["classes"] == ["setosa", "versicolor", "virginica"]
    assert [p["class"] for p in parsed["predictions"]] == [row["class"] for row in table]
    for p, row in zip(parsed["predictions"], table):
        assert sum(p["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
        assert p["probabilities"]["virginica"] == pytest.approx(float(row["virginica"]))


def test_predict_by_position_without_header(flowers):
    tmp_path, ganglion_cli, model, _ = flowers
    (tmp_path / "plain.csv").write_text("0.2,5.1,3.5,1.4\n2.3,6.9,3.1,5.4\n")  # petal_w, sepal_l, sepal_w, petal_l
    result = ganglion_cli("predict", model, "plain.csv")
    assert result.returncode == 0, result.stderr
    assert [r["class"] for r in csv.DictReader(io.StringIO(result.stdout))] == ["setosa", "virginica"]
    (tmp_path / "short.csv").write_text("1,2,3\n")
    short = ganglion_cli("predict", model, "short.csv")
    assert short.returncode == 1 and "3 columns; the model takes 4" in short.stderr


def test_evaluate_scores_the_held_out_rows(flowers):
    _, ganglion_cli, model, trained = flowers
    result = ganglion_cli("evaluate", model)
    assert result.returncode == 0, result.stderr
    assert "held out for validation" in result.stderr
    assert re.search(r"^rows: 30$", result.stdout, re.M)
    accuracy = float(re.search(r"^accuracy: ([0-9.]+)", result.stdout, re.M).group(1))
    loss = float(re.search(r"^loss: ([0-9.]+)", result.stdout, re.M).group(1))
    assert accuracy == float(re.search(r"validation accuracy: ([0-9.]+)", trained).group(1))
    assert loss == pytest.approx(float(re.search(r"validation loss: ([0-9.]+)", trained).group(1)), abs=2e-4)
    matrix_lines = result.stdout.split("confusion matrix")[1].splitlines()[2:5]
    counts = np.array([[int(v) for v in line.split()[1:]] for line in matrix_lines])
    assert counts.shape == (3, 3) and counts.sum() == 30 and np.trace(counts) == round(accuracy * 30)
    assert "precision" in result.stdout and "virginica" in result.stdout and "macro avg" in result.stdout

    whole = ganglion_cli("evaluate", model, "--data", "iris")  # another table: every row, columns by position
    assert whole.returncode == 0 and re.search(r"^rows: 150$", whole.stdout, re.M)


@pytest.mark.skipif(importlib.util.find_spec("ganglion.insight") is None, reason="ganglion.insight not present yet")
def test_summary_of_an_mlp(flowers):
    _, ganglion_cli, model, _ = flowers
    result = ganglion_cli("summary", model)
    assert result.returncode == 0, result.stderr
    assert "classes (3): setosa, versicolor, virginica" in result.stdout
    assert "Total params: 131" in result.stdout  # 4*16+16 + 16*3+3
    assert "Total FLOPs" in result.stdout and "(1, 16)" in result.stdout and "standardized" in result.stdout
