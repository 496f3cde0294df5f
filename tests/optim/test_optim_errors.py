"""Bad input to every optimizer: a negative learning rate, betas outside [0, 1), bad per-algorithm coefficients, a
parameter listed twice, a params argument that is not an iterable of Tensors: a clear error naming the argument,
as PyTorch's."""

import pytest

import ganglion as g
from ganglion import nn, optim

ALL = [optim.SGD, optim.Adam, optim.AdamW, optim.Adagrad, optim.RMSprop, optim.Adadelta, optim.Adamax, optim.NAdam,
       optim.RAdam, optim.Lion]
WITH_BETAS = [optim.Adam, optim.AdamW, optim.Adamax, optim.NAdam, optim.RAdam, optim.Lion]
NAMES = [c.__name__ for c in ALL]


def _params():
    return [nn.Parameter(g.ones(2)), nn.Parameter(g.ones(3))]


@pytest.mark.parametrize("cls", ALL, ids=NAMES)
@pytest.mark.parametrize("lr", [-1e-3, float("nan")], ids=["negative", "nan"])
def test_bad_learning_rate(cls, lr):
    with pytest.raises(ValueError, match="Invalid learning rate"):
        cls(_params(), lr=lr)


@pytest.mark.parametrize("cls", WITH_BETAS, ids=[c.__name__ for c in WITH_BETAS])
@pytest.mark.parametrize("betas,index", [((1.0, 0.999), 0), ((-0.1, 0.999), 0), ((0.9, 1.0), 1), ((0.9, 1.5), 1)])
def test_betas_outside_zero_one(cls, betas, index):
    with pytest.raises(ValueError, match=f"Invalid beta parameter at index {index}"):
        cls(_params(), betas=betas)


@pytest.mark.parametrize("cls", WITH_BETAS, ids=[c.__name__ for c in WITH_BETAS])
def test_betas_must_be_two_numbers(cls):
    with pytest.raises(ValueError, match="betas"):
        cls(_params(), betas=(0.9,))


BAD_COEFFICIENTS = [
    (optim.SGD, dict(lr=0.1, momentum=-0.5), "momentum"),
    (optim.SGD, dict(lr=0.1, weight_decay=-1), "weight_decay"),
    (optim.SGD, dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "Nesterov"),
    (optim.SGD, dict(lr=0.1, nesterov=True), "Nesterov"),
    (optim.Adam, dict(eps=-1e-8), "epsilon"),
    (optim.AdamW, dict(weight_decay=-0.01), "weight_decay"),
    (optim.Adagrad, dict(lr_decay=-0.1), "lr_decay"),
    (optim.Adagrad, dict(initial_accumulator_value=-1), "initial_accumulator_value"),
    (optim.Adagrad, dict(eps=-1), "epsilon"),
    (optim.RMSprop, dict(alpha=-0.5), "alpha"),
    (optim.RMSprop, dict(momentum=-0.5), "momentum"),
    (optim.RMSprop, dict(eps=-1), "epsilon"),
    (optim.Adadelta, dict(rho=1.5), "rho"),
    (optim.Adadelta, dict(rho=-0.1), "rho"),
    (optim.Adamax, dict(eps=-1), "epsilon"),
    (optim.NAdam, dict(momentum_decay=-1), "momentum_decay"),
    (optim.RAdam, dict(weight_decay=-1), "weight_decay"),
    (optim.Lion, dict(weight_decay=-1), "weight_decay"),
]


@pytest.mark.parametrize("cls,kwargs,match", BAD_COEFFICIENTS,
                         ids=[f"{c.__name__}-{next(iter(k))}" for c, k, _ in BAD_COEFFICIENTS])
def test_bad_coefficients(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls(_params(), **kwargs)


@pytest.mark.parametrize("cls", ALL, ids=NAMES)
def test_a_parameter_given_twice(cls):
    p, q = _params()
    with pytest.raises(ValueError, match="duplicate parameters"):
        cls([p, q, p], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        cls([{"params": [p]}, {"params": [q, p]}], lr=0.1)


@pytest.mark.parametrize("cls", ALL, ids=NAMES)
@pytest.mark.parametrize("params,error,match", [
    (nn.Parameter(g.ones(2)), TypeError, "iterable of Tensors or dicts, but got a Tensor"),
    (5, TypeError, "iterable of Tensors or dicts, but got int"),
    (None, TypeError, "iterable"),
    ([], ValueError, "empty parameter list"),
    ({nn.Parameter(g.ones(2))}, TypeError, "ordered collections"),
    ([g.ones(2), "weight"], TypeError, "one of the params is str"),
], ids=["tensor", "int", "none", "empty", "set", "not-a-tensor"])
def test_params_not_an_iterable_of_tensors(cls, params, error, match):
    with pytest.raises(error, match=match):
        cls(params, lr=0.1)


def test_a_bad_group_is_rejected_and_not_added():
    opt = optim.RMSprop(_params())
    with pytest.raises(ValueError, match="alpha"):
        opt.add_param_group({"params": _params(), "alpha": -1.0})
    with pytest.raises(ValueError, match="'params'"):
        opt.add_param_group({"lr": 0.1})
    with pytest.raises(TypeError, match="dict"):
        opt.add_param_group(_params())
    assert len(opt.param_groups) == 1


@pytest.mark.parametrize("cls", ALL, ids=NAMES)
def test_a_one_element_tensor_lr_works_and_a_longer_one_is_refused(cls):
    p, q = nn.Parameter(g.ones(3)), nn.Parameter(g.ones(3))
    by_tensor, by_float = cls([p], lr=g.tensor(0.01)), cls([q], lr=0.01)
    for opt, param in ((by_tensor, p), (by_float, q)):
        param.grad = g.full((3,), 0.5)
        opt.step()
    assert p.detach().numpy().tolist() == q.detach().numpy().tolist() != [1.0, 1.0, 1.0]
    with pytest.raises(ValueError, match="1-element"):
        cls(_params(), lr=g.ones(2))
