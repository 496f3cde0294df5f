"""Callbacks that set the optimizer's learning rate between epochs: ``LearningRateScheduler`` (a function of the
epoch) and ``ReduceLROnPlateau`` (divide it when a metric stalls). Both read and write
``model.optimizer.learning_rate`` and record the rate in the epoch's logs as ``learning_rate``."""

import math
import warnings

import numpy as np

from .base import Callback
from .monitor import as_float


def _settable_optimizer(callback):
    optimizer = getattr(callback.model, "optimizer", None)
    if optimizer is None:
        raise ValueError(f"{type(callback).__name__}: the model has no optimizer; call compile() first")
    if callable(getattr(optimizer, "_learning_rate", None)):
        raise TypeError(f"{type(callback).__name__}: the optimizer's learning rate is a schedule "
                        f"({type(optimizer._learning_rate).__name__}), so it cannot be set; give the optimizer a "
                        "float learning_rate to use this callback")
    return optimizer


class LearningRateScheduler(Callback):
    """At the start of each epoch set the learning rate to ``schedule(epoch, lr)`` (epoch counted from 0, lr the
    current rate); a ``schedule(epoch)`` with one argument works too."""

    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"LearningRateScheduler: schedule must be a function, got {schedule!r}")
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = _settable_optimizer(self)
        lr = float(optimizer.learning_rate)
        try:
            new_lr = self.schedule(epoch, lr)
        except TypeError:  # the one-argument form schedule(epoch)
            new_lr = self.schedule(epoch)
        if hasattr(new_lr, "item"):
            new_lr = new_lr.item()
        if isinstance(new_lr, bool) or not isinstance(new_lr, (int, float, np.floating)) or not math.isfinite(new_lr):
            raise ValueError(f"LearningRateScheduler: the schedule must return a finite float, got {new_lr!r} at epoch "
                             f"{epoch}")
        optimizer.learning_rate = float(new_lr)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {float(new_lr)}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` (never below ``min_lr``) after ``patience`` epochs in which
    ``monitor`` did not improve by more than ``min_delta``; then wait ``cooldown`` epochs before counting again.
    ``mode`` "auto" maximizes monitors whose name contains "acc" and minimizes the others."""

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto", min_delta=1e-4,
                 cooldown=0, min_lr=0.0, **kwargs):
        super().__init__()
        if kwargs:
            raise TypeError(f"ReduceLROnPlateau: unexpected keyword argument(s) {sorted(kwargs)}")
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0, got factor={factor}")
        if mode not in ("auto", "min", "max"):
            warnings.warn(f"ReduceLROnPlateau: mode {mode!r} is unknown, falling back to 'auto'", stacklevel=2)
            mode = "auto"
        self.monitor, self.factor, self.patience, self.verbose, self.mode = monitor, factor, patience, verbose, mode
        self.min_delta, self.cooldown, self.min_lr = min_delta, cooldown, min_lr
        self._reset()

    def _reset(self):
        if self.mode == "min" or (self.mode == "auto" and "acc" not in self.monitor):
            self.monitor_op = lambda a, b: a < b - self.min_delta
            self.best = math.inf
        else:
            self.monitor_op = lambda a, b: a > b + self.min_delta
            self.best = -math.inf
        self.cooldown_counter = 0
        self.wait = 0

    def in_cooldown(self):
        return self.cooldown_counter > 0

    def on_train_begin(self, logs=None):
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        optimizer = _settable_optimizer(self)
        logs["learning_rate"] = float(optimizer.learning_rate)
        current = as_float(logs.get(self.monitor))
        if current is None:
            warnings.warn(f"ReduceLROnPlateau is conditioned on metric {self.monitor!r}, which is not available. "
                          f"Available metrics are: {', '.join(logs)}", stacklevel=2)
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self.monitor_op(current, self.best):
            self.best, self.wait = current, 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                old_lr = float(optimizer.learning_rate)
                if old_lr > np.float32(self.min_lr):
                    new_lr = max(old_lr * self.factor, self.min_lr)
                    optimizer.learning_rate = new_lr
                    if self.verbose > 0:
                        print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new_lr}.")
                    self.cooldown_counter = self.cooldown
                    self.wait = 0
