"""Activations written over their input: ReLU (``F.relu(x, inplace=True)``, ``nn.ReLU(inplace=True)``, ``F.relu_``,
``Tensor.relu_``, ``ganglion.relu_``), LeakyReLU, Hardtanh, ReLU6 and Threshold (functions, ``*_`` functions and
modules): the input changed and returned, its version counted, and the gradients, the version checks and the errors
of PyTorch, ReLU on the compiled loop (4096 elements and more) and the NumPy rule; plus the calls ganglion refuses
while recording (``Function.apply_in_place``) with the error that says so."""

import numpy as np
import pytest
import torch

import ganglion as g

SIZES = [(3, 5), (64, 96)]  # below and above the compiled loop's 4096 elements
SPECIALS = [0.0, -0.0, np.nan, np.inf, -np.inf]


def _input(shape, dtype, seed=0):
    x = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    x.reshape(-1)[: len(SPECIALS)] = SPECIALS
    return x


def _calls(lib):
    """Every spelling of the in-place ReLU in ``lib`` (ganglion or torch), each taking and returning a tensor."""
    return {
        "F.relu(inplace=True)": lambda t: lib.nn.functional.relu(t, inplace=True),
        "nn.ReLU(inplace=True)": lambda t: lib.nn.ReLU(inplace=True)(t),
        "F.relu_": lambda t: lib.nn.functional.relu_(t),
        "Tensor.relu_": lambda t: t.relu_(),
        "relu_": lambda t: lib.relu_(t),
    }


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SIZES)
@pytest.mark.parametrize("spelling", list(_calls(g)))
def test_writes_over_the_input_and_returns_it_like_torch(spelling, shape, dtype):
    x = _input(shape, dtype)
    mine, theirs = g.from_numpy(x.copy()), torch.from_numpy(x.copy())
    out, out_torch = _calls(g)[spelling](mine), _calls(torch)[spelling](theirs)
    assert out is mine and out_torch is theirs
    np.testing.assert_array_equal(mine.numpy(), theirs.numpy())  # -0.0 gives +0.0 (as ganglion's relu), == -0.0
    assert mine._version == theirs._version == 1


def _family(lib):
    """The other activations that write over x, each spelling in ``lib``."""
    F = lib.nn.functional
    return {
        "F.leaky_relu(inplace=True)": lambda t: F.leaky_relu(t, 0.2, inplace=True),
        "F.leaky_relu_": lambda t: F.leaky_relu_(t, 0.2),
        "nn.LeakyReLU(0.2, True)": lambda t: lib.nn.LeakyReLU(0.2, True)(t),
        "F.hardtanh(inplace=True)": lambda t: F.hardtanh(t, -0.5, 0.7, inplace=True),
        "F.hardtanh_": lambda t: F.hardtanh_(t, -0.5, 0.7),
        "nn.Hardtanh(inplace=True)": lambda t: lib.nn.Hardtanh(-0.5, 0.7, inplace=True)(t),
        "F.relu6(inplace=True)": lambda t: F.relu6(t, inplace=True),
        "nn.ReLU6(inplace=True)": lambda t: lib.nn.ReLU6(inplace=True)(t),
        "F.threshold(inplace=True)": lambda t: F.threshold(t, 0.1, -3.0, inplace=True),
        "F.threshold_": lambda t: F.threshold_(t, 0.1, -3.0),
        "nn.Threshold(inplace=True)": lambda t: lib.nn.Threshold(0.1, -3.0, inplace=True)(t),
    }


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("spelling", list(_family(g)))
def test_the_other_in_place_activations_write_and_differentiate_like_torch(spelling, dtype):
    x = _input((4, 6), dtype) * 4.0
    mine, theirs = g.from_numpy(x.copy()), torch.from_numpy(x.copy())
    assert _family(g)[spelling](mine) is mine and _family(torch)[spelling](theirs) is theirs
    np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
    assert mine._version == theirs._version == 1
    finite = np.nan_to_num(x, nan=0.3, posinf=5.0, neginf=-5.0)
    grads = []
    for lib in (g, torch):
        leaf = lib.from_numpy(finite.copy()).requires_grad_(True)
        h = leaf * 1.5
        assert _family(lib)[spelling](h) is h
        (h * h).sum().backward()
        grads.append(leaf.grad.numpy())
    np.testing.assert_array_equal(*grads)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SIZES)
