"""Transforms: one table of every transform run through the shared checks (single image and batch, array and
Tensor layouts, seeded reproducibility, per-image randomness), then reference results from Pillow or hand-computed
expectations, then the argument errors."""

import colorsys

import numpy as np
import pytest

import ganglion
from ganglion.data import transforms as T
from ganglion.data.transforms import functional as F

Image = pytest.importorskip("PIL.Image")
ImageEnhance = pytest.importorskip("PIL.ImageEnhance")

# (name, factory, random?, needs 3 channels?)
TRANSFORMS = [
    ("Resize", lambda: T.Resize((7, 9)), False, False),
    ("Resize-short-edge", lambda: T.Resize(6), False, False),
    ("CenterCrop", lambda: T.CenterCrop((5, 6)), False, False),
    ("CenterCrop-larger", lambda: T.CenterCrop(14), False, False),
    ("Pad", lambda: T.Pad((1, 2), padding_mode="reflect"), False, False),
    ("RandomCrop", lambda: T.RandomCrop(8, padding=2), True, False),
    ("RandomResizedCrop", lambda: T.RandomResizedCrop((6, 5)), True, False),
    ("RandomHorizontalFlip", lambda: T.RandomHorizontalFlip(), True, False),
    ("RandomVerticalFlip", lambda: T.RandomVerticalFlip(), True, False),
    ("RandomRotation", lambda: T.RandomRotation(30), True, False),
    ("RandomRotation-bilinear-expand", lambda: T.RandomRotation(30, T.InterpolationMode.BILINEAR, expand=True), True,
     False),
    ("RandomAffine", lambda: T.RandomAffine(20, translate=(0.2, 0.1), scale=(0.8, 1.2), shear=(-10, 10, -5, 5)), True,
     False),
    ("ColorJitter", lambda: T.ColorJitter(0.4, 0.4, 0.4, 0.1), True, True),
    ("Grayscale", lambda: T.Grayscale(3), False, True),
    ("RandomGrayscale", lambda: T.RandomGrayscale(0.5), True, True),
    ("RandomErasing", lambda: T.RandomErasing(p=1.0, value=(0.1, 0.2, 0.3)), True, True),
    ("Normalize", lambda: T.Normalize((0.5, 0.4, 0.3), (0.2, 0.3, 0.4)), False, True),
    ("Lambda", lambda: T.Lambda(lambda x: x * 0.5), False, False),
    ("RandomApply", lambda: T.RandomApply([T.RandomHorizontalFlip(1.0)], p=0.5), True, False),
    ("Compose", lambda: T.Compose([T.RandomCrop(10, padding=1), T.RandomHorizontalFlip()]), True, False),
]
IDS = [row[0] for row in TRANSFORMS]


@pytest.fixture
def batch_hwc(rng):
    """Four different float images (N, H, W, C) = (4, 10, 12, 3) in [0, 1]."""
    return rng.random((4, 10, 12, 3)).astype(np.float32)


def _seeded(transform, x, seed=0):
    ganglion.manual_seed(seed)
    return transform(x)


@pytest.mark.parametrize("name,factory,random,rgb", TRANSFORMS, ids=IDS)
def test_single_image_and_batch_agree_in_shape_and_type(name, factory, random, rgb, batch_hwc):
    t = factory()
    single, batch = _seeded(t, batch_hwc[0]), _seeded(t, batch_hwc)
    assert isinstance(single, np.ndarray) and isinstance(batch, np.ndarray)
    assert single.ndim == 3 and batch.shape[0] == 4 and batch.shape[3] == single.shape[2]
    if "expand" not in name:  # with expand, the canvas fits the largest rotation drawn
        assert batch.shape == (4,) + single.shape
    assert single.dtype == batch.dtype == np.float32


@pytest.mark.parametrize("name,factory,random,rgb", TRANSFORMS, ids=IDS)
def test_tensor_layout_gives_the_array_result_transposed(name, factory, random, rgb, batch_hwc):
    t = factory()
    from_arrays = _seeded(t, batch_hwc)
    from_tensor = _seeded(t, ganglion.from_numpy(np.ascontiguousarray(batch_hwc.transpose(0, 3, 1, 2))))
    assert isinstance(from_tensor, ganglion.Tensor)
    np.testing.assert_allclose(from_tensor.numpy(), from_arrays.transpose(0, 3, 1, 2), atol=1e-6)


