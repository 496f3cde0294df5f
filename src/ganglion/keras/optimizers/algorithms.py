"""Keras optimizers by name, each mapped onto the engine's algorithm with Keras' defaults (epsilon 1e-7, ...)."""

from ... import optim
from .base import Optimizer


class SGD(Optimizer):
    """Gradient descent with optional momentum and Nesterov momentum (Keras' default learning rate 0.01)."""

    engine = optim.SGD
    engine_names = {"momentum": "momentum", "nesterov": "nesterov"}

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        if not 0 <= momentum <= 1:
            raise ValueError(f"SGD: momentum must be in [0, 1], got {momentum}")
        super().__init__(learning_rate=learning_rate, momentum=momentum, nesterov=nesterov, **kwargs)


class Adam(Optimizer):
    """Adam: m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  w -= lr m_hat / (sqrt(v_hat) + epsilon)."""

    engine = optim.Adam
    engine_names = {"beta_1": "betas", "beta_2": "betas", "epsilon": "eps", "amsgrad": "amsgrad"}

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, **kwargs):
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, amsgrad=amsgrad,
                         **kwargs)


class AdamW(Adam):
    """Adam with decoupled weight decay (Keras' default weight_decay 0.004)."""

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, **kwargs):
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, amsgrad=amsgrad,
                         weight_decay=weight_decay, **kwargs)


class Adamax(Optimizer):
    """Adamax: Adam with u = max(b2 u, |g|) in place of the second moment (the engine's Adamax)."""

    engine = optim.Adamax
    engine_names = {"beta_1": "betas", "beta_2": "betas", "epsilon": "eps"}

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, **kwargs)


class Nadam(Adamax):
    """Adam with Nesterov momentum (the engine's NAdam, whose momentum schedule is Keras')."""

    engine = optim.NAdam
    _extra_scalars = 1  # Keras keeps the product of the momentum schedule as one variable


class RMSprop(Optimizer):
    """RMSprop: v = rho v + (1 - rho) g^2; w -= lr g / (sqrt(v) + eps) (optionally centered, with momentum)."""

    engine = optim.RMSprop
    engine_names = {"rho": "alpha", "momentum": "momentum", "epsilon": "eps", "centered": "centered"}

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False, **kwargs):
        super().__init__(learning_rate=learning_rate, rho=rho, momentum=momentum, epsilon=epsilon, centered=centered,
                         **kwargs)


class Adagrad(Optimizer):
    """Adagrad: s += g^2; w -= lr g / (sqrt(s) + epsilon), s starting at initial_accumulator_value."""

    engine = optim.Adagrad
    engine_names = {"initial_accumulator_value": "initial_accumulator_value", "epsilon": "eps"}

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate=learning_rate, initial_accumulator_value=initial_accumulator_value,
                         epsilon=epsilon, **kwargs)


class Adadelta(Optimizer):
    """Adadelta: step sizes from running averages (factor rho) of squared gradients and squared updates."""

    engine = optim.Adadelta
    engine_names = {"rho": "rho", "epsilon": "eps"}

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate=learning_rate, rho=rho, epsilon=epsilon, **kwargs)


class Lion(Optimizer):
    """Lion: w -= lr sign(b1 m + (1 - b1) g); m = b2 m + (1 - b2) g (the engine's Lion)."""

    engine = optim.Lion
    engine_names = {"beta_1": "betas", "beta_2": "betas"}

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, **kwargs):
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2, **kwargs)