def test_gradients_through_an_in_place_relu_in_a_graph_match_torch(shape, dtype):
    """x -> h = x w + b -> relu_(h) -> loss, h also read after the write: the gradients of x, w and b."""
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal(shape).astype(dtype), rng.standard_normal((shape[1], shape[1])).astype(dtype)
    b = rng.standard_normal(shape[1]).astype(dtype)
    grads = []
    for lib in (g, torch):
        leaves = [lib.from_numpy(a.copy()).requires_grad_(True) for a in (x, w, b)]
        h = leaves[0] @ leaves[1] + leaves[2]
        r = lib.nn.functional.relu(h, inplace=True)
        assert r is h and h.grad_fn is not None
        (h * h + r).sum().backward()
        grads.append([t.grad.numpy() for t in leaves])
    for mine, theirs in zip(*grads):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-5)


def test_gradcheck_and_double_backward_in_float64():
    x = g.tensor(np.random.default_rng(2).standard_normal((4, 3)) + 0.05, dtype=g.float64, requires_grad=True)
    assert g.autograd.gradcheck(lambda t: g.relu_(t * 2.0) ** 2, (x,))
    (grad,) = g.autograd.grad((g.relu_(x * 3.0) ** 2).sum(), x, create_graph=True)
    grad.sum().backward()
    xt = torch.tensor(x.detach().numpy(), requires_grad=True)
    (grad_torch,) = torch.autograd.grad((torch.relu_(xt * 3.0) ** 2).sum(), xt, create_graph=True)
    grad_torch.sum().backward()
    np.testing.assert_allclose(grad.detach().numpy(), grad_torch.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12)


def test_a_retained_gradient_follows_the_tensor_like_torch():
    grads = []
    for lib in (g, torch):
        x = lib.tensor([[-1.0, 2.0], [3.0, -4.0]], requires_grad=True)
        h = x * 1.5
        h.retain_grad()
        lib.relu_(h)
        (h * 3.0).sum().backward()
        grads.append((h.grad.numpy(), x.grad.numpy()))
    for mine, theirs in zip(*grads):
        np.testing.assert_array_equal(mine, theirs)


def test_without_recording_it_only_writes_and_counts_a_version():
    x = g.tensor([-1.0, 2.0], requires_grad=True)
    with g.no_grad():
        assert g.relu_(x) is x  # a leaf may change under no_grad, as in PyTorch
    assert x.grad_fn is None and x._version == 1 and x.tolist() == [0.0, 2.0]
    ints = g.tensor([-3, 4])
    ints.relu_()
    assert ints.tolist() == [0, 4] and ints.dtype == g.int64


def test_a_saved_tensor_changed_in_place_is_refused_in_backward_like_torch():
    for lib in (g, torch):
        x = lib.tensor([-1.0, 2.0], requires_grad=True)
        s = lib.sigmoid(x)  # saves its output
        lib.relu_(s)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            s.sum().backward()


def test_two_in_place_relus_in_a_row_like_torch():
    """The first ReLU saved its output, which the second writes over: PyTorch checks that version and refuses; so
    does ganglion (the first node reads its saved output through the tensor's counter)."""
    for lib in (g, torch):
        h = lib.tensor([-1.0, 2.0], requires_grad=True) * 1.0
        lib.relu_(lib.relu_(h))
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            h.sum().backward()


def test_a_leaf_that_requires_grad_is_refused_like_torch():
    for lib in (g, torch):
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            lib.relu_(lib.tensor([-1.0, 2.0], requires_grad=True))


def test_what_ganglion_refuses_while_recording_says_why():
    """PyTorch rebases these; ganglion's walk finds an input's node through the tensor, so it raises rather than send
    an earlier op's gradient through the ReLU, or leave a view's base in its old place."""
    x = g.tensor([[-1.0, 2.0], [3.0, -4.0]], requires_grad=True)
    h = x * 1.0
    z = h + 1.0  # h is an input of a recorded op already
    with pytest.raises(RuntimeError, match="another op has already used.*inplace=False"):
        g.relu_(h)
    assert h.tolist() == [[-1.0, 2.0], [3.0, -4.0]] and h._version == 0  # nothing was written
    view = (x * 1.0).reshape(4)
    with pytest.raises(RuntimeError, match="view of another tensor"):
        g.nn.functional.relu(view, inplace=True)
    assert z.grad_fn is not None
    with g.no_grad():
        g.relu_(h)  # without recording there is no graph to keep right
    assert h.tolist() == [[0.0, 2.0], [3.0, 0.0]]


