"""``ganglion.vision.models`` against PyTorch: torchvision 0.28's model files (loaded by ``torchvision_models``) for
AlexNet, VGG, GoogLeNet and ResNet, and PyTorch restatements written here of the layouts torchvision lacks (LeNet,
the LRN AlexNet, the notes' VGG builder).

Two tables. STRUCTURE has every constructor at its defaults (and a few ``in_channels`` / CIFAR-stem variants):
state_dict keys in the same order with the same shapes, the same parameter count, and the same ``repr`` as PyTorch's
model. PARITY has small configurations: PyTorch's weights (random, including BN running statistics) copied into
ours as NumPy arrays; eval-mode outputs compared in float32, then outputs, input gradients and parameter gradients
after backward of a fixed upstream compared in float64, in eval mode and, for the rows where it differs, train mode
(dropout 0, so train mode is deterministic; BN uses batch statistics there, and the running statistics it updates
are compared too).

Speed: the references for STRUCTURE are built on torch's meta device (no memory, no init), and our models are built
with the random initializers replaced by no-ops (``fast_init``) wherever every value is overwritten afterwards:
filling VGG's 120M classifier weights with random numbers is most of its construction time and tests nothing here.
The initialization schemes themselves are tested on small models in ``test_initialization_follows_torchvision``.
"""

import math
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_limits

import ganglion
import ganglion.nn.functional as GF
from ganglion.nn import init as ginit
from ganglion.vision import models as M
from torchvision_models import load_or_skip


# ---------------------------------------------------------------------------------------- PyTorch references
class LeNet(torch.nn.Module):
    """Dive into Deep Learning's LeNet-5 in PyTorch, with features/classifier halves."""

    def __init__(self, num_classes=10, in_channels=1, activation="sigmoid"):
        super().__init__()
        act = {"sigmoid": torch.nn.Sigmoid, "relu": torch.nn.ReLU}[activation]
        nn = torch.nn
        self.features = nn.Sequential(nn.Conv2d(in_channels, 6, kernel_size=5, padding=2), act(),
                                      nn.AvgPool2d(kernel_size=2, stride=2), nn.Conv2d(6, 16, kernel_size=5), act(),
                                      nn.AvgPool2d(kernel_size=2, stride=2))
        self.classifier = nn.Sequential(nn.Linear(400, 120), act(), nn.Linear(120, 84), act(),
                                        nn.Linear(84, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


class AlexNetLRN(torch.nn.Module):
    """The paper's AlexNet (one tower, LRN after the first two ReLUs) in PyTorch."""

    def __init__(self, num_classes=1000, dropout=0.5, in_channels=3):
        super().__init__()
        nn = torch.nn
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 96, kernel_size=11, stride=4), nn.ReLU(inplace=True),
            nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0), nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(96, 256, kernel_size=5, padding=2), nn.ReLU(inplace=True),
            nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0), nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(256, 384, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 384, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True),
            nn.Dropout(p=dropout), nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Linear(4096, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


def notes_vgg(conv_arch, num_classes=10, in_channels=1, image_size=224, hidden_features=4096, dropout=0.5):
    """Dive into Deep Learning's ``vgg_block`` / ``vgg`` in PyTorch (its 7 * 7 and 4096 made arguments)."""
    nn = torch.nn

    def vgg_block(num_convs, in_channels, out_channels):
        layers = []
        for _ in range(num_convs):
            layers += [nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1), nn.ReLU()]
            in_channels = out_channels
        layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        return nn.Sequential(*layers)

    blocks = []
    for num_convs, out_channels in conv_arch:
        blocks.append(vgg_block(num_convs, in_channels, out_channels))
        in_channels = out_channels
    side = image_size // 2 ** len(conv_arch)
    return nn.Sequential(*blocks, nn.Flatten(),
                         nn.Linear(in_channels * side * side, hidden_features), nn.ReLU(), nn.Dropout(dropout),
                         nn.Linear(hidden_features, hidden_features), nn.ReLU(), nn.Dropout(dropout),
                         nn.Linear(hidden_features, num_classes))


