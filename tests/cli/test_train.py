"""``ganglion train`` as a user runs it: the zero-argument iris default, digits with an MLP and LeNet, a CSV table,
the MNIST files read offline, and what the model file keeps so that ``predict`` needs nothing else."""

import importlib.util
import json
import re

import numpy as np
import pytest

import ganglion
import ganglion.cli  # noqa: F401  (registers the image networks' types, as the command does)
from ganglion.cli import preprocess, train as train_command
from ganglion.data.datasets import load_digits, load_iris

from cli_files import FLOWER_COLUMNS, write_flowers, write_tiny_mnist


def number(text, label):
    return float(re.search(rf"^{label}: ([0-9.]+)", text, re.M).group(1))


def test_load_iris_is_the_classic_table():
    data = load_iris()
    assert data.data.shape == (150, 4) and data.target.shape == (150,)
    assert np.bincount(data.target).tolist() == [50, 50, 50]
    assert data.target_names == ["setosa", "versicolor", "virginica"]
    np.testing.assert_allclose(data.data.mean(axis=0), [5.843333, 3.057333, 3.758, 1.199333], rtol=1e-5)


def test_zero_argument_train_twice_never_overwrites(ganglion_cli, tmp_path):
    first = ganglion_cli("train")
    assert first.returncode == 0, first.stderr
    out = tmp_path / "models" / "iris-mlp.safetensors"
    assert f"saved model to {out.relative_to(tmp_path)}" in first.stdout
    assert number(first.stdout, "validation accuracy") >= 0.9
    assert "validation loss:" in first.stdout and "train accuracy:" in first.stdout
    assert "3000/3000" in first.stderr and "epoch 50/50" in first.stderr  # the bar: 50 epochs x 60 batches
    assert "it/s" not in first.stdout and "batch" not in first.stdout  # results only on stdout
    saved = out.read_bytes()

    model, extra = ganglion.io.load_model(out, return_extra=True)
    X, y = load_iris(return_X_y=True)
    train_rows, val_rows = train_command.split_indices(150, 0.2, np.random.default_rng(0))
    assert extra["classes"] == ["setosa", "versicolor", "virginica"]
    np.testing.assert_allclose(extra["preprocessing"]["mean"], X[train_rows].mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(extra["preprocessing"]["scale"], X[train_rows].std(axis=0), rtol=1e-12)
    x = (X[val_rows] - X[train_rows].mean(axis=0)) / X[train_rows].std(axis=0)
    probabilities = model(ganglion.tensor(x.astype(np.float32))).detach().numpy()
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    accuracy = (probabilities.argmax(axis=1) == y[val_rows]).mean()
    assert accuracy == pytest.approx(number(first.stdout, "validation accuracy"), abs=1e-4)

    second = ganglion_cli("train", "--epochs", "1")  # the same default --out: a new numbered file
    assert second.returncode == 0, second.stderr
    assert "iris-mlp-2.safetensors" in second.stdout and "--force" in second.stderr
    assert out.read_bytes() == saved and (tmp_path / "models" / "iris-mlp-2.safetensors").exists()


def test_digits_with_mlp_and_lenet_for_one_epoch(ganglion_cli, tmp_path):
    mlp = ganglion_cli("train", "--data", "digits", "--hidden", "32", "--lr", "0.01", "--epochs", "1",
                       "--batch-size", "32", "--no-progress")
    assert mlp.returncode == 0, mlp.stderr
    assert "1438 for training, 359 for validation" in mlp.stderr and "epoch 1/1" in mlp.stderr
    assert number(mlp.stdout, "validation accuracy") > 0.5  # chance is 0.1
    model, extra = ganglion.io.load_model(tmp_path / "models" / "digits-mlp.safetensors", return_extra=True)
    assert [type(m).__name__ for m in model] == ["Linear", "ReLU", "Linear", "Softmax"]
    assert model[0].in_features == 64 and model[0].out_features == 32 and model[2].out_features == 10
    assert extra["classes"] == [str(d) for d in range(10)] and extra["preprocessing"]["kind"] == "standardize"

    lenet = ganglion_cli("train", "--data", "digits", "--model", "lenet", "--epochs", "1", "--batch-size", "64",
                         "--optimizer", "momentum", "--lr", "0.05", "--no-progress")
    assert lenet.returncode == 0, lenet.stderr
    assert number(lenet.stdout, "validation accuracy") > 0.3
    model, extra = ganglion.io.load_model(tmp_path / "models" / "digits-lenet.safetensors", return_extra=True)
    spec = extra["preprocessing"]
    assert (spec["kind"], spec["size"], spec["max_value"], spec["channels"]) == ("image", 28, 16, 1)
    assert type(model[0]).__name__ == "LeNet5" and extra["training"]["optimizer"] == "momentum"

    digits = load_digits()
    with open(tmp_path / "pixels.csv", "w") as f:  # raw pixels 0..16, no header: taken by position
        f.write("\n".join(",".join(str(int(v)) for v in row) for row in digits.data[:4]) + "\n")
    predicted = ganglion_cli("predict", "models/digits-lenet.safetensors", "pixels.csv", "--format", "json")
    assert predicted.returncode == 0, predicted.stderr
    found = json.loads(predicted.stdout)["predictions"]
    assert len(found) == 4 and all(p["class"] in extra["classes"] for p in found)
    assert all(sum(p["probabilities"].values()) == pytest.approx(1.0, abs=1e-5) for p in found)
    expected = model(ganglion.tensor(preprocess.apply(extra["preprocessing"], digits.data[:4]))).detach().numpy()
    assert [p["class"] for p in found] == [extra["classes"][i] for i in expected.argmax(axis=1)]

    if importlib.util.find_spec("ganglion.insight") is None:
        pytest.skip("ganglion.insight not present yet")
    summary = ganglion_cli("summary", "models/digits-lenet.safetensors")
    assert summary.returncode == 0, summary.stderr
    assert "resized to 28x28" in summary.stdout and "(1, 6, 28, 28)" in summary.stdout
    assert f"Total params: {sum(p.numel() for p in model.parameters()):,}" in summary.stdout


def test_csv_table_with_named_target_column(ganglion_cli, tmp_path):
    write_flowers(tmp_path / "flowers.csv")
    result = ganglion_cli("train", "--data", "flowers.csv", "--target", "species", "--hidden", "16",
                          "--lr", "0.01", "--epochs", "30", "--batch-size", "8", "--optimizer", "adamw",
                          "--schedule", "cosine", "--no-progress")
    assert result.returncode == 0, result.stderr
    assert number(result.stdout, "validation accuracy") >= 0.9
    _, extra = ganglion.io.load_model(tmp_path / "models" / "flowers-mlp.safetensors", return_extra=True)
    assert extra["classes"] == ["setosa", "versicolor", "virginica"]
    assert extra["features"] == [c for c in FLOWER_COLUMNS if c != "species"]
    assert extra["data"]["target"] == "species" and extra["training"]["schedule"] == "cosine"


def test_mnist_files_read_offline_from_the_data_root(ganglion_cli, tmp_path):
    missing = ganglion_cli("train", "--data", "mnist")
    assert missing.returncode == 1
    folder = str(tmp_path / "home" / "datasets" / "MNIST" / "raw")
    assert folder in missing.stderr and "train-images-idx3-ubyte.gz" in missing.stderr
    assert "docs/datasets.md" in missing.stderr

    write_tiny_mnist(tmp_path / "home" / "datasets")
    result = ganglion_cli("train", "--data", "mnist", "--epochs", "20", "--batch-size", "8", "--lr", "0.01",
                          "--hidden", "16", "--val-split", "0", "--no-progress")
    assert result.returncode == 0, result.stderr
    assert "validation" not in result.stdout and number(result.stdout, "train accuracy") > 0.5
    evaluated = ganglion_cli("evaluate", "models/mnist-mlp.safetensors")
    assert evaluated.returncode == 0, evaluated.stderr
    assert "test split" in evaluated.stderr and re.search(r"^rows: 20$", evaluated.stdout, re.M)


def test_optimizers_and_schedules_are_the_ones_named():
    params = [ganglion.nn.Parameter(ganglion.zeros(2))]
    for name, cls in [("sgd", "SGD"), ("momentum", "SGD"), ("adagrad", "Adagrad"), ("rmsprop", "RMSprop"),
                      ("adam", "Adam"), ("adamw", "AdamW")]:
        optimizer = train_command.make_optimizer(name, params, 0.5)
        assert type(optimizer).__name__ == cls and optimizer.param_groups[0]["lr"] == 0.5
        assert optimizer.param_groups[0].get("momentum", 0) == (0.9 if name == "momentum" else 0)
    expected = {"step": 0.5 * 0.1, "exponential": 0.5 * 0.95 ** 3, "cosine": 0.5 * (1 + np.cos(np.pi * 3 / 9)) / 2}
    for name, lr in expected.items():
        optimizer = train_command.make_optimizer("sgd", params, 0.5)
        schedule = train_command.make_schedule(name, optimizer, epochs=9)
        for _ in range(3):
            optimizer.step()
            schedule.step()
        assert optimizer.param_groups[0]["lr"] == pytest.approx(lr)
    assert train_command.make_schedule("none", optimizer, epochs=9) is None


@pytest.mark.parametrize("name", ["resnet18"])
def test_image_networks_round_trip_through_a_model_file(name, tmp_path):
    from ganglion.cli.models import build

    ganglion.manual_seed(0)
    model = build(name, (1, 8, 8), 3)
    model.eval()
    path = tmp_path / "net.safetensors"
    ganglion.io.save_model(model, path)
    again = ganglion.io.load_model(path)
    x = ganglion.randn(2, 1, 8, 8)
    with ganglion.no_grad():
        np.testing.assert_array_equal(again(x).numpy(), model(x).numpy())
    assert again[0].conv1.kernel_size == (3, 3)  # small images get the CIFAR stem
