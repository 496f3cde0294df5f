"""Keras augmentation layers: identity at inference, per-image random draws in training (seeded), and the exact
geometry Keras defines, checked on cases with a known answer: a quarter turn is np.rot90, a translation by a
quarter of the width is a shift whose border follows the fill mode (reflect d c b a | a b c d, wrap, nearest,
constant), a 2x zoom-in is the centre upsampled, a flip is a reversed axis. A table row: (id, factory)."""

import numpy as np
import pytest

import ganglion as g
from ganglion.keras import layers as L
from ganglion.keras.models import Model, Sequential

LAYERS = [
    ("flip", lambda **kw: L.RandomFlip(**kw)),
    ("rotation", lambda **kw: L.RandomRotation(0.2, **kw)),
    ("zoom", lambda **kw: L.RandomZoom(0.3, **kw)),
    ("translation", lambda **kw: L.RandomTranslation(0.2, 0.3, **kw)),
    ("contrast", lambda **kw: L.RandomContrast(0.5, **kw)),
]


def images(n=4, h=6, w=6, c=3, seed=0):
    return (np.random.default_rng(seed).random((n, h, w, c)) * 255).astype(np.float32)


@pytest.mark.parametrize("row", LAYERS, ids=[r[0] for r in LAYERS])
def test_identity_at_inference_random_in_training_seeded(row):
    _, make = row
    x = images()
    layer = make(seed=3)
    np.testing.assert_array_equal(layer(x).numpy(), x)
    assert layer(x.astype(np.uint8)).dtype == g.float32
    a = layer(x, training=True).numpy()
    b = make(seed=3)(x, training=True).numpy()
    assert a.shape == x.shape
    np.testing.assert_array_equal(a, b)  # the same seed draws the same transformations
    assert not np.array_equal(a, x)
    single = make(seed=5)(x[0], training=True)  # one (height, width, channels) image
    assert tuple(single.shape) == x.shape[1:]


@pytest.mark.parametrize("row", LAYERS, ids=[r[0] for r in LAYERS])
def test_channels_first_matches_channels_last(row):
    _, make = row
    x = images(seed=1)
    last = make(seed=7)(x, training=True).numpy()
    first = make(seed=7, data_format="channels_first")(np.transpose(x, (0, 3, 1, 2)), training=True).numpy()
    np.testing.assert_allclose(np.transpose(first, (0, 2, 3, 1)), last, atol=1e-4)


@pytest.mark.parametrize("row", LAYERS, ids=[r[0] for r in LAYERS])
def test_config_round_trip(row):
    _, make = row
    layer = make(seed=4)
    clone = type(layer).from_config(layer.get_config())
    a, b = layer.get_config(), clone.get_config()
    a.pop("name"), b.pop("name")
    assert a == b
    x = images(seed=2)
    np.testing.assert_array_equal(clone(x, training=True).numpy(), layer(x, training=True).numpy())


@pytest.mark.parametrize("mode, variants", [
    ("horizontal", lambda x: [x, x[:, ::-1]]),
    ("vertical", lambda x: [x, x[::-1]]),
    ("horizontal_and_vertical", lambda x: [x, x[:, ::-1], x[::-1], x[::-1, ::-1]]),
])
def test_flip_gives_each_image_one_of_its_flips(mode, variants):
    x = images(n=40, h=3, w=4, seed=3)
    y = L.RandomFlip(mode, seed=1)(x, training=True).numpy()
    seen = set()
    for xi, yi in zip(x, y):
        matches = [k for k, v in enumerate(variants(xi)) if np.array_equal(v, yi)]
        assert matches, "an output is not a flip of its input"
        seen.add(matches[0])
    assert seen == set(range(len(variants(x[0]))))  # every variant occurs among 40 draws


