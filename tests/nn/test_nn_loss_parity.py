"""Every loss other than cross-entropy/NLL (those live in test_nn_losses.py), from one table: forward and backward
parity with PyTorch (functional and module forms, float64 and float32, every reduction) and float64 gradcheck.

A row names the functional (the same name in ``torch.nn.functional`` and ``ganglion.nn.functional``), the module
(the same name in both ``nn``), how to draw its positional inputs and tensor options, its scalar options, and which
inputs are differentiable in PyTorch (parity) and in ganglion (gradcheck). Adding a loss is adding a row.
"""

from dataclasses import dataclass, field

import numpy as np
import pytest
import torch

import ganglion as g
from ganglion import nn
from ganglion.autograd import gradcheck
from ganglion.nn import functional as F

TF = torch.nn.functional


# ------------------------------------------------------------------------------------------------------ domains
def real(rng, shape):
    return rng.uniform(-2.0, 2.0, shape)


def prob(rng, shape):  # inside (0, 1): BCE's input and soft targets
    return rng.uniform(0.05, 0.95, shape)


def positive(rng, shape):
    return rng.uniform(0.5, 2.0, shape)


def sign(rng, shape):  # +-1 targets of the margin losses
    return rng.choice([-1.0, 1.0], shape)


def distribution(rng, shape):  # rows that sum to 1, all entries > 0
    return rng.dirichlet(np.ones(shape[-1]), size=shape[:-1])


def log_distribution(rng, shape):
    return np.log(distribution(rng, shape))


@dataclass(frozen=True)
class Row:
    id: str
    fn: str  # functional name in both frameworks
    module: str  # module name in both frameworks ("" when the options are functional-only)
    inputs: tuple  # (domain, shape) per positional input
    tensor_options: dict = field(default_factory=dict)  # name -> (domain, shape)
    options: dict = field(default_factory=dict)  # scalar keyword options (module constructor and functional)
    torch_grads: tuple = ()  # names ("0", "1", ... or option names) PyTorch differentiates: compared with it
    our_grads: tuple = ()  # names ganglion differentiates: gradchecked (a superset of torch_grads)
    reductions: tuple = ("none", "mean", "sum")


