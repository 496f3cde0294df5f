"""nn.Module: registration, traversal, modes, state_dict (with PyTorch in both directions), repr, Parameter."""

import numpy as np
import pytest
import torch

import ganglion as g
from ganglion import nn


def mlp_ganglion():
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 6), nn.ReLU(), nn.Linear(6, 3))


def mlp_torch():
    return torch.nn.Sequential(
        torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 6), torch.nn.ReLU(), torch.nn.Linear(6, 3)
    )


class Net(nn.Module):
    """A nested model: a Sequential encoder, a head, a bare Parameter and a plain (unregistered) tensor."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 5))
        self.head = nn.Linear(5, 3)
        self.scale = nn.Parameter(g.ones(3))
        self.not_a_param = g.zeros(2)
        self.note = "plain attribute"

    def forward(self, x):
        return self.head(self.encoder(x)) * self.scale


class TorchNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Tanh(), torch.nn.Linear(5, 5))
        self.head = torch.nn.Linear(5, 3)
        self.scale = torch.nn.Parameter(torch.ones(3))
        self.not_a_param = torch.zeros(2)

    def forward(self, x):
        return self.head(self.encoder(x)) * self.scale


# ------------------------------------------------------------------------------------------------ registration
def test_attribute_assignment_registers_parameters_and_submodules():
    net = Net()
    assert list(net._modules) == ["encoder", "head"]
    assert list(net._parameters) == ["scale"]
    params = list(net.parameters())
    assert len(params) == 7  # 3 Linear layers x (weight, bias) + scale
    assert all(isinstance(p, nn.Parameter) for p in params)
    assert not any(p is net.not_a_param for p in params)
    assert params[0] is net.scale  # own parameters first, then children depth-first (PyTorch's order)
    assert params[1] is net.encoder[0].weight and params[-1] is net.head.bias
    assert net.note == "plain attribute"


def test_named_parameters_and_state_dict_keys_match_torch():
    names = [n for n, _ in Net().named_parameters()]
    assert names == [n for n, _ in TorchNet().named_parameters()]
    assert names == ["scale", "encoder.0.weight", "encoder.0.bias", "encoder.2.weight", "encoder.2.bias",
                     "head.weight", "head.bias"]
    assert list(Net().state_dict()) == list(TorchNet().state_dict())


def test_sequential_state_dict_keys_and_shapes_match_torch():
    ours, theirs = mlp_ganglion().state_dict(), mlp_torch().state_dict()
    assert list(ours) == list(theirs) == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
    for k in ours:
        assert tuple(ours[k].shape) == tuple(theirs[k].shape), k


def test_shared_submodule_appears_under_every_name_in_state_dict_but_once_in_parameters():
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(2, 2)
            self.b = self.a

    class TorchTied(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = torch.nn.Linear(2, 2)
            self.b = self.a

    assert [n for n, _ in Tied().named_parameters()] == [n for n, _ in TorchTied().named_parameters()]
    assert list(Tied().state_dict()) == list(TorchTied().state_dict()) == ["a.weight", "a.bias", "b.weight", "b.bias"]
    m = Tied()
    m.load_state_dict(TorchTied().state_dict())  # loads without complaining about the alias keys


def test_reassigning_and_deleting_updates_registration():
    net = Net()
    net.head = nn.Linear(5, 2)
    assert [n for n, _ in net.named_parameters()][-2:] == ["head.weight", "head.bias"]
    assert net.head.out_features == 2
    net.scale = None  # None is allowed for a parameter slot and drops it from parameters()
    assert "scale" not in dict(net.named_parameters())
    del net.head
    assert "head" not in dict(net.named_children())
    assert all(not n.startswith("head") for n in net.state_dict())


def test_assigning_a_plain_tensor_to_a_parameter_name_raises_type_error():
    lin = nn.Linear(3, 2)
    with pytest.raises(TypeError, match="weight"):
        lin.weight = g.zeros(2, 3)
    assert isinstance(lin.weight, nn.Parameter)
    lin.weight = nn.Parameter(g.zeros(2, 3))  # a Parameter is fine
    assert np.all(lin.weight.detach().numpy() == 0)


def test_assigning_a_non_module_to_a_child_name_raises_type_error():
    net = Net()
    with pytest.raises(TypeError, match="head"):
        net.head = g.zeros(3)


def test_parameter_before_init_raises():
    class Broken(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(g.zeros(1))

    with pytest.raises(AttributeError, match="__init__"):
        Broken()


# -------------------------------------------------------------------------------------------------- traversal
def test_children_and_modules():
    net = Net()
    assert list(net.children()) == [net.encoder, net.head]
    mods = list(net.modules())
    assert mods[0] is net
    assert mods[1:] == [net.encoder, net.encoder[0], net.encoder[1], net.encoder[2], net.head]
    names = [n for n, _ in net.named_modules()]
    assert names == [n for n, _ in TorchNet().named_modules()]


def test_train_eval_propagate_to_children():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert all(not m.training for m in net.modules())
    net.encoder.train()
    assert net.encoder[1].training and not net.training and not net.head.training
    net.train()
    assert all(m.training for m in net.modules())
    net.train(False)
    assert not any(m.training for m in net.modules())


def test_zero_grad():
    net = Net()
    net(g.randn(2, 4)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    assert any(np.any(p.grad.numpy() != 0) for p in net.parameters())
    grads = [p.grad for p in net.parameters()]
    net.zero_grad(set_to_none=False)
    for p, before in zip(net.parameters(), grads):
        assert p.grad is before and np.all(p.grad.numpy() == 0)
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_call_runs_forward_with_args_and_kwargs():
    class Echo(nn.Module):
        def forward(self, x, *, scale=1):
            return ("forward", x, scale)

    assert Echo()(3, scale=2) == ("forward", 3, 2)

    class NoForward(nn.Module):
        pass

    with pytest.raises(NotImplementedError):
        NoForward()(1)


# ------------------------------------------------------------------------------------------------- state_dict
def test_state_dict_shares_memory_with_parameters():
    m = mlp_ganglion()
    sd = m.state_dict()
    sd["0.bias"].array[...] = 7.0
    assert np.all(m[0].bias.detach().numpy() == 7.0)
    assert not sd["0.weight"].requires_grad


def test_load_state_dict_round_trip_between_ganglion_models():
    a, b = mlp_ganglion(), mlp_ganglion()
    x = g.randn(5, 4)
    assert not np.allclose(a(x).detach().numpy(), b(x).detach().numpy())
    result = b.load_state_dict(a.state_dict())
    assert list(result.missing_keys) == [] and list(result.unexpected_keys) == []
    np.testing.assert_array_equal(a(x).detach().numpy(), b(x).detach().numpy())
    assert b[0].weight is not a[0].weight  # copied, not aliased
    a[0].weight.array[...] = 0
    assert np.any(b[0].weight.detach().numpy() != 0)


def test_load_state_dict_strict_names_missing_and_unexpected_keys():
    m = mlp_ganglion()
    sd = dict(m.state_dict())
    del sd["2.bias"]
    sd["9.weight"] = g.zeros(3, 6)
    with pytest.raises(RuntimeError) as info:
        m.load_state_dict(sd)
    message = str(info.value)
    assert "Missing key(s)" in message and "'2.bias'" in message
    assert "Unexpected key(s)" in message and "'9.weight'" in message
    assert "Sequential" in message


def test_load_state_dict_strict_error_leaves_the_model_untouched():
    m = mlp_ganglion()
    before = {k: v.numpy().copy() for k, v in m.state_dict().items()}
    sd = {k: g.zeros(*v.shape) for k, v in m.state_dict().items()}
    sd["extra"] = g.zeros(1)
    with pytest.raises(RuntimeError):
        m.load_state_dict(sd)
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])


def test_load_state_dict_non_strict_reports_keys_and_loads_the_rest():
    m = mlp_ganglion()
    sd = {k: g.zeros(*v.shape) for k, v in m.state_dict().items() if k != "4.bias"}
    sd["extra.weight"] = g.zeros(1)
    result = m.load_state_dict(sd, strict=False)
    assert list(result.missing_keys) == ["4.bias"]
    assert list(result.unexpected_keys) == ["extra.weight"]
    assert np.all(m[0].weight.detach().numpy() == 0)
    assert np.any(m[4].bias.detach().numpy() != 0)


@pytest.mark.parametrize("strict", [True, False])
def test_load_state_dict_shape_mismatch_names_key_and_both_shapes(strict):
    m = mlp_ganglion()
    sd = dict(m.state_dict())
    sd["2.weight"] = g.zeros(6, 9)
    with pytest.raises(RuntimeError) as info:
        m.load_state_dict(sd, strict=strict)
    message = str(info.value)
    assert "2.weight" in message and "(6, 9)" in message and "(6, 8)" in message


def test_state_dict_ganglion_to_torch_gives_same_outputs(rng):
    ours, theirs = mlp_ganglion(), mlp_torch()
    theirs.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in ours.state_dict().items()})
    x = rng.standard_normal((7, 4)).astype(np.float32)
    np.testing.assert_allclose(
        ours(g.from_numpy(x)).detach().numpy(), theirs(torch.from_numpy(x)).detach().numpy(), rtol=1e-6, atol=1e-6
    )


def test_state_dict_torch_to_ganglion_gives_same_outputs(rng):
    ours, theirs = mlp_ganglion(), mlp_torch()
    ours.load_state_dict(theirs.state_dict())  # torch tensors passed as they are
    x = rng.standard_normal((7, 4)).astype(np.float32)
    y = ours(g.from_numpy(x))
    assert y.dtype == g.float32
    np.testing.assert_allclose(y.detach().numpy(), theirs(torch.from_numpy(x)).detach().numpy(), rtol=1e-6, atol=1e-6)


def test_nested_model_state_dict_moves_both_ways(rng):
    ours, theirs = Net(), TorchNet()
    with torch.no_grad():
        theirs.scale.uniform_(0.5, 1.5)
    ours.load_state_dict(theirs.state_dict())
    x = rng.standard_normal((3, 4)).astype(np.float32)
    np.testing.assert_allclose(ours(g.from_numpy(x)).detach().numpy(), theirs(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-6, atol=1e-6)
    back = TorchNet()
    back.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in ours.state_dict().items()})
    for k, v in theirs.state_dict().items():
        torch.testing.assert_close(back.state_dict()[k], v)


def test_load_state_dict_keeps_dtype_of_the_model():
    m = mlp_ganglion().double()
    m.load_state_dict(mlp_torch().state_dict())  # float32 values into a float64 model
    assert all(p.dtype == g.float64 for p in m.parameters())


# ------------------------------------------------------------------------------------------------------- repr
def test_sequential_repr_matches_torch():
    assert repr(mlp_ganglion()) == repr(mlp_torch())


def test_nested_repr_matches_torch():
    assert repr(Net()).replace("Net(", "X(") == repr(TorchNet()).replace("TorchNet(", "X(")


@pytest.mark.parametrize("make", [
    lambda nn: nn.ReLU(), lambda nn: nn.ReLU(inplace=True), lambda nn: nn.Softmax(dim=1),
    lambda nn: nn.LogSoftmax(dim=-1), lambda nn: nn.Sigmoid(), lambda nn: nn.Tanh(),
    lambda nn: nn.Linear(3, 2, bias=False), lambda nn: nn.Identity(),
])
def test_leaf_module_repr_matches_torch(make):
    assert repr(make(nn)) == repr(make(torch.nn))


# -------------------------------------------------------------------------------------------------- Parameter
def test_parameter():
    p = nn.Parameter(g.zeros(2, 3))
    assert isinstance(p, g.Tensor) and p.requires_grad and p.is_leaf and p.grad is None
    assert tuple(p.shape) == (2, 3)
    assert not nn.Parameter(g.zeros(2), requires_grad=False).requires_grad
    assert repr(p).startswith("Parameter containing:")


def test_parameter_shares_memory_with_its_tensor():
    t = g.zeros(3)
    p = nn.Parameter(t)
    t.array[0] = 5.0
    assert p.detach().numpy()[0] == 5.0


def test_parameter_gets_a_gradient():
    p = nn.Parameter(g.tensor([1.0, 2.0, 3.0]))
    (p * p).sum().backward()
    np.testing.assert_allclose(p.grad.numpy(), [2.0, 4.0, 6.0])


def test_sequential_indexing_and_len():
    m = mlp_ganglion()
    assert len(m) == 5
    assert isinstance(m[0], nn.Linear) and m[-1] is m[4]
    assert [type(x).__name__ for x in m] == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    with pytest.raises(IndexError):
        m[5]
    with pytest.raises(TypeError):
        nn.Sequential(nn.Linear(2, 2), "relu")


def test_reassigning_a_child_or_parameter_keeps_its_place_in_the_order():
    """PyTorch keeps a re-assigned child's (or parameter's) position: state_dict keys and children() stay ordered."""
    import torch

    def build(nn):
        m = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
        m[0] = nn.Linear(2, 3)  # replace the first layer, as replacing a head or stem does
        m.extra = nn.Linear(1, 1)
        m.extra.weight = nn.Parameter(m.extra.weight.detach().clone())
        return list(m.state_dict().keys()), [type(c).__name__ for c in m.children()]

    import ganglion.nn as gnn

    assert build(gnn) == build(torch.nn)
