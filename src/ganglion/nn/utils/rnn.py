"""Variable-length batches for recurrent layers (PyTorch's ``torch.nn.utils.rnn``): padding and packing.

A *padded* batch is one (T, B, *) tensor (or (B, T, *) with ``batch_first``) whose sequence b is valid for its first
``lengths[b]`` steps. A *packed* batch (``PackedSequence``) keeps only the valid steps, time-major: with the batch
sorted by decreasing length, ``data`` holds step 0 of every sequence, then step 1 of those that have one, and so on;
``batch_sizes[t]`` counts the sequences that have step t. RNN, LSTM and GRU accept a PackedSequence and return one,
so padded steps never change their result. Every conversion here is differentiable.
"""

from collections import namedtuple

import numpy as np

from ... import backend
from ...arguments import ToShortcuts
from ...autograd.function import Function
from ...ops import index_select
from ...ops.indexing import accumulate_at
from ...tensor import Tensor

__all__ = [
    "PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence",
    "unpad_sequence", "pack_sequence", "unpack_sequence",
]


_PackedFields = namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])


class PackedSequence(ToShortcuts, _PackedFields):
    """A packed batch: data (sum(lengths), *), batch_sizes (T,) int64, and the permutation that sorted the batch
    by decreasing length (``sorted_indices``; None when it was given sorted) with its inverse (``unsorted_indices``).
    Build one with ``pack_padded_sequence`` or ``pack_sequence`` rather than by hand."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if batch_sizes is None:
            raise ValueError("PackedSequence: batch_sizes is required (use pack_padded_sequence to build one)")
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = invert_permutation(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        """The same packing with ``data`` moved / cast (``Tensor.to``'s arguments); the indices stay integer."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        move = (lambda t: t if t is None else t.to(data.device))
        return type(self)(data, self.batch_sizes, move(self.sorted_indices), move(self.unsorted_indices))

    @property
    def is_cuda(self):
        return self.data.is_cuda


def invert_permutation(permutation):
    """The inverse of a permutation given as a 1-D integer tensor (None stays None)."""
    if permutation is None:
        return None
    perm = permutation.array
    xp = backend.get_array_module(perm)
    inverse = xp.empty_like(perm)
    inverse[perm] = xp.arange(perm.shape[0], dtype=perm.dtype)
    return Tensor._wrap(inverse)


def _valid_mask(batch_sizes, total_length, batch, xp):
    """(total_length, batch) booleans: step t of sorted sequence b is valid iff b < batch_sizes[t]."""
    sizes = np.zeros(total_length, dtype=np.int64)
    sizes[: len(batch_sizes)] = batch_sizes
    return xp.asarray(np.arange(batch)[None, :] < sizes[:, None])


class PackedToPadded(Function):
    """(sum(lengths), *) packed rows -> (T, B, *) padded, ``padding_value`` where a step is not valid;
    backward picks the valid rows of the gradient back out."""

    backward_composes = True

    def forward(self, data, mask, padding_value):
        out = self.xp.full(mask.shape + data.shape[1:], padding_value, dtype=data.dtype)
        out[mask] = data
        self.save(mask)
        return out

    def backward(self, dy):
        (mask,) = self.saved
        return dy[mask], None, None


class PaddedToPacked(Function):
    """(T, B, *) padded -> its valid rows (sum(lengths), *) in packed order; backward scatters them into zeros."""

    def forward(self, padded, mask):
        self.save(padded.shape, mask)
        return padded[mask]

    def backward(self, dy):
        shape, mask = self.saved
        dx = self.xp.zeros(shape, dtype=dy.dtype)
        dx[mask] = dy
        return dx, None

    def backward_graph(self, dy):
        shape, mask = self.saved
        return accumulate_at(dy, shape, backend.get_array_module(mask).nonzero(mask)), None


def packed_to_padded(data, batch_sizes, padding_value=0.0, total_length=None):
    """Packed rows (sum(lengths), *) and batch sizes (a sequence of ints) -> (T, B, *) time-major, sorted order."""
    xp = backend.get_array_module(data.array)
    total = len(batch_sizes) if total_length is None else total_length
    return PackedToPadded.apply(data, _valid_mask(batch_sizes, total, int(batch_sizes[0]), xp), padding_value)


def padded_to_packed(padded, batch_sizes):
    """(T, B, *) time-major, sorted by decreasing length -> the packed rows (sum(lengths), *)."""
    xp = backend.get_array_module(padded.array)
    return PaddedToPacked.apply(padded, _valid_mask(batch_sizes, padded.shape[0], padded.shape[1], xp))


def _lengths_array(lengths, batch, op):
    if isinstance(lengths, Tensor):
        lengths = backend.to_numpy(lengths.array)
    arr = np.asarray(lengths)
    if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
        raise ValueError(f"{op}: lengths must be a 1-D sequence of ints, got {arr.dtype} of shape {arr.shape}")
    if arr.shape[0] != batch:
        raise ValueError(f"{op}: got {arr.shape[0]} lengths for a batch of {batch} sequences")
    if batch and arr.min() <= 0:
        raise ValueError(f"{op}: every length must be positive, got lengths {arr.tolist()}")
    return arr.astype(np.int64)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch: input (T, B, *) or (B, T, *) with ``batch_first``, lengths (B,) -> PackedSequence.

    With ``enforce_sorted`` the lengths must be non-increasing; otherwise the batch is sorted here and the
    permutation is kept in the result, so pad_packed_sequence and the recurrent layers restore the input's order.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"pack_padded_sequence: input must be a Tensor, got {type(input).__name__}")
    if input.ndim < 2:
        raise ValueError(f"pack_padded_sequence: input must have at least 2 dimensions, got shape {tuple(input.shape)}")
    batch_dim, time_dim = (0, 1) if batch_first else (1, 0)
    lengths = _lengths_array(lengths, input.shape[batch_dim], "pack_padded_sequence")
    if lengths.size and lengths.max() > input.shape[time_dim]:
        raise ValueError(
            f"pack_padded_sequence: a length of {int(lengths.max())} exceeds the {input.shape[time_dim]} steps of "
            f"input of shape {tuple(input.shape)} (batch_first={batch_first})"
        )
    sorted_indices = None
    if enforce_sorted:
        if np.any(np.diff(lengths) > 0):
            raise ValueError(
                f"pack_padded_sequence: lengths {lengths.tolist()} must be sorted in decreasing order when "
                "enforce_sorted=True; pass enforce_sorted=False to sort them here"
            )
    else:
        order = np.argsort(-lengths, kind="stable")
        lengths = lengths[order]
        xp = backend.get_array_module(input.array)
        sorted_indices = Tensor._wrap(xp.asarray(order.astype(np.int64)))
        input = index_select(input, batch_dim, sorted_indices)
    if batch_first:
        input = input.transpose(0, 1)
    steps = int(lengths[0]) if lengths.size else 0
    if steps < input.shape[0]:
        input = input[:steps]
    batch_sizes = (lengths[None, :] > np.arange(steps)[:, None]).sum(axis=1).astype(np.int64)
    data = padded_to_packed(input, batch_sizes)
    return PackedSequence(data, Tensor._wrap(batch_sizes), sorted_indices, None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Undo ``pack_padded_sequence``: PackedSequence -> (padded (T, B, *) or (B, T, *), lengths (B,) int64), in the
    original batch order; ``total_length`` pads the time axis to that many steps."""
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"pad_packed_sequence: expected a PackedSequence, got {type(sequence).__name__}")
    sizes = backend.to_numpy(sequence.batch_sizes.array).astype(np.int64)
    steps = len(sizes)
    if total_length is not None and total_length < steps:
        raise ValueError(
            f"pad_packed_sequence: total_length={total_length} is shorter than the longest sequence ({steps} steps)"
        )
    padded = packed_to_padded(sequence.data, sizes, padding_value, steps if total_length is None else total_length)
    lengths = (sizes[None, :] > np.arange(int(sizes[0]))[:, None]).sum(axis=1).astype(np.int64)
    if sequence.unsorted_indices is not None:
        padded = index_select(padded, 1, sequence.unsorted_indices)
        lengths = lengths[backend.to_numpy(sequence.unsorted_indices.array)]
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, Tensor._wrap(lengths)


class PadSequences(Function):
    """Stack sequences (L_i, *) into (max L, B, *), each padded with ``padding_value`` on the right or the left;
    backward slices each sequence's gradient back out."""

    backward_composes = True

    def forward(self, *seqs, padding_value=0.0, left=False):
        longest = max(s.shape[0] for s in seqs)
        out = self.xp.full((longest, len(seqs)) + seqs[0].shape[1:], padding_value, dtype=seqs[0].dtype)
        spans = []
        for b, s in enumerate(seqs):
            span = slice(longest - s.shape[0], longest) if left else slice(0, s.shape[0])
            out[span, b] = s
            spans.append(span)
        self.save(spans)
        return out

    def backward(self, dy):
        (spans,) = self.saved
        return tuple(dy[span, b] for b, span in enumerate(spans))


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """A list of B tensors (L_i, *) -> one (max L, B, *) tensor ((B, max L, *) with ``batch_first``), filled with
    ``padding_value`` after (``padding_side="right"``) or before (``"left"``) each sequence."""
    if isinstance(sequences, Tensor):
        sequences = list(sequences)
    sequences = list(sequences)
    if not sequences:
        raise ValueError("pad_sequence: received an empty list of sequences")
    if padding_side not in ("right", "left"):
        raise ValueError(f"pad_sequence: padding_side must be 'left' or 'right', got {padding_side!r}")
    for i, s in enumerate(sequences):
        if not isinstance(s, Tensor):
            raise TypeError(f"pad_sequence: sequence {i} is a {type(s).__name__}, not a Tensor")
        if s.ndim == 0 or s.shape[1:] != sequences[0].shape[1:] or s.dtype != sequences[0].dtype:
            raise ValueError(
                f"pad_sequence: every sequence must be (L, *) with the same trailing shape and dtype; sequence {i} "
                f"is {tuple(s.shape)} {s.dtype}, sequence 0 is {tuple(sequences[0].shape)} {sequences[0].dtype}"
            )
    out = PadSequences.apply(*sequences, padding_value=padding_value, left=padding_side == "left")
    return out.transpose(0, 1) if batch_first else out


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """Undo ``pad_sequence``: (T, B, *) (or (B, T, *)) and lengths (B,) -> a list of B tensors (L_i, *)."""
    batch_dim = 0 if batch_first else 1
    lengths = _lengths_array(lengths, padded_sequences.shape[batch_dim], "unpad_sequence")
    if batch_first:
        return [padded_sequences[b, : int(n)] for b, n in enumerate(lengths)]
    return [padded_sequences[: int(n), b] for b, n in enumerate(lengths)]


def pack_sequence(sequences, enforce_sorted=True):
    """A list of tensors (L_i, *) -> PackedSequence (lengths non-increasing unless ``enforce_sorted=False``)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """Undo ``pack_sequence``: PackedSequence -> the list of tensors (L_i, *), in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
