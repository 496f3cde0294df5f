"""Keras optimizers by name, each mapped onto the engine's algorithm with Keras' defaults (epsilon 1e-7, ...)."""

from ... import optim
from .base import Optimizer


class SGD(Optimizer):
    """Gradient descent with optional momentum and Nesterov momentum (Keras' default learning rate 0.01)."""

    engine = optim.SGD

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        if not 0 <= momentum <= 1:
            raise ValueError(f"SGD: momentum must be in [0, 1], got {momentum}")
        self.momentum, self.nesterov = momentum, nesterov

    def engine_arguments(self):
        return {"momentum": self.momentum, "nesterov": self.nesterov}

    def _own_config(self):
        return {"momentum": self.momentum, "nesterov": self.nesterov}


class Adam(Optimizer):
    engine = optim.Adam

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1, self.beta_2, self.epsilon, self.amsgrad = beta_1, beta_2, epsilon, amsgrad

    def engine_arguments(self):
        return {"betas": (self.beta_1, self.beta_2), "eps": self.epsilon, "amsgrad": self.amsgrad}

    def _own_config(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon, "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Adam with decoupled weight decay (Keras' default weight_decay 0.004)."""

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, **kwargs):
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, amsgrad=amsgrad,
                         weight_decay=weight_decay, **kwargs)


class Adamax(Optimizer):
    engine = optim.Adamax

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon

    def engine_arguments(self):
        return {"betas": (self.beta_1, self.beta_2), "eps": self.epsilon}

    def _own_config(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


class Nadam(Adamax):
    """Adam with Nesterov momentum (the engine's NAdam, whose momentum schedule is Keras')."""

    engine = optim.NAdam
    _extra_scalars = 1  # Keras keeps the product of the momentum schedule as one variable


class RMSprop(Optimizer):
    """RMSprop: v = rho v + (1 - rho) g^2; w -= lr g / (sqrt(v) + eps) (optionally centered, with momentum)."""

    engine = optim.RMSprop

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.rho, self.momentum, self.epsilon, self.centered = rho, momentum, epsilon, centered

    def engine_arguments(self):
        return {"alpha": self.rho, "eps": self.epsilon, "momentum": self.momentum, "centered": self.centered}

    def _own_config(self):
        return {"rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon, "centered": self.centered}


class Adagrad(Optimizer):
    engine = optim.Adagrad

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.initial_accumulator_value, self.epsilon = initial_accumulator_value, epsilon

    def engine_arguments(self):
        return {"initial_accumulator_value": self.initial_accumulator_value, "eps": self.epsilon}

    def _own_config(self):
        return {"initial_accumulator_value": self.initial_accumulator_value, "epsilon": self.epsilon}


class Adadelta(Optimizer):
    engine = optim.Adadelta

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.rho, self.epsilon = rho, epsilon

    def engine_arguments(self):
        return {"rho": self.rho, "eps": self.epsilon}

    def _own_config(self):
        return {"rho": self.rho, "epsilon": self.epsilon}


class Lion(Optimizer):
    engine = optim.Lion

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1, self.beta_2 = beta_1, beta_2

    def engine_arguments(self):
        return {"betas": (self.beta_1, self.beta_2)}

    def _own_config(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2}
