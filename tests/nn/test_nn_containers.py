"""Containers (Sequential, ModuleList, ModuleDict, Flatten, Unflatten) against PyTorch's: names, reprs, edits."""

from collections import OrderedDict

import numpy as np
import pytest
import torch

import ganglion as g
from ganglion import nn


def both(build):
    """The same construction in ganglion and in torch: build(lib) with lib = ganglion.nn or torch.nn."""
    return build(nn), build(torch.nn)


EDITS = {
    "delete": lambda s: s.__delitem__(1),
    "delete_slice": lambda s: s.__delitem__(slice(0, 2)),
    "insert": lambda s: s.insert(1, s[1]),
    "append": lambda s: s.append(s[0]),
    "setitem": lambda s: s.__setitem__(-1, s[0]),
    "pop": lambda s: s.pop(0),
}


@pytest.mark.parametrize("edit", EDITS)
@pytest.mark.parametrize("kind", ["Sequential", "ModuleList"])
def test_edits_keep_pytorch_numbering(kind, edit):
    def build(lib):
        layers = [lib.Linear(2, 3), lib.ReLU(), lib.Linear(3, 1)]
        return getattr(lib, kind)(*layers) if kind == "Sequential" else lib.ModuleList(layers)

    ours, theirs = both(build)
    EDITS[edit](ours)
    EDITS[edit](theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    assert len(ours) == len(theirs)


def test_sequential_slicing_shares_layers_and_runs():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3), nn.Softmax(dim=1))
    head = model[:-1]
    assert isinstance(head, nn.Sequential) and len(head) == 3 and head[0] is model[0]
    x = g.randn(5, 4)
    np.testing.assert_allclose(nn.functional.softmax(head(x), dim=1).array, model(x).array, rtol=1e-6)
    with pytest.raises(IndexError, match="out of range"):
        model[4]


def test_sequential_from_ordered_dict_names_layers_like_torch():
    ours, theirs = both(lambda lib: lib.Sequential(OrderedDict(fc=lib.Linear(2, 2), act=lib.ReLU())))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["fc.weight", "fc.bias"]
    assert repr(ours) == repr(theirs)
    assert ours.fc is ours[0]


def test_sequential_rejects_non_modules():
    with pytest.raises(TypeError, match="argument 1"):
        nn.Sequential(nn.ReLU(), lambda x: x)


def test_module_list_registers_parameters_and_groups_repr():
    ours, theirs = both(lambda lib: lib.ModuleList([lib.Linear(2, 2) for _ in range(3)] + [lib.ReLU()]))
    assert len(list(ours.parameters())) == 6
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours += [nn.Linear(2, 1)]
    assert len(ours) == 5 and list(ours.state_dict())[-1] == "4.bias"
    with pytest.raises(TypeError, match="not callable"):
        ours(g.zeros(1, 2))


def test_module_dict_behaves_like_a_dict():
    ours, theirs = both(lambda lib: lib.ModuleDict({"a": lib.Linear(1, 2), "b": lib.Linear(2, 1)}))
    assert list(ours) == list(theirs) == ["a", "b"]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    assert "a" in ours and len(ours) == 2
    popped = ours.pop("a")
    assert isinstance(popped, nn.Linear) and list(ours.keys()) == ["b"]
    assert list(ours.state_dict()) == ["b.weight", "b.bias"]
    with pytest.raises(KeyError, match="keys are"):
        ours["missing"]
    with pytest.raises(TypeError, match="must be a Module"):
        ours["c"] = 3


@pytest.mark.parametrize("args,shape", [((), (2, 3, 4, 5)), ((2,), (2, 3, 4, 5)), ((0, 1), (2, 3, 4, 5)),
                                        ((1, 2), (2, 3, 4, 5))])
def test_flatten_matches_torch(args, shape):
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    ours = nn.Flatten(*args)(g.tensor(x, requires_grad=True))
    theirs = torch.nn.Flatten(*args)(torch.tensor(x))
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.detach().numpy(), theirs.numpy())
    assert repr(nn.Flatten(*args)) == repr(torch.nn.Flatten(*args))


@pytest.mark.parametrize("dim,size", [(1, (3, 4)), (-1, (2, -1)), (0, (1, 2))])
def test_unflatten_matches_torch(dim, size):
    x = np.arange(24, dtype=np.float32).reshape(2, 12)
    t = g.tensor(x, requires_grad=True)
    ours = nn.Unflatten(dim, size)(t)
    theirs = torch.nn.Unflatten(dim, size)(torch.tensor(x))
    assert tuple(ours.shape) == tuple(theirs.shape)
    ours.sum().backward()
    assert t.grad.shape == (2, 12)
    assert repr(nn.Unflatten(dim, size)) == repr(torch.nn.Unflatten(dim, size))


def test_unflatten_bad_size_names_the_shapes():
    with pytest.raises(ValueError, match=r"\(2, 12\)"):
        nn.Unflatten(1, (5, 3))(g.zeros(2, 12))
