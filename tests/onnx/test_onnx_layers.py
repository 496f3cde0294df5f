"""One row per layer family and configuration: export, run in onnxruntime on a batch of another size, compare with
ganglion to 1e-5. Adding a layer to the exporter is adding a row here."""

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

import ganglion  # noqa: E402
import ganglion.nn as nn  # noqa: E402
from onnx_helpers import Lambda, assert_round_trip  # noqa: E402

RNG = np.random.default_rng(0)


def floats(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def with_running_stats(norm):
    """A batch norm whose running statistics are not the defaults (0 and 1), so that eval mode is tested."""
    c = norm.num_features
    norm.running_mean.array[...] = RNG.standard_normal(c).astype(np.float32)
    norm.running_var.array[...] = RNG.uniform(0.5, 2.0, c).astype(np.float32)
    norm.weight.array[...] = RNG.standard_normal(c).astype(np.float32)
    norm.bias.array[...] = RNG.standard_normal(c).astype(np.float32)
    return norm


# (id, model factory, example shape (batch first), tolerance)
ACTIVATIONS = [
    ("relu", nn.ReLU), ("leaky_relu", lambda: nn.LeakyReLU(0.2)), ("sigmoid", nn.Sigmoid), ("tanh", nn.Tanh),
    ("elu", lambda: nn.ELU(0.7)), ("selu", nn.SELU), ("celu", lambda: nn.CELU(1.3)), ("gelu", nn.GELU),
    ("gelu_tanh", lambda: nn.GELU("tanh")), ("softplus", nn.Softplus), ("softplus_beta", lambda: nn.Softplus(2.0, 3.0)),
    ("silu", nn.SiLU), ("mish", nn.Mish), ("softmax", lambda: nn.Softmax(dim=1)),
    ("log_softmax", lambda: nn.LogSoftmax(dim=-1)), ("relu6", nn.ReLU6), ("hardtanh", lambda: nn.Hardtanh(-0.5, 2.0)),
    ("hardsigmoid", nn.Hardsigmoid), ("hardswish", nn.Hardswish), ("softsign", nn.Softsign),
    ("tanhshrink", nn.Tanhshrink), ("logsigmoid", nn.LogSigmoid), ("prelu", lambda: nn.PReLU(6, 0.3)),
    ("threshold", lambda: nn.Threshold(0.1, -2.0)), ("hardshrink", nn.Hardshrink), ("softshrink", nn.Softshrink),
    ("glu", lambda: nn.GLU(dim=1)), ("softmin", lambda: nn.Softmin(dim=1)),
]

LAYERS = [
    ("linear", lambda: nn.Linear(6, 4), (3, 6)),
    ("linear_3d_no_bias", lambda: nn.Linear(6, 4, bias=False), (3, 5, 6)),
    ("mlp", lambda: nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 3)), (3, 6)),
    ("conv1d", lambda: nn.Conv1d(3, 5, 3, stride=2, padding=1), (2, 3, 11)),
    ("conv2d", lambda: nn.Conv2d(3, 4, 3), (2, 3, 9, 9)),
    ("conv2d_stride_dilation", lambda: nn.Conv2d(3, 4, (3, 2), stride=(2, 1), padding=(2, 1), dilation=2),
     (2, 3, 11, 10)),
    ("conv2d_groups", lambda: nn.Conv2d(4, 6, 3, padding=1, groups=2), (2, 4, 7, 7)),
    ("conv2d_same_even_kernel", lambda: nn.Conv2d(3, 4, 4, padding="same"), (2, 3, 8, 7)),
    ("conv2d_depthwise_no_bias", lambda: nn.Conv2d(3, 3, 3, groups=3, bias=False), (2, 3, 6, 6)),
    ("conv_transpose2d", lambda: nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1), (2, 4, 5, 5)),
    ("conv_transpose2d_groups", lambda: nn.ConvTranspose2d(4, 6, 2, stride=2, groups=2), (2, 4, 3, 4)),
    ("max_pool2d", lambda: nn.MaxPool2d(2), (2, 3, 8, 8)),
    ("max_pool2d_pad_stride", lambda: nn.MaxPool2d(3, stride=2, padding=1), (2, 3, 9, 8)),
    ("max_pool2d_ceil_dilation", lambda: nn.MaxPool2d(2, stride=2, dilation=2, ceil_mode=True), (2, 3, 9, 9)),
    ("max_pool1d", lambda: nn.MaxPool1d(3, stride=2), (2, 3, 10)),
    ("avg_pool2d", lambda: nn.AvgPool2d(2), (2, 3, 8, 8)),
    ("avg_pool2d_pad_exclude", lambda: nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False), (2, 3, 9, 8)),
    ("avg_pool2d_ceil", lambda: nn.AvgPool2d(2, stride=2, ceil_mode=True), (2, 3, 7, 7)),
    ("avg_pool1d", lambda: nn.AvgPool1d(3, stride=1, padding=1), (2, 3, 10)),
    ("global_avg_pool", lambda: nn.AdaptiveAvgPool2d(1), (2, 3, 5, 6)),
    ("adaptive_avg_pool_tiled", lambda: nn.AdaptiveAvgPool2d((2, 3)), (2, 3, 4, 6)),
    ("adaptive_avg_pool_unequal", lambda: nn.AdaptiveAvgPool2d((3, 4)), (2, 3, 7, 9)),
    ("global_max_pool", lambda: nn.AdaptiveMaxPool2d(1), (2, 3, 5, 6)),
    ("adaptive_max_pool_tiled", lambda: nn.AdaptiveMaxPool2d((2, 3)), (2, 3, 4, 6)),
    ("adaptive_max_pool_unequal", lambda: nn.AdaptiveMaxPool2d((3, 4)), (2, 3, 7, 9)),
    ("adaptive_max_pool_unequal_one_axis", lambda: nn.AdaptiveMaxPool2d((5, 3)), (2, 3, 7, 6)),
    ("adaptive_max_pool_upsampling", lambda: nn.AdaptiveMaxPool2d((9, 4)), (2, 3, 5, 3)),
    ("adaptive_max_pool1d_unequal", lambda: nn.AdaptiveMaxPool1d(4), (2, 3, 10)),
    ("adaptive_max_pool3d_unequal", lambda: nn.AdaptiveMaxPool3d((2, 3, 4)), (2, 2, 5, 7, 6)),
    ("adaptive_avg_pool1d_unequal", lambda: nn.AdaptiveAvgPool1d(4), (2, 3, 10)),
    ("adaptive_avg_pool3d_unequal", lambda: nn.AdaptiveAvgPool3d((2, 3, 4)), (2, 2, 5, 7, 6)),
    ("adaptive_avg_pool_upsampling", lambda: nn.AdaptiveAvgPool2d((9, 4)), (2, 3, 5, 3)),
    ("batch_norm1d", lambda: with_running_stats(nn.BatchNorm1d(5)), (4, 5)),
    ("batch_norm1d_sequence", lambda: with_running_stats(nn.BatchNorm1d(5)), (4, 5, 7)),
    ("batch_norm2d", lambda: with_running_stats(nn.BatchNorm2d(3)), (2, 3, 4, 4)),
    ("layer_norm", lambda: nn.LayerNorm(6), (3, 6)),
    ("layer_norm_2d_shape", lambda: nn.LayerNorm((4, 5)), (2, 3, 4, 5)),
    ("group_norm", lambda: nn.GroupNorm(2, 6), (2, 6, 3, 4)),
    ("instance_norm2d", lambda: nn.InstanceNorm2d(3, affine=True), (2, 3, 4, 5)),
    ("dropout_eval", lambda: nn.Sequential(nn.Dropout(0.9), nn.Linear(4, 4)), (3, 4)),
    ("flatten", lambda: nn.Sequential(nn.Conv2d(2, 3, 3), nn.Flatten(), nn.Linear(3 * 4 * 4, 2)), (2, 2, 6, 6)),
    ("unflatten", lambda: nn.Unflatten(1, (3, 4)), (2, 12)),
    ("view_permute_transpose", lambda: Lambda(lambda m, x: x.view(x.shape[0], 3, 4).permute(0, 2, 1).transpose(1, 2)
                                             .reshape(-1, 12)), (2, 12)),
    ("cat_add_mul", lambda: Lambda(lambda m, x: ganglion.cat([m.a(x), x * 2.0 + m.a(x)], dim=1) - 1.0,
                                   a=nn.Linear(4, 4)), (3, 4)),
    ("stack_index", lambda: Lambda(lambda m, x: ganglion.stack([x[:, 0], x[:, -1], x[:, 1:3].sum(dim=1)], dim=1)),
     (3, 4, 5)),
    ("squeeze_unsqueeze_mean", lambda: Lambda(lambda m, x: x.unsqueeze(1).mean(dim=-1).squeeze(1)), (3, 4, 5)),
]



