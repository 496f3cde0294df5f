"""A table of malformed .keras files: each gives a ValueError naming the file and the field, never a KeyError,
TypeError, AttributeError, IndexError or RecursionError from inside the loader."""

import json
import zipfile

import numpy as np
import pytest

import ganglion
from ganglion.keras import Input, Model, optimizers
from ganglion.keras.layers import Dense
from ganglion.keras.models import load_model


@pytest.fixture(scope="module")
def saved_members(tmp_path_factory):
    """The members of a trained, compiled functional model's .keras file."""
    ganglion.manual_seed(0)
    inputs = Input(shape=(4,), name="features")
    hidden = Dense(5, activation="relu", name="hidden")(inputs)
    model = Model(inputs, Dense(2, name="probs")(hidden))
    model.compile(optimizer=optimizers.Adam(0.01), loss="mse")
    model.fit(np.ones((4, 4), np.float32), np.ones((4, 2), np.float32), verbose=0)
    path = tmp_path_factory.mktemp("good") / "good.keras"
    model.save(path)
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist()}


def _layer(config, i):
    return config["model"]["config"]["layers"][i]


def _nest(depth):
    value = 0
    for _ in range(depth):
        value = [value]
    return value


def _edit(name, fn, replace):
    """An edit of member ``name`` (JSON): ``fn`` mutates the parsed value, or returns its replacement."""
    def edit(members):
        value = json.loads(members[name])
        replaced = fn(value)
        members[name] = json.dumps(replaced if replace else value).encode()
    return edit


def _set(fn, replace=False):
    return _edit("config.json", fn, replace)


def _meta(fn, replace=False):
    return _edit("metadata.json", fn, replace)


def _raw(name, data):
    def edit(members):
        members[name] = data
    return edit


