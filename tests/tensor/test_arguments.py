"""``ganglion.arguments``: one parser for ``Tensor.to`` and ``Module.to`` (a parity table against PyTorch), and the
shared size, count, ntuple and dim rules."""

import numpy as np
import pytest
import torch

import ganglion as g
from ganglion.arguments import normalize_dim, normalize_dims, ntuple, parse_to, positive_int, size_argument


def _float64_tensor(lib):
    return lib.zeros(1, dtype=lib.float64)


#: (case, lib -> (args, kwargs)). Every row runs on ganglion and PyTorch, on a float32 tensor and on a Linear; both
#: must agree on the result (dtype, device, whether the tensor itself came back) or on the exception's class.
TO_CASES = [
    ("nothing", lambda lib: ((), {})),
    ("device str", lambda lib: (("cpu",), {})),
    ("device object", lambda lib: ((lib.device("cpu"),), {})),
    ("dtype", lambda lib: ((lib.float64,), {})),
    ("integer dtype", lambda lib: ((lib.int64,), {})),
    ("bool dtype", lambda lib: ((lib.bool,), {})),
    ("half", lambda lib: ((lib.float16,), {})),
    ("device, dtype", lambda lib: (("cpu", lib.float64), {})),
    ("None, dtype", lambda lib: ((None, lib.float64), {})),
    ("device, None", lambda lib: (("cpu", None), {})),
    ("device, dtype, non_blocking", lambda lib: (("cpu", lib.float64, True), {})),
    ("device, dtype, non_blocking, copy", lambda lib: (("cpu", lib.float64, False, True), {})),
    ("dtype, non_blocking", lambda lib: ((lib.float64, True), {})),
    ("dtype, non_blocking, copy", lambda lib: ((lib.float64, True, True), {})),
    ("tensor", lambda lib: ((_float64_tensor(lib),), {})),
    ("tensor, non_blocking", lambda lib: ((_float64_tensor(lib), True), {})),
    ("keyword device", lambda lib: ((), {"device": "cpu"})),
    ("keyword device None", lambda lib: ((), {"device": None})),
    ("keyword dtype", lambda lib: ((), {"dtype": lib.float64})),
    ("keyword dtype None", lambda lib: ((), {"dtype": None})),
    ("keyword device and dtype", lambda lib: ((), {"device": "cpu", "dtype": lib.float64})),
    ("keyword non_blocking", lambda lib: ((), {"non_blocking": True})),
    ("keyword copy", lambda lib: ((), {"copy": True})),
    ("keyword preserve_format", lambda lib: ((), {"memory_format": torch.preserve_format})),
    ("keyword contiguous_format", lambda lib: ((), {"memory_format": torch.contiguous_format})),
    ("keyword memory_format None", lambda lib: ((), {"memory_format": None})),
    ("device + keyword dtype", lambda lib: (("cpu",), {"dtype": lib.float64})),
    ("device, dtype + keyword non_blocking", lambda lib: (("cpu", lib.float64), {"non_blocking": True})),
    ("dtype + keyword device", lambda lib: ((lib.float64,), {"device": "cpu"})),
    ("device + keyword device", lambda lib: (("cpu",), {"device": "cpu"})),
    ("dtype + keyword dtype", lambda lib: ((lib.float64,), {"dtype": lib.float64})),
    ("tensor + keyword dtype", lambda lib: ((_float64_tensor(lib),), {"dtype": lib.float64})),
    ("non_blocking twice", lambda lib: (("cpu", lib.float64, True), {"non_blocking": True})),
    ("dtype, device", lambda lib: ((lib.float64, "cpu"), {})),
    ("device, device", lambda lib: (("cpu", "cpu"), {})),
    ("dtype, None", lambda lib: ((lib.float64, None), {})),
    ("dtype, int", lambda lib: ((lib.float64, 1), {})),
    ("device, bool", lambda lib: (("cpu", True), {})),
    ("device, dtype, dtype", lambda lib: (("cpu", lib.float64, lib.float64), {})),
    ("keyword non_blocking int", lambda lib: ((lib.float64,), {"non_blocking": 1})),
    ("keyword copy int", lambda lib: ((lib.float64,), {"copy": 1})),
    ("unknown keyword", lambda lib: ((), {"other": 1})),
    ("five positionals", lambda lib: (("cpu", lib.float64, False, False, 1), {})),
]


def _outcome(call):
    """(dtype name, device type, whether the input itself came back) or the exception's class."""
    try:
        return call()
    except Exception as error:  # the class is what both libraries must agree on
        return type(error)


def _tensor_outcome(lib, args, kwargs):
    x = lib.ones(2, 3)

    def call():
        y = x.to(*args, **kwargs)
        return str(y.dtype).replace("torch.", ""), y.device.type, y is x
    return _outcome(call)


def _module_outcome(lib, args, kwargs):
    model = lib.nn.Linear(3, 2)

    def call():
        out = model.to(*args, **kwargs)
        return str(out.weight.dtype).replace("torch.", ""), out.weight.device.type, out is model
    return _outcome(call)