ROWS = [(f"act_{name}", factory, (3, 6, 4), 1e-5) for name, factory in ACTIVATIONS] + [
    (name, factory, shape, 1e-5) for name, factory, shape in LAYERS
]


@pytest.mark.parametrize("name, factory, shape, tol", ROWS, ids=[r[0] for r in ROWS])
def test_layer_round_trip(name, factory, shape, tol, tmp_path):
    model = factory()
    example = floats(*shape)
    other = floats(shape[0] + 2, *shape[1:])  # another batch size: the graph must not have fixed it
    assert_round_trip(model, [example], [other], tmp_path / f"{name}.onnx", tol=tol)


def test_fixed_batch_export_keeps_the_batch_size(tmp_path):
    import onnx

    path = tmp_path / "fixed.onnx"
    ganglion.onnx.export(nn.Linear(4, 2), floats(3, 4), path, dynamic_batch=False)
    dims = onnx.load(str(path)).graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_value for d in dims] == [3, 4]


def test_dynamic_batch_names_the_first_dim(tmp_path):
    import onnx

    path = tmp_path / "dynamic.onnx"
    ganglion.onnx.export(nn.Linear(4, 2), floats(3, 4), path, input_names=["x"], output_names=["y"])
    graph = onnx.load(str(path)).graph
    for value, name in ((graph.input[0], "x"), (graph.output[0], "y")):
        assert value.name == name
        assert value.type.tensor_type.shape.dim[0].dim_param == "batch"


