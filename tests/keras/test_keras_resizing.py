"""keras.layers.Resizing against Keras 3 (torch backend): bilinear, nearest and bicubic, up and down, crop and pad to
the aspect ratio, channels_first, one image, integer images; shapes, config and Keras' errors."""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import ganglion.keras as gk  # noqa: E402


def _both(shape, dtype=np.float32, **options):
    x = np.random.default_rng(0).uniform(0, 255, shape).astype(dtype)
    expected = keras.ops.convert_to_numpy(keras.layers.Resizing(**options)(x))
    got = gk.layers.Resizing(**options)(x)
    return got, expected


@pytest.mark.parametrize("interpolation", ["bilinear", "nearest", "bicubic"])
@pytest.mark.parametrize("size", [(13, 17), (5, 3), (8, 20)])  # up, down, mixed
def test_matches_keras(interpolation, size):
    got, expected = _both((2, 9, 11, 3), height=size[0], width=size[1], interpolation=interpolation)
    assert tuple(got.shape) == expected.shape == (2, *size, 3)
    assert got.dtype == expected.dtype == np.float32
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5, atol=1e-3)


@pytest.mark.parametrize("options", [
    {"crop_to_aspect_ratio": True}, {"pad_to_aspect_ratio": True, "fill_value": 7.0},
    {"data_format": "channels_first"}, {"crop_to_aspect_ratio": True, "interpolation": "nearest"},
])
@pytest.mark.parametrize("shape", [(2, 9, 16, 3), (2, 16, 9, 3)])
def test_aspect_ratio_and_layout_match_keras(options, shape):
    got, expected = _both(shape, height=6, width=5, **options)
    assert tuple(got.shape) == expected.shape
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5, atol=1e-3)


def test_one_image_and_integer_images_match_keras():
    got, expected = _both((9, 11, 3), height=4, width=6)
    assert tuple(got.shape) == expected.shape == (4, 6, 3)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5, atol=1e-3)
    got, expected = _both((2, 9, 11, 1), dtype=np.uint8, height=5, width=7)
    assert got.dtype == expected.dtype == np.uint8
    np.testing.assert_array_equal(got.numpy(), expected)


def test_in_a_model_shapes_and_config():
    model = gk.Sequential([gk.Input((10, 12, 3)), gk.layers.Resizing(4, 5), gk.layers.Flatten(), gk.layers.Dense(2)])
    assert model.output_shape == (None, 2) and model.predict(np.ones((3, 10, 12, 3)), verbose=0).shape == (3, 2)
    layer = gk.layers.Resizing(4, 5, interpolation="nearest", pad_to_aspect_ratio=True, fill_value=1.0)
    assert layer.compute_output_shape((None, 10, 12, 3)) == (None, 4, 5, 3)
    clone = gk.layers.Resizing.from_config(layer.get_config())
    assert (clone.height, clone.width, clone.interpolation, clone.pad_to_aspect_ratio, clone.fill_value) == \
        (4, 5, "nearest", True, 1.0)


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match="interpolation"):
        gk.layers.Resizing(2, 2, interpolation="lanczos3")
    with pytest.raises(ValueError, match="fill_mode"):
        gk.layers.Resizing(2, 2, fill_mode="reflect")
    with pytest.raises(ValueError, match="pad_to_aspect_ratio"):
        gk.layers.Resizing(2, 2, crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)
    with pytest.raises(ValueError, match="antialias"):
        gk.layers.Resizing(2, 2, antialias=True)
    with pytest.raises(ValueError, match="rank"):
        gk.layers.Resizing(2, 2)(np.ones((2, 3), np.float32))
