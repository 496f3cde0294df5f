"""What the exporter refuses, and how it says so: a wrong example input, forward passes that branch on the input's
values or batch size, ops with no ONNX form (named with their layer), bad arguments. A refused export writes no
file and leaves an existing one as it was."""

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

import ganglion.nn as nn  # noqa: E402
from ganglion.onnx import DataDependentError, ExportError, UnsupportedOpError, export  # noqa: E402
from ganglion.tensor import Tensor  # noqa: E402


def floats(*shape):
    return np.random.default_rng(3).standard_normal(shape).astype(np.float32)


class Branchy(nn.Module):
    """Chooses its activation from the sign of the input's sum: Python control flow on a tensor's value."""

    def forward(self, x):
        return x.relu() if float(x.sum().item()) > 0 else x.tanh()


class BatchBranch(nn.Module):
    """Takes another path for large batches."""

    def forward(self, x):
        return x * 2.0 if x.shape[0] < 4 else x * 3.0


class ScaledByMean(nn.Module):
    """Multiplies by a number read out of the data: the same ops, another constant."""

    def forward(self, x):
        return x * float(x.mean().item())


class Named(nn.Module):
    def __init__(self, **modules):
        super().__init__()
        for name, m in modules.items():
            setattr(self, name, m)

    def forward(self, x):
        for m in self.children():
            x = m(x)
        return x


class Cumulative(nn.Module):
    def forward(self, x):
        return x.cumsum(dim=1)


class Constant(nn.Module):
    def forward(self, x):
        return Tensor(np.ones((2, 2), np.float32))


# (id, model, example input, error class, message pattern)
REFUSED = [
    ("wrong_input_shape", nn.Linear(4, 2), floats(3, 5), ExportError,
     r"running Linear on the example input of shape \(3, 5\) failed: ValueError: .*4"),
    ("branch_on_values", Branchy(), np.abs(floats(3, 4)), DataDependentError,
     r"recorded different graphs.*became Tanh"),
    ("branch_on_batch_size", BatchBranch(), floats(3, 4), DataDependentError,
     r"argument 1 of op 0 \(Mul\).*2\.0, then 3\.0"),
    ("constant_from_values", ScaledByMean(), floats(3, 4), DataDependentError, r"op 0 \(Mul\)"),
    ("op_without_mapping", Named(body=Cumulative()), floats(2, 3), UnsupportedOpError,
     r"op \w+ in layer body \(Cumulative\) cannot be exported.*no ONNX mapping"),
    ("output_not_from_input", Constant(), floats(2, 2), ExportError, r"output 0 .* does not depend on the inputs"),
]


@pytest.mark.parametrize("name, model, example, error, pattern", REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_exports_write_nothing(name, model, example, error, pattern, tmp_path):
    path = tmp_path / "model.onnx"
    with pytest.raises(error, match=pattern):
        export(model, example, path)
    assert not path.exists()


def test_wrong_input_keeps_the_models_own_error_as_the_cause(tmp_path):
    with pytest.raises(ExportError) as info:
        export(nn.Conv2d(3, 4, 3), floats(1, 2, 8, 8), tmp_path / "m.onnx")
    assert isinstance(info.value.__cause__, ValueError)
    assert "expected input of shape" in str(info.value.__cause__)


def test_a_refused_export_leaves_an_existing_file_unchanged(tmp_path):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"previous")
    with pytest.raises(DataDependentError):
        export(Branchy(), np.abs(floats(3, 4)), path)
    assert path.read_bytes() == b"previous"


def test_batch_branch_exports_with_a_fixed_batch(tmp_path):
    """With dynamic_batch=False the second trace keeps the batch size, so the batch branch is not a difference."""
    export(BatchBranch(), floats(3, 4), tmp_path / "m.onnx", dynamic_batch=False)
    assert (tmp_path / "m.onnx").exists()


# (id, keyword arguments, error pattern)
BAD_ARGUMENTS = [
    ("old_opset", {"opset": 12}, r"opset must be an int from 17"),
    ("opset_not_int", {"opset": "17"}, r"opset must be an int"),
    ("too_many_input_names", {"input_names": ["a", "b"]}, r"input_names must be 1 distinct non-empty strings"),
    ("duplicate_output_names", {"output_names": ["y", "y"]}, r"output_names must be 1 distinct"),
]


@pytest.mark.parametrize("name, kwargs, pattern", BAD_ARGUMENTS, ids=[r[0] for r in BAD_ARGUMENTS])
def test_bad_arguments(name, kwargs, pattern, tmp_path):
    with pytest.raises(ValueError, match=pattern):
        export(nn.Linear(3, 2), floats(2, 3), tmp_path / "m.onnx", **kwargs)


def test_model_must_be_a_module(tmp_path):
    with pytest.raises(TypeError, match="model must be an nn.Module, got function"):
        export(lambda x: x, floats(2, 3), tmp_path / "m.onnx")


def test_every_mapping_names_an_engine_op():
    """A renamed Function class would silently lose its mapping: every key must still name one."""
    from ganglion.autograd.function import Function
    from ganglion.onnx.ops import MAPPINGS

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    import ganglion.nn  # noqa: F401  (imports every op)

    names = {c.__name__ for c in subclasses(Function)}
    assert sorted(set(MAPPINGS) - names) == []
