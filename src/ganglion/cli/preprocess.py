"""What happens to raw rows before the model sees them, fitted on the training rows and kept in the model file, so
that ``ganglion predict`` needs nothing but the file.

Two kinds, both plain JSON:

- ``standardize`` (an MLP): z = (x - mean) / scale per column, ``StandardScaler`` fitted on the training rows
  (scale 1 for a constant column);
- ``image`` (LeNet, VGG, ResNet): rows of pixels (height, width, channel order) -> (N, C, size, size) divided by
  ``max_value``, resized to ``size`` by nearest neighbour, then z = (x - mean[c]) / std[c] per channel.
"""

import numpy as np

from ..data.preprocessing import StandardScaler


def fit_standardize(x):
    """{"kind": "standardize", "mean", "scale"} of the rows ``x`` (n, F)."""
    scaler = StandardScaler().fit(x)
    return {"kind": "standardize", "mean": scaler.mean_.tolist(), "scale": scaler.scale_.tolist()}


def fit_image(x, image, size):
    """{"kind": "image", ...} for pixel rows ``x`` of an image (dict: height, width, channels, max_value), resized to
    ``size`` x ``size``; mean and std per channel of the training pixels scaled to [0, 1]."""
    pixels = x.reshape(len(x), -1, image["channels"]) / image["max_value"]
    std = pixels.std(axis=(0, 1))
    return {"kind": "image", "height": image["height"], "width": image["width"], "channels": image["channels"],
            "max_value": image["max_value"], "size": size, "mean": pixels.mean(axis=(0, 1)).tolist(),
            "std": np.where(std > 0, std, 1.0).tolist()}


def n_inputs(spec):
    """How many values a raw row holds."""
    if spec["kind"] == "standardize":
        return len(spec["mean"])
    return spec["height"] * spec["width"] * spec["channels"]


def model_input_shape(spec):
    """The shape of one preprocessed sample: (F,) or (C, size, size)."""
    if spec["kind"] == "standardize":
        return (len(spec["mean"]),)
    return (spec["channels"], spec["size"], spec["size"])


def apply(spec, x):
    """Raw rows ``x`` (n, F) -> the model's float32 input: (n, F) or (n, C, size, size)."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != n_inputs(spec):
        raise ValueError(f"expected rows of {n_inputs(spec)} values, got an array of shape {x.shape}")
    if spec["kind"] == "standardize":
        return ((x - np.asarray(spec["mean"])) / np.asarray(spec["scale"])).astype(np.float32)
    height, width, channels, size = spec["height"], spec["width"], spec["channels"], spec["size"]
    images = x.reshape(len(x), height, width, channels).transpose(0, 3, 1, 2) / spec["max_value"]
    rows, columns = (np.arange(size) * height) // size, (np.arange(size) * width) // size
    images = images[:, :, rows[:, None], columns[None, :]]
    mean, std = (np.asarray(spec[k]).reshape(1, channels, 1, 1) for k in ("mean", "std"))
    return ((images - mean) / std).astype(np.float32)
