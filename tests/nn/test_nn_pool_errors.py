"""Pooling errors a person can act on: an input too small for the window (with the output-size formula's numbers), a
wrong rank, padding over half the kernel, bad adaptive sizes, bad unpooling indices and sizes. Also PyTorch's output
size rules at their edges (ceil_mode's last window must start inside the input or its left padding)."""

import numpy as np
import pytest
import torch

import ganglion as g
from ganglion import nn
from ganglion.nn import functional as F


def _message(fn, *args, **kwargs):
    with pytest.raises(ValueError) as info:
        fn(*args, **kwargs)
    return str(info.value)


def test_input_too_small_gives_the_formula_numbers():
    layer = nn.MaxPool2d(3)
    text = _message(layer, g.zeros(1, 2, 2, 5))
    assert repr(layer) in text and "(2, 5)" in text
    assert "floor((2 + 0 + 0 - 1*(3 - 1) - 1) / 3) + 1 = 0" in text
    text = _message(F.avg_pool1d, g.zeros(1, 1, 1), 2)
    assert "avg_pool1d" in text and "= 0" in text


@pytest.mark.parametrize("layer, shape", [
    (nn.MaxPool2d(2), (4, 4)), (nn.MaxPool2d(2), (1, 1, 1, 4, 4)), (nn.AvgPool1d(2), (4,)),
    (nn.AdaptiveAvgPool2d(2), (4, 4)), (nn.AdaptiveMaxPool1d(2), (1, 2, 3, 4)),
])
def test_wrong_rank_names_layer_and_accepted_ranks(layer, shape):
    text = _message(layer, g.zeros(*shape))
    assert repr(layer) in text and str(shape) in text and "-D (N, C," in text


@pytest.mark.parametrize("build", [
    lambda m: m.MaxPool2d(3, padding=2), lambda m: m.AvgPool2d(2, padding=2), lambda m: m.MaxPool1d(4, padding=3),
    lambda m: m.MaxPool2d(3, 1, 2, dilation=2),
])
def test_padding_over_half_the_kernel_is_rejected_like_torch(build):
    with pytest.raises(ValueError, match="at most half of kernel_size"):
        build(nn)
    with pytest.raises(RuntimeError):  # PyTorch refuses the same arguments (at call time)
        build(torch.nn)(torch.zeros(1, 1, 8, 8) if "1d" not in repr(build(torch.nn)) else torch.zeros(1, 1, 8))


@pytest.mark.parametrize("size, kernel, stride, padding", [(5, 2, 2, 0), (7, 3, 2, 1), (6, 3, 2, 1), (1, 2, 2, 0),
                                                           (8, 4, 3, 2), (9, 2, 3, 1)])
def test_ceil_mode_output_sizes_follow_torch(size, kernel, stride, padding):
    x = np.zeros((1, 1, size, size), np.float32)
    for fn, t_fn in ((F.max_pool2d, torch.nn.functional.max_pool2d), (F.avg_pool2d, torch.nn.functional.avg_pool2d)):
        ours = fn(g.tensor(x), kernel, stride, padding, ceil_mode=True)
        assert tuple(ours.shape) == tuple(t_fn(torch.tensor(x), kernel, stride, padding, ceil_mode=True).shape)


def test_bad_arguments():
    assert "divisor_override" in _message(F.avg_pool2d, g.zeros(1, 1, 4, 4), 2, divisor_override=0)
    assert "output_size" in _message(F.adaptive_avg_pool2d, g.zeros(1, 1, 4, 4), (2, 2, 2))
    assert "output_size must be >= 1" in _message(F.adaptive_max_pool2d, g.zeros(1, 1, 4, 4), 0)
    assert "stride must be >= 1" in _message(F.max_pool2d, g.zeros(1, 1, 4, 4), 2, 0)
    with pytest.raises(TypeError, match="kernel_size"):
        nn.MaxPool2d("2")


def test_unpool_errors_name_the_indices_and_sizes():
    y, idx = F.max_pool2d(g.zeros(1, 1, 4, 4), 2, return_indices=True)
    assert "invalid max index 99" in _message(F.max_unpool2d, y, g.tensor([[[[0, 1], [2, 99]]]]), 2)
    assert "indices of the input's shape" in _message(F.max_unpool2d, y, idx.reshape(1, 1, 4), 2)
    text = _message(nn.MaxUnpool2d(2), y, idx, output_size=(9, 4))
    assert "between 2 and 6" in text
