"""``ganglion.utils.tensorboard``: TensorBoard event files written by ganglion itself (TFRecord framing, hand-encoded
protobuf), with ``torch.utils.tensorboard``'s ``SummaryWriter`` API. Viewing them needs the ``tensorboard``
package; writing them does not."""

from .writer import SummaryWriter

__all__ = ["SummaryWriter"]