def replace_conv(model, path, in_channels=None, **changes):
    """``model`` with the Conv2d at dotted ``path`` rebuilt with another ``in_channels`` (or kernel_size, stride,
    padding): how a torchvision user adapts the stem to gray images or CIFAR."""
    *parents, last = path.split(".")
    owner = model
    for name in parents:
        owner = getattr(owner, name)
    old = getattr(owner, last)
    args = dict(kernel_size=old.kernel_size, stride=old.stride, padding=old.padding, bias=old.bias is not None)
    args.update(changes)
    setattr(owner, last, torch.nn.Conv2d(in_channels or old.in_channels, old.out_channels, **args))
    return model


def cifar_resnet(model):
    """torchvision's ResNet with the CIFAR stem: 3x3 stride-1 conv, no max pool."""
    replace_conv(model, "conv1", kernel_size=3, stride=1, padding=1)
    model.maxpool = torch.nn.Identity()
    return model


NOTES_VGG11 = ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512))
NOTES_SMALL = ((1, 8), (1, 16), (2, 32))


# ------------------------------------------------------------------------------------------------- the tables
@dataclass
class Case:
    """A model of ours (``ours()``) and PyTorch's equivalent (``ref(tv)``, tv = torchvision's model modules)."""
    name: str
    ours: object
    ref: object
    size: int = 32     # input H = W for PARITY
    batch: int = 2
    channels: int = 3
    modes: tuple = ("eval", "train")


STRUCTURE = [
    Case("lenet", lambda: M.lenet(), lambda tv: LeNet()),
    Case("alexnet", lambda: M.alexnet(), lambda tv: tv.alexnet.alexnet()),
    Case("alexnet_lrn", lambda: M.alexnet_lrn(), lambda tv: AlexNetLRN()),
    *[Case(name, getattr(M, name), lambda tv, name=name: getattr(tv.vgg, name)())
      for name in ("vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn")],
    Case("notes_vgg11", lambda: M.vgg_net(NOTES_VGG11), lambda tv: notes_vgg(NOTES_VGG11)),
    Case("googlenet", lambda: M.googlenet(), lambda tv: tv.googlenet.googlenet(init_weights=True)),
    Case("googlenet_no_aux", lambda: M.googlenet(aux_logits=False),
         lambda tv: tv.googlenet.googlenet(aux_logits=False, init_weights=True)),
    *[Case(name, getattr(M, name), lambda tv, name=name: getattr(tv.resnet, name)())
      for name in ("resnet18", "resnet34", "resnet50")],
    Case("resnet18_cifar", lambda: M.resnet18(cifar_stem=True), lambda tv: cifar_resnet(tv.resnet.resnet18())),
    Case("alexnet_gray", lambda: M.alexnet(in_channels=1),
         lambda tv: replace_conv(tv.alexnet.alexnet(), "features.0", 1)),
    Case("vgg16_gray", lambda: M.vgg16(in_channels=1), lambda tv: replace_conv(tv.vgg.vgg16(), "features.0", 1)),
    Case("googlenet_gray", lambda: M.googlenet(in_channels=1),
         lambda tv: replace_conv(tv.googlenet.googlenet(init_weights=True), "conv1.conv", 1)),
    Case("resnet50_gray", lambda: M.resnet50(in_channels=1), lambda tv: replace_conv(tv.resnet.resnet50(), "conv1", 1)),
]

