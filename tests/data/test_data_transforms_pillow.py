"""Where Pillow does the work (``data/transforms/_pillow.py``): Pillow images are resized, cropped and flipped by
Pillow itself, exactly as torchvision calls it; uint8 arrays of 1 or 3 channels are resized through Pillow, within
1 of the NumPy reference passes (bicubic: 3); everything else (and everything without Pillow) stays on the NumPy
reference."""

import numpy as np
import pytest

import ganglion
from ganglion.data import transforms as T
from ganglion.data.transforms import _pillow
from ganglion.data.transforms.resample import InterpolationMode, resize_boxes

Image = pytest.importorskip("PIL.Image")

FILTERS = {"bilinear": Image.Resampling.BILINEAR, "bicubic": Image.Resampling.BICUBIC,
           "nearest": Image.Resampling.NEAREST}


def photo(rng, shape):
    """A smooth uint8 image (a coarse noise field upsampled), like a photo."""
    coarse = rng.integers(0, 256, (6, 8) + shape[2:], dtype=np.uint8)
    img = Image.fromarray(coarse[..., 0] if len(shape) == 3 and shape[2] == 1 else coarse)
    out = np.asarray(img.resize((shape[1], shape[0]), Image.Resampling.BICUBIC))
    return out.reshape(shape)


@pytest.mark.parametrize("pil_mode", ["RGB", "L", "RGBA", "P"])
@pytest.mark.parametrize("interpolation", ["bilinear", "bicubic", "nearest"])
@pytest.mark.parametrize("size", [(20, 31), 17, (60, 45)])
def test_pil_images_are_resized_by_pillow_as_torchvision_does(rng, pil_mode, interpolation, size):
    img = Image.fromarray(photo(rng, (40, 50, 3))).convert(pil_mode)
    out = T.Resize(size, interpolation=interpolation)(img)
    h, w = size if isinstance(size, tuple) else (size, int(size * 50 / 40))
    expected = img.resize((w, h), FILTERS[interpolation])
    assert isinstance(out, Image.Image) and out.mode == pil_mode
    np.testing.assert_array_equal(np.asarray(out), np.asarray(expected))


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("interpolation", ["bilinear", "bicubic", "nearest"])
@pytest.mark.parametrize("size", [(256, 341), (90, 31), (70, 110)])
def test_uint8_arrays_are_resized_by_pillow_within_one_of_numpy(rng, channels, interpolation, size):
    image = photo(rng, (75, 100, channels))
    out = T.Resize(size, interpolation=interpolation)(image)
    pil = Image.fromarray(image[..., 0] if channels == 1 else image).resize(size[::-1], FILTERS[interpolation])
    np.testing.assert_array_equal(out, np.asarray(pil).reshape(size + (channels,)))
    reference = resize_boxes(image[None], *size, (0, 0, 75, 100), InterpolationMode(interpolation))[0]
    difference = np.abs(out.astype(int) - reference.astype(int))
    # the passes' order and rounding: 1 at most; bicubic's overshoot is also clipped between the passes
    assert difference.max() <= (3 if interpolation == "bicubic" else 1) and difference.mean() < 0.25


def test_batches_and_tensors_take_the_same_path(rng):
    batch = np.stack([photo(rng, (30, 40, 3)) for _ in range(3)])
    out = T.Resize((13, 17))(batch)
    for k in range(3):
        np.testing.assert_array_equal(out[k], T.Resize((13, 17))(batch[k]))
    tensor_out = T.Resize((13, 17))(ganglion.tensor(batch.transpose(0, 3, 1, 2).copy()))
    np.testing.assert_array_equal(tensor_out.numpy().transpose(0, 2, 3, 1), out)


# (id, image shape, transform): cases Pillow does not serve, which must equal the NumPy reference passes
NUMPY_ONLY = [
    ("no_antialias_shrinking", (30, 40, 3), T.Resize((11, 13), antialias=False)),
    ("two_channels", (30, 40, 2), T.Resize((11, 13))),
    ("four_channels", (30, 40, 4), T.Resize((11, 13))),
    ("float_image", (30, 40, 3), T.Resize((11, 13))),
]


