"""``ganglion convert`` / ``ganglion.vision.convert``: a state_dict written by torch.save becomes a safetensors file
that ganglion loads (without PyTorch) into an nn module with equal values; checkpoints with "state_dict" / "model"
keys; bfloat16 widened; errors for a missing PyTorch, a file that is not a state_dict, a missing key; and
ganglion.load's advice for a .pth naming the command."""

import builtins
import re
import sys

import numpy as np
import pytest
import torch

import ganglion
from ganglion import nn
from ganglion.cli import main
from ganglion.vision import convert as convert_module


def _torch_model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
                               torch.nn.Flatten(), torch.nn.Linear(4 * 6 * 6, 5))


def _ganglion_model():
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 5))


def _trained_state(model):
    with torch.no_grad():  # running statistics that are not the defaults, so that they are seen to be copied
        model.train()(torch.randn(6, 3, 8, 8))
    return model.state_dict()


@pytest.mark.parametrize("wrap", [
    ("plain", lambda sd: sd),
    ("state_dict key", lambda sd: {"epoch": 3, "state_dict": sd, "optimizer": {"lr": 0.1}}),
    ("model key", lambda sd: {"model": sd, "step": 10}),
], ids=lambda w: w[0])
def test_converted_file_loads_into_a_ganglion_module(tmp_path, wrap):
    tmodel = _torch_model()
    state = _trained_state(tmodel)
    src, dst = tmp_path / "net.pth", tmp_path / "net.safetensors"
    torch.save(wrap[1](state), src)
    names = convert_module.convert(src, dst)
    assert names == list(state)
    loaded = ganglion.load(dst)
    assert list(loaded) == list(state)
    gmodel = _ganglion_model()
    gmodel.load_state_dict(loaded)
    for name, value in gmodel.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), state[name].numpy(), err_msg=name)
    x = np.random.default_rng(0).standard_normal((2, 3, 8, 8)).astype(np.float32)
    with torch.no_grad():
        want = tmodel.eval()(torch.from_numpy(x)).numpy()
    with ganglion.no_grad():
        got = gmodel.eval()(ganglion.tensor(x)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_cli_convert(tmp_path, capsys):
    state = _trained_state(_torch_model())
    src, dst = tmp_path / "in.pt", tmp_path / "out.safetensors"
    torch.save({"ckpt": state}, src)
    assert main(["convert", str(src), str(dst), "--key", "ckpt"]) == 0
    assert f"converted {len(state)} tensors" in capsys.readouterr().out
    loaded = ganglion.load(dst)
    np.testing.assert_array_equal(loaded["4.weight"].numpy(), state["4.weight"].numpy())
    assert loaded["1.num_batches_tracked"].numpy().dtype == np.int64


def test_bfloat16_is_widened_exactly(tmp_path):
    values = torch.tensor([1.5, -2.25, 3.0e4], dtype=torch.bfloat16)
    torch.save({"w": values}, tmp_path / "b.pth")
    convert_module.convert(tmp_path / "b.pth", tmp_path / "b.safetensors")
    got = ganglion.load(tmp_path / "b.safetensors")["w"].numpy()
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, values.float().numpy())


@pytest.mark.parametrize("content, args, message", [
    (lambda: [torch.zeros(2)], [], r"holds a list, not a state_dict"),
    (lambda: {"epoch": 1, "optimizer": {"lr": 0.1}}, [], r"neither a state_dict nor a checkpoint.*--key"),
    (lambda: {"state_dict": {"w": torch.zeros(2)}}, ["--key", "weights"], r"no key 'weights'.*state_dict"),
    (lambda: {"state_dict": {"w": torch.zeros(2), "note": 3}}, [], r"entry 'note' is a int, not a tensor"),
])
def test_cli_errors_name_the_file_and_the_problem(tmp_path, capsys, content, args, message):
    src = tmp_path / "bad.pth"
    torch.save(content(), src)
    assert main(["convert", str(src), str(tmp_path / "o.safetensors"), *args]) == 1
    err = capsys.readouterr().err
    assert "bad.pth" in err
    assert re.search(message, err), err
    assert not (tmp_path / "o.safetensors").exists()


def test_missing_file(tmp_path, capsys):
    assert main(["convert", str(tmp_path / "absent.pth"), str(tmp_path / "o.safetensors")]) == 1
    assert "no such file" in capsys.readouterr().err


def test_without_torch_the_error_says_pip_install_torch(tmp_path, monkeypatch):
    torch.save({"w": torch.zeros(2)}, tmp_path / "w.pth")
    real_import = builtins.__import__

    def no_torch(name, *args, **kwargs):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("No module named 'torch' (simulated)")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "torch")
    monkeypatch.setattr(builtins, "__import__", no_torch)
    with pytest.raises(ImportError, match=r"pip install torch"):
        convert_module.convert(tmp_path / "w.pth", tmp_path / "w.safetensors")
    assert not (tmp_path / "w.safetensors").exists()


def test_ganglion_load_of_a_pth_names_the_convert_command(tmp_path):
    torch.save({"w": torch.zeros(2)}, tmp_path / "model.pth")
    with pytest.raises(ValueError, match=r"model\.pth.*pickled PyTorch file.*ganglion convert model\.pth "
                                         r"model\.safetensors"):
        ganglion.load(tmp_path / "model.pth")