# Train mode differs from eval mode through batch norm (batch statistics, running-statistics updates), dropout and
# GoogLeNet's auxiliary heads. It runs where one of those is present and the input leaves batch norm several values
# per channel in every layer (resnet18_cifar: 2x2 maps x batch 2 at the end; resnet50 and googlenet_train: 1x1 x
# batch 4);
# the other rows run in eval mode only, which keeps the file fast. Rows without batch norm set dropout to 0 for
# train mode, except AlexNet, which keeps dropout 0.5 and runs in eval mode, where dropout must be off.
PARITY = [
    Case("lenet", lambda: M.lenet(), lambda tv: LeNet(), size=28, channels=1),
    Case("lenet_relu_rgb", lambda: M.lenet(num_classes=5, in_channels=3, activation="relu"),
         lambda tv: LeNet(5, 3, "relu"), size=31),
    Case("alexnet", lambda: M.alexnet(num_classes=10), lambda tv: tv.alexnet.AlexNet(num_classes=10), size=63,
         modes=("eval",)),
    Case("alexnet_lrn", lambda: M.alexnet_lrn(num_classes=10, dropout=0.0),
         lambda tv: AlexNetLRN(num_classes=10, dropout=0.0), size=227, batch=1, modes=("train",)),
    Case("vgg11_bn_gray", lambda: M.vgg11_bn(num_classes=10, dropout=0.0, in_channels=1),
         lambda tv: replace_conv(tv.vgg.vgg11_bn(num_classes=10, dropout=0.0), "features.0", 1), channels=1,
         modes=("eval",)),
    Case("vgg19_bn", lambda: M.vgg19_bn(num_classes=10), lambda tv: tv.vgg.vgg19_bn(num_classes=10), batch=1,
         modes=("eval",)),
    Case("notes_vgg_small", lambda: M.vgg_net(NOTES_SMALL, image_size=32, hidden_features=64, dropout=0.0),
         lambda tv: notes_vgg(NOTES_SMALL, image_size=32, hidden_features=64, dropout=0.0), channels=1),
    Case("googlenet_train", lambda: M.googlenet(num_classes=10, dropout=0.0, dropout_aux=0.0),
         lambda tv: tv.googlenet.GoogLeNet(num_classes=10, dropout=0.0, dropout_aux=0.0, init_weights=False),
         size=32, batch=4, modes=("train",)),

    Case("googlenet_transform_input", lambda: M.googlenet(num_classes=10, aux_logits=False, transform_input=True),
         lambda tv: tv.googlenet.GoogLeNet(num_classes=10, aux_logits=False, transform_input=True, init_weights=False),
         size=24, modes=("eval",)),
    Case("googlenet_gray_min_size", lambda: M.googlenet(num_classes=3, in_channels=1),
         lambda tv: replace_conv(tv.googlenet.GoogLeNet(num_classes=3, init_weights=False), "conv1.conv", 1),
         size=15, channels=1, modes=("eval",)),
    Case("resnet18", lambda: M.resnet18(num_classes=10), lambda tv: tv.resnet.resnet18(num_classes=10),
         modes=("eval",)),
    Case("resnet34", lambda: M.resnet34(num_classes=10), lambda tv: tv.resnet.resnet34(num_classes=10), size=16,
         modes=("eval",)),
    Case("resnet50", lambda: M.resnet50(num_classes=10), lambda tv: tv.resnet.resnet50(num_classes=10), batch=4),
    Case("resnet18_cifar", lambda: M.resnet18(num_classes=10, cifar_stem=True),
         lambda tv: cifar_resnet(tv.resnet.resnet18(num_classes=10)), size=12),
    Case("resnet18_gray", lambda: M.resnet18(num_classes=3, in_channels=1),
         lambda tv: replace_conv(tv.resnet.resnet18(num_classes=3), "conv1", 1), size=8, channels=1,
         modes=("eval",)),
]


STRUCTURES = {case.name: case for case in STRUCTURE}


def _ids(cases):
    return [c.name for c in cases]


# ------------------------------------------------------------------------------------------------------ helpers
@pytest.fixture(scope="module", autouse=True)
def one_thread_each():
    """NumPy's BLAS and torch on one thread each while these tests run. On two shared cores, BLAS's and torch's
    thread pools spin against each other: the training test took 100 s with the defaults and 1.5 s like this."""
    torch_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(limits=1):
        yield
    torch.set_num_threads(torch_threads)


@pytest.fixture
def fast_init(monkeypatch):
    """Replace ganglion's random initializers by no-ops, for models whose every value is overwritten next."""
    def keep(tensor, *args, **kwargs):
        return tensor

    for name in ("uniform_", "normal_", "trunc_normal_", "kaiming_normal_", "kaiming_uniform_", "constant_"):
        monkeypatch.setattr(ginit, name, keep)


def build_ref(case, device=None):
    tv = load_or_skip()
    if device is None:
        return case.ref(tv)
    with torch.device(device):
        return case.ref(tv)


