"""``ganglion train``: the notes' iris network trains offline, reports test metrics, and saves a model that loads
back with identical predictions."""

import numpy as np
import pytest

import ganglion
from ganglion import cli
from ganglion.data.datasets import load_iris


def test_load_iris_is_the_classic_table():
    data = load_iris()
    assert data.data.shape == (150, 4) and data.target.shape == (150,)
    assert np.bincount(data.target).tolist() == [50, 50, 50]
    assert data.target_names == ["setosa", "versicolor", "virginica"]
    np.testing.assert_allclose(data.data.mean(axis=0), [5.843333, 3.057333, 3.758, 1.199333], rtol=1e-5)
    X, y = load_iris(return_X_y=True)
    assert np.array_equal(X, data.data) and np.array_equal(y, data.target)


def test_train_command_trains_saves_and_reloads(tmp_path, capsys):
    out = tmp_path / "models" / "iris.safetensors"
    assert cli.main(["train", "--out", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    accuracy = float(printed.split("test accuracy:")[1].split()[0])
    assert accuracy >= 0.9, printed
    assert "test loss:" in printed and out.exists()

    model, extra = ganglion.io.load_model(out, return_extra=True)
    assert extra["test_accuracy"] == pytest.approx(accuracy, abs=1e-4)
    X, _ = load_iris(return_X_y=True)
    x = ganglion.tensor(X)
    probabilities = model(x)
    np.testing.assert_allclose(probabilities.array.sum(axis=1), 1.0, rtol=1e-5)
    again = ganglion.io.load_model(out)
    assert np.array_equal(again(x).array, probabilities.array)


def test_train_shows_a_progress_bar(tmp_path):
    import io

    stream = io.StringIO()
    result = cli.train_iris(epochs=3, out=None, stream=stream, progress=True)
    assert "3/3" in stream.getvalue() and "epoch" in stream.getvalue()
    assert set(result) >= {"test_loss", "test_accuracy"}


@pytest.mark.parametrize("argv", [["train", "--epochs", "0"], ["train", "--test-size", "1.5"], ["train", "--lr", "-1"],
                                  ["fly"]])
def test_bad_arguments_exit_with_a_message(argv, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == 2
    assert "error" in capsys.readouterr().err
