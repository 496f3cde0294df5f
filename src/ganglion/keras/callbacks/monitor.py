"""What callbacks that watch a metric share: reading ``monitor`` from the epoch's logs, and deciding whether a value
is an improvement in ``mode`` "min", "max" or "auto" (the loss goes down; a compiled metric goes the way its
``_direction`` says: accuracy, AUC, precision... up; errors and cross-entropies down)."""

import math
import warnings

from .base import Callback

MODES = ("auto", "min", "max")


def compiled_metrics(model):
    """The metric objects of ``model`` (``model.metrics``: the loss tracker and, once the first batch has built
    them, the compiled metrics)."""
    return list(getattr(model, "metrics", None) or [])


def monitor_direction(model, monitor):
    """"min" or "max" for ``monitor`` in mode "auto", or None if it cannot be told."""
    name = monitor[4:] if monitor.startswith("val_") else monitor
    if name == "loss" or name.endswith("_loss"):
        return "min"
    for metric in compiled_metrics(model):
        if metric.name == name and getattr(metric, "_direction", None) in ("up", "down"):
            return "max" if metric._direction == "up" else "min"
    return None


def as_float(value):
    """A logged value as a float (None stays None)."""
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    return float(value)


class MonitorCallback(Callback):
    """Base class for callbacks that watch ``monitor``: ``_is_improvement(value, reference)`` compares with
    ``min_delta`` in the chosen direction; ``best`` starts at ``baseline`` (or +/- infinity)."""

    def __init__(self, monitor="val_loss", mode="auto", baseline=None, min_delta=0):
        super().__init__()
        if mode not in MODES:
            warnings.warn(f"{type(self).__name__}: mode {mode!r} is unknown, falling back to 'auto'", stacklevel=3)
            mode = "auto"
        self.monitor, self.mode, self.baseline = monitor, mode, baseline
        self.min_delta = abs(min_delta)
        self.monitor_op = None
        self.best = baseline

    def _set_monitor_op(self):
        direction = self.mode if self.mode != "auto" else monitor_direction(self.model, self.monitor)
        if direction is None:
            raise ValueError(
                f"{type(self).__name__} received monitor={self.monitor!r}, but cannot tell whether it should be "
                "maximized or minimized: pass mode='max' to watch the highest value or mode='min' for the lowest"
            )
        self.monitor_op = (lambda a, b: a < b) if direction == "min" else (lambda a, b: a > b)
        self._sign = -1.0 if direction == "min" else 1.0
        if self.best is None:
            self.best = math.inf if direction == "min" else -math.inf

    def _is_improvement(self, value, reference):
        if reference is None:
            return True
        return self.monitor_op(value - self._sign * self.min_delta, reference)

    def get_monitor_value(self, logs):
        value = (logs or {}).get(self.monitor)
        if value is None:
            warnings.warn(f"{type(self).__name__} is conditioned on metric {self.monitor!r}, which is not available. "
                          f"Available metrics are: {', '.join(logs or {})}", stacklevel=3)
        return as_float(value)