S = (4, 3)
ROWS = [
    Row("mse", "mse_loss", "MSELoss", ((real, S), (real, S)), torch_grads=("0", "1"), our_grads=("0", "1")),
    Row("mse-1d", "mse_loss", "MSELoss", ((real, (5,)), (real, (5,))), torch_grads=("0", "1"), our_grads=("0", "1")),
    Row("mse-0d", "mse_loss", "MSELoss", ((real, ()), (real, ())), torch_grads=("0", "1"), our_grads=("0", "1")),
    Row("mse-weight", "mse_loss", "", ((real, S), (real, S)), {"weight": (positive, S)},
        torch_grads=("0", "1", "weight"), our_grads=("0", "1", "weight")),
    Row("l1", "l1_loss", "L1Loss", ((real, S), (real, S)), torch_grads=("0", "1"), our_grads=("0", "1")),
    Row("l1-weight", "l1_loss", "", ((real, S), (real, S)), {"weight": (positive, S)},
        torch_grads=("0", "1", "weight"), our_grads=("0", "1", "weight")),
    Row("smooth_l1", "smooth_l1_loss", "SmoothL1Loss", ((real, S), (real, S)), torch_grads=("0", "1"),
        our_grads=("0", "1")),
    Row("smooth_l1-beta0.5", "smooth_l1_loss", "SmoothL1Loss", ((real, S), (real, S)), options={"beta": 0.5},
        torch_grads=("0", "1"), our_grads=("0", "1")),
    Row("smooth_l1-beta0", "smooth_l1_loss", "SmoothL1Loss", ((real, S), (real, S)), options={"beta": 0.0},
        torch_grads=("0", "1"), our_grads=("0", "1")),
    Row("huber", "huber_loss", "HuberLoss", ((real, S), (real, S)), torch_grads=("0", "1"), our_grads=("0", "1")),
    Row("huber-delta2.5", "huber_loss", "HuberLoss", ((real, S), (real, S)), options={"delta": 2.5},
        torch_grads=("0", "1"), our_grads=("0", "1")),
    Row("huber-weight", "huber_loss", "", ((real, S), (real, S)), {"weight": (positive, S)},
        options={"delta": 0.7}, torch_grads=("0", "1", "weight"), our_grads=("0", "1", "weight")),
    Row("bce", "binary_cross_entropy", "BCELoss", ((prob, S), (prob, S)), torch_grads=("0", "1"),
        our_grads=("0", "1")),
    Row("bce-weight", "binary_cross_entropy", "BCELoss", ((prob, S), (prob, S)), {"weight": (positive, (3,))},
        torch_grads=("0", "1"), our_grads=("0", "1", "weight")),
    Row("bce-weight-full", "binary_cross_entropy", "BCELoss", ((prob, S), (prob, S)), {"weight": (positive, S)},
        torch_grads=("0", "1"), our_grads=("0", "1", "weight")),
    Row("bce_logits", "binary_cross_entropy_with_logits", "BCEWithLogitsLoss", ((real, S), (prob, S)),
        torch_grads=("0", "1"), our_grads=("0", "1")),
    Row("bce_logits-pos_weight", "binary_cross_entropy_with_logits", "BCEWithLogitsLoss", ((real, S), (prob, S)),
        {"pos_weight": (positive, (3,))}, torch_grads=("0", "1"), our_grads=("0", "1", "pos_weight")),
    Row("bce_logits-weight-pos_weight", "binary_cross_entropy_with_logits", "BCEWithLogitsLoss",
        ((real, S), (prob, S)), {"weight": (positive, (4, 1)), "pos_weight": (positive, (3,))},
        torch_grads=("0", "1"), our_grads=("0", "1", "weight", "pos_weight")),
    Row("bce_logits-spatial-pos_weight", "binary_cross_entropy_with_logits", "BCEWithLogitsLoss",
        ((real, (2, 3, 2, 2)), (prob, (2, 3, 2, 2))), {"pos_weight": (positive, (3, 1, 1))},
        torch_grads=("0", "1"), our_grads=("0", "1", "pos_weight")),
    Row("kl_div", "kl_div", "KLDivLoss", ((log_distribution, S), (distribution, S)), torch_grads=("0", "1"),
        our_grads=("0", "1"), reductions=("none", "batchmean", "sum", "mean")),
    Row("kl_div-log_target", "kl_div", "KLDivLoss", ((log_distribution, S), (log_distribution, S)),
        options={"log_target": True}, torch_grads=("0", "1"), our_grads=("0", "1"),
        reductions=("none", "batchmean", "sum", "mean")),
    Row("kl_div-1d", "kl_div", "KLDivLoss", ((log_distribution, (5,)), (distribution, (5,))),
        torch_grads=("0", "1"), our_grads=("0", "1"), reductions=("batchmean",)),
    Row("cosine_embedding", "cosine_embedding_loss", "CosineEmbeddingLoss", ((real, (6, 3)), (real, (6, 3)),
        (sign, (6,))), torch_grads=("0", "1"), our_grads=("0", "1")),
    Row("cosine_embedding-margin", "cosine_embedding_loss", "CosineEmbeddingLoss",
        ((real, (6, 3)), (real, (6, 3)), (sign, (6,))), options={"margin": -0.3}, torch_grads=("0", "1"),
        our_grads=("0", "1")),
    Row("cosine_embedding-1d", "cosine_embedding_loss", "CosineEmbeddingLoss", ((real, (4,)), (real, (4,)),
        (sign, ())), options={"margin": -0.5}, torch_grads=("0", "1"), our_grads=("0", "1")),
    Row("hinge_embedding", "hinge_embedding_loss", "HingeEmbeddingLoss", ((real, S), (sign, S)),
        torch_grads=("0",), our_grads=("0",)),
    Row("hinge_embedding-margin", "hinge_embedding_loss", "HingeEmbeddingLoss", ((real, S), (sign, S)),
        options={"margin": 0.3}, torch_grads=("0",), our_grads=("0",)),
    Row("margin_ranking", "margin_ranking_loss", "MarginRankingLoss", ((real, (7,)), (real, (7,)), (sign, (7,))),
        torch_grads=("0", "1", "2"), our_grads=("0", "1", "2")),
    Row("margin_ranking-margin", "margin_ranking_loss", "MarginRankingLoss",
        ((real, (7,)), (real, (7,)), (sign, (7,))), options={"margin": 0.5}, torch_grads=("0", "1", "2"),
        our_grads=("0", "1", "2")),
]
CASES = [(row, r) for row in ROWS for r in row.reductions]
CASE_IDS = [f"{row.id}-{r}" for row, r in CASES]
FORM_CASES = [(row, r, module) for row, r in CASES for module in ((False, True) if row.module else (False,))]
FORM_IDS = [f"{row.id}-{r}-{'module' if m else 'functional'}" for row, r, m in FORM_CASES]
pytestmark = pytest.mark.filterwarnings("ignore:.*'mean' divides:UserWarning")  # kl_div's advice, both frameworks


# ------------------------------------------------------------------------------------------------------ helpers
def draw(row, rng):
    """The row's data as NumPy float64 arrays: (positional list, tensor-option dict)."""
    args = [np.asarray(domain(rng, shape), dtype=np.float64) for domain, shape in row.inputs]
    opts = {k: np.asarray(domain(rng, shape), dtype=np.float64) for k, (domain, shape) in row.tensor_options.items()}
    return args, opts


def build(arrays, opts, grads, make):
    """Tensors of one framework: (positional tensors, option tensors); those named in ``grads`` require grad."""
    args = [make(a, str(i) in grads) for i, a in enumerate(arrays)]
    kw = {k: make(v, k in grads) for k, v in opts.items()}
    return args, kw


def ours(a, requires_grad):
    return g.tensor(a, dtype=g.float64 if a.dtype == np.float64 else g.float32, requires_grad=requires_grad)


