"""Fine-tuning helpers (nn.utils.freeze / unfreeze / replace_head / param_groups) and a worked example: a small
CNN trained on digits 0-4, saved, loaded, given a new head and fine-tuned on digits 5-9 beats the same network
trained from scratch on the same small budget (mean over 3 seeds). Also: frozen batch norms stay in evaluation
mode through model.train(), and a frozen Keras BatchNormalization runs in inference mode as in Keras 3."""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import ganglion  # noqa: E402
from ganglion import nn, optim  # noqa: E402
from ganglion.data.datasets import load_digits  # noqa: E402
from ganglion.nn import functional as F  # noqa: E402
from ganglion.nn.utils import freeze, param_groups, replace_head, unfreeze  # noqa: E402


class SmallCNN(nn.Module):
    """(n, 1, 8, 8) -> (n, num_classes): two conv-BN-ReLU-pool blocks and a Linear head ``fc``."""

    def __init__(self, num_classes=5):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Flatten())
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x):
        return self.fc(self.features(x))


def _frozen_names(model):
    return sorted(name for name, p in model.named_parameters() if not p.requires_grad)


CONV_BLOCK_1 = ["features.0.bias", "features.0.weight", "features.1.bias", "features.1.weight"]
FEATURES = sorted(CONV_BLOCK_1 + ["features.4.bias", "features.4.weight", "features.5.bias", "features.5.weight"])


@pytest.mark.parametrize("how, frozen", [
    ({"until": "features.4"}, CONV_BLOCK_1),
    ({"until": "fc"}, FEATURES),
    ({"until": lambda m: m.features[4]}, CONV_BLOCK_1),
    ({"names": ["features.0", "features.1"]}, CONV_BLOCK_1),
    ({"names": "features"}, FEATURES),
    ({"names": lambda m: [m.fc]}, ["fc.bias", "fc.weight"]),
    ({}, sorted(FEATURES + ["fc.bias", "fc.weight"])),
])
def test_freeze_selects_by_position_name_or_module(how, frozen):
    model = SmallCNN()
    how = {k: (v(model) if callable(v) else v) for k, v in how.items()}
    assert sorted(freeze(model, **how)) == frozen
    assert _frozen_names(model) == frozen
    assert sorted(unfreeze(model, **how)) == frozen
    assert _frozen_names(model) == []


def test_frozen_batch_norm_stays_in_eval_mode_through_train():
    model = SmallCNN()
    freeze(model, until="features.4")
    model.train()
    assert not model.features[1].training and model.features[5].training and model.training
    before = model.features[1].running_mean.numpy().copy()
    model(ganglion.tensor(np.random.default_rng(0).standard_normal((4, 1, 8, 8)).astype(np.float32)) + 3.0)
    np.testing.assert_array_equal(model.features[1].running_mean.numpy(), before)
    assert not np.allclose(model.features[5].running_mean.numpy(), 0.0)  # the trainable one did update
    model.eval()
    unfreeze(model, until="features.4")
    assert not model.features[1].training  # takes the model's current mode
    model.train()
    assert model.features[1].training


@pytest.mark.parametrize("call, error, message", [
    (lambda m: freeze(m, until="layer3"), ValueError, r"no submodule 'layer3'.*\['features', 'fc'\]"),
    (lambda m: freeze(m, until="fc", names=["features"]), ValueError, r"until= or names=, not both"),
    (lambda m: freeze(m, names=[nn.Linear(2, 2)]), ValueError, r"Linear given is not a submodule"),
    (lambda m: freeze(m, until=3), TypeError, r"until: expected a submodule's name or the submodule, got int"),
    (lambda m: replace_head(m, 0), ValueError, r"num_classes must be a positive int, got 0"),
    (lambda m: replace_head(m.features, 3), ValueError, r"Sequential has no Linear head.*model\.fc"),
    (lambda m: param_groups(m, 1e-3, 1e-2, head="features.2"), ValueError, r"'features.2' has no trainable"),
])
def test_errors_name_the_argument(call, error, message):
    with pytest.raises(error, match=message):
        call(SmallCNN())


class WithClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(4, 6)
        self.classifier = nn.Sequential(nn.Linear(6, 6), nn.ReLU(), nn.Linear(6, 3), nn.Softmax(dim=1))


@pytest.mark.parametrize("model, attribute, keys", [
    (SmallCNN, "fc", None),
    (WithClassifier, "classifier.2", ["body.weight", "body.bias", "classifier.0.weight", "classifier.0.bias",
                                      "classifier.2.weight", "classifier.2.bias"]),
])
def test_replace_head_keeps_position_and_in_features(model, attribute, keys):
    model = model()
    order = list(model.state_dict())
    new = replace_head(model, 7)
    assert dict(model.named_modules())[attribute] is new
    assert tuple(new.weight.shape)[0] == 7 and new.bias is not None
    assert list(model.state_dict()) == order
    if keys is not None:
        assert order == keys and isinstance(model.classifier[3], nn.Softmax)


