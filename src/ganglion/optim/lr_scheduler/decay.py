"""Schedules that decay the learning rate by a rule of the epoch: step, multi-step, constant and linear warm-up,
exponential, polynomial, cosine annealing, and the notes' inverse-time (1/t) and piecewise-constant decays."""

import math
from bisect import bisect_right
from collections import Counter

from . import formulas
from .base import LRScheduler, per_group


class StepLR(LRScheduler):
    """lr = base_lr * gamma^floor(epoch / step_size): multiplied by gamma every step_size epochs."""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        if not isinstance(step_size, int) or isinstance(step_size, bool) or step_size <= 0:
            raise ValueError(f"StepLR: step_size must be a positive integer, got {step_size!r}")
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        self._warn_if_outside_step()
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current_lrs()
        return self._scaled_lrs(self.gamma)

    def _get_closed_form_lr(self):
        return [formulas.exponential(base_lr, self.last_epoch, self.step_size, self.gamma, staircase=True)
                for base_lr in self.base_lrs]


class MultiStepLR(LRScheduler):
    """lr = base_lr * gamma^(number of milestones <= epoch): multiplied by gamma at each milestone epoch."""

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        self.milestones = Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        self._warn_if_outside_step()
        if self.last_epoch not in self.milestones:
            return self._current_lrs()
        return self._scaled_lrs(self.gamma ** self.milestones[self.last_epoch])

    def _get_closed_form_lr(self):
        passed = bisect_right(sorted(self.milestones.elements()), self.last_epoch)
        return [base_lr * self.gamma**passed for base_lr in self.base_lrs]


class ConstantLR(LRScheduler):
    """lr = base_lr * factor for the first total_iters epochs, then base_lr."""

    def __init__(self, optimizer, factor=1.0 / 3, total_iters=5, last_epoch=-1):
        _check_factor("ConstantLR", "factor", factor)
        self.factor, self.total_iters = factor, total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        self._warn_if_outside_step()
        if self.last_epoch == 0:
            return self._scaled_lrs(self.factor)
        if self.last_epoch != self.total_iters:
            return self._current_lrs()
        return self._scaled_lrs(1.0 / self.factor)

    def _get_closed_form_lr(self):
        reached = self.last_epoch >= self.total_iters
        return [base_lr * (self.factor + reached * (1 - self.factor)) for base_lr in self.base_lrs]


class LinearLR(LRScheduler):
    """Linear warm-up (or decay): lr = base_lr * (start + (end - start) * min(epoch, total_iters) / total_iters)."""

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5, last_epoch=-1):
        _check_factor("LinearLR", "start_factor", start_factor, zero_allowed=False)
        _check_factor("LinearLR", "end_factor", end_factor)
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        self._warn_if_outside_step()
        if self.last_epoch == 0:
            return self._scaled_lrs(self.start_factor)
        if self._is_initial or self.last_epoch > self.total_iters:
            return self._current_lrs()
        # the ratio of two consecutive points of the line, so that the schedule chains with others
        delta = self.end_factor - self.start_factor
        ratio = 1.0 + delta / (self.total_iters * self.start_factor + (self.last_epoch - 1) * delta)
        return self._scaled_lrs(ratio)

    def _get_closed_form_lr(self):
        done = min(self.total_iters, self.last_epoch) / self.total_iters
        return [base_lr * (self.start_factor + (self.end_factor - self.start_factor) * done)
                for base_lr in self.base_lrs]


class ExponentialLR(LRScheduler):
    """lr = base_lr * gamma^epoch."""

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        self._warn_if_outside_step()
        if self._is_initial:
            return self._current_lrs()
        return self._scaled_lrs(self.gamma)

    def _get_closed_form_lr(self):
        return [formulas.exponential(base_lr, self.last_epoch, 1, self.gamma) for base_lr in self.base_lrs]