def theirs(a, requires_grad):
    return torch.tensor(a, requires_grad=requires_grad)


def call(framework, row, reduction, args, kw, module):
    options = dict(row.options, reduction=reduction)
    if framework == "ganglion":
        lib, functional = nn, F
    else:
        lib, functional = torch.nn, TF
    if module:
        return getattr(lib, row.module)(**options, **kw)(*args)
    return getattr(functional, row.fn)(*args, **options, **kw)


def named_grads(args, kw, names):
    pool = {str(i): t for i, t in enumerate(args)}
    pool.update(kw)
    return {n: pool[n].grad for n in names}


def to_numpy(t):
    return t.detach().numpy()


# -------------------------------------------------------------------------------------------------------- tests
@pytest.mark.parametrize("row,reduction,module", FORM_CASES, ids=FORM_IDS)
def test_loss_parity_with_torch_float64(row, reduction, module, rng):
    arrays, opts = draw(row, rng)
    args, kw = build(arrays, opts, row.torch_grads, ours)
    targs, tkw = build(arrays, opts, row.torch_grads, theirs)
    loss = call("ganglion", row, reduction, args, kw, module)
    loss_t = call("torch", row, reduction, targs, tkw, module)
    assert tuple(loss.shape) == tuple(loss_t.shape)
    assert loss.dtype == g.float64
    np.testing.assert_allclose(to_numpy(loss), to_numpy(loss_t), rtol=1e-12, atol=1e-14)
    upstream = rng.standard_normal(tuple(loss_t.shape))
    loss.backward(g.from_numpy(upstream))
    loss_t.backward(torch.tensor(upstream))
    got, expected = named_grads(args, kw, row.torch_grads), named_grads(targs, tkw, row.torch_grads)
    for name in row.torch_grads:
        assert got[name] is not None, f"no gradient for {name}"
        np.testing.assert_allclose(got[name].numpy(), expected[name].numpy(), rtol=1e-10, atol=1e-13,
                                   err_msg=f"gradient of {name}")


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_loss_parity_with_torch_float32(row, rng):
    reduction = "batchmean" if "batchmean" in row.reductions else "mean"
    arrays, opts = draw(row, rng)
    arrays = [a.astype(np.float32) for a in arrays]
    opts = {k: v.astype(np.float32) for k, v in opts.items()}
    args, kw = build(arrays, opts, row.torch_grads, ours)
    targs, tkw = build(arrays, opts, row.torch_grads, theirs)
    loss = call("ganglion", row, reduction, args, kw, False)
    loss_t = call("torch", row, reduction, targs, tkw, False)
    assert loss.dtype == g.float32
    np.testing.assert_allclose(loss.item(), loss_t.item(), rtol=2e-6, atol=1e-7)
    loss.backward()
    loss_t.backward()
    got, expected = named_grads(args, kw, row.torch_grads), named_grads(targs, tkw, row.torch_grads)
    for name in row.torch_grads:
        assert got[name].dtype == g.float32
        np.testing.assert_allclose(got[name].numpy(), expected[name].numpy(), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("row,reduction", CASES, ids=CASE_IDS)
def test_loss_gradcheck_float64(row, reduction, rng):
    arrays, opts = draw(row, rng)
    args, kw = build(arrays, opts, row.our_grads, ours)
    names = [str(i) for i in range(len(args))] + list(kw)
    pool = args + list(kw.values())
    options = dict(row.options, reduction=reduction)

    def fn(*tensors):
        positional, keyword = tensors[: len(args)], dict(zip(kw, tensors[len(args):]))
        return getattr(F, row.fn)(*positional, **options, **keyword)

    assert any(n in row.our_grads for n in names)
    assert gradcheck(fn, tuple(pool))


@pytest.mark.gpu
@pytest.mark.skipif(not g.cuda.is_available(), reason="needs CuPy and a visible GPU")
@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_loss_on_gpu_matches_cpu(row, rng):
    """The same row on 'cuda' (CuPy) gives the CPU's loss and gradients."""
    reduction = "batchmean" if "batchmean" in row.reductions else "sum"
    arrays, opts = draw(row, rng)
    results = []
    for device in ("cpu", "cuda"):
        def make(a, requires_grad, device=device):
            return g.tensor(a, dtype=g.float64, device=device, requires_grad=requires_grad)

        args, kw = build(arrays, opts, row.our_grads, make)
        loss = call("ganglion", row, reduction, args, kw, False)
        loss.backward()
        grads = named_grads(args, kw, row.our_grads)
        results.append((loss.cpu().detach().numpy(), {k: v.cpu().numpy() for k, v in grads.items()}))
    (loss_cpu, grads_cpu), (loss_gpu, grads_gpu) = results
    np.testing.assert_allclose(loss_gpu, loss_cpu, rtol=1e-12)
    for name in row.our_grads:
        np.testing.assert_allclose(grads_gpu[name], grads_cpu[name], rtol=1e-11, atol=1e-14)