@pytest.mark.parametrize("opset", [17, 18])
def test_opsets(opset, tmp_path):
    model = nn.Sequential(nn.Conv2d(2, 4, 3), nn.GroupNorm(2, 4), nn.AdaptiveAvgPool2d(1), nn.Flatten())
    assert_round_trip(model, [floats(2, 2, 5, 5)], [floats(3, 2, 5, 5)], tmp_path / "m.onnx", opset=opset)


# (id, ganglion module, PyTorch functional name, output size, input shape): onnxruntime against the oracle itself
ADAPTIVE_ORACLE = [
    ("max2d", nn.AdaptiveMaxPool2d((3, 4)), "adaptive_max_pool2d", (3, 4), (2, 3, 7, 9)),
    ("max1d", nn.AdaptiveMaxPool1d(4), "adaptive_max_pool1d", 4, (2, 3, 10)),
    ("max3d", nn.AdaptiveMaxPool3d((2, 3, 4)), "adaptive_max_pool3d", (2, 3, 4), (2, 2, 5, 7, 6)),
    ("avg2d", nn.AdaptiveAvgPool2d((3, 4)), "adaptive_avg_pool2d", (3, 4), (2, 3, 7, 9)),
    ("avg3d", nn.AdaptiveAvgPool3d((2, 3, 4)), "adaptive_avg_pool3d", (2, 3, 4), (2, 2, 5, 7, 6)),
]


@pytest.mark.parametrize("name, module, torch_fn, size, shape", ADAPTIVE_ORACLE, ids=[r[0] for r in ADAPTIVE_ORACLE])
def test_unequal_adaptive_pooling_matches_pytorch(name, module, torch_fn, size, shape, tmp_path):
    torch = pytest.importorskip("torch")
    from onnx_helpers import onnx_outputs

    path = tmp_path / f"{name}.onnx"
    ganglion.onnx.export(module, floats(*shape), path)
    x = floats(shape[0] + 3, *shape[1:])
    (got,) = onnx_outputs(path, [x])
    expected = getattr(torch.nn.functional, torch_fn)(torch.from_numpy(x), size).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
