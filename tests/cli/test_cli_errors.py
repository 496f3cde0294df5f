"""What the command says when it cannot do what was asked: usage errors exit 2 with the subcommand's usage,
commands that cannot be carried out exit 1 naming what is wrong, and neither trains first."""

import importlib.util
import pickle
import re
import zipfile

import pytest

import ganglion

from cli_files import write_flowers


def test_version(ganglion_cli):
    result = ganglion_cli("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"ganglion {ganglion.__version__}"


def test_help_shows_every_default(ganglion_cli, ganglion_main):
    top = ganglion_cli("--help")
    assert top.returncode == 0
    for command in ("train", "evaluate", "predict", "summary", "convert"):
        assert command in top.stdout
    status, out, _ = ganglion_main("train", "--help")
    assert status == 0
    text = " ".join(out.split())
    for default in ("(default: iris)", "(default: mlp)", "(default: adam)", "(default: 0.001)", "(default: none)",
                    "(default: 50)", "(default: 2)", "(default: 0.2)", "(default: 0)", "(default: cpu)",
                    "(default: 8,6)"):
        assert default in text, default
    assert "models/DATA-MODEL.safetensors" in "".join(out.split())  # argparse may wrap at the hyphen
    predict = " ".join(ganglion_main("predict", "--help")[1].split())
    assert "(default: csv)" in predict and "(default: 256)" in predict


@pytest.mark.parametrize("args, message", [
    (["train", "--data", "imagenet"], "unknown --data 'imagenet'"),
    (["train", "--model", "alexnet"], "invalid choice: 'alexnet'"),
    (["train", "--model", "lenet"], "--model lenet takes images; --data iris is a table"),
    (["train", "--epochs", "0"], "must be a positive integer"),
    (["train", "--val-split", "1.5"], "must be in [0, 1)"),
    (["train", "--lr", "-1"], "must be a positive number"),
    (["train", "--hidden", "8,x"], "comma-separated positive integers"),
    (["train", "--device", "tpu"], "unknown device 'tpu'"),
    (["train", "--data", "iris", "--target", "species"], "--target is for CSV tables"),
    (["predict", "model.safetensors"], "the following arguments are required: INPUT.csv"),
    (["fly"], "invalid choice: 'fly'"),
])
def test_usage_errors_exit_2_with_the_subcommands_usage(ganglion_main, args, message):
    status, out, err = ganglion_main(*args)
    assert status == 2, err
    assert message in err
    command = args[0] if args[0] != "fly" else ""
    assert err.startswith(f"usage: ganglion {command}".rstrip()) and out == ""


def test_a_usage_error_is_the_process_exit_status(ganglion_cli):
    result = ganglion_cli("train", "--model", "resnet18")
    assert result.returncode == 2 and result.stderr.startswith("usage: ganglion train")
    assert "--model resnet18 takes images" in result.stderr


def test_csv_needs_a_target_that_is_one_of_its_columns(ganglion_main, tmp_path):
    write_flowers(tmp_path / "flowers.csv")
    status, _, err = ganglion_main("train", "--data", "flowers.csv")
    assert status == 2 and "--target COLUMN is required" in err
    status, _, err = ganglion_main("train", "--data", "flowers.csv", "--target", "colour")
    assert status == 2 and "--target 'colour' is not a column of flowers.csv" in err
    assert "'species'" in err and "usage: ganglion train" in err
    status, _, err = ganglion_main("train", "--data", "nowhere.csv", "--target", "species")
    assert status == 1 and "nowhere.csv: no such file" in err
    assert not (tmp_path / "models").exists()


def test_existing_out_is_refused_before_training_unless_forced(ganglion_cli, tmp_path):
    out = tmp_path / "mine.safetensors"
    out.write_bytes(b"precious")
    refused = ganglion_cli("train", "--out", "mine.safetensors")
    assert refused.returncode == 1
    assert "mine.safetensors already exists" in refused.stderr and "--force" in refused.stderr
    assert "epoch" not in refused.stderr and out.read_bytes() == b"precious"
    forced = ganglion_cli("train", "--out", "mine.safetensors", "--force", "--epochs", "1", "--no-progress")
    assert forced.returncode == 0, forced.stderr
    assert "overwriting mine.safetensors" in forced.stderr
    assert ganglion.io.load_model(out) is not None


def test_unwritable_out_is_reported_before_training(ganglion_cli, ganglion_main, tmp_path):
    (tmp_path / "a_file").write_text("not a folder")
    result = ganglion_cli("train", "--out", "a_file/model.safetensors")
    assert result.returncode == 1
    assert "cannot save the model to a_file/model.safetensors" in result.stderr and "before training" in result.stderr
    assert "epoch" not in result.stderr and "data:" not in result.stderr
    status, _, err = ganglion_main("train", "--out", ".")
    assert status == 1 and "it is a folder" in err


@pytest.mark.parametrize("command", ["evaluate", "predict", "summary"])
def test_missing_model_file(ganglion_main, tmp_path, command):
    (tmp_path / "rows.csv").write_text("1,2,3,4\n")
    args = [command, "gone.safetensors"] + (["rows.csv"] if command == "predict" else [])
    status, _, err = ganglion_main(*args)
    assert status == 1
    assert f"ganglion {command}: error: no model file at gone.safetensors" in err


def test_pytorch_files_are_refused_with_the_way_to_convert(ganglion_cli, ganglion_main, tmp_path):
    (tmp_path / "rows.csv").write_text("1,2,3,4\n")
    (tmp_path / "model.pth").write_bytes(pickle.dumps({"weight": [1.0, 2.0]}, protocol=4))
    by_name = ganglion_cli("predict", "model.pth", "rows.csv")
    assert by_name.returncode == 1
    assert "ganglion convert model.pth OUT.safetensors" in by_name.stderr and "unpickle" in by_name.stderr
    with zipfile.ZipFile(tmp_path / "renamed.safetensors", "w") as archive:  # torch.save's layout, misnamed
        archive.writestr("archive/data.pkl", pickle.dumps({"weight": 1}))
    status, _, err = ganglion_main("predict", "renamed.safetensors", "rows.csv")
    assert status == 1 and "pickled PyTorch file" in err and "ganglion convert" in err


def test_plain_model_file_without_the_commands_metadata(ganglion_main, tmp_path):
    model = ganglion.nn.Sequential(ganglion.nn.Linear(4, 3), ganglion.nn.Softmax(dim=1))
    ganglion.io.save_model(model, tmp_path / "plain.safetensors")
    status, _, err = ganglion_main("summary", "plain.safetensors")
    assert status == 1 and "not one `ganglion train` wrote" in err


def test_cuda_without_a_gpu(ganglion_main):
    if ganglion.cuda.is_available():
        pytest.skip("a GPU is available here")
    status, _, err = ganglion_main("train", "--device", "cuda")
    assert status == 1 and "no GPU is available" in err


@pytest.mark.skipif(importlib.util.find_spec("ganglion.insight") is None, reason="ganglion.insight not present yet")
def test_doctor_reports_on_stderr(ganglion_cli):
    result = ganglion_cli("train", "--doctor", "--epochs", "2", "--no-progress", "--lr", "1e-6")
    assert result.returncode == 0, result.stderr
    assert re.search(r"Training doctor: 120 steps", result.stderr)  # 2 epochs x 60 batches
    assert "Training doctor" not in result.stdout