@pytest.mark.parametrize("name,factory,random,rgb", TRANSFORMS, ids=IDS)
def test_seeded_and_reproducible(name, factory, random, rgb, batch_hwc):
    t = factory()
    np.testing.assert_array_equal(_seeded(t, batch_hwc, 3), _seeded(t, batch_hwc, 3))
    if random:
        draws = [_seeded(t, batch_hwc, s) for s in range(6)]
        assert any(not np.array_equal(draws[0], d) for d in draws[1:])


@pytest.mark.parametrize("name,factory,random,rgb", [r for r in TRANSFORMS if r[2] and r[0] != "RandomApply"],
                         ids=[r[0] for r in TRANSFORMS if r[2] and r[0] != "RandomApply"])
def test_every_image_of_a_batch_draws_its_own_parameters(name, factory, random, rgb, rng):
    same = np.repeat(rng.random((1, 10, 12, 3)).astype(np.float32), 16, axis=0)
    out = _seeded(factory(), same)
    assert len({out[i].tobytes() for i in range(16)}) > 1


def test_generator_argument_gives_its_own_stream(batch_hwc):
    a = T.RandomCrop(8, padding=2, generator=ganglion.Generator().manual_seed(1))(batch_hwc)
    b = T.RandomCrop(8, padding=2, generator=ganglion.Generator().manual_seed(1))(batch_hwc)
    np.testing.assert_array_equal(a, b)


def test_uint8_grey_and_pil_inputs_keep_their_form(rng):
    grey = rng.integers(0, 256, (9, 11), dtype=np.uint8)
    out = T.Resize((5, 6))(grey)
    assert out.shape == (5, 6) and out.dtype == np.uint8
    pil = T.Resize((5, 6))(Image.fromarray(grey))
    assert isinstance(pil, Image.Image) and pil.size == (6, 5)
    np.testing.assert_array_equal(np.asarray(pil), out)


# ------------------------------------------------------------------------------------------- ToTensor / Normalize
def test_to_tensor_layout_and_scaling(rng):
    image = rng.integers(0, 256, (4, 5, 3), dtype=np.uint8)
    t = T.ToTensor()(image)
    assert isinstance(t, ganglion.Tensor) and t.shape == (3, 4, 5) and t.dtype == ganglion.float32
    np.testing.assert_array_equal(t.numpy(), image.transpose(2, 0, 1).astype(np.float32) / np.float32(255))
    assert T.ToTensor()(image[:, :, 0]).shape == (1, 4, 5)
    assert T.ToTensor()(np.stack([image] * 2)).shape == (2, 3, 4, 5)
    assert T.ToTensor()(Image.fromarray(image)).shape == (3, 4, 5)
    floats = T.ToTensor()(image.astype(np.float64))
    assert floats.dtype == ganglion.float64 and float(floats.max()) == image.max()  # only uint8 is scaled
    with pytest.raises(TypeError, match="got a Tensor"):
        T.ToTensor()(t)


def test_normalize_matches_the_formula(rng):
    x = rng.random((2, 3, 4, 5)).astype(np.float32)
    out = T.Normalize((0.1, 0.2, 0.3), (0.5, 0.25, 2.0))(ganglion.from_numpy(x)).numpy()
    expected = (x - np.array([0.1, 0.2, 0.3], np.float32)[:, None, None]) / np.array([0.5, 0.25, 2.0],
                                                                                     np.float32)[:, None, None]
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    t = ganglion.from_numpy(x.copy())
    assert T.Normalize((0.5,), (0.5,), inplace=True)(t) is t
    np.testing.assert_allclose(t.numpy(), (x - 0.5) / 0.5, rtol=1e-6)