def randomize(model, seed=0):
    """Fill every parameter and buffer of a PyTorch model with seeded random values of a sensible scale: weights
    of variance 2 / fan_in (activations keep their size through ReLUs), biases N(0, 0.1^2), BN scales
    U(0.5, 1.5), running means N(0, 0.1^2), running variances U(0.5, 1.5)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.ndim >= 2:  # uniform, std sqrt(2 / fan_in): a uniform draw is cheaper than a normal one
                bound = math.sqrt(3.0) * math.sqrt(2.0 / (p.numel() // p.shape[0]))
                p.uniform_(-bound, bound, generator=gen)
            elif name.endswith("weight"):
                p.uniform_(0.5, 1.5, generator=gen)
            else:
                p.normal_(0.0, 0.1, generator=gen)
        for name, b in model.named_buffers():
            if name.endswith("running_mean"):
                b.normal_(0.0, 0.1, generator=gen)
            elif name.endswith("running_var"):
                b.uniform_(0.5, 1.5, generator=gen)
            elif name.endswith("num_batches_tracked"):
                b.fill_(7)
    return model


def as_numpy_state(model):
    return {k: v.detach().numpy() for k, v in model.state_dict().items()}


def assert_close(ours, ref, what, rtol=1e-4, atol=1e-4):
    """Elementwise |ours - ref| <= atol * max(1, max|ref|) + rtol |ref|."""
    ours, ref = np.asarray(ours), np.asarray(ref)
    assert ours.shape == ref.shape, f"{what}: shape {ours.shape} != PyTorch's {ref.shape}"
    scale = max(1.0, float(np.abs(ref).max())) if ref.size else 1.0
    np.testing.assert_allclose(ours, ref, rtol=rtol, atol=atol * scale, err_msg=what)


def outputs_of(out):
    """A model's outputs as a tuple of tensors (GoogLeNet's GoogLeNetOutputs, or one tensor)."""
    return tuple(out) if isinstance(out, tuple) else (out,)


# -------------------------------------------------------------------------------------------------- structure
@pytest.mark.parametrize("case", STRUCTURE, ids=_ids(STRUCTURE))
def test_structure_matches_pytorch(case, fast_init):
    ref = build_ref(case, device="meta")
    ours = case.ours()
    ref_state, our_state = ref.state_dict(), ours.state_dict()
    assert list(our_state) == list(ref_state)
    for key, value in ref_state.items():
        assert tuple(our_state[key].shape) == tuple(value.shape), key
    assert sum(p.numel() for p in ours.parameters()) == sum(p.numel() for p in ref.parameters())
    assert repr(ours) == repr(ref)


def test_parameter_counts_match_torchvision_published(fast_init):
    """The counts torchvision publishes with its ImageNet weights (``meta["num_params"]``)."""
    tv = load_or_skip()
    published = {
        "alexnet": tv.alexnet.AlexNet_Weights, "vgg11": tv.vgg.VGG11_Weights, "vgg16_bn": tv.vgg.VGG16_BN_Weights,
        "googlenet": tv.googlenet.GoogLeNet_Weights, "resnet18": tv.resnet.ResNet18_Weights,
        "resnet50": tv.resnet.ResNet50_Weights,
    }
    for name, weights in published.items():
        # torchvision's googlenet counts the model it ships, without the auxiliary heads
        model = M.googlenet(aux_logits=False) if name == "googlenet" else getattr(M, name)()
        assert sum(p.numel() for p in model.parameters()) == weights.IMAGENET1K_V1.meta["num_params"], name


# ----------------------------------------------------------------------------------------------------- parity
def sampled(array, count=100_000, seed=0):
    """``array`` flattened, or a fixed sample of ``count`` of its entries when it is larger (VGG's 100M-entry
    classifier gradients: comparing a sample finds a wrong layout or formula as surely, in a fraction of the time)."""
    flat = np.asarray(array).reshape(-1)
    if flat.size <= count:
        return flat
    return flat[np.random.default_rng(seed).integers(0, flat.size, count)]


def backward_of(outputs, upstream, tensor):
    """Backward of sum(output * upstream) over a model's outputs."""
    sum((o * tensor(u)).sum() for o, u in zip(outputs, upstream)).backward()


