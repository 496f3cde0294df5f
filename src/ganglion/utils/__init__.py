"""``ganglion.utils``: PyTorch's ``torch.utils`` import path. ``ganglion.utils.data`` is ``ganglion.data`` under
the name a PyTorch tutorial imports."""

from . import data
