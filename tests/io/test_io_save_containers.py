"""ganglion.save / ganglion.load as tutorials use torch.save / torch.load: tensors, nested containers, checkpoints,
file objects, pickled PyTorch files refused, hostile structure metadata refused."""

import io
import json
import math
from collections import OrderedDict

import numpy as np
import pytest

import ganglion
import ganglion.nn as nn
from ganglion.io.structure import STRUCTURE_KEY
from ganglion.io.weights import to_bytes


def _same(a, b):
    """Equal values, dtypes and container types, all the way down."""
    assert type(a) is type(b), (a, b)
    if isinstance(a, ganglion.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape and a.requires_grad == b.requires_grad
        assert np.array_equal(a.detach().numpy(), b.detach().numpy(), equal_nan=True)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    elif isinstance(a, dict):
        assert list(a) == list(b) and [type(k) for k in a] == [type(k) for k in b]
        for k in a:
            _same(a[k], b[k])
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b)
    else:
        assert a == b


def _round_trip(obj, tmp_path):
    ganglion.save(obj, tmp_path / "obj.safetensors")
    return ganglion.load(tmp_path / "obj.safetensors")


OBJECTS = {
    "float tensor": ganglion.tensor([[1.5, -2.0], [0.0, 3.25]]),
    "scalar tensor": ganglion.tensor(7.0),
    "int64": ganglion.tensor([1, 2, 2**40], dtype=ganglion.int64),
    "bool": ganglion.tensor([True, False, True]),
    "requires_grad": ganglion.ones(3, requires_grad=True),
    "list of tensors": [ganglion.zeros(2), ganglion.ones(1, 2)],
    "tuple vs list": ([1, 2], (3, [4.0, None]), "five", True),
    "int and str keys": {0: {"a": 1}, "0": ganglion.ones(1), 5: [None]},
    "ordered": OrderedDict([("z", 1), ("a", ganglion.arange(3))]),
    "odd floats": [float("inf"), float("-inf"), float("nan"), -0.0, 1e-300],
    "numpy array": {"x": np.arange(6, dtype=np.int16).reshape(2, 3)},
    "empty": {"a": [], "b": {}, "c": ()},
    "same tensor twice": [ganglion.ones(2)] * 2,
}


@pytest.mark.parametrize("name", OBJECTS)
def test_round_trip_keeps_values_dtypes_and_container_types(tmp_path, name):
    _same(OBJECTS[name], _round_trip(OBJECTS[name], tmp_path))


def test_state_dict_is_a_plain_safetensors_file(tmp_path):
    model = nn.Linear(3, 2)
    loaded = _round_trip(model.state_dict(), tmp_path)
    _same(model.state_dict(), loaded)
    from safetensors.numpy import load_file

    assert set(load_file(tmp_path / "obj.safetensors")) == {"weight", "bias"}


def test_checkpoint_entries_are_named_by_their_path(tmp_path):
    from safetensors.numpy import load_file

    ganglion.save({"model": nn.Linear(2, 1).state_dict(), "opt": [ganglion.ones(1)]}, tmp_path / "c.safetensors")
    assert set(load_file(tmp_path / "c.safetensors")) == {"model.weight", "model.bias", "opt.0"}


def _train(model, optimizer, steps):
    x = ganglion.tensor(np.linspace(-1, 1, 20, dtype=np.float32).reshape(5, 4))
    y = ganglion.tensor(np.arange(10, dtype=np.float32).reshape(5, 2) / 10)
    for _ in range(steps):
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
    return loss.item()


def _net():
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))


def test_checkpoint_resume_is_identical_to_uninterrupted_training(tmp_path):
    ganglion.manual_seed(0)
    straight = _net()
    resumed = _net()
    resumed.load_state_dict(straight.state_dict())
    optimizer = ganglion.optim.Adam(straight.parameters(), lr=0.01, amsgrad=True)
    _train(straight, optimizer, 6)

    first = ganglion.optim.Adam(resumed.parameters(), lr=0.01, amsgrad=True)
    loss = _train(resumed, first, 3)
    path = tmp_path / "checkpoint.pt"
    ganglion.save({"epoch": 3, "model_state_dict": resumed.state_dict(),
                   "optimizer_state_dict": first.state_dict(), "loss": loss}, path)

    checkpoint = ganglion.load(path, weights_only=True)
    fresh = _net()
    fresh.load_state_dict(checkpoint["model_state_dict"])
    optimizer2 = ganglion.optim.Adam(fresh.parameters(), lr=0.5)
    optimizer2.load_state_dict(checkpoint["optimizer_state_dict"])
    assert checkpoint["epoch"] == 3 and checkpoint["loss"] == loss
    _same(first.state_dict(), checkpoint["optimizer_state_dict"])
    _train(fresh, optimizer2, 3)
    for a, b in zip(straight.parameters(), fresh.parameters()):
        assert np.array_equal(a.detach().numpy(), b.detach().numpy())


def test_bytesio_round_trip_from_the_current_position():
    buffer = io.BytesIO()
    buffer.write(b"prefix")
    ganglion.save({"t": ganglion.arange(4), "n": 2}, buffer)
    buffer.seek(6)
    _same({"t": ganglion.arange(4), "n": 2}, ganglion.load(buffer, map_location="cpu"))