@pytest.mark.parametrize("case, arguments", TO_CASES, ids=[c for c, _ in TO_CASES])
@pytest.mark.parametrize("owner", ["Tensor", "Module"])
def test_to_arguments_match_torch(owner, case, arguments):
    outcome = _tensor_outcome if owner == "Tensor" else _module_outcome
    ours, theirs = outcome(g, *arguments(g)), outcome(torch, *arguments(torch))
    assert ours == theirs, f"{owner}.to {case}: ganglion {ours}, torch {theirs}"


def test_module_to_names_the_rule_for_integer_dtypes():
    with pytest.raises(TypeError, match="only accepts floating point or complex dtypes.*int64"):
        g.nn.Linear(2, 2).to(g.int64)


def test_module_to_converts_only_floating_arrays():
    model = g.nn.BatchNorm1d(3)
    model.to(g.float64)
    assert model.weight.dtype == g.float64 and model.running_mean.dtype == g.float64
    assert model.num_batches_tracked.dtype == g.int64


def test_parse_to_gives_ganglion_types():
    request = parse_to("Tensor.to", ("cpu", "double"), {"non_blocking": True})
    assert request.device == g.device("cpu") and request.dtype == np.float64 and request.non_blocking
    assert not request.copy and request.memory_format is None
    assert parse_to("Tensor.to", ("float16",), {}).dtype == np.float16  # ganglion takes dtype names too
    assert parse_to("Tensor.to", (g.zeros(1, dtype=g.int64),), {}).dtype == np.int64


def test_parse_to_errors_name_the_call():
    with pytest.raises(TypeError, match=r"Module.to\(\) received an invalid combination.*to\(dtype"):
        parse_to("Module.to", (g.float64, "cpu"), {})
    with pytest.raises(ValueError, match="memory_format"):
        g.ones(2).to(memory_format="channels_last")
    with pytest.raises(ValueError, match="unknown device 'gpu'"):
        g.ones(2).to("gpu")


# --------------------------------------------------------------------------------------- sizes, counts, dims
@pytest.mark.parametrize("args, size, expected", [
    ((2, 3), None, (2, 3)), (((2, 3),), None, (2, 3)), (([2, 3],), None, (2, 3)), ((), (2, 3), (2, 3)),
    ((np.int64(4),), None, (4,)),
])
def test_size_argument_matches_torch_zeros(args, size, expected):
    assert size_argument("zeros", args, size) == expected
    kwargs = {} if size is None else {"size": size}
    assert tuple(torch.zeros(*args, **kwargs).shape) == expected


@pytest.mark.parametrize("args, size, error", [
    ((2,), (2,), TypeError), ((), 3, TypeError), ((-1,), None, ValueError), ((2.0,), None, ValueError),
])
def test_size_argument_errors(args, size, error):
    with pytest.raises(error, match="zeros"):
        size_argument("zeros", args, size)


def test_positive_int():
    assert positive_int("PReLU", "num_parameters", np.int64(3)) == 3
    assert positive_int("DataLoader", "batch_size", None, allow_none=True) is None
    for bad in (0, -2, True, 2.0, "2", None):
        with pytest.raises(ValueError, match=r"PReLU: num_parameters must be a positive int"):
            positive_int("PReLU", "num_parameters", bad)


def test_ntuple():
    assert ntuple(3, 2, "kernel_size", "Conv2d") == (3, 3)
    assert ntuple([4], 3, "stride", "Conv3d") == (4, 4, 4)
    assert ntuple((0, 1), 2, "padding", "Conv2d", minimum=0) == (0, 1)
    with pytest.raises(ValueError, match="Conv2d: kernel_size must be an int or a tuple of 2 ints, got \\(1, 2, 3\\)"):
        ntuple((1, 2, 3), 2, "kernel_size", "Conv2d")
    with pytest.raises(TypeError, match="Conv2d: stride"):
        ntuple(True, 2, "stride", "Conv2d")
    with pytest.raises(ValueError, match=">= 1 in every dimension, got \\(1, 0\\)"):
        ntuple((1, 0), 2, "stride", "Conv2d")


def test_dims_follow_torch_rules():
    assert normalize_dims(None, 3, "sum") == (0, 1, 2)
    assert normalize_dims((-1, 0), 3, "sum") == (0, 2)
    assert normalize_dims(-1, 0, "sum") == ()  # a 0-d tensor accepts dims 0 and -1
    assert normalize_dim(-1, 3, "softmax") == 2 and normalize_dim(0, 0, "softmax") == 0
    with pytest.raises(IndexError, match=r"sum: dimension 3 is out of range .* \(expected \[-3, 2\]\)"):
        normalize_dims(3, 3, "sum")
    with pytest.raises(ValueError, match="repeated"):
        normalize_dims((1, -2), 3, "sum")
    with pytest.raises(IndexError):
        torch.zeros(2, 3).size(2)
    with pytest.raises(IndexError, match="size: dimension 2 is out of range"):
        g.zeros(2, 3).size(2)
    assert g.zeros(2, 3).size(-1) == torch.zeros(2, 3).size(-1) == 3
