"""ganglion model files (safetensors + the architecture as JSON in the header): a description that does not match
the weights is refused before the model is built, and malformed descriptions give ValueErrors naming the file and
the field, never a KeyError, TypeError, AttributeError or RecursionError from inside."""

import json
import struct
import tracemalloc

import numpy as np
import pytest

import ganglion
from ganglion import nn
from ganglion.io import load_model, register, save_model


def _small_model():
    ganglion.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2), nn.Softmax(dim=1))


def _rewrite_metadata(path, edit):
    """Rewrite the 'ganglion' metadata JSON of a saved model file with ``edit(meta) -> meta``, tensors unchanged."""
    raw = path.read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    meta = json.loads(header["__metadata__"]["ganglion"])
    new = edit(meta)
    header["__metadata__"]["ganglion"] = new if isinstance(new, str) else json.dumps(new)
    encoded = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(encoded)) + encoded + raw[8 + n:])


def test_round_trip_with_extra(tmp_path):
    model = _small_model()
    save_model(model, tmp_path / "m.safetensors", extra={"task": "toy"})
    loaded, extra = load_model(tmp_path / "m.safetensors", return_extra=True)
    x = ganglion.tensor(np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32))
    np.testing.assert_allclose(loaded(x).detach().numpy(), model.eval()(x).detach().numpy(), rtol=1e-6)
    assert extra == {"task": "toy"} and not loaded.training


def test_a_huge_layer_in_a_tiny_file_is_refused_before_it_is_built(tmp_path):
    path = tmp_path / "m.safetensors"
    save_model(_small_model(), path)

    def enlarge(meta):
        meta["architecture"]["layers"][0][1]["args"].update(in_features=20000, out_features=20000)
        return meta

    _rewrite_metadata(path, enlarge)
    assert path.stat().st_size < 2000
    tracemalloc.start()
    try:
        with pytest.raises(ValueError) as info:
            load_model(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    message = str(info.value)
    assert "m.safetensors" in message and "layer '0' (Linear)" in message
    assert "expects shape (20000, 20000), the file holds (3, 4)" in message
    assert peak < 5_000_000  # the model it describes would take 1.6 GB


def test_a_registered_type_without_a_weights_rule_is_checked_after_it_is_built(tmp_path):
    class Scaled(nn.Module):
        def __init__(self, n):
            super().__init__()
            self.n = n
            self.scale = nn.Parameter(ganglion.ones(n))

        def forward(self, x):
            return x * self.scale

    register("Scaled", Scaled, lambda m: {"n": m.n})
    model = nn.Sequential(nn.Linear(2, 3), Scaled(3))
    save_model(model, tmp_path / "s.safetensors")
    assert isinstance(load_model(tmp_path / "s.safetensors")[1], Scaled)

    def widen(meta):
        meta["architecture"]["layers"][1][1]["args"]["n"] = 5
        return meta

    _rewrite_metadata(tmp_path / "s.safetensors", widen)
    with pytest.raises(ValueError, match=r"s\.safetensors.*1\.scale.*expects shape \(5,\), the file holds \(3,\)"):
        load_model(tmp_path / "s.safetensors")


def _nest(depth):
    config = {"type": "ReLU"}
    for _ in range(depth):
        config = {"type": "Sequential", "layers": [["inner", config]]}
    return config


def _set(path_keys, value):
    def edit(meta):
        target = meta
        for key in path_keys[:-1]:
            target = target[key]
        target[path_keys[-1]] = value
        return meta
    return edit


def _drop(path_keys):
    def edit(meta):
        target = meta
        for key in path_keys[:-1]:
            target = target[key]
        del target[path_keys[-1]]
        return meta
    return edit


_FIRST = ["architecture", "layers", 0, 1]

MALFORMED = [  # (edit of the saved metadata, what the message must say)
    (lambda meta: [meta], r"no ganglion model description"),
    (_drop(["format"]), r"no ganglion model description"),
    (_set(["format"], 1), r"field format must be a string, got int 1"),
    (_set(["format"], "ganglion.model/2"), r"field format is 'ganglion.model/2', a version this ganglion does not"),
    (_set(["format"], "ganglion.model/x"), r"field format is 'ganglion.model/x', not a ganglion model file"),
    (_set(["format"], "onnx"), r"field format is 'onnx', not a ganglion model file"),
    (_drop(["architecture"]), r"field architecture is missing"),
    (_set(["architecture"], []), r"field architecture must be an object, got list"),
    (_set(["architecture", "type"], None), r"field architecture\.type must be a string, got NoneType"),
    (_drop(["architecture", "type"]), r"field architecture\.type is missing"),
    (_set(["architecture", "layers"], {"0": {}}), r"field architecture\.layers must be a list, got dict"),
    (_set(["architecture", "layers", 0], ["0"]), r"field architecture\.layers\[0\] must be a \[name, layer\] pair"),
    (_set(["architecture", "layers", 0, 0], 5), r"field architecture\.layers\[0\]\[0\] must be a string"),
    (_set(["architecture", "layers", 1, 0], "0"), r"field architecture\.layers\[1\]\[0\] must be a new"),
    (_set(["architecture", "layers", 0, 0], "a.b"), r"field architecture\.layers\[0\]\[0\] must be a new"),
    (_set(_FIRST, "Linear"), r"field architecture\.layers\[0\]\[1\] must be an object, got str"),
    (_set(_FIRST + ["type"], "Conv9d"), r"field architecture\.layers\[0\]\[1\]\.type is 'Conv9d', not a module"),
    (_set(_FIRST + ["args"], [4, 3]), r"field architecture\.layers\[0\]\[1\]\.args must be an object, got list"),
    (_set(_FIRST + ["args", "in_features"], "4"), r"layers\[0\]\[1\]\.args\.in_features must be an integer, got str"),
    (_set(_FIRST + ["args", "in_features"], 4.0), r"layers\[0\]\[1\]\.args\.in_features must be an integer"),
    (_set(_FIRST + ["args", "in_features"], -4), r"layers\[0\]\[1\]\.args\.in_features must be non-negative"),
    (_set(_FIRST + ["args", "bias"], "yes"), r"layers\[0\]\[1\]\.args\.bias must be true or false"),
    (_set(_FIRST + ["args", "device"], "cuda"), r"layers\[0\]\[1\]\.args\.device is not an argument of Linear"),
    (_drop(_FIRST + ["args", "out_features"]), r"layers\[0\]\[1\]\.args\.out_features is missing"),
    (_set(["architecture", "layers", 3, 1, "args", "dim"], "1"), r"layers\[3\]\[1\]\.args\.dim must be an integer"),
    (_set(["architecture"], _nest(200)), r"nests lists and objects \d+ deep; at most 128"),
    (lambda meta: '{"format": "ganglion.model/1", "architecture": ' + "[" * 100_000 + "]" * 100_000 + "}",
     r"nested too deeply"),
]


@pytest.mark.parametrize("edit, pattern", MALFORMED)
def test_malformed_descriptions_name_the_file_and_the_field(tmp_path, edit, pattern):
    path = tmp_path / "bad.safetensors"
    save_model(_small_model(), path)
    _rewrite_metadata(path, edit)
    with pytest.raises(ValueError, match=r"bad\.safetensors.*" + pattern):
        load_model(path)


def test_plain_tensors_are_not_a_model(tmp_path):
    ganglion.save({"w": ganglion.ones(2)}, tmp_path / "w.safetensors")
    with pytest.raises(ValueError, match=r"w\.safetensors.*no ganglion model description; use ganglion\.load"):
        load_model(tmp_path / "w.safetensors")
