"""Values turned into encoded ``Summary`` messages: scalars and histograms, as ``torch.utils.tensorboard.summary``
builds them."""

import numpy as np

from . import proto


def _to_numpy(value):
    """A NumPy array from a Python number, NumPy value, ganglion Tensor (detached, moved to the host) or anything
    with ``.numpy()``."""
    if hasattr(value, "detach"):
        value = value.detach()
    if hasattr(value, "numpy") and not isinstance(value, (np.ndarray, np.generic)):
        value = value.numpy()
    return np.asarray(value)


def scalar_to_float(tag, value):
    """``value`` as a Python float: a number, a NumPy scalar or a tensor/array with exactly one element."""
    array = _to_numpy(value)
    if array.size != 1:
        raise ValueError(f"add_scalar({tag!r}): expected a scalar (one element), got shape {array.shape}")
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise ValueError(f"add_scalar({tag!r}): expected a number, got dtype {array.dtype}")
    return float(array.reshape(()))


def scalar(tag, value):
    """A ``Summary`` with one ``simple_value``."""
    return proto.summary([proto.scalar_value(tag, scalar_to_float(tag, value))])


def tensorflow_bins():
    """TensorBoard's default bucket edges: +-1e-12 * 1.1**k up to 1e20, and 0 (torch's ``bins="tensorflow"``)."""
    positive = []
    edge = 1e-12
    while edge < 1e20:
        positive.append(edge)
        edge *= 1.1
    return [-e for e in reversed(positive)] + [0] + positive


def histogram(tag, values, bins="tensorflow", max_bins=None):
    """A ``Summary`` with one ``HistogramProto`` of ``values`` (any shape, flattened), bucketed by
    ``np.histogram(values, bins)``; ``bins="tensorflow"`` is TensorBoard's exponential default. Empty buckets at
    either end are dropped, keeping one empty bucket on the left so the leftmost edge is recorded (TensorBoard
    stores right edges only). With more than ``max_bins`` buckets, every ``len(buckets) // max_bins`` neighbours
    are merged, as torch does (so the result can still exceed ``max_bins``; the files match torch's byte for byte)."""
    array = _to_numpy(values).astype(np.float64).reshape(-1)
    if array.size == 0:
        raise ValueError(f"add_histogram({tag!r}): the values are empty")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"add_histogram({tag!r}): the values contain NaN or infinity")
    if isinstance(bins, str) and bins == "tensorflow":
        bins = tensorflow_bins()
    counts, limits = np.histogram(array, bins=bins)
    if max_bins is not None and len(counts) > max_bins:
        group = len(counts) // max_bins
        counts = np.pad(counts, (0, -len(counts) % group)).reshape(-1, group).sum(axis=1)
        limits = np.append(limits[:-1:group], limits[-1])
    nonzero = np.flatnonzero(counts)
    if nonzero.size == 0:
        raise ValueError(f"add_histogram({tag!r}): no value falls inside the bins")
    first, last = int(nonzero[0]), int(nonzero[-1])
    if first > 0:
        kept_counts, kept_limits = counts[first - 1:last + 1], limits[first:last + 2]
    else:
        kept_counts, kept_limits = np.concatenate([[0], counts[:last + 1]]), limits[:last + 2]
    histo = proto.histogram_proto(min=array.min(), max=array.max(), num=array.size, sum=array.sum(),
                                  sum_squares=array.dot(array), bucket_limit=kept_limits.tolist(),
                                  bucket=kept_counts.tolist())
    return proto.summary([proto.histogram_value(tag, histo)])
