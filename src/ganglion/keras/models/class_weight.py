"""``class_weight``: a {class: weight} dict turned into per-sample weights, as Keras 3 does it.

The class of a target row is its argmax when it has several columns (one-hot), else the value itself, rounded;
a class missing from the dict weighs 1. In-memory targets are converted once; a ``PyDataset`` or an iterable of
``(x, y)`` batches gets the weights batch by batch (``ClassWeighted``), as Keras' PyDataset adapter does.
"""

import numpy as np

from ... import backend
from ...tensor import Tensor


def class_weights_to_sample_weights(y, class_weight):
    """(n,) weights for the targets ``y`` of shape (n,), (n, 1) or (n, classes): ``class_weight[class]``, 1 for a
    class the dict does not name."""
    if isinstance(y, (list, dict)):
        raise ValueError("`class_weight` is only supported for Models with a single output; use sample_weight for "
                         "several outputs")
    if not isinstance(class_weight, dict):
        raise ValueError(f"class_weight must be a dict mapping class indices to weights, got "
                         f"{type(class_weight).__name__}")
    y = backend.to_numpy(y.array if isinstance(y, Tensor) else np.asarray(y))
    if y.ndim > 1:
        y = y.argmax(axis=-1) if y.shape[-1] != 1 else y.reshape(y.shape[:-1])
    labels = np.round(y).astype(np.int64).reshape(len(y))
    table = {int(k): float(v) for k, v in class_weight.items()}
    return np.array([table.get(int(c), 1.0) for c in labels], dtype=backend.get_default_dtype())


def with_class_weight(data, class_weight, sample_weight):
    """``data`` (from ``data_adapter.adapt``) whose batches carry ``class_weight``'s sample weights."""
    from .data_adapter import ArrayData

    if sample_weight is not None:
        raise ValueError(f"You cannot `class_weight` and `sample_weight` at the same time. Received: "
                         f"class_weight={class_weight}, sample_weight of shape {np.shape(sample_weight)}")
    if not isinstance(data, ArrayData):
        return ClassWeighted(data, class_weight)
    if data.y is None:
        raise ValueError("class_weight needs targets: pass y with x")
    data.sample_weight = class_weights_to_sample_weights(data.y, class_weight)
    return data


class ClassWeighted:
    """Batches of ``data`` (a PyDataset or an iterable of batches) with ``class_weight`` as each batch's sample
    weights. A batch that already carries sample weights, or has no targets, is refused as Keras refuses it."""

    def __init__(self, data, class_weight):
        if not isinstance(class_weight, dict):
            raise ValueError(f"class_weight must be a dict mapping class indices to weights, got "
                             f"{type(class_weight).__name__}")
        self.data, self.class_weight = data, class_weight

    @property
    def steps(self):
        return self.data.steps

    def to_device(self, device):
        self.data.to_device(device)
        return self

    def __getattr__(self, name):  # the epoch hooks of a PyDataset, when the data has them
        if name in ("on_epoch_begin", "on_epoch_end"):
            return getattr(self.data, name)
        raise AttributeError(name)

    def batches(self, rng=None):
        for x, y, sample_weight in self.data.batches(rng):
            if sample_weight is not None:
                raise ValueError("You cannot specify `class_weight` and `sample_weight` at the same time: a batch of "
                                 "the data holds sample weights.")
            if y is None:
                raise ValueError("class_weight needs targets: a batch of the data holds only inputs, not (x, y).")
            weights = class_weights_to_sample_weights(y, self.class_weight)
            yield x, y, Tensor._wrap(backend.to_device(weights, backend.device_of(y.array)))