@pytest.mark.parametrize("make,call,error,match", [
    (lambda: T.Normalize((0.5,), (0.0,)), None, ValueError, "std must not contain zeros"),
    (lambda: T.Normalize((0.5, 0.5), (1, 1)), lambda t: t(ganglion.zeros(3, 4, 4)), ValueError,
     "mean has 2 values but the image has 3 channels"),
    (lambda: T.Normalize((0.5,), (1,)), lambda t: t(ganglion.zeros(1, 4, 4, dtype=ganglion.uint8)), TypeError,
     "apply ToTensor first"),
    (lambda: T.Normalize((0.5,), (1,)), lambda t: t(ganglion.zeros(4, 4)), ValueError, r"\(\.\.\., C, H, W\)"),
    (lambda: T.Normalize((0.5,), (1,)), lambda t: t([1, 2]), TypeError, "got list"),
])
def test_normalize_errors(make, call, error, match):
    with pytest.raises(error, match=match):
        call(make()) if call else make()


# ------------------------------------------------------------------------------------------ Pillow as the reference
@pytest.mark.parametrize("mode,pil", [("bilinear", Image.BILINEAR), ("bicubic", Image.BICUBIC),
                                      ("nearest", Image.NEAREST)])
@pytest.mark.parametrize("size", [(28, 13), (9, 40), (40, 28), (16, 11), (5, 3), (50, 60)])
def test_resize_matches_pillow(rng, mode, pil, size):
    """The NumPy reference passes (used where Pillow does not serve) against Pillow; T.Resize on uint8 RGB arrays
    is Pillow's own resize (test_data_transforms_pillow.py)."""
    from ganglion.data.transforms.resample import InterpolationMode, resize_boxes

    image = rng.integers(0, 256, (28, 40, 3), dtype=np.uint8)
    ours = resize_boxes(image[None], *size, (0, 0, 28, 40), InterpolationMode(mode))[0]
    # resized width then height, rounding to uint8 in between: two one-axis Pillow resizes are that exactly
    two_passes = Image.fromarray(image).resize((size[1], 28), pil).resize(size[::-1], pil)
    np.testing.assert_array_equal(ours, np.asarray(two_passes))
    # Pillow's own two-axis resize may round between its passes otherwise; then they differ by at most 1
    direct = np.asarray(Image.fromarray(image).resize(size[::-1], pil)).astype(int)
    if mode != "bicubic":
        assert np.abs(ours.astype(int) - direct).max() <= 1
    np.testing.assert_array_equal(T.Resize(size, interpolation=mode)(image), direct)


def test_resize_float_images_use_the_same_filter(rng):
    image = rng.integers(0, 256, (20, 30), dtype=np.uint8)
    ours = T.Resize((20, 11))(image.astype(np.float32) / 255) * 255
    theirs = np.asarray(Image.fromarray(image).resize((11, 20), Image.BILINEAR)).astype(np.float32)
    assert np.abs(ours - theirs).max() <= 0.5 + 1e-3  # Pillow rounds to uint8, we do not


def test_resize_short_edge_and_max_size():
    assert T.Resize(10)(np.zeros((20, 40), np.uint8)).shape == (10, 20)
    assert T.Resize(10)(np.zeros((40, 20), np.uint8)).shape == (20, 10)
    assert T.Resize(10, max_size=15)(np.zeros((20, 40), np.uint8)).shape == (7, 15)


@pytest.mark.parametrize("angle", [33.0, -71.5, 90.0, 180.0, 12.3])
@pytest.mark.parametrize("expand", [False, True])
def test_rotation_matches_pillow(rng, angle, expand):
    image = rng.integers(0, 256, (17, 29, 3), dtype=np.uint8)
    ours = T.RandomRotation((angle, angle), expand=expand, fill=(10, 20, 30))(image)
    theirs = np.asarray(Image.fromarray(image).rotate(angle, Image.NEAREST, expand=expand, fillcolor=(10, 20, 30)))
    assert ours.shape == theirs.shape
    assert np.mean(np.any(ours != theirs, axis=-1)) < 0.01  # pixel centres exactly on an edge may round apart


