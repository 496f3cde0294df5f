"""keras.utils.image_dataset_from_directory on a small folder tree made here (PNG files in class folders, a nested
sub-folder, a hidden folder, a non-image file). Keras 3's own function needs TensorFlow (tf.data) or Grain to
build its dataset, and neither is installed with the torch backend; so the oracle is Keras' own code for the parts
that run without them: ``dataset_utils.index_directory`` and ``get_training_or_validation_split`` (class order,
file order after the seeded shuffle, labels, split sizes) and its Grain path's image loader ``_load_image_grain``
(Pillow + ``keras.ops.image.resize`` on torch) for the pixels. Label encodings and shapes follow Keras' documented
semantics (int32 (n,), binary float32 (n, 1), categorical float32 (n, classes))."""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from keras.src.utils import dataset_utils  # noqa: E402
from keras.src.utils.image_dataset_utils import ALLOWLIST_FORMATS, _load_image_grain  # noqa: E402
from PIL import Image  # noqa: E402

import ganglion.keras as gk  # noqa: E402
from ganglion.keras.utils import image_dataset_from_directory  # noqa: E402

SIZES = {"dog": 5, "cat": 4, "bird": 3}


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    for name, count in SIZES.items():
        (root / name / "more").mkdir(parents=True)
        for i in range(count):
            folder = root / name / ("more" if i == 0 else "")
            h, w = rng.integers(5, 12, 2)
            mode = ["RGB", "L", "RGBA"][i % 3]
            shape = (h, w) if mode == "L" else (h, w, len(mode))
            Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode).save(folder / f"img{i}.png")
        (root / name / "notes.txt").write_text("not an image")
    (root / ".hidden").mkdir()
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(root / ".hidden" / "x.png")
    return str(root)


def _collect(dataset):
    images, labels = zip(*[dataset[i] for i in range(len(dataset))])
    return np.concatenate(images), np.concatenate(labels)


@pytest.mark.parametrize("shuffle, seed, split, subset", [
    (False, None, None, None), (True, 3, None, None), (True, 7, 0.25, "training"), (True, 7, 0.25, "validation"),
    (False, None, 0.5, "validation"),
])
def test_files_labels_and_split_as_keras(tree, shuffle, seed, split, subset):
    ds = image_dataset_from_directory(tree, image_size=(6, 6), batch_size=5, shuffle=shuffle, seed=seed,
                                      validation_split=split, subset=subset, verbose=False)
    paths, labels, names = dataset_utils.index_directory(tree, "inferred", formats=ALLOWLIST_FORMATS,
                                                         shuffle=shuffle, seed=seed, verbose=False)
    paths, labels = dataset_utils.get_training_or_validation_split(paths, labels, split, subset)
    assert ds.class_names == names == ["bird", "cat", "dog"]
    assert [os.path.normpath(p) for p in ds.file_paths] == [os.path.normpath(p) for p in paths]
    images, got = _collect(ds)
    assert got.dtype == np.int32 and got.shape == (len(paths),)
    np.testing.assert_array_equal(got, labels)
    assert images.dtype == np.float32 and images.shape == (len(paths), 6, 6, 3)
    assert len(ds) == -(-len(paths) // 5)


def test_subset_both_is_the_two_halves(tree):
    train, val = image_dataset_from_directory(tree, image_size=(4, 4), seed=1, validation_split=0.3, subset="both",
                                              verbose=False)
    n_val = int(0.3 * sum(SIZES.values()))
    assert len(val.file_paths) == n_val and len(train.file_paths) == sum(SIZES.values()) - n_val
    assert not set(train.file_paths) & set(val.file_paths)
    assert train.class_names == val.class_names == ["bird", "cat", "dog"]


@pytest.mark.parametrize("color_mode, interpolation, size, channels", [
    ("rgb", "bilinear", (6, 9), 3), ("grayscale", "nearest", (7, 5), 1), ("rgba", "bicubic", (8, 8), 4),
])
def test_pixels_match_keras_loader(tree, color_mode, interpolation, size, channels):
    ds = image_dataset_from_directory(tree, color_mode=color_mode, interpolation=interpolation, image_size=size,
                                      shuffle=False, batch_size=50, verbose=False)
    images, _ = ds[0]
    assert images.shape == (sum(SIZES.values()),) + size + (channels,)
    for path, image in zip(ds.file_paths, images):
        want = _load_image_grain(path, size, channels, interpolation, "channels_last")
        np.testing.assert_allclose(image, keras.ops.convert_to_numpy(want), rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("label_mode, check", [
    ("categorical", lambda y, n: y.dtype == np.float32 and y.shape == (n, 3) and np.all(y.sum(1) == 1)),
    (None, None),
])
def test_label_modes(tree, label_mode, check):
    ds = image_dataset_from_directory(tree, label_mode=label_mode, image_size=(4, 4), shuffle=False, batch_size=4,
                                      verbose=False)
    batch = ds[0]
    if check is None:
        assert isinstance(batch, np.ndarray) and batch.shape == (4, 4, 4, 3)
    else:
        assert check(batch[1], 4)
        np.testing.assert_array_equal(batch[1].argmax(1), [0, 0, 0, 1])  # bird has 3 files, then cat


def test_binary_labels_for_two_classes(tmp_path):
    for name in ("no", "yes"):
        (tmp_path / name).mkdir()
        Image.fromarray(np.full((3, 3, 3), 9, np.uint8)).save(tmp_path / name / "a.png")
    images, labels = image_dataset_from_directory(tmp_path, label_mode="binary", image_size=(3, 3), shuffle=False,
                                                  verbose=False)[0]
    assert labels.dtype == np.float32 and labels.shape == (2, 1)
    np.testing.assert_array_equal(labels[:, 0], [0.0, 1.0])
    np.testing.assert_array_equal(images, np.full((2, 3, 3, 3), 9.0, np.float32))


def test_fit_reads_it(tree):
    ds = image_dataset_from_directory(tree, image_size=(6, 6), batch_size=4, seed=0, verbose=False)
    model = gk.Sequential([gk.Input((6, 6, 3)), gk.layers.Rescaling(1 / 255), gk.layers.Flatten(),
                           gk.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    history = model.fit(ds, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and np.isfinite(history.history["loss"]).all()
    assert model.predict(ds, verbose=0).shape == (sum(SIZES.values()), 3)


@pytest.mark.parametrize("kwargs, message", [
    ({"validation_split": 0.2, "subset": "training"}, r"must provide a `seed`"),
    ({"subset": "training"}, r"`validation_split` must be set"),
    ({"label_mode": "binary"}, r"exactly 2 class_names.*bird"),
    ({"color_mode": "cmyk"}, r"color_mode.*grayscale.*cmyk"),
    ({"interpolation": "lanczos3"}, r"interpolation.*bilinear.*lanczos3"),
    ({"class_names": ["cat", "fish"]}, r"class_names.*did not match.*fish"),
    ({"batch_size": None}, r"batch_size must be a positive int"),
    ({"labels": [0, 1]}, r"len\(labels\) is 2 while we found 13 files"),  # .hidden counts here, as in Keras
])
def test_bad_arguments(tree, kwargs, message):
    with pytest.raises(ValueError, match=message):
        image_dataset_from_directory(tree, verbose=False, **kwargs)


def test_missing_directory(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        image_dataset_from_directory(tmp_path / "absent", verbose=False)