def test_only_recorded_ops_mark_their_inputs_as_used():
    x = g.tensor([-1.0, 2.0], requires_grad=True)
    h = x * 1.0
    with g.no_grad():
        _ = h + 1.0
    h.detach() + 1.0
    assert g.relu_(h) is h and h.grad_fn is not None


def test_a_resnet_block_with_in_place_relus_trains_like_torch():
    """The model zoo's BasicBlock (``ReLU(inplace=True)`` after batch norm and after the residual sum) against the
    same block in PyTorch: output and every gradient."""
    from ganglion.vision.models.resnet import BasicBlock

    rng = np.random.default_rng(3)
    block = BasicBlock(4, 4)
    tblock = torch.nn.Sequential()  # the same layers, named as ganglion's, run in the same order below
    state = {k: torch.from_numpy(v.numpy().copy()) for k, v in block.state_dict().items()}
    conv1 = torch.nn.Conv2d(4, 4, 3, padding=1, bias=False)
    conv2 = torch.nn.Conv2d(4, 4, 3, padding=1, bias=False)
    bn1, bn2 = torch.nn.BatchNorm2d(4), torch.nn.BatchNorm2d(4)
    for name, module in (("conv1", conv1), ("bn1", bn1), ("conv2", conv2), ("bn2", bn2)):
        tblock.add_module(name, module)
    tblock.load_state_dict(state)
    x = rng.standard_normal((2, 4, 6, 6)).astype(np.float32)
    xg, xt = g.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yg = block(xg)
    out = torch.relu_(bn1(conv1(xt)))
    yt = torch.relu_(bn2(conv2(out)) + xt)
    np.testing.assert_allclose(yg.detach().numpy(), yt.detach().numpy(), rtol=1e-4, atol=1e-5)
    (yg * yg).sum().backward()
    (yt * yt).sum().backward()
    np.testing.assert_allclose(xg.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-4)
    for name, p in block.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), dict(tblock.named_parameters())[name].grad.numpy(), rtol=1e-4,
                                   atol=1e-4)


def test_threshold_keeps_nan_and_passes_its_gradient_like_torch():
    """PyTorch's rule is ``x <= threshold ? value : x``: a NaN is not below the threshold (the out-of-place op too)."""
    x = np.array([np.nan, 0.1, 0.5, -2.0])
    results = []
    for lib in (g, torch):
        leaf = lib.from_numpy(x.copy()).requires_grad_(True)
        y = lib.nn.functional.threshold(leaf, 0.1, -3.0)
        y.backward(lib.ones_like(y))
        results.append((y.detach().numpy(), leaf.grad.numpy()))
    for mine, theirs in zip(*results):
        np.testing.assert_array_equal(mine, theirs)


def test_a_tensor_is_free_for_in_place_again_once_the_graph_that_used_it_is_freed():
    """PyTorch lets a tensor be written in place once the backward that used it has freed its graph; ganglion counts
    a tensor's recorded users and takes a user back when its node is freed."""
    for lib in (g, torch):
        a = lib.tensor([-1.0, 2.0, -3.0], requires_grad=True)
        x = a * 2.0
        (x * x).sum().backward()  # x's only user (taken twice) is freed
        lib.relu_(x)
        assert x.tolist() == [0.0, 4.0, 0.0]
        assert a.grad.tolist() == [-8.0, 16.0, -24.0]
    a = g.tensor([-1.0, 2.0], requires_grad=True)
    x = a * 2.0
    kept = (x * x).sum()
    kept.backward(retain_graph=True)  # the graph is kept: x still has a user
    with pytest.raises(RuntimeError, match="another op has already used"):
        g.relu_(x)
    y = (x * x).sum()
    other = (x + 1.0).sum()  # a second user of x
    y.backward()
    with pytest.raises(RuntimeError, match="another op has already used"):
        g.relu_(x)  # the first user is freed, the second is not
    assert other.grad_fn is not None and x.tolist() == [-2.0, 4.0]
