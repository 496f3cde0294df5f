"""What every model in the zoo shares: the input check at the door and loading ``weights`` from a file."""

import os

from ...io.checkpoint import load
from ...tensor import Tensor


def check_image_input(model, x, in_channels, min_size, max_size=None, hint=""):
    """Raise ValueError unless ``x`` is a (N, in_channels, H, W) Tensor with ``min_size <= H, W`` (and
    ``<= max_size`` when given), naming the model and the accepted sizes; run before any layer sees ``x``.

    ``hint``: a clause appended to the size message saying why the model needs that size.
    """
    name = type(model).__name__
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: expected a Tensor of shape (N, {in_channels}, H, W), got {type(x).__name__}")
    if x.ndim != 4 or x.shape[1] != in_channels:
        raise ValueError(f"{name}: expected input of shape (N, {in_channels}, H, W), got {tuple(x.shape)}")
    h, w = x.shape[2], x.shape[3]
    if min(h, w) < min_size:
        raise ValueError(f"{name}: input of spatial size {h}x{w} is too small; the minimum is "
                         f"{min_size}x{min_size}{hint}")
    if max_size is not None and max(h, w) > max_size:
        raise ValueError(f"{name}: input of spatial size {h}x{w} is too large; the maximum is "
                         f"{max_size}x{max_size}{hint}")


def read_weights(model_name, weights):
    """The state_dict in the safetensors file ``weights`` (a str or path-like), checked to be a dict of tensors.

    ganglion downloads nothing, so torchvision's weight names ("IMAGENET1K_V1", ``ResNet18_Weights...``) are refused
    with the way to get a file: ``ganglion convert resnet18.pth resnet18.safetensors`` on torchvision's checkpoint.
    """
    if not isinstance(weights, (str, os.PathLike)):
        raise TypeError(f"{model_name}: weights must be None or a path to a safetensors file with a state_dict, got "
                        f"{weights!r} ({type(weights).__name__})")
    if not os.path.isfile(weights):
        raise FileNotFoundError(f"{model_name}: weights={os.fspath(weights)!r} is not a file; ganglion downloads "
                                f"nothing: pass None or the path of a safetensors state_dict (convert a torchvision "
                                f"checkpoint once with: ganglion convert IN.pth OUT.safetensors)")
    state = load(weights)
    if not isinstance(state, dict):
        raise ValueError(f"{model_name}: {os.fspath(weights)!r} holds a {type(state).__name__}, not a state_dict "
                         f"of name -> tensor")
    return state


def load_weights(model, weights):
    """Load ``weights`` into ``model`` and return it: None leaves the fresh initialization; a path (str or
    path-like) names a safetensors file holding a state_dict with torchvision's keys (see ``read_weights``)."""
    if weights is not None:
        model.load_state_dict(read_weights(type(model).__name__, weights))
    return model
