"""``VisionDataset``: what the image datasets share (root folder, transform, target_transform, repr)."""

import os

from ..dataset import Dataset
from ._download import default_root


class VisionDataset(Dataset):
    """An image dataset under ``root`` (default: ``$GANGLION_HOME/datasets`` or ``~/.cache/ganglion/datasets``);
    ``transform`` is applied to each image and ``target_transform`` to each label."""

    def __init__(self, root=None, transform=None, target_transform=None):
        self.root = os.fspath(default_root() if root is None else os.path.expanduser(os.fspath(root)))
        for name, fn in (("transform", transform), ("target_transform", target_transform)):
            if fn is not None and not callable(fn):
                raise TypeError(f"{type(self).__name__}: {name} must be callable, got {type(fn).__name__}")
        self.transform, self.target_transform = transform, target_transform

    def _apply(self, image, target):
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def extra_repr(self):
        return ""

    def __repr__(self):
        lines = [f"Dataset {type(self).__name__}", f"    Number of datapoints: {len(self)}",
                 f"    Root location: {self.root}"]
        lines += [f"    {line}" for line in self.extra_repr().splitlines()]
        if self.transform is not None:
            lines.append(f"    Transform: {self.transform!r}".replace("\n", "\n    "))
        if self.target_transform is not None:
            lines.append(f"    Target transform: {self.target_transform!r}")
        return "\n".join(lines)
