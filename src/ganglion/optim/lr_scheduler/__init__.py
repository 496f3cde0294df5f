"""``ganglion.optim.lr_scheduler``: learning-rate schedules ("learning-rate annealing") with PyTorch's names,
arguments and chainable semantics, plus the notes' inverse-time and piecewise-constant decays. The closed-form decay
formulas and their argument checks, shared with ``keras.optimizers.schedules``, are the pure functions of
``formulas``."""

from .base import LRScheduler
from .composite import ChainedScheduler, SequentialLR
from .cyclic import CosineAnnealingWarmRestarts, CyclicLR, OneCycleLR
from .decay import (
    ConstantLR, CosineAnnealingLR, ExponentialLR, InverseTimeLR, LinearLR, MultiStepLR, PiecewiseConstantLR,
    PolynomialLR, StepLR,
)
from .lambda_lr import LambdaLR, MultiplicativeLR
from .plateau import ReduceLROnPlateau

__all__ = [
    "LRScheduler", "LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR", "LinearLR", "ExponentialLR",
    "PolynomialLR", "CosineAnnealingLR", "CosineAnnealingWarmRestarts", "CyclicLR", "OneCycleLR", "SequentialLR",
    "ChainedScheduler", "ReduceLROnPlateau", "InverseTimeLR", "PiecewiseConstantLR",
]
