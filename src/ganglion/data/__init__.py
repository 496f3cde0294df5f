"""``ganglion.data``: datasets shipped with the package (and, with the data issue, loaders and transforms)."""

from . import datasets