def test_affine_rotation_is_clockwise_like_torchvision_and_translation_shifts(rng):
    image = rng.integers(0, 256, (16, 16), dtype=np.uint8)
    ours = T.RandomAffine((25, 25))(image)
    np.testing.assert_array_equal(ours, T.RandomRotation((-25, -25))(image))
    shifted = F.affine(image, 0, (3, -2), 1.0, 0)
    expected = np.zeros_like(image)
    expected[:-2, 3:] = image[2:, :-3]
    np.testing.assert_array_equal(shifted, expected)


def test_affine_scale_and_shear_move_a_pixel_where_the_formula_says(rng):
    image = np.zeros((21, 21), np.uint8)
    image[4, 14] = 255  # pixel centre (14.5, 4.5): (4, -6) from the centre (10.5, 10.5)
    row, col = np.unravel_index(F.affine(image, 0, (0, 0), 1.5, 0).argmax(), image.shape)
    assert (col + 0.5 - 10.5, row + 0.5 - 10.5) == pytest.approx((6, -9), abs=0.75)
    # x' = x - tan(sx) y: shearing by 45 degrees moves (4, -6) to (10, -6)
    row, col = np.unravel_index(F.affine(image, 0, (0, 0), 1.0, 45).argmax(), image.shape)
    assert (col + 0.5 - 10.5, row + 0.5 - 10.5) == pytest.approx((10, -6), abs=0.75)


def test_rotation_by_90_on_a_square_is_rot90(rng):
    image = rng.random((8, 8, 2)).astype(np.float32)
    for mode in ("nearest", "bilinear"):
        np.testing.assert_allclose(F.rotate(image, 90, mode), np.rot90(image, 1, axes=(0, 1)), atol=1e-6)


@pytest.mark.parametrize("factor", [0.0, 0.3, 1.0, 1.7])
@pytest.mark.parametrize("kind", ["brightness", "contrast", "saturation"])
def test_color_adjustments_match_pillow_enhance(rng, factor, kind):
    image = rng.integers(0, 256, (9, 13, 3), dtype=np.uint8)
    enhancer = {"brightness": ImageEnhance.Brightness, "contrast": ImageEnhance.Contrast,
                "saturation": ImageEnhance.Color}[kind]
    theirs = np.asarray(enhancer(Image.fromarray(image)).enhance(factor))
    jitter = T.ColorJitter(**{kind: (factor, factor)})
    np.testing.assert_array_equal(jitter(image), theirs)
    np.testing.assert_array_equal(getattr(F, f"adjust_{kind}")(image, factor), theirs)


def test_grayscale_matches_pillow(rng):
    image = rng.integers(0, 256, (9, 13, 3), dtype=np.uint8)
    np.testing.assert_array_equal(T.Grayscale()(image), np.asarray(Image.fromarray(image).convert("L"))[:, :, None])
    floats = T.Grayscale()(image.astype(np.float32) / 255)[..., 0]
    np.testing.assert_allclose(floats, (image.astype(np.float64) / 255) @ [0.299, 0.587, 0.114], atol=1e-6)


@pytest.mark.parametrize("shift", [-0.5, -0.2, 0.1, 1 / 3, 0.5])
def test_hue_shift_matches_colorsys(rng, shift):
    image = rng.random((4, 5, 3))
    out = F.adjust_hue(image, shift)
    for (i, j), _ in np.ndenumerate(image[..., 0]):
        h, s, v = colorsys.rgb_to_hsv(*image[i, j])
        np.testing.assert_allclose(out[i, j], colorsys.hsv_to_rgb((h + shift) % 1.0, s, v), atol=1e-9)
    red = np.zeros((1, 1, 3), np.uint8)
    red[..., 0] = 255
    assert F.adjust_hue(red, 1 / 3).tolist() == [[[0, 255, 0]]]


def test_resized_crop_matches_pillow_crop_then_resize(rng):
    image = rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)
    t = T.RandomResizedCrop((12, 15), generator=ganglion.Generator().manual_seed(4))
    top, left, h, w = (int(v[0]) for v in t.get_params(ganglion.Generator().manual_seed(4).numpy, 1, 30, 40))
    ours = t(image).astype(int)
    theirs = np.asarray(Image.fromarray(image).crop((left, top, left + w, top + h)).resize((15, 12), Image.BILINEAR))
    assert np.abs(ours - theirs.astype(int)).max() <= 1
    assert 0.08 * 1200 * 0.9 <= h * w <= 1200 and 3 / 4 - 0.1 <= w / h <= 4 / 3 + 0.1


