"""nn.utils.rnn: pad_sequence, pack_padded_sequence, pad_packed_sequence, pack_sequence and their inverses against
PyTorch (values, batch sizes, permutations, gradients), and the point of packing: padded steps never change what a
recurrent layer computes."""

import numpy as np
import pytest
import torch

import ganglion as g
from ganglion import nn
from ganglion.nn.utils import rnn

TR = torch.nn.utils.rnn


def _seqs(rng, lengths, feat=(2,)):
    return [rng.standard_normal((n,) + feat) for n in lengths]


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
@pytest.mark.parametrize("feat", [(), (2,), (2, 3)])
def test_pad_sequence_matches_torch_with_gradient(batch_first, padding_side, feat, rng):
    seqs = _seqs(rng, [3, 5, 1], feat)
    ours = [g.tensor(s, dtype=g.float64, requires_grad=True) for s in seqs]
    theirs = [torch.tensor(s, requires_grad=True) for s in seqs]
    a = rnn.pad_sequence(ours, batch_first=batch_first, padding_value=-7.0, padding_side=padding_side)
    b = TR.pad_sequence(theirs, batch_first=batch_first, padding_value=-7.0, padding_side=padding_side)
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    w = rng.standard_normal(tuple(b.shape))
    (a * g.tensor(w, dtype=g.float64)).sum().backward()
    (b * torch.from_numpy(w)).sum().backward()
    for x, y in zip(ours, theirs):
        np.testing.assert_array_equal(x.grad.numpy(), y.grad.numpy())


PACKS = [([5, 3, 2], True, False), ([2, 5, 3], False, False), ([3, 3, 1, 4], False, True), ([4], True, True)]


@pytest.mark.parametrize("lengths,enforce_sorted,batch_first", PACKS)
def test_pack_and_pad_match_torch(lengths, enforce_sorted, batch_first, rng):
    steps, batch = max(lengths) + 1, len(lengths)
    x = rng.standard_normal((batch, steps, 2) if batch_first else (steps, batch, 2))
    gx, tx = g.tensor(x, dtype=g.float64, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours = rnn.pack_padded_sequence(gx, g.tensor(lengths), batch_first, enforce_sorted)
    theirs = TR.pack_padded_sequence(tx, torch.tensor(lengths), batch_first, enforce_sorted)
    np.testing.assert_array_equal(ours.data.detach().numpy(), theirs.data.detach().numpy())
    np.testing.assert_array_equal(ours.batch_sizes.numpy(), theirs.batch_sizes.numpy())
    assert ours.batch_sizes.dtype == np.int64
    for a, b in ((ours.sorted_indices, theirs.sorted_indices), (ours.unsorted_indices, theirs.unsorted_indices)):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    padded, lens = rnn.pad_packed_sequence(ours, batch_first, padding_value=0.5, total_length=steps + 1)
    tpadded, tlens = TR.pad_packed_sequence(theirs, batch_first, padding_value=0.5, total_length=steps + 1)
    np.testing.assert_array_equal(padded.detach().numpy(), tpadded.detach().numpy())
    np.testing.assert_array_equal(lens.numpy(), tlens.numpy())
    w = rng.standard_normal(tuple(tpadded.shape))
    (padded * g.tensor(w, dtype=g.float64)).sum().backward()
    (tpadded * torch.from_numpy(w)).sum().backward()
    np.testing.assert_array_equal(gx.grad.numpy(), tx.grad.numpy())  # w at valid steps, 0 at padded ones


def test_pack_sequence_round_trips(rng):
    seqs = [g.tensor(s, dtype=g.float64) for s in _seqs(rng, [2, 4, 1])]
    packed = rnn.pack_sequence(seqs, enforce_sorted=False)
    tpacked = TR.pack_sequence([torch.from_numpy(s.numpy()) for s in seqs], enforce_sorted=False)
    np.testing.assert_array_equal(packed.data.numpy(), tpacked.data.numpy())
    for a, b in zip(rnn.unpack_sequence(packed), seqs):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    padded = rnn.pad_sequence(seqs, batch_first=True)
    for a, b in zip(rnn.unpad_sequence(padded, g.tensor([2, 4, 1]), batch_first=True), seqs):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    with pytest.raises(ValueError, match="sorted in decreasing order"):
        rnn.pack_sequence(seqs)


def test_packed_sequence_conversions():
    packed = rnn.pack_sequence([g.zeros(3, 2), g.zeros(1, 2)], enforce_sorted=False)
    doubled = packed.double()
    assert isinstance(doubled, rnn.PackedSequence) and doubled.data.dtype == np.float64
    assert doubled.batch_sizes is packed.batch_sizes and not doubled.is_cuda
    np.testing.assert_array_equal(rnn.invert_permutation(g.tensor([2, 0, 1])).numpy(), [1, 2, 0])


@pytest.mark.parametrize("cls", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_padded_steps_do_not_change_the_result(cls, batch_first, rng):
    """Each sequence of a packed batch (garbage, even NaN, in its padding) gives what it gives alone."""
    layer = getattr(nn, cls)(3, 4, num_layers=2, bidirectional=True).double()
    lengths = [2, 5, 3]
    seqs = _seqs(rng, lengths, (3,))
    padded = np.full((3, 5, 3), np.nan)
    for b, s in enumerate(seqs):
        padded[b, : len(s)] = s
    x = padded if batch_first else padded.transpose(1, 0, 2)
    packed = rnn.pack_padded_sequence(g.tensor(x, dtype=g.float64), lengths, batch_first, enforce_sorted=False)
    out, state = layer(packed)
    assert isinstance(out, rnn.PackedSequence)
    np.testing.assert_array_equal(out.batch_sizes.numpy(), packed.batch_sizes.numpy())
    out, out_lengths = rnn.pad_packed_sequence(out, batch_first=True)
    np.testing.assert_array_equal(out_lengths.numpy(), lengths)
    h_n = state[0] if cls == "LSTM" else state
    for b, s in enumerate(seqs):
        alone, alone_state = layer(g.tensor(s[:, None], dtype=g.float64))
        alone_h = alone_state[0] if cls == "LSTM" else alone_state
        np.testing.assert_allclose(out.detach().numpy()[b, : len(s)], alone.detach().numpy()[:, 0], atol=1e-12)
        assert (out.detach().numpy()[b, len(s):] == 0).all()
        np.testing.assert_allclose(h_n.detach().numpy()[:, b], alone_h.detach().numpy()[:, 0], atol=1e-12)