class PolynomialLR(LRScheduler):
    """lr = base_lr * (1 - min(epoch, total_iters) / total_iters)^power: reaches 0 at total_iters."""

    def __init__(self, optimizer, total_iters=5, power=1.0, last_epoch=-1):
        self.total_iters = total_iters
        self.power = power
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        self._warn_if_outside_step()
        if self._is_initial or self.last_epoch > self.total_iters:
            return self._current_lrs()
        t, n = self.last_epoch, self.total_iters
        ratio = ((1.0 - t / n) / (1.0 - (t - 1) / n)) ** self.power
        return self._scaled_lrs(ratio)

    def _get_closed_form_lr(self):
        return [formulas.polynomial(base_lr, self.last_epoch, self.total_iters, 0.0, self.power)
                for base_lr in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (base_lr - eta_min) (1 + cos(pi epoch / T_max)) / 2: half a cosine from base_lr down to
    eta_min over T_max epochs (and back up over the next T_max, as PyTorch's recursive form does)."""

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        self._warn_if_outside_step()
        t, n, eta_min = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return self._current_lrs()
        if self._step_count == 1 and t > 0:  # built with last_epoch >= 0: start from the closed form
            return [eta_min + (base_lr - eta_min) * (1 + math.cos(t * math.pi / n)) / 2 for base_lr in self.base_lrs]
        if (t - 1 - n) % (2 * n) == 0:  # at the bottom of the cosine the ratio form divides by zero
            return [lr + (base_lr - eta_min) * (1 - math.cos(math.pi / n)) / 2
                    for base_lr, lr in zip(self.base_lrs, self._current_lrs())]
        ratio = (1 + math.cos(math.pi * t / n)) / (1 + math.cos(math.pi * (t - 1) / n))
        return [ratio * (lr - eta_min) + eta_min for lr in self._current_lrs()]

    def _get_closed_form_lr(self):
        return [self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
                for base_lr in self.base_lrs]


class InverseTimeLR(LRScheduler):
    """The notes' 1/t decay:  lr = base_lr / (1 + decay_rate * epoch / decay_steps)  (a0 / (1 + k t) with the defaults).

    ``staircase=True`` uses floor(epoch / decay_steps): the rate drops every decay_steps epochs. Chainable: each step
    multiplies the current lr by the ratio of consecutive values.
    """

    def __init__(self, optimizer, decay_rate, decay_steps=1, staircase=False, last_epoch=-1):
        formulas.check_decay_rate("InverseTimeLR", decay_rate)
        formulas.check_positive("InverseTimeLR", "decay_steps", decay_steps)
        self.decay_rate = decay_rate
        self.decay_steps = decay_steps
        self.staircase = staircase
        super().__init__(optimizer, last_epoch)

    def _denominator(self, epoch):
        return formulas.inverse_time_denominator(epoch, self.decay_steps, self.decay_rate, self.staircase)

    def get_lr(self):
        self._warn_if_outside_step()
        if self._is_initial:
            return self._current_lrs()
        ratio = self._denominator(self.last_epoch - 1) / self._denominator(self.last_epoch)
        return self._scaled_lrs(ratio)

    def _get_closed_form_lr(self):
        return [formulas.inverse_time(base_lr, self.last_epoch, self.decay_steps, self.decay_rate, self.staircase)
                for base_lr in self.base_lrs]


class PiecewiseConstantLR(LRScheduler):
    """The notes' piecewise-constant decay: lr = values[0] up to epoch boundaries[0], values[1] up to boundaries[1],
    ..., values[-1] after the last boundary (lr = values[i] for boundaries[i-1] < epoch <= boundaries[i]).

    ``values`` are absolute learning rates (len(boundaries) + 1 of them), the same for every param group, or one such
    list per group. It sets the lr rather than scaling it, so it does not chain with other schedules.
    """

    def __init__(self, optimizer, boundaries, values, last_epoch=-1):
        boundaries = list(boundaries)
        values = list(values)
        per_group_values = per_group("values", optimizer, values) if values and isinstance(values[0], (list, tuple)) \
            else [values] * len(optimizer.param_groups)
        for group_values in per_group_values:
            formulas.check_piecewise("PiecewiseConstantLR", boundaries, group_values)
        self.boundaries = boundaries
        self.values = [list(v) for v in per_group_values]
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        self._warn_if_outside_step()
        return [formulas.piecewise_constant(self.last_epoch, self.boundaries, group_values)
                for group_values in self.values]


def _check_factor(schedule, name, value, zero_allowed=True):
    """A multiplier of the base lr must lie in [0, 1] ((0, 1] unless ``zero_allowed``): ValueError as PyTorch's."""
    if not (0 <= value <= 1.0 if zero_allowed else 0 < value <= 1.0):
        bounds = "between 0 and 1" if zero_allowed else "greater than 0 and at most 1"
        raise ValueError(f"{schedule}: {name} expected to be {bounds}, got {value}")
