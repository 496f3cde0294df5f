"""``ganglion.data.transforms``: image transforms and augmentation with torchvision's names, in vectorized NumPy.

Every transform takes one image or a batch: NumPy arrays channels-last ((H, W), (H, W, C), (N, H, W, C)), ganglion
Tensors channels-first ((H, W), (C, H, W), (..., C, H, W)) or Pillow images. uint8 images hold [0, 255], floating
images [0, 1]. Random transforms draw their parameters per image from ganglion's generators, so a seed reproduces
them (inside a DataLoader, whatever the number of workers).

    transform = transforms.Compose([transforms.Resize((28, 28)), transforms.ToTensor(),
                                    transforms.Normalize((0.5,), (0.5,))])
"""

from . import functional
from ._core import Compose, Lambda, Normalize, RandomApply, ToTensor
from ._geometric import (
    CenterCrop, Pad, RandomAffine, RandomCrop, RandomHorizontalFlip, RandomResizedCrop, RandomRotation,
    RandomVerticalFlip, Resize,
)
from ._photometric import ColorJitter, Grayscale, RandomErasing, RandomGrayscale
from .resample import InterpolationMode

__all__ = [
    "CenterCrop", "ColorJitter", "Compose", "Grayscale", "InterpolationMode", "Lambda", "Normalize", "Pad",
    "RandomAffine", "RandomApply", "RandomCrop", "RandomErasing", "RandomGrayscale", "RandomHorizontalFlip",
    "RandomResizedCrop", "RandomRotation", "RandomVerticalFlip", "Resize", "ToTensor", "functional",
]