def test_open_file_round_trip(tmp_path):
    obj = (ganglion.ones(2, 2), {"k": "v"})
    with open(tmp_path / "f.bin", "wb") as f:
        ganglion.save(obj, f)
    with open(tmp_path / "f.bin", "rb") as f:
        _same(obj, ganglion.load(f))


def test_text_mode_files_are_refused(tmp_path):
    with open(tmp_path / "f.txt", "w") as f, pytest.raises(TypeError, match="binary"):
        ganglion.save(ganglion.ones(1), f)


def test_map_location_dict_and_device(tmp_path):
    ganglion.save([ganglion.ones(2)], tmp_path / "m.safetensors")
    for location in ("cpu", ganglion.device("cpu"), {"cuda:0": "cpu"}):
        assert ganglion.load(tmp_path / "m.safetensors", map_location=location)[0].device.type == "cpu"
    with pytest.raises(ValueError, match="unknown device"):
        ganglion.load(tmp_path / "m.safetensors", map_location="tpu")


def test_unsaveable_objects_are_refused(tmp_path):
    with pytest.raises(TypeError, match="never pickle"):
        ganglion.save({"model": nn.Linear(1, 1)}, tmp_path / "x")
    with pytest.raises(TypeError, match="keys must be str or int"):
        ganglion.save({(1, 2): 3}, tmp_path / "x")
    loop = []
    loop.append(loop)
    with pytest.raises(ValueError, match="contains itself"):
        ganglion.save(loop, tmp_path / "x")
    deep = 0
    for _ in range(100):
        deep = [deep]
    with pytest.raises(ValueError, match="nests containers"):
        ganglion.save(deep, tmp_path / "x")
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("legacy", [False, True])
def test_pickled_pytorch_file_is_refused_with_advice(tmp_path, legacy):
    torch = pytest.importorskip("torch")
    path = tmp_path / "model.pth"
    torch.save(torch.nn.Linear(2, 1).state_dict(), path, _use_new_zipfile_serialization=not legacy)
    with pytest.raises(ValueError, match=r"model\.pth.*pickled PyTorch file.*never unpickles.*save_file"):
        ganglion.load(path)
    with open(path, "rb") as f, pytest.raises(ValueError, match="pickled PyTorch file"):
        ganglion.load(f)


def _file(tmp_path, tree, arrays=None, raw=None):
    """A safetensors file with the given structure metadata (a JSON value, or ``raw`` text)."""
    arrays = {"a": np.ones(2, np.float32)} if arrays is None else arrays
    text = json.dumps(tree) if raw is None else raw
    path = tmp_path / "bad.safetensors"
    path.write_bytes(to_bytes(arrays, extra={STRUCTURE_KEY: text}))
    return path


MALFORMED = [
    ({"tensor": "missing"}, None, r"\['tensor'\].*does not hold"),
    ({"list": [{"tensor": "a"}, {"tensor": "a"}]}, None, r"\[1\]\['tensor'\].*second time"),
    ({"list": []}, None, r"not referenced"),
    ({"tensor": 3}, None, r"must name a stored tensor"),
    ({"set": [1]}, None, r"expected exactly one of"),
    ({"list": [1], "tuple": [2]}, None, r"expected exactly one of"),
    ({"list": {"x": 1}}, None, r"\['list'\]: must be a list"),
    ({"dict": [["k", 1, 2]]}, None, r"\['dict'\]\[0\]: must be a \[key, value\] pair"),
    ({"dict": [[1.5, 1]]}, None, r"key must be a string or an integer"),
    ({"dict": [[True, 1]]}, None, r"key must be a string or an integer"),
    ({"dict": [["k", 1], ["k", 2]]}, None, r"appears twice"),
    ([1, 2], None, r"bare list"),
    ({"float": "1e999"}, None, r"\['float'\]: must be 'inf'"),
    ({"tensor": "a", "requires_grad": "yes"}, None, r"requires_grad.*true or false"),
    ({"tensor": "a", "device": "tpu"}, None, r"\['device'\].*unknown device"),
    ({"tensor": "a", "shared_with": "b"}, None, r"unexpected keys \['shared_with'\]"),
    (None, "[" * 200 + "]" * 200, r"nest"),
    (None, "{not json", r"not valid JSON"),
]


@pytest.mark.parametrize("tree, raw, pattern", MALFORMED)
def test_malformed_structure_names_the_file_and_the_field(tmp_path, tree, raw, pattern):
    path = _file(tmp_path, tree, raw=raw)
    with pytest.raises(ValueError, match=r"bad\.safetensors.*" + STRUCTURE_KEY.replace(".", r"\.") + ".*" + pattern):
        ganglion.load(path)


def test_requires_grad_on_an_integer_tensor_is_refused(tmp_path):
    path = _file(tmp_path, {"tensor": "i", "requires_grad": True}, arrays={"i": np.arange(3)})
    with pytest.raises(ValueError, match=r"requires_grad.*int64"):
        ganglion.load(path)