def test_flip_and_contrast_pass_gradients():
    x = g.tensor(images(n=3), requires_grad=True)
    (L.RandomFlip(seed=2)(x, training=True) * 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2.0)
    x.grad = None
    L.RandomContrast(0.5, value_range=(-1e9, 1e9), seed=2)(x, training=True).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 1.0, rtol=1e-5)  # the mean is kept, so the sum is


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_rotation_quarter_and_half_turns(interpolation):
    x = images(n=2, h=5, w=5, c=2, seed=4)
    quarter = L.RandomRotation((0.25, 0.25), interpolation=interpolation)(x, training=True).numpy()
    np.testing.assert_allclose(quarter, np.rot90(x, 1, axes=(1, 2)), atol=1e-3)  # counter-clockwise
    half = L.RandomRotation((-0.5, -0.5), interpolation=interpolation)(x, training=True).numpy()
    np.testing.assert_allclose(half, x[:, ::-1, ::-1], atol=1e-3)


def test_rotation_angles_stay_in_range():
    """An 8x8 image with one bright pixel near the corner: its rotated position has an angle within the range."""
    x = np.zeros((200, 9, 9, 1), np.float32)
    x[:, 4, 8] = 1.0  # right of the centre (row 4, column 8)
    y = L.RandomRotation(0.1, interpolation="nearest", fill_mode="constant", seed=5)(x, training=True).numpy()
    angles = []
    for img in y[..., 0]:
        r, c = np.unravel_index(np.argmax(img), img.shape)
        angles.append(np.degrees(np.arctan2(4 - r, c - 4)))  # counter-clockwise, screen y points down
    angles = np.array(angles)
    assert np.all(np.abs(angles) <= 36 + 7) and angles.min() < -20 and angles.max() > 20


FILL = {
    "constant": lambda x, k: np.zeros_like(x[:, :, :k]) + 9.0,
    "reflect": lambda x, k: x[:, :, :k][:, :, ::-1],  # d c b a | a b c d
    "wrap": lambda x, k: x[:, :, -k:],
    "nearest": lambda x, k: np.repeat(x[:, :, :1], k, axis=2),
}


@pytest.mark.parametrize("fill_mode", list(FILL))
@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_translation_shifts_and_fills_the_border(fill_mode, interpolation):
    x = images(n=2, h=4, w=8, c=2, seed=6)
    layer = L.RandomTranslation((0, 0), (0.25, 0.25), fill_mode=fill_mode, interpolation=interpolation,
                                fill_value=9.0)
    y = layer(x, training=True).numpy()
    np.testing.assert_allclose(y[:, :, 2:], x[:, :, :-2], atol=1e-3)  # moved right by 0.25 * 8 = 2 pixels
    np.testing.assert_allclose(y[:, :, :2], FILL[fill_mode](x, 2), atol=1e-3)
    down = L.RandomTranslation((0.5, 0.5), 0, fill_mode="wrap")(x, training=True).numpy()
    np.testing.assert_allclose(down, np.roll(x, 2, axis=1), atol=1e-3)


def test_zoom_in_and_out():
    x = images(n=2, h=8, w=8, c=1, seed=7)
    zoom_in = L.RandomZoom((-0.5, -0.5), interpolation="nearest")(x, training=True).numpy()
    rows = 2 + np.arange(8) // 2  # a 2x zoom-in shows the centre 4x4, each pixel twice
    np.testing.assert_array_equal(zoom_in, x[:, rows][:, :, rows])
    zoom_out = L.RandomZoom((1.0, 1.0), interpolation="nearest", fill_mode="constant")(x, training=True).numpy()
    # the image at half size: output pixel centres j + 0.5 read input position 2 (j + 0.5 - 4) + 4 = 2j - 3
    np.testing.assert_array_equal(zoom_out[:, 2:6, 2:6], x[:, 1::2, 1::2])
    assert np.all(zoom_out[:, :2] == 0) and np.all(zoom_out[:, :, 6:] == 0)
    wide = L.RandomZoom((0, 0), width_factor=(-0.5, -0.5), interpolation="nearest")(x, training=True).numpy()
    np.testing.assert_array_equal(wide, x[:, :, rows])  # only the width zoomed