@pytest.mark.parametrize("case", PARITY, ids=_ids(PARITY))
def test_forward_and_backward_match_pytorch(case, fast_init):
    """Eval-mode outputs in float32; then, in float64, eval and/or train mode (as the row says): outputs, input
    gradient, every parameter's gradient, and after train mode the running statistics and counters it updated.

    Why float64 for the gradients: a ReLU whose input lies within rounding error of 0 passes gradient in one
    framework and not in the other, and with a million ReLUs that happens in float32 (one flip moves a whole
    region of the input gradient). And in train mode batch norm normalizes with the batch's own statistics; on
    the small inputs these tests afford the last stages hold few values per channel, which makes float32 rounding
    differences grow. In float64 both stay far below the tolerance, so the comparison tests the formulas.
    """
    ref = randomize(build_ref(case, device="meta").to_empty(device="cpu"))
    ours = case.ours()
    ours.load_state_dict(as_numpy_state(ref))
    rng = np.random.default_rng(1)
    x = rng.standard_normal((case.batch, case.channels, case.size, case.size))

    ref.eval()
    ours.eval()
    with torch.no_grad(), ganglion.no_grad():
        out32_ref = ref(torch.from_numpy(x.astype(np.float32)))
        out32_ours = ours(ganglion.from_numpy(x.astype(np.float32)))
    for i, (o_ours, o_ref) in enumerate(zip(outputs_of(out32_ours), outputs_of(out32_ref))):
        assert o_ours.numpy().dtype == np.float32
        assert_close(o_ours.numpy(), o_ref.numpy(), f"{case.name} eval float32: output {i}")

    ref.double()
    ours.double()
    for mode in case.modes:
        what = f"{case.name} {mode}"
        ref.train(mode == "train")
        ours.train(mode == "train")
        ref.zero_grad()
        ours.zero_grad()
        # from_numpy keeps float64 (ganglion.tensor would give the default float32)
        x_ref, x_ours = torch.from_numpy(x.copy()).requires_grad_(), ganglion.from_numpy(x.copy()).requires_grad_()
        out_ref = ref(x_ref)
        upstream = [rng.standard_normal(tuple(o.shape)) for o in outputs_of(out_ref)]
        backward_of(outputs_of(out_ref), upstream, torch.from_numpy)
        out_ours = ours(x_ours)
        backward_of(outputs_of(out_ours), upstream, ganglion.from_numpy)

        assert type(out_ours).__name__ == type(out_ref).__name__, what
        if isinstance(out_ref, tuple):
            assert out_ours._fields == out_ref._fields
        for i, (o_ours, o_ref) in enumerate(zip(outputs_of(out_ours), outputs_of(out_ref))):
            assert_close(o_ours.detach().numpy(), o_ref.detach().numpy(), f"{what}: output {i}")
        assert_close(x_ours.grad.numpy(), x_ref.grad.numpy(), f"{what}: input gradient")
        our_params = dict(ours.named_parameters())
        for name, p in ref.named_parameters():
            if p.grad is None:  # a head unused in this mode (GoogLeNet's aux heads in eval mode)
                assert our_params[name].grad is None, f"{what}: {name} has a gradient, PyTorch's has none"
                continue
            assert_close(sampled(our_params[name].grad.numpy()), sampled(p.grad.numpy()),
                         f"{what}: gradient of {name}")
        if mode == "train":
            our_state = ours.state_dict()
            for name, b in ref.named_buffers():
                assert_close(our_state[name].numpy(), b.numpy(), f"{case.name}: {name} after a training step")


def test_googlenet_eval_gives_logits_and_training_without_aux_too():
    """Eval mode returns a plain tensor even with aux heads; training with aux_logits=False a plain tensor too."""
    model = M.googlenet(num_classes=3)
    x = ganglion.tensor(np.random.default_rng(0).standard_normal((2, 3, 15, 15)).astype(np.float32))
    model.eval()
    assert isinstance(model(x), ganglion.Tensor)
    model.train()
    out = model(x)
    assert isinstance(out, M.GoogLeNetOutputs) and [tuple(o.shape) for o in out] == [(2, 3)] * 3
    model.aux_logits = False
    assert isinstance(model(x), ganglion.Tensor)


# -------------------------------------------------------------------------------------------------- bad input
BAD_SIZES = [  # (id, our model, PyTorch's, smallest accepted size, a refused size, the model's name in the message)
    ("alexnet", lambda: M.alexnet(), lambda tv: tv.alexnet.alexnet(), 63, 62, "AlexNet"),
    ("vgg11", lambda: M.vgg11(), lambda tv: tv.vgg.vgg11(), 32, 31, "VGG"),
    ("vgg19_bn", lambda: M.vgg19_bn(), lambda tv: tv.vgg.vgg19_bn(), 32, 20, "VGG"),
    ("googlenet", lambda: M.googlenet(), lambda tv: tv.googlenet.googlenet(init_weights=True), 15, 14, "GoogLeNet"),
    ("lenet", lambda: M.lenet(), lambda tv: LeNet(), 28, 27, "LeNet"),
    ("alexnet_lrn", lambda: M.alexnet_lrn(), lambda tv: AlexNetLRN(), 227, 226, "AlexNetLRN"),
]