@pytest.mark.parametrize("name, shape, transform", NUMPY_ONLY, ids=[r[0] for r in NUMPY_ONLY])
def test_other_images_stay_on_numpy(rng, name, shape, transform):
    image = photo(rng, shape) if shape[2] in (1, 3) else rng.integers(0, 256, shape, dtype=np.uint8)
    if name == "float_image":
        image = image.astype(np.float32) / 255
    expected = resize_boxes(image[None], 11, 13, (0, 0, 30, 40), InterpolationMode.BILINEAR, transform.antialias)[0]
    np.testing.assert_array_equal(transform(image), expected)


def test_without_pillow_arrays_use_the_numpy_reference(rng, monkeypatch):
    image = photo(rng, (30, 40, 3))
    with_pillow = T.Resize((11, 13))(image)
    monkeypatch.setattr(_pillow, "_image_module", lambda: None)
    without = T.Resize((11, 13))(image)
    reference = resize_boxes(image[None], 11, 13, (0, 0, 30, 40), InterpolationMode.BILINEAR)[0]
    np.testing.assert_array_equal(without, reference)
    assert np.abs(without.astype(int) - with_pillow.astype(int)).max() <= 1


def test_resized_crop_is_crop_then_resize_in_pillow(rng):
    image = photo(rng, (30, 40, 3))
    t = T.RandomResizedCrop((12, 15), generator=ganglion.Generator().manual_seed(4))
    top, left, h, w = (int(v[0]) for v in t.get_params(ganglion.Generator().manual_seed(4).numpy, 1, 30, 40))
    expected = np.asarray(Image.fromarray(image).crop((left, top, left + w, top + h)).resize((15, 12), Image.BILINEAR))
    np.testing.assert_array_equal(t(image), expected)
    t.generator = ganglion.Generator().manual_seed(4)
    np.testing.assert_array_equal(np.asarray(t(Image.fromarray(image))), expected)


@pytest.mark.parametrize("make", [lambda: T.RandomCrop(17), lambda: T.CenterCrop((12, 50)), lambda: T.CenterCrop(9),
                                  lambda: T.RandomHorizontalFlip(), lambda: T.RandomVerticalFlip(),
                                  lambda: T.RandomResizedCrop(11)],
                         ids=["random_crop", "center_crop_padded", "center_crop", "hflip", "vflip", "resized_crop"])
def test_pil_and_array_inputs_agree(rng, make):
    """The Pillow calls and the array kernels give the same pixels for the same seed (20 draws)."""
    image = photo(rng, (30, 40, 3))
    t = make()
    for seed in range(20):
        ganglion.manual_seed(seed)
        from_pil = t(Image.fromarray(image))
        ganglion.manual_seed(seed)
        from_array = t(image)
        assert isinstance(from_pil, Image.Image)
        np.testing.assert_array_equal(np.asarray(from_pil), from_array)


def test_photo_pipeline_on_pil_equals_the_hand_written_pillow_steps(rng):
    """Resize(256) + RandomCrop(224) + flip + ToTensor + Normalize on a Pillow image equals those steps in Pillow
    and NumPy (torchvision's calls), for the crop and flip ganglion drew."""
    image = Image.fromarray(photo(rng, (300, 400, 3)))
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    steps = [T.Resize(256), T.RandomCrop(224), T.RandomHorizontalFlip(1.0), T.ToTensor(), T.Normalize(mean, std)]
    ganglion.manual_seed(3)
    out = T.Compose(steps)(image).numpy()
    ganglion.manual_seed(3)
    resized = steps[0](image)
    cropped = steps[1](resized)
    left, top = next((j, i) for i in range(256 - 224 + 1) for j in range(341 - 224 + 1)
                     if np.array_equal(np.asarray(resized)[i:i + 224, j:j + 224], np.asarray(cropped)))
    by_hand = image.resize((341, 256), Image.BILINEAR).crop((left, top, left + 224, top + 224))
    x = np.asarray(by_hand.transpose(Image.Transpose.FLIP_LEFT_RIGHT)).transpose(2, 0, 1).astype(np.float32) / 255
    expected = (x - np.float32(mean).reshape(3, 1, 1)) / np.float32(std).reshape(3, 1, 1)
    assert out.dtype == np.float32 and out.shape == (3, 224, 224)
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-6)
