"""The Keras optimizer face over the engine: Keras' argument names map onto the same update as PyTorch's optimizer
(trajectory parity over many steps with the same gradients), plus what Keras adds: clipnorm / clipvalue /
global_clipnorm, decoupled weight_decay, learning-rate schedules read every step, apply_gradients with Keras weights,
configs, state counts and argument errors."""

import numpy as np
import pytest
import torch

import ganglion
from ganglion.keras import optimizers
from ganglion.keras.layers import Dense

STEPS = 12


def _grads(shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [[rng.standard_normal(s).astype(np.float32) for s in shapes] for _ in range(STEPS)]


def _run(keras_opt, torch_make, before_torch_step=None, shapes=((3, 4), (4,))):
    """Apply the same gradients with the Keras optimizer and with PyTorch; return both final parameters."""
    rng = np.random.default_rng(1)
    init = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    params = [ganglion.nn.Parameter(ganglion.tensor(a.copy())) for a in init]
    tparams = [torch.nn.Parameter(torch.from_numpy(a.copy())) for a in init]
    keras_opt.build(params)
    topt = torch_make(tparams)
    for step, grads in enumerate(_grads(shapes)):
        for p, t, g in zip(params, tparams, grads):
            p.grad = ganglion.tensor(g)
            t.grad = torch.from_numpy(g.copy())
        keras_opt.apply_gradients()
        if before_torch_step is not None:
            before_torch_step(step, tparams, topt)
        topt.step()
    return [p.detach().numpy() for p in params], [t.detach().numpy() for t in tparams]


PARITY = [
    ("SGD", lambda: optimizers.SGD(0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
    ("SGD momentum", lambda: optimizers.SGD(0.05, momentum=0.9), lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9)),
    ("SGD nesterov", lambda: optimizers.SGD(0.05, momentum=0.8, nesterov=True),
     lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.8, nesterov=True)),
    ("Adam", lambda: optimizers.Adam(0.01, beta_1=0.8, beta_2=0.99, epsilon=1e-6),
     lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.8, 0.99), eps=1e-6)),
    ("Adam amsgrad", lambda: optimizers.Adam(0.01, amsgrad=True),
     lambda p: torch.optim.Adam(p, lr=0.01, eps=1e-7, amsgrad=True)),
    ("AdamW", lambda: optimizers.AdamW(0.01, weight_decay=0.1),
     lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.1, eps=1e-7)),
    ("Adamax", lambda: optimizers.Adamax(0.01), lambda p: torch.optim.Adamax(p, lr=0.01, eps=1e-7)),
    ("Nadam", lambda: optimizers.Nadam(0.01), lambda p: torch.optim.NAdam(p, lr=0.01, eps=1e-7)),
    ("RMSprop", lambda: optimizers.RMSprop(0.01, rho=0.8), lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.8,
                                                                                         eps=1e-7)),
    ("RMSprop centered momentum", lambda: optimizers.RMSprop(0.01, momentum=0.5, centered=True),
     lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-7, momentum=0.5, centered=True)),
    ("Adagrad", lambda: optimizers.Adagrad(0.1), lambda p: torch.optim.Adagrad(p, lr=0.1, initial_accumulator_value=0.1,
                                                                              eps=1e-7)),
    ("Adadelta", lambda: optimizers.Adadelta(1.0), lambda p: torch.optim.Adadelta(p, lr=1.0, rho=0.95, eps=1e-7)),
]


@pytest.mark.parametrize("name, make, torch_make", PARITY, ids=[row[0] for row in PARITY])
def test_trajectory_matches_pytorch(name, make, torch_make):
    ours, theirs = _run(make(), torch_make)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def _clip_each(max_norm):
    def clip(step, params, opt):
        for p in params:
            torch.nn.utils.clip_grad_norm_([p], max_norm)
    return clip