CONFIG, META = r"\(config\.json\): ", r"\(metadata\.json\): "
MALFORMED = [
    # metadata.json
    ("metadata list", _meta(lambda m: [m], replace=True), META + r"field \(top level\) must be an object, got list"),
    ("version as text", _meta(lambda m: m.update(version="1")), META + r"field version must be an integer, got str"),
    ("version true", _meta(lambda m: m.update(version=True)), META + r"field version must be an integer, got bool"),
    ("version missing", _meta(lambda m: m.pop("version")), META + r"field version is missing"),
    ("newer version", _meta(lambda m: m.update(version=99)), META + r"has format 'ganglion\.keras' version 99"),
    ("version zero", _meta(lambda m: m.update(version=0)),
     META + r"has format 'ganglion\.keras' version 0; this ganglion reads"),
    ("other format", _meta(lambda m: m.update(format="keras")), META + r"has format 'keras' version 1"),
    ("metadata not JSON", _raw("metadata.json", b"{format"), r"\(metadata\.json\) is not valid JSON"),
    ("metadata not UTF-8", _raw("metadata.json", b"\xff\xfe{}"),
     r"\(metadata\.json\) is not valid JSON \('utf-8' codec"),
    # config.json: structure
    ("config list", _set(lambda c: [c], replace=True), CONFIG + r"field \(top level\) must be an object, got list"),
    ("model missing", _set(lambda c: c.pop("model")), CONFIG + r"field model is missing"),
    ("class_name number", _set(lambda c: c["model"].update(class_name=3)),
     CONFIG + r"field model\.class_name must be a string, got int 3"),
    ("unknown class", _set(lambda c: _layer(c, 1).update(class_name="Dense9000")),
     CONFIG + r"field model\.config\.layers\[1\]\.class_name: unknown layer class 'Dense9000'"),
    ("layers object", _set(lambda c: c["model"]["config"].update(layers={"a": 1})),
     CONFIG + r"field model\.config\.layers must be a list, got dict"),
    ("layer not object", _set(lambda c: c["model"]["config"]["layers"].__setitem__(1, "Dense")),
     CONFIG + r"field model\.config\.layers\[1\] must be an object, got str"),
    ("layer config list", _set(lambda c: _layer(c, 1).update(config=[5])),
     CONFIG + r"field model\.config\.layers\[1\]\.config must be an object, got list"),
    ("layer name missing", _set(lambda c: _layer(c, 1).pop("name")),
     CONFIG + r"field model\.config\.layers\[1\]\.name is missing"),
    ("duplicate layer name", _set(lambda c: _layer(c, 2).update(name="hidden")),
     CONFIG + r"field model\.config\.layers\[2\]\.name: layer name 'hidden' appears twice"),
    ("calls text", _set(lambda c: _layer(c, 1).update(calls="x")),
     CONFIG + r"field model\.config\.layers\[1\]\.calls must be a list, got str"),
    ("call inputs missing", _set(lambda c: _layer(c, 1)["calls"][0].pop("inputs")),
     CONFIG + r"field model\.config\.layers\[1\]\.calls\[0\]\.inputs is missing"),
    ("call kwargs list", _set(lambda c: _layer(c, 1)["calls"][0].update(kwargs=[])),
     CONFIG + r"field model\.config\.layers\[1\]\.calls\[0\]\.kwargs must be an object"),
    ("ref to a missing layer", _set(lambda c: _layer(c, 1)["calls"][0]["inputs"].update(ref=["ghost", 0, 0])),
     CONFIG + r"field model\.config\.layers\[1\]\.calls\[0\]\.inputs\.ref points at call 0 of layer 'ghost'"),
    ("ref too short", _set(lambda c: _layer(c, 1)["calls"][0]["inputs"].update(ref=["features", 0])),
     CONFIG + r"field model\.config\.layers\[1\]\.calls\[0\]\.inputs\.ref must be \[layer name, call index, "
                  r"tensor index\], got list"),
    ("ref negative", _set(lambda c: _layer(c, 1)["calls"][0]["inputs"].update(ref=["features", -1, 0])),
     CONFIG + r"field model\.config\.layers\[1\]\.calls\[0\]\.inputs\.ref must be \[layer name"),
    ("ref to a missing output", _set(lambda c: _layer(c, 1)["calls"][0]["inputs"].update(ref=["features", 0, 5])),
     CONFIG + r"cannot rebuild the model: .*output 5 of call 0 of layer 'features', which has 1 output"),
    ("output refs missing", _set(lambda c: c["model"]["config"].pop("output_layers")),
     CONFIG + r"field model\.config\.output_layers is missing"),
    ("build_config text", _set(lambda c: _layer(c, 1).update(build_config="x")),
     CONFIG + r"field model\.config\.layers\[1\]\.build_config must be an object, got str"),
    ("input_shape text", _set(lambda c: _layer(c, 1)["build_config"].update(input_shape="x")),
     CONFIG + r"field model\.config\.layers\[1\]\.build_config\.input_shape must be a list"),
    ("input_shape float", _set(lambda c: _layer(c, 1)["build_config"].update(input_shape=[None, 4.5])),
     CONFIG + r"field model\.config\.layers\[1\]\.build_config\.input_shape\[1\] must be a non-negative integer "
              r"or null, got float"),
    ("input_shape huge", _set(lambda c: _layer(c, 1)["build_config"].update(input_shape=[None, 10**5, 10**5])),
     CONFIG + r"field model\.config\.layers\[1\]\.build_config\.input_shape is \[None, 100000, 100000\]: "
              r"10000000000 values per sample, more than"),
    ("input layer huge", _set(lambda c: _layer(c, 0)["config"].update(shape=[10**6, 10**6])),
     CONFIG + r"field model\.config\.layers\[0\]\.config\.shape is .* values per sample"),
    # config.json: layer arguments the class rejects
    ("unknown argument", _set(lambda c: _layer(c, 1)["config"].update(bogus=1)),
     CONFIG + r"cannot rebuild the model: cannot rebuild layer 'hidden' of class Dense .*TypeError.*bogus"),
    ("units as text", _set(lambda c: _layer(c, 1)["config"].update(units="5")),
     CONFIG + r"cannot rebuild the model: .*units"),
    ("initializer config list", _set(lambda c: _layer(c, 1)["config"]["kernel_initializer"].update(config=[1])),
     CONFIG + r"cannot rebuild the model: cannot rebuild layer 'hidden' of class Dense"),
    # config.json: nesting
    ("nested 200 deep", _set(lambda c: _layer(c, 1)["config"].update(extra=_nest(200))),
     r"\(config\.json\) nests lists and objects \d+ deep; at most 128"),
    ("nested 100000 deep", _raw("config.json", b'{"model": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
     r"\(config\.json\) is nested too deeply"),
    ("config not JSON", _raw("config.json", b'{"model": '), r"\(config\.json\) is not valid JSON"),
    # config.json: compile settings and optimizer state
    ("optimizer missing", _set(lambda c: c["compile"].pop("optimizer")),
     CONFIG + r"field compile\.optimizer is missing"),
    ("optimizer config text", _set(lambda c: c["compile"]["optimizer"].update(config="adam")),
     CONFIG + r"field compile\.optimizer\.config must be an object, got str"),
    ("unknown optimizer", _set(lambda c: c["compile"]["optimizer"].update(class_name="Adamax9")),
     CONFIG + r"field compile cannot be restored"),
    ("unknown loss", _set(lambda c: c["compile"].update(loss={"class_name": "Nope", "config": {}})),
     CONFIG + r"field compile cannot be restored"),
    ("loss weights text", _set(lambda c: c["compile"].update(loss_weights="x")),
     CONFIG + r"field compile\.loss_weights must be a list, an object or null"),
    ("iterations text", _set(lambda c: c["optimizer_state"].update(iterations="3")),
     CONFIG + r"field optimizer_state\.iterations must be an integer, got str"),
    ("iterations negative", _set(lambda c: c["optimizer_state"].update(iterations=-3)),
     CONFIG + r"field optimizer_state\.iterations must be >= 0"),
    ("param groups object", _set(lambda c: c["optimizer_state"].update(param_groups={})),
     CONFIG + r"field optimizer_state\.param_groups must be a list, got dict"),
    ("param group number", _set(lambda c: c["optimizer_state"]["param_groups"].__setitem__(0, 5)),
     CONFIG + r"field optimizer_state\.param_groups\[0\] must be an object, got int"),
    ("param group without params", _set(lambda c: c["optimizer_state"]["param_groups"][0].pop("params")),
     r"/optimizer\.safetensors' does not fit the model: 'params'"),
]


@pytest.mark.parametrize("edit, pattern", [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_malformed_files_name_the_file_and_the_field(tmp_path, saved_members, edit, pattern):
    members = dict(saved_members)
    edit(members)
    path = tmp_path / "bad.keras"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    with pytest.raises(ValueError, match=r"bad\.keras.*" + pattern):
        load_model(path)


def test_the_unedited_file_loads(tmp_path, saved_members):
    path = tmp_path / "good.keras"
    with zipfile.ZipFile(path, "w") as z:
        for name, data in saved_members.items():
            z.writestr(name, data)
    model = load_model(path)
    assert model.optimizer.iterations == 1 and [layer.name for layer in model.layers] == ["features", "hidden",
                                                                                         "probs"]
