"""What the ONNX export tests share: export a model, run the file with onnxruntime on a batch of another size, and
compare with ganglion's own outputs."""

import numpy as np

import ganglion
import ganglion.nn as nn
from ganglion.autograd.grad_mode import no_grad


class Lambda(nn.Module):
    """A module whose forward is ``fn(self, *inputs)``: the structural ops (view, permute, cat, add) in a row."""

    def __init__(self, fn, **modules):
        super().__init__()
        self.fn = fn
        for name, m in modules.items():
            setattr(self, name, m)

    def forward(self, *inputs):
        return self.fn(self, *inputs)


def flat_outputs(result):
    """The model's output Tensors, flattened in the order the exporter writes them."""
    if isinstance(result, (tuple, list)):
        return [t for r in result for t in flat_outputs(r)]
    return [result]


def ganglion_outputs(model, inputs):
    model.eval()
    with no_grad():
        result = model(*[ganglion.tensor(x) for x in inputs])
    return [t.detach().numpy() for t in flat_outputs(result)]


def onnx_outputs(path, inputs):
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    return session.run(None, dict(zip(names, inputs)))


def assert_round_trip(model, example, run_on, path, tol=1e-5, **options):
    """Export ``model`` on ``example`` (arrays), then check onnxruntime's outputs on ``run_on`` against ganglion's
    to ``tol`` (absolute, scaled by the output's magnitude when it exceeds 1)."""
    from ganglion.onnx import export

    export(model, tuple(example), path, **options)
    expected = ganglion_outputs(model, run_on)
    got = onnx_outputs(path, run_on)
    assert len(got) == len(expected)
    for k, (e, o) in enumerate(zip(expected, got)):
        assert o.shape == e.shape, f"output {k}: onnxruntime gave shape {o.shape}, ganglion {e.shape}"
        scale = max(1.0, float(np.abs(e).max()) if e.size else 1.0)
        error = float(np.abs(o - e).max()) if e.size else 0.0
        assert error <= tol * scale, f"output {k}: max abs difference {error} > {tol} x {scale}"
    return got