@pytest.mark.parametrize("name, ours, ref, smallest, refused, model_name", BAD_SIZES, ids=[r[0] for r in BAD_SIZES])
def test_too_small_input_names_model_and_minimum(name, ours, ref, smallest, refused, model_name, fast_init):
    """Our minimum is PyTorch's: its model (on the meta device: shapes only) runs at ``smallest`` and fails one
    pixel below; ours refuses below with a ValueError naming the model and the minimum, before any layer runs."""
    tv = load_or_skip()
    with torch.device("meta"):
        ref_model = ref(tv).eval()
    channels = 1 if name == "lenet" else 3
    ref_model(torch.empty(1, channels, smallest, smallest, device="meta"))
    with pytest.raises(RuntimeError):
        ref_model(torch.empty(1, channels, smallest - 1, smallest - 1, device="meta"))
    model = ours().eval()
    with pytest.raises(ValueError) as err:
        model(ganglion.zeros(1, channels, refused, smallest))
    assert str(err.value).startswith(f"{model_name}: ")
    assert f"{refused}x{smallest}" in str(err.value) and f"minimum is {smallest}x{smallest}" in str(err.value)


@pytest.mark.parametrize("build, size, words", [
    (lambda: M.lenet(), 32, ["LeNet", "32x32", "31x31"]),
    (lambda: M.alexnet_lrn(), 259, ["AlexNetLRN", "259x259", "258x258"]),
], ids=["lenet", "alexnet_lrn"])
def test_too_large_input_for_fixed_size_classifier(build, size, words, fast_init):
    channels = 1 if "lenet" in words[0].lower() else 3
    with pytest.raises(ValueError) as err:
        build()(ganglion.zeros(1, channels, size, size))
    for word in words:
        assert word in str(err.value)


@pytest.mark.parametrize("shape, words", [
    ((1, 1, 32, 32), ["ResNet", "(N, 3, H, W)", "(1, 1, 32, 32)"]),
    ((3, 32, 32), ["ResNet", "(N, 3, H, W)", "(3, 32, 32)"]),
])
def test_wrong_channels_or_rank_is_refused(shape, words):
    model = M.resnet18(num_classes=2, widths=(4, 4, 4, 4))
    with pytest.raises(ValueError) as err:
        model(ganglion.zeros(*shape))
    for word in words:
        assert word in str(err.value)


# ------------------------------------------------------------------------------------------------ weights
SMALL = dict(widths=(4, 8, 8, 16), cifar_stem=True)


def test_weights_file_round_trip(tmp_path):
    source = M.resnet18(num_classes=10, **SMALL)
    path = tmp_path / "resnet.safetensors"
    ganglion.save(source.state_dict(), path)
    loaded = M.resnet18(weights=path, num_classes=10, **SMALL)
    for (key, a), (key2, b) in zip(source.state_dict().items(), loaded.state_dict().items()):
        assert key == key2
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=key)


@pytest.mark.parametrize("how", ["load_state_dict", "weights="])
def test_wrong_num_classes_names_key_and_both_shapes(tmp_path, how):
    """A StateDictError: a RuntimeError, as PyTorch raises, and a ValueError, as the value is wrong."""
    path = tmp_path / "five.safetensors"
    five = M.resnet18(num_classes=5, **SMALL)
    ganglion.save(five.state_dict(), path)
    with pytest.raises(ValueError) as err:
        if how == "weights=":
            M.resnet18(weights=path, num_classes=10, **SMALL)
        else:
            M.resnet18(num_classes=10, **SMALL).load_state_dict(five.state_dict())
    message = str(err.value)
    assert isinstance(err.value, RuntimeError)
    for word in ("fc.weight", "(5, 16)", "(10, 16)", "fc.bias", "(5,)", "(10,)"):
        assert word in message


def test_torchvision_checkpoint_loads_and_googlenet_drops_aux_heads(tmp_path):
    """A state_dict written from torchvision's own model (what ``ganglion convert`` makes of a .pth) loads key for
    key; ``aux_logits=False`` drops the heads the file has, as torchvision does."""
    from safetensors.torch import save_file

    tv_model = randomize(build_ref(STRUCTURES["googlenet"], device="meta").to_empty(device="cpu"))
    path = tmp_path / "googlenet.safetensors"
    save_file({k: v.contiguous() for k, v in tv_model.state_dict().items()}, str(path))
    with_aux = M.googlenet(weights=path)
    without = M.googlenet(weights=path, aux_logits=False)
    assert without.aux1 is None and without.aux2 is None and not without.aux_logits
    assert not any(k.startswith("aux") for k in without.state_dict())
    ref_state = tv_model.state_dict()
    assert list(with_aux.state_dict()) == list(ref_state)
    for key, value in without.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), ref_state[key].numpy(), err_msg=key)
    without.train()
    out = without(ganglion.zeros(2, 3, 15, 15))
    assert isinstance(out, ganglion.Tensor) and tuple(out.shape) == (2, 1000)