# -------------------------------------------------------------------------------------- hand-computed expectations
def test_flips(rng):
    batch = rng.random((300, 3, 4, 1))
    np.testing.assert_array_equal(T.RandomHorizontalFlip(1.0)(batch), batch[:, :, ::-1])
    np.testing.assert_array_equal(T.RandomVerticalFlip(1.0)(batch), batch[:, ::-1])
    np.testing.assert_array_equal(T.RandomHorizontalFlip(0.0)(batch), batch)
    flipped = np.mean([not np.array_equal(a, b) for a, b in zip(T.RandomHorizontalFlip()(batch), batch)])
    assert 0.35 < flipped < 0.65


def test_crops_and_padding(rng):
    image = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
    np.testing.assert_array_equal(T.CenterCrop((2, 4))(image), image[2:4, 2:6])
    big = T.CenterCrop((8, 10))(image)
    assert big.shape == (8, 10, 3) and big[0].sum() == 0 and np.array_equal(big[1:7, 1:9], image)
    for mode in ("constant", "edge", "reflect", "symmetric"):
        np.testing.assert_array_equal(T.Pad((1, 2, 3, 4), padding_mode=mode)(image),
                                      np.pad(image, ((2, 4), (1, 3), (0, 0)), mode=mode))
    padded = T.Pad(1, fill=(1, 2, 3))(image)
    assert padded[0, 0].tolist() == [1, 2, 3]
    crops = T.RandomCrop((6, 8), padding=2)(np.stack([image] * 50))
    offsets = {next((dy, dx) for dy in range(5) for dx in range(5)
                    if np.array_equal(np.pad(image, ((2, 2), (2, 2), (0, 0)))[dy:dy + 6, dx:dx + 8], c)) for c in crops}
    assert len(offsets) > 5


def test_random_crop_pad_if_needed():
    out = T.RandomCrop((6, 6), pad_if_needed=True)(np.ones((4, 5), np.uint8))
    assert out.shape == (6, 6)
    with pytest.raises(ValueError, match=r"crop size \(6, 6\) is larger than the \(padded\) image size \(4, 5\)"):
        T.RandomCrop(6)(np.ones((4, 5), np.uint8))


def test_random_erasing_erases_one_rectangle_in_range(rng):
    x = ganglion.from_numpy(rng.random((3, 20, 20)).astype(np.float32) + 1)
    out = T.RandomErasing(p=1.0, scale=(0.1, 0.2), ratio=(0.5, 2.0), value=0)(x).numpy()
    erased = np.all(out == 0, axis=0)
    rows, cols = np.flatnonzero(erased.any(1)), np.flatnonzero(erased.any(0))
    assert erased.sum() == len(rows) * len(cols) and 0.1 * 400 * 0.8 <= erased.sum() <= 0.2 * 400 * 1.2
    np.testing.assert_array_equal(out[:, ~erased], x.numpy()[:, ~erased])
    y = x.clone()
    assert T.RandomErasing(p=1.0, inplace=True)(y) is y and not np.array_equal(y.numpy(), x.numpy())
    noisy = T.RandomErasing(p=1.0, value="random")(x).numpy()
    assert np.any(noisy < 0)  # standard normal values where erased
    assert T.RandomErasing(p=0.0)(x) is x


def test_color_jitter_random_factors_stay_in_range(rng):
    image = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    outs = np.stack([T.ColorJitter(brightness=0.5)(image) for _ in range(30)]).astype(float)
    ratio = outs.reshape(30, -1).sum(1) / image.sum()
    assert ratio.min() >= 0.5 - 0.02 and ratio.max() <= 1.5 + 0.02 and ratio.std() > 0.05


def test_compose_lambda_and_repr():
    t = T.Compose([T.Lambda(lambda x: x + 1), T.Lambda(lambda x: x * 2)])
    assert t(3) == 8 and "Compose([" in repr(t)
    assert "RandomCrop(size=(4, 4)" in repr(T.RandomCrop(4))


