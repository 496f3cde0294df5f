"""Keras' progress display: ``verbose=1`` a bar per epoch with steps, time per step and running metrics;
``verbose=2`` one line per epoch."""

import sys
import time

from .base import Callback


def format_logs(logs):
    return " - ".join(f"{k}: {v:.4f}" for k, v in logs.items() if isinstance(v, (int, float)))


def format_time(seconds):
    if seconds >= 1:
        return f"{seconds:.0f}s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms"
    return f"{seconds * 1e6:.0f}us"


def progress_line(done, steps, elapsed, logs, width=20):
    """Keras' progress line after ``done`` of ``steps`` steps in ``elapsed`` seconds: "60/60 ━━━━━━━━━━ 0s
    2ms/step - loss: 0.1234" ("done/Unknown" without a bar when ``steps`` is unknown)."""
    if steps:
        filled = int(width * done / steps)
        head = f"{done:>{len(str(steps))}}/{steps} {'━' * filled}{' ' * (width - filled)}"
    else:
        head = f"{done}/Unknown"
    line = f"{head} {format_time(elapsed)} {format_time(elapsed / max(done, 1))}/step"
    metrics = format_logs(logs)
    return f"{line} - {metrics}" if metrics else line


class ProgbarLogger(Callback):
    """Prints training progress like Keras: ``Epoch 1/50`` then ``60/60 ━━━━━━━━━━ 0s 2ms/step - accuracy: ... - loss: ...``."""

    def __init__(self, verbose=1, stream=None, width=20):
        super().__init__()
        self.verbose, self.width = verbose, width
        self.stream = stream

    def _out(self):
        return self.stream or sys.stdout

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.perf_counter()
        self._last_draw = 0.0
        if self.verbose:
            print(f"Epoch {epoch + 1}/{self.params.get('epochs', '?')}", file=self._out())

    def on_train_batch_end(self, batch, logs=None):
        if self.verbose != 1:
            return
        now = time.perf_counter()
        steps = self.params.get("steps")
        if now - self._last_draw < 0.05 and (steps is None or batch + 1 < steps):
            return
        self._last_draw = now
        self._draw(batch + 1, steps, logs or {}, final=False)

    def _draw(self, done, steps, logs, final):
        line = progress_line(done, steps, time.perf_counter() - self._epoch_start, logs, self.width)
        print("\r" + line, end="\n" if final else "", file=self._out(), flush=True)

    def on_epoch_end(self, epoch, logs=None):
        steps = self.params.get("steps")
        if self.verbose == 1:
            self._draw(steps or 0, steps, logs or {}, final=True)
        elif self.verbose == 2:
            elapsed = time.perf_counter() - self._epoch_start
            per_step = elapsed / max(steps or 1, 1)
            print(f"{steps}/{steps} - {format_time(elapsed)} - {format_time(per_step)}/step - "
                  f"{format_logs(logs or {})}", file=self._out())