def test_contrast_scales_around_the_channel_mean_and_clips():
    x = images(n=30, h=4, w=5, c=3, seed=8)
    y = L.RandomContrast((0.3, 0.6), value_range=(-1e9, 1e9), seed=9)(x, training=True).numpy()
    mean = x.mean(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(y.mean(axis=(1, 2), keepdims=True), mean, rtol=1e-4)
    factors = (y - mean)[:, 0, 0, :] / (x - mean)[:, 0, 0, :]
    np.testing.assert_allclose(factors, factors[:, :1].repeat(3, axis=1), rtol=1e-3)  # one factor per image
    assert factors.min() >= 0.7 - 1e-4 and factors.max() <= 1.6 + 1e-4 and np.ptp(factors) > 0.2
    clipped = L.RandomContrast(1.0, seed=1)(x * 3, training=True).numpy()
    assert clipped.min() >= 0 and clipped.max() <= 255


def test_geometric_layers_refuse_inputs_that_need_gradients():
    x = g.tensor(images(n=1), requires_grad=True)
    with pytest.raises(ValueError, match="passes no gradient"):
        L.RandomRotation(0.1)(x, training=True)
    L.RandomRotation(0.1)(x)  # inference is the identity, gradients pass


def test_augmentation_in_fit_and_predict():
    rng = np.random.default_rng(10)
    x = (rng.random((12, 6, 6, 3)) * 255).astype(np.float32)
    y = rng.integers(0, 2, 12)
    inputs = L.Input((6, 6, 3))
    z = L.RandomFlip("horizontal")(inputs)
    for layer in (L.RandomRotation(0.1), L.RandomZoom(0.1), L.RandomTranslation(0.1, 0.1), L.RandomContrast(0.2),
                  L.Rescaling(1 / 255.0), L.Flatten(), L.Dense(2, activation="softmax")):
        z = layer(z)
    model = Model(inputs, z)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    history = model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    assert len(history.history["loss"]) == 2
    plain = Sequential([L.Input((6, 6, 3)), L.Rescaling(1 / 255.0), L.Flatten(), L.Dense(2, activation="softmax")])
    plain.layers[-1].set_weights(model.layers[-1].get_weights())
    np.testing.assert_allclose(model.predict(x, verbose=0), plain.predict(x, verbose=0), atol=1e-6)


@pytest.mark.parametrize("call, match", [
    (lambda: L.RandomFlip("diagonal"), "unknown mode"),
    (lambda: L.RandomRotation(1.5), r"range \[-1.0, 1.0\]"),
    (lambda: L.RandomRotation((0.1, 0.2, 0.3)), "pair of numbers"),
    (lambda: L.RandomZoom(0.1, fill_mode="mirror"), "unknown fill_mode"),
    (lambda: L.RandomZoom(-1.5), "height_factor"),
    (lambda: L.RandomTranslation(0.1, 0.1, interpolation="bicubic"), "unknown interpolation"),
    (lambda: L.RandomTranslation(0.1, 2.0), "width_factor"),
    (lambda: L.RandomContrast(-0.5), r"range \[0.0, 1.0\]"),
    (lambda: L.RandomContrast(0.5, value_range=(1, 0)), "value_range"),
    (lambda: L.RandomFlip(data_format="nhwc"), "data_format"),
    (lambda: L.RandomFlip()(np.zeros((4, 4), np.float32), training=True), "rank 3"),
    (lambda: L.RandomFlip(seed=1.5), "seed must be an int"),
], ids=["flip_mode", "rotation_range", "rotation_pair", "fill_mode", "zoom_range", "interpolation",
        "translation_range", "contrast_range", "value_range", "data_format", "rank", "seed"])
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()
