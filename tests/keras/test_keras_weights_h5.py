"""save_weights / load_weights with ``.weights.h5`` names: HDF5 in Keras 3's own layout, read and written both ways
against Keras 3 itself (same predictions), the errors for foreign or mismatched files, the ImportError without
h5py, and old ganglion files (safetensors under a .weights.h5 name) that still load."""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

h5py = pytest.importorskip("h5py")
keras = pytest.importorskip("keras")

import ganglion.keras as gk  # noqa: E402
from ganglion.io.weights import to_bytes  # noqa: E402
from ganglion.keras.saving import h5_weights  # noqa: E402
from ganglion.keras.saving.weight_names import weight_items  # noqa: E402

RNG = np.random.default_rng(0)


def _sequential(k):
    return k.Sequential([k.Input((8, 8, 3)), k.layers.Conv2D(4, 3), k.layers.BatchNormalization(),
                         k.layers.Reshape((6, 24)), k.layers.LSTM(5), k.layers.Dense(2)])


def _functional(k):
    a, b = k.Input((6, 4), name="a"), k.Input((3,), name="b")
    seq = k.layers.Bidirectional(k.layers.GRU(3))(a)
    steps = k.layers.GlobalAveragePooling1D()(k.layers.TimeDistributed(k.layers.Dense(2))(a))
    merged = k.layers.Concatenate()([seq, steps, k.layers.Dense(5, activation="tanh")(b)])
    head = k.Sequential([k.layers.Dense(4, activation="relu"), k.layers.Dense(1)])
    return k.Model([a, b], head(merged))


MODELS = {
    "sequential": (_sequential, lambda: RNG.normal(size=(3, 8, 8, 3)).astype(np.float32)),
    "functional": (_functional, lambda: [RNG.normal(size=(3, 6, 4)).astype(np.float32),
                                         RNG.normal(size=(3, 3)).astype(np.float32)]),
}


def _randomize(model):
    """Random weights (variances positive), so that a weight put in the wrong place changes the predictions."""
    model.set_weights([np.abs(RNG.normal(size=w.shape)).astype(np.float32) + 0.5 if "variance" in w.name
                       else RNG.normal(size=w.shape).astype(np.float32) for w in model.weights])


def _h5_tree(path):
    out = {}
    with h5py.File(path) as f:
        f.visititems(lambda name, obj: out.__setitem__(name, getattr(obj, "shape", None)))
    return out


@pytest.mark.parametrize("name", sorted(MODELS))
def test_ganglion_file_loads_in_keras(tmp_path, name):
    build, data = MODELS[name]
    ours, theirs, x = build(gk), build(keras), data()
    _randomize(ours)
    path = tmp_path / "g.weights.h5"
    ours.save_weights(path)
    assert path.read_bytes()[:8] == h5_weights.HDF5_MAGIC
    theirs.load_weights(path)
    np.testing.assert_allclose(np.asarray(theirs.predict(x, verbose=0)), ours.predict(x, verbose=0),
                               rtol=1e-4, atol=1e-5)
    keras_path = tmp_path / "k.weights.h5"
    theirs.save_weights(keras_path)
    assert _h5_tree(path) == _h5_tree(keras_path)  # the same groups and datasets Keras writes


@pytest.mark.parametrize("name", sorted(MODELS))
def test_keras_file_loads_in_ganglion(tmp_path, name):
    build, data = MODELS[name]
    theirs, ours, x = build(keras), build(gk), data()
    _randomize(theirs)
    theirs.compile(optimizer="adam", loss="mse")  # a compiled model also writes optimizer/vars, which is ignored
    path = tmp_path / "k.weights.h5"
    theirs.save_weights(path)
    ours.load_weights(path)
    np.testing.assert_allclose(ours.predict(x, verbose=0), np.asarray(theirs.predict(x, verbose=0)),
                               rtol=1e-4, atol=1e-5)


def test_keras_groups_and_names(tmp_path):
    model = _sequential(gk)
    model.save_weights(tmp_path / "m.weights.h5")
    with h5py.File(tmp_path / "m.weights.h5") as f:
        assert f["layers/dense/vars/0"].shape == (5, 2)
        assert f["layers/lstm/cell/vars/1"].shape == (5, 20)
        assert f["layers/batch_normalization/vars"].attrs["name"] == model.layers[1].name
        assert "optimizer" not in f


def _write_h5(path, tree):
    with h5py.File(path, "w") as f:
        for key, value in tree.items():
            f[key] = value