@pytest.mark.parametrize("keras_kwargs, torch_clip", [
    ({"clipnorm": 0.5}, _clip_each(0.5)),
    ({"clipvalue": 0.3}, lambda step, params, opt: torch.nn.utils.clip_grad_value_(params, 0.3)),
    ({"global_clipnorm": 0.7}, lambda step, params, opt: torch.nn.utils.clip_grad_norm_(params, 0.7)),
])
def test_gradient_clipping(keras_kwargs, torch_clip):
    ours, theirs = _run(optimizers.SGD(0.1, **keras_kwargs), lambda p: torch.optim.SGD(p, lr=0.1), torch_clip)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_decoupled_weight_decay_and_schedules():
    schedule = optimizers.schedules.ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5)

    def decay_and_schedule(step, params, opt):
        lr = 0.1 * 0.5 ** (step / 2)
        for group in opt.param_groups:
            group["lr"] = lr
        with torch.no_grad():
            for p in params:
                p.mul_(1 - lr * 0.2)  # Keras: w -= lr * weight_decay * w, then the update

    keras_opt = optimizers.SGD(schedule, weight_decay=0.2)
    ours, theirs = _run(keras_opt, lambda p: torch.optim.SGD(p, lr=0.1), decay_and_schedule)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert keras_opt.iterations == STEPS
    np.testing.assert_allclose(keras_opt.learning_rate, 0.1 * 0.5 ** (STEPS / 2), rtol=1e-6)


def test_apply_gradients_with_keras_weights_in_keras_layout():
    layer = Dense(3)
    layer(np.zeros((1, 2), dtype=np.float32))
    kernel_before = layer.get_weights()[0]
    grads = [np.ones((2, 3), dtype=np.float32), np.full(3, 2.0, dtype=np.float32)]
    opt = optimizers.SGD(0.5)
    opt.apply_gradients(zip(grads, layer.trainable_weights))
    np.testing.assert_allclose(layer.get_weights()[0], kernel_before - 0.5, rtol=1e-6)
    np.testing.assert_allclose(layer.get_weights()[1], -1.0 * np.ones(3), rtol=1e-6)
    assert opt.iterations == 1
    with pytest.raises(ValueError, match=r"gradient of shape \(3, 2\) for a variable of shape \(2, 3\)"):
        opt.apply([np.ones((3, 2)), np.ones(3)], layer.trainable_weights)


@pytest.mark.parametrize("make, slots, extra", [
    (lambda: optimizers.SGD(), 0, 0), (lambda: optimizers.SGD(momentum=0.9), 1, 0), (lambda: optimizers.Adam(), 2, 0),
    (lambda: optimizers.Adam(amsgrad=True), 3, 0), (lambda: optimizers.RMSprop(centered=True), 2, 0),
    (lambda: optimizers.Nadam(), 2, 1), (lambda: optimizers.Adagrad(), 1, 0),
])
def test_variables_count_like_keras(make, slots, extra):
    opt = make()
    opt.build([ganglion.nn.Parameter(ganglion.zeros(3, 4)), ganglion.nn.Parameter(ganglion.zeros(4))])
    assert sum(np.size(v) for v in opt.variables) == 2 + slots * 16 + extra  # iterations, learning rate


@pytest.mark.parametrize("cls", [optimizers.SGD, optimizers.Adam, optimizers.AdamW, optimizers.RMSprop,
                                 optimizers.Adagrad, optimizers.Adadelta, optimizers.Adamax, optimizers.Nadam,
                                 optimizers.Lion])
def test_config_round_trip(cls):
    opt = cls(learning_rate=0.05, clipnorm=1.0)
    again = cls.from_config(opt.get_config())
    assert again.get_config() == opt.get_config()
    assert type(optimizers.get(cls.__name__.lower())) is cls


def test_schedule_config_round_trip():
    opt = optimizers.Adam(optimizers.schedules.PiecewiseConstantDecay([10], [0.1, 0.01]))
    again = optimizers.Adam.from_config(opt.get_config())
    assert type(again._learning_rate).__name__ == "PiecewiseConstantDecay" and again.learning_rate == 0.1


def test_argument_errors():
    with pytest.raises(ValueError, match="only one of clipnorm, clipvalue and global_clipnorm"):
        optimizers.SGD(clipnorm=1.0, clipvalue=1.0)
    with pytest.raises(ValueError, match="learning_rate must be a non-negative number or a schedule"):
        optimizers.Adam(learning_rate=-1.0)
    with pytest.raises(ValueError, match="momentum must be in"):
        optimizers.SGD(momentum=1.5)
    with pytest.raises(TypeError, match="unexpected keyword argument"):
        optimizers.Adam(beta1=0.9)
    with pytest.raises(ValueError, match=r"unknown optimizer 'adams'; accepted names are: .*adam"):
        optimizers.get("adams")
    with pytest.raises(ValueError, match="no trainable weights"):
        optimizers.Adam().build([])
