"""ganglion.device against torch.device: repr, str, type, index, equality and hashing, constructor errors.
(torch builds without a GPU still construct cuda devices, so every row runs on any machine.)"""

import itertools

import pytest
import torch

import ganglion as g

# constructor arguments, the same for both libraries
SPECS = [("cpu",), ("cpu:0",), ("cpu", 0), ("cpu", None), ("cuda",), ("cuda:0",), ("cuda:1",), ("cuda", 0),
         ("cuda", 1), ("cuda", None), ("cuda:12",)]


def _ids(spec):
    return ",".join(map(str, spec))


@pytest.mark.parametrize("spec", SPECS, ids=_ids)
def test_device_matches_torch(spec):
    mine, theirs = g.device(*spec), torch.device(*spec)
    assert repr(mine) == repr(theirs)
    assert str(mine) == str(theirs) and f"{mine}" == f"{theirs}"
    assert mine.type == theirs.type and mine.index == theirs.index
    assert g.device(mine) == mine and g.device(str(mine)) == mine  # round trips
    assert g.device(type=spec[0]) == g.device(spec[0])


@pytest.mark.parametrize("pair", list(itertools.combinations_with_replacement(SPECS, 2)),
                         ids=lambda p: _ids(p[0]) + "|" + _ids(p[1]))
def test_equality_and_hash_match_torch(pair):
    (a, b), (ta, tb) = (g.device(*s) for s in pair), (torch.device(*s) for s in pair)
    assert (a == b) == (ta == tb)
    assert (a != b) == (ta != tb)
    assert len({a, b}) == len({ta, tb})


def test_examples_from_pytorch_semantics():
    assert g.device("cuda") != g.device("cuda:0") and g.device("cpu") != g.device("cpu:0")
    assert g.device("cuda").index is None and g.device("cpu:0").index == 0
    assert g.device("cpu", 0) == g.device("cpu:0")
    # a string compares as the device it names (a ganglion convenience), an unknown one is simply unequal
    assert g.device("cuda:1") == "cuda:1" and g.device("cuda") != "cuda:0" and g.ones(1).device == "cpu"
    assert g.device("cpu") != "banana" and g.device("cpu") != 0


# (arguments, error type, message): ganglion raises where PyTorch does, with a message naming the argument
ERRORS = [
    (("gpu",), ValueError, r"unknown device 'gpu': accepted devices are 'cpu', 'cuda' and 'cuda:N' \(and 'cpu:0'\)"),
    (("",), ValueError, "unknown device ''"),
    (("CUDA",), ValueError, "unknown device 'CUDA'"),
    (("cuda:x",), ValueError, "invalid device 'cuda:x'"),
    (("cuda:",), ValueError, "invalid device 'cuda:'"),
    (("cuda:-1",), ValueError, "invalid device 'cuda:-1'"),
    (("cuda:01",), ValueError, "invalid device 'cuda:01'"),
    (("cuda:1:2",), ValueError, "invalid device 'cuda:1:2'"),
    (("cuda: 1",), ValueError, "invalid device 'cuda: 1'"),
    (("cuda", -1), ValueError, "index -1: a device index must not be negative"),
    (("cuda:0", 1), ValueError, r"device\('cuda:0', 1\): the string must not include an index"),
    (("cuda", True), TypeError, "index must be an int or None, got True"),
    (("cuda", "1"), TypeError, "index must be an int or None, got '1'"),
    ((g.device("cuda"), 1), TypeError, "must be a str or ganglion.device"),
]


@pytest.mark.parametrize("args, error, message", ERRORS, ids=lambda v: _ids(v) if isinstance(v, tuple) else "")
def test_invalid_devices_raise_where_torch_does(args, error, message):
    with pytest.raises(error, match=message):
        g.device(*args)
    torch_args = tuple(torch.device(str(a)) if isinstance(a, g.device) else a for a in args)
    with pytest.raises((RuntimeError, TypeError)):
        torch.device(*torch_args)


def test_cpu_index_other_than_zero_is_refused():
    # PyTorch accepts device('cpu', 1) although there is one CPU device; ganglion refuses it with a reason
    with pytest.raises(ValueError, match="the CPU has no index other than 0"):
        g.device("cpu:1")