# (what the file holds, the words the ValueError must contain)
BAD_FILES = [
    ({"model_weights/dense/kernel": np.zeros((5, 2), np.float32)}, r"not in Keras 3's \.weights\.h5 layout"),
    ({"layers/dense/vars/0": np.zeros((4, 2), np.float32), "layers/dense/vars/1": np.zeros(2, np.float32)},
     r"layer 'dense.*'.*layers/dense/vars.*shape \(4, 2\) in the file, \(5, 2\) in the model"),
    ({"layers/dense/vars/0": np.zeros((5, 2), np.float32)}, r"layers/dense/vars.*datasets \['0'\].*\['0', '1'\]"),
    ({"layers/dense/vars/0": np.zeros((5, 2), np.float32), "layers/dense/vars/1": np.zeros(2, np.float32),
      "layers/dense_7/vars/0": np.zeros(3, np.float32)}, r"layers the model lacks: \['layers/dense_7/vars'\]"),
    ({"layers/dense/vars/0": np.array([b"x"] * 5), "layers/dense/vars/1": np.zeros(2, np.float32)},
     r"layers/dense/vars/0 .* not a numeric dataset"),
]


@pytest.mark.parametrize("tree, message", BAD_FILES)
def test_foreign_or_mismatched_hdf5_is_a_value_error_naming_the_file(tmp_path, tree, message):
    model = gk.Sequential([gk.Input((5,)), gk.layers.Dense(2)])
    before = model.get_weights()
    path = tmp_path / "bad.weights.h5"
    _write_h5(path, tree)
    with pytest.raises(ValueError, match=message) as error:
        model.load_weights(path)
    assert str(path) in str(error.value)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)  # nothing was copied


def test_truncated_hdf5_is_a_value_error(tmp_path):
    path = tmp_path / "cut.weights.h5"
    _sequential(gk).save_weights(path)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ValueError, match=r"cut\.weights\.h5.*cannot be opened as HDF5"):
        _sequential(gk).load_weights(path)


def test_skip_mismatch_loads_the_layers_that_fit(tmp_path):
    path = tmp_path / "m.weights.h5"
    _write_h5(path, {"layers/dense/vars/0": np.ones((5, 2), np.float32),
                     "layers/dense/vars/1": np.ones(2, np.float32),
                     "layers/dense_1/vars/0": np.ones((9, 9), np.float32),
                     "layers/dense_1/vars/1": np.ones(9, np.float32)})
    model = gk.Sequential([gk.Input((5,)), gk.layers.Dense(2), gk.layers.Dense(3)])
    kept = model.layers[1].get_weights()
    model.load_weights(path, skip_mismatch=True)
    np.testing.assert_array_equal(model.layers[0].get_weights()[0], np.ones((5, 2)))
    np.testing.assert_array_equal(model.layers[1].get_weights()[0], kept[0])


def test_old_ganglion_safetensors_under_an_h5_name_still_loads(tmp_path):
    source = _sequential(gk)
    _randomize(source)
    path = tmp_path / "old.weights.h5"
    path.write_bytes(to_bytes(weight_items(source), {"format": "ganglion.keras.weights"}))  # what ganglion wrote
    fresh = _sequential(gk)
    fresh.load_weights(path)
    for a, b in zip(source.get_weights(), fresh.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_safetensors_names_stay_safetensors(tmp_path):
    model = _sequential(gk)
    model.save_weights(tmp_path / "m.safetensors")
    assert b'"__metadata__"' in (tmp_path / "m.safetensors").read_bytes()[:200]


def test_save_is_atomic_and_keeps_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        _sequential(gk).save_weights(tmp_path / "m.weights.h5")
    finally:
        os.umask(old)
    assert os.listdir(tmp_path) == ["m.weights.h5"]
    assert os.stat(tmp_path / "m.weights.h5").st_mode & 0o777 == 0o640


def test_without_h5py_an_import_error_names_the_extra(tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_h5py(name, *args, **kwargs):
        if name == "h5py":
            raise ImportError("No module named 'h5py'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_h5py)
    model = _sequential(gk)
    with pytest.raises(ImportError, match=r'pip install "ganglion\[h5\]"'):
        model.save_weights(tmp_path / "m.weights.h5")
    path = tmp_path / "k.weights.h5"
    path.write_bytes(h5_weights.HDF5_MAGIC + bytes(100))
    with pytest.raises(ImportError, match=r'pip install "ganglion\[h5\]"'):
        model.load_weights(path)
