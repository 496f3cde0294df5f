"""ganglion.Size against torch.Size: printing, tuple behaviour, slicing and arithmetic types, numel, errors."""

import pickle

import numpy as np
import pytest
import torch

import ganglion as g


def same(mine, theirs):
    """A ganglion.Size where torch gives a torch.Size, with the same values and the same printed form."""
    assert type(mine) is g.Size and type(theirs) is torch.Size, (type(mine), type(theirs))
    assert repr(mine) == repr(theirs).replace("torch.", "ganglion.")
    assert mine == theirs


SHAPES = [(), (5,), (2, 3), (2, 0, 4), (1, 2, 3, 4)]

# name -> function applied to a Size (both libraries); the result's values and type must agree
OPERATIONS = {
    "repr": repr,
    "str": str,
    "format": lambda s: f"{s}",
    "numel": lambda s: s.numel(),
    "len": len,
    "slice": lambda s: s[1:],
    "slice_step": lambda s: s[::-1],
    "index_last": lambda s: s[-1] if s else None,
    "add_tuple": lambda s: s + (7,),
    "radd_tuple": lambda s: (7,) + s,
    "add_size": lambda s: s + s,
    "mul": lambda s: s * 2,
    "rmul": lambda s: 2 * s,
    "list": list,
    "count": lambda s: s.count(2),
    "eq_tuple": lambda s: s == tuple(s),
    "eq_list": lambda s: s == list(s),
    "hash_as_tuple": lambda s: hash(s) == hash(tuple(s)),
    "pickle": lambda s: pickle.loads(pickle.dumps(s)),
}


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("operation", OPERATIONS)
def test_size_matches_torch(shape, operation):
    fn = OPERATIONS[operation]
    mine, theirs = fn(g.Size(shape)), fn(torch.Size(shape))
    if isinstance(theirs, str):
        assert mine == theirs.replace("torch.", "ganglion.")
    elif isinstance(theirs, torch.Size):
        same(mine, theirs)
    else:
        assert type(mine) is type(theirs) and mine == theirs


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_tensor_shape_and_size_are_sizes(shape):
    t, ref = g.zeros(shape), torch.zeros(shape)
    same(t.shape, ref.shape)
    same(t.size(), ref.size())
    if shape:
        assert type(t.size(-1)) is int and t.size(-1) == ref.size(-1)
        assert type(t.shape[0]) is int
    assert t.shape.numel() == t.numel() == ref.numel()
    assert t.shape == shape and shape == t.shape and {t.shape: 1}[shape] == 1


def test_size_accepts_index_types_and_rejects_others():
    assert g.Size([np.int64(2), True]) == (2, 1) and all(type(s) is int for s in g.Size([np.int64(2), True]))
    assert g.Size(np.array([2, 3])) == (2, 3) and g.Size() == ()
    assert g.Size(g.Size([4])) == (4,)
    for bad, name in ((2.0, "float"), ("a", "str")):
        with pytest.raises(TypeError, match=f"item 1 is '{name}'"):
            g.Size([1, bad])
        with pytest.raises(TypeError):
            torch.Size([1, bad])


def test_size_works_where_shapes_go():
    t = g.arange(6.0)
    assert g.zeros(t.reshape(2, 3).shape).shape == (2, 3)
    assert t.reshape(g.Size([3, 2])).shape == (3, 2)
    assert np.zeros(g.Size([2, 3])).shape == (2, 3)
    assert isinstance(t.shape, tuple) and t.shape != (6, 1)