@pytest.mark.parametrize("weights, error, words", [
    ("IMAGENET1K_V1", FileNotFoundError, ["ResNet", "IMAGENET1K_V1", "downloads nothing", "ganglion convert"]),
    (123, TypeError, ["ResNet", "123", "path"]),
])
def test_weights_other_than_none_or_a_file_are_refused(weights, error, words):
    with pytest.raises(error) as err:
        M.resnet18(weights=weights, **SMALL)
    for word in words:
        assert word in str(err.value)


# --------------------------------------------------------------------------------------------- initialization
def test_initialization_follows_torchvision():
    """ResNet: conv weights N(0, 2 / fan_out), BN scale 1 and shift 0, zero_init_residual zeroes each block's last
    BN scale. GoogLeNet: conv and linear weights N(0, 0.01^2)."""
    ganglion.manual_seed(0)
    resnet = M.resnet18(num_classes=3, widths=(16, 32, 64, 128), zero_init_residual=True)
    weight = resnet.layer4[1].conv2.weight.detach().numpy()  # 128 x 128 x 3 x 3
    assert abs(weight.std() / math.sqrt(2.0 / (128 * 9)) - 1) < 0.03
    for name, module in resnet.named_modules():
        if isinstance(module, ganglion.nn.BatchNorm2d):
            expected = 0.0 if name.endswith("bn2") else 1.0
            np.testing.assert_array_equal(module.weight.detach().numpy(), expected, err_msg=name)
            np.testing.assert_array_equal(module.bias.detach().numpy(), 0.0, err_msg=name)
    googlenet = M.googlenet(num_classes=3)
    fc_weight = googlenet.aux1.fc1.weight.detach().numpy()  # 1024 x 2048
    assert abs(fc_weight.std() / 0.01 - 1) < 0.02 and abs(fc_weight.mean()) < 1e-4


# ------------------------------------------------------------------------------------------------- training
def shapes_dataset(n, rng):
    """n RGB 32x32 images of 4 classes, noisy, each object at a random place: 0 a red square, 1 a green square,
    2 horizontal stripes, 3 vertical stripes. Labels cycle 0, 1, 2, 3."""
    images = rng.normal(0.0, 0.15, (n, 3, 32, 32)).astype(np.float32)
    labels = np.arange(n) % 4
    for image, label in zip(images, labels):
        top, left = rng.integers(0, 20, 2)
        if label < 2:
            image[label, top:top + 12, left:left + 12] += 1.0
        else:
            stripes = (np.arange(32) // 2) % 2 == 0
            if label == 2:
                image[:, stripes, :] += 0.8
            else:
                image[:, :, stripes] += 0.8
    return images, labels


def test_small_cifar_resnet18_learns_a_synthetic_four_class_problem():
    """ResNet-18 with the CIFAR stem at widths 8-16-32-64: Adam, 3 epochs of 96 images (9 steps), then at least
    90% on 64 held-out images (chance: 25%)."""
    ganglion.manual_seed(0)
    rng = np.random.default_rng(0)
    train_x, train_y = shapes_dataset(96, rng)
    test_x, test_y = shapes_dataset(64, rng)
    model = M.resnet18(num_classes=4, widths=(8, 16, 32, 64), cifar_stem=True)
    optimizer = ganglion.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    for epoch in range(3):
        order = rng.permutation(len(train_x))
        for start in range(0, len(order), 32):
            batch = order[start:start + 32]
            loss = GF.cross_entropy(model(ganglion.tensor(train_x[batch])), ganglion.tensor(train_y[batch]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    model.eval()
    with ganglion.no_grad():
        predicted = model(ganglion.tensor(test_x)).numpy().argmax(1)
    accuracy = (predicted == test_y).mean()
    assert accuracy >= 0.9, f"accuracy {accuracy:.2f}"