def test_param_groups_give_each_part_its_learning_rate():
    model = SmallCNN()
    freeze(model, until="features.4")
    groups = param_groups(model, backbone_lr=0.0, head_lr=0.5, momentum=0.0)
    assert [g["lr"] for g in groups] == [0.0, 0.5] and groups[0]["momentum"] == 0.0
    assert {id(p) for p in groups[1]["params"]} == {id(model.fc.weight), id(model.fc.bias)}
    assert len(groups[0]["params"]) == 4  # features.4 and .5; the frozen block is left out
    before = {name: p.detach().numpy().copy() for name, p in model.named_parameters()}
    opt = optim.SGD(groups, lr=0.1)
    F.cross_entropy(model(ganglion.randn(4, 1, 8, 8)), ganglion.tensor(np.array([0, 1, 2, 3]))).backward()
    grad = model.fc.weight.grad.numpy().copy()
    opt.step()
    np.testing.assert_allclose(model.fc.weight.detach().numpy(), before["fc.weight"] - 0.5 * grad, rtol=1e-6, atol=1e-7)
    for name in FEATURES:
        np.testing.assert_array_equal(dict(model.named_parameters())[name].detach().numpy(), before[name])


# ------------------------------------------------------------------------------------------- the worked example
def _train(model, optimizer, x, y, steps, seed, batch_size=32):
    rng = np.random.default_rng(seed)
    model.train()
    for _ in range(steps):
        idx = rng.choice(len(x), min(batch_size, len(x)), replace=False)
        loss = F.cross_entropy(model(ganglion.tensor(x[idx])), ganglion.tensor(y[idx]))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def _accuracy(model, x, y):
    model.eval()
    with ganglion.no_grad():
        return float((model(ganglion.tensor(x)).numpy().argmax(axis=1) == y).mean())


def test_fine_tuning_beats_training_from_scratch_on_a_small_budget(tmp_path):
    X, Y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    old, new = Y < 5, Y >= 5

    ganglion.manual_seed(0)
    pretrained = SmallCNN(num_classes=5)
    _train(pretrained, optim.Adam(pretrained.parameters(), lr=1e-2), X[old], Y[old], steps=150, seed=0)
    assert _accuracy(pretrained, X[old], Y[old]) > 0.9
    ganglion.save(pretrained.state_dict(), tmp_path / "digits0-4.safetensors")

    x_new, y_new = X[new], Y[new] - 5
    budget = {"steps": 10}  # 10 Adam steps on 40 labelled examples of the new digits
    fine_tuned, scratch = [], []
    for seed in range(3):
        order = np.random.default_rng(seed).permutation(len(x_new))
        train_idx, test_idx = order[:40], order[200:]

        ganglion.manual_seed(seed)
        model = SmallCNN(num_classes=5)
        model.load_state_dict(ganglion.load(tmp_path / "digits0-4.safetensors"))
        replace_head(model, 5)
        freeze(model, until="features.4")
        frozen_before = model.features[0].weight.numpy().copy(), model.features[1].running_var.numpy().copy()
        optimizer = optim.Adam(param_groups(model, backbone_lr=3e-3, head_lr=1e-2))
        _train(model, optimizer, x_new[train_idx], y_new[train_idx], seed=seed, **budget)
        np.testing.assert_array_equal(model.features[0].weight.numpy(), frozen_before[0])
        np.testing.assert_array_equal(model.features[1].running_var.numpy(), frozen_before[1])
        fine_tuned.append(_accuracy(model, x_new[test_idx], y_new[test_idx]))

        ganglion.manual_seed(seed)
        baseline = SmallCNN(num_classes=5)
        _train(baseline, optim.Adam(baseline.parameters(), lr=1e-2), x_new[train_idx], y_new[train_idx], seed=seed,
               **budget)
        scratch.append(_accuracy(baseline, x_new[test_idx], y_new[test_idx]))
    assert np.mean(fine_tuned) > np.mean(scratch) + 0.03, (fine_tuned, scratch)


# -------------------------------------------------------------------------------------------------- Keras face
def test_frozen_keras_batch_normalization_runs_in_inference_mode_as_keras():
    keras = pytest.importorskip("keras")
    import ganglion.keras as gk

    rng = np.random.default_rng(0)
    x = (rng.standard_normal((6, 3)) * 2 + 1).astype(np.float32)
    weights = [rng.uniform(0.5, 1.5, 3), rng.standard_normal(3), rng.standard_normal(3), rng.uniform(0.5, 2.0, 3)]
    weights = [w.astype(np.float32) for w in weights]
    ours, theirs = gk.layers.BatchNormalization(), keras.layers.BatchNormalization()
    for layer in (ours, theirs):
        layer.build((None, 3))
        layer.set_weights(weights)
        layer.trainable = False
    got = ours(ganglion.tensor(x), training=True)
    want = theirs(x, training=True)
    want = want.detach().cpu().numpy() if hasattr(want, "detach") else np.asarray(want)
    np.testing.assert_allclose(got.detach().numpy(), want, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got.detach().numpy(), ours(ganglion.tensor(x), training=False).detach().numpy())
    for w, v in zip(ours.get_weights(), weights):
        np.testing.assert_array_equal(w, v)  # moving statistics untouched