# --------------------------------------------------------------------------------------------------------- errors
@pytest.mark.parametrize("make,error,match", [
    (lambda: T.Resize(0), ValueError, "Resize: size must be a positive int"),
    (lambda: T.Resize((3, 4), max_size=10), ValueError, "max_size is only allowed with an int size"),
    (lambda: T.Resize(4, interpolation="lanczos"), ValueError,
     "unsupported interpolation 'lanczos'; accepted: nearest"),
    (lambda: T.RandomRotation(10, interpolation="bicubic"), ValueError, "accepted: nearest, bilinear"),
    (lambda: T.CenterCrop((3, 0)), ValueError, "CenterCrop: size must be"),
    (lambda: T.RandomCrop(4, padding=-1), ValueError, "padding must be a non-negative int"),
    (lambda: T.Pad(1, padding_mode="wrap"), ValueError, "unknown padding_mode 'wrap'; accepted: constant, edge"),
    (lambda: T.RandomResizedCrop(4, scale=(0.9, 0.1)), ValueError, r"scale must be given as \(min, max\)"),
    (lambda: T.RandomResizedCrop(4, ratio=(0, 1)), ValueError, "ratio values must be positive"),
    (lambda: T.RandomHorizontalFlip(1.5), ValueError, r"p must be a probability in \[0, 1\]"),
    (lambda: T.RandomRotation(-5), ValueError, "degrees must be non-negative"),
    (lambda: T.RandomAffine(0, translate=(2, 0)), ValueError, "translate must be an"),
    (lambda: T.RandomAffine(0, scale=(-1, 1)), ValueError, "scale values must be positive"),
    (lambda: T.RandomAffine(0, shear=(1, 2, 3)), ValueError, "shear must be a number or a sequence of 2 or 4"),
    (lambda: T.ColorJitter(brightness=-0.1), ValueError, "brightness must be non-negative"),
    (lambda: T.ColorJitter(hue=0.6), ValueError, r"hue must lie in \[-0.5, 0.5\]"),
    (lambda: T.Grayscale(2), ValueError, "num_output_channels must be 1 or 3"),
    (lambda: T.RandomErasing(scale=(0.5, 2)), ValueError, r"scale must lie in \[0, 1\]"),
    (lambda: T.RandomErasing(value="noise"), ValueError, "value must be a number"),
    (lambda: T.Lambda(3), TypeError, "expected a callable"),
    (lambda: T.Compose([T.ToTensor(), 5]), TypeError, "transform 1 is not callable"),
])
def test_bad_arguments_are_named(make, error, match):
    with pytest.raises(error, match=match):
        make()


@pytest.mark.parametrize("call,error,match", [
    (lambda: T.Resize(4)("image"), TypeError, "Resize: expected an image as a NumPy array"),
    (lambda: T.Resize(4)(np.zeros((2, 2, 2, 2, 2))), ValueError, r"got \(2, 2, 2, 2, 2\)"),
    (lambda: T.Resize(4)(np.zeros((0, 5))), ValueError, "empty"),
    (lambda: T.RandomCrop(4)(np.zeros((10, 8, 8), np.uint8)), ValueError, r"\(N, H, W\) add the channel axis"),
    (lambda: T.ToTensor()(np.zeros((2, 3, 8, 8), np.uint8)), ValueError, "NumPy images are channels-last"),
    (lambda: T.Resize(4)(np.zeros((5, 5), np.int32)), TypeError, "uint8 or floating image"),
    (lambda: T.Grayscale()(np.zeros((4, 4, 2), np.uint8)), ValueError, "expected 1 or 3 channels, got 2"),
    (lambda: T.RandomErasing(p=1, value=(1, 2))(np.zeros((9, 9, 3))), ValueError, "value has 2 entries"),
    (lambda: T.Pad(1, fill=(1, 2))(np.zeros((4, 4, 3))), ValueError, "fill has 2 values but the image has 3"),
    (lambda: F.adjust_hue(np.zeros((2, 2, 3)), 0.7), ValueError, r"hue_factor must lie in \[-0.5, 0.5\]"),
])
def test_bad_images_are_named(call, error, match):
    with pytest.raises(error, match=match):
        call()
