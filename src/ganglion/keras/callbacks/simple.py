"""Small callbacks: ``TerminateOnNaN`` (stop when the loss is no longer finite) and ``LambdaCallback`` (hooks
from plain functions)."""

import math

from .base import Callback
from .monitor import as_float


class TerminateOnNaN(Callback):
    """Stop training at the first batch whose loss is NaN or infinite."""

    def on_batch_end(self, batch, logs=None):
        loss = as_float((logs or {}).get("loss"))
        if loss is not None and not math.isfinite(loss):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


_EPOCH_HOOKS = ("on_epoch_begin", "on_epoch_end")
_BATCH_HOOKS = ("on_train_batch_begin", "on_train_batch_end", "on_test_batch_begin", "on_test_batch_end",
                "on_predict_batch_begin", "on_predict_batch_end")
_RUN_HOOKS = ("on_train_begin", "on_train_end", "on_test_begin", "on_test_end", "on_predict_begin",
              "on_predict_end")


class LambdaCallback(Callback):
    """A callback from functions: ``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``. Epoch hooks take
    (epoch, logs), batch hooks (batch, logs), train/test/predict begin and end hooks (logs). ``on_batch_begin`` and
    ``on_batch_end`` are the training-batch hooks under their older names."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None, on_train_end=None,
                 on_train_batch_begin=None, on_train_batch_end=None, **kwargs):
        super().__init__()
        given = {"on_epoch_begin": on_epoch_begin, "on_epoch_end": on_epoch_end, "on_train_begin": on_train_begin,
                 "on_train_end": on_train_end, "on_train_batch_begin": on_train_batch_begin,
                 "on_train_batch_end": on_train_batch_end}
        for old, new in (("on_batch_begin", "on_train_batch_begin"), ("on_batch_end", "on_train_batch_end")):
            if old in kwargs:
                given[new] = kwargs.pop(old)
        accepted = _EPOCH_HOOKS + _BATCH_HOOKS + _RUN_HOOKS
        unknown = sorted(set(kwargs) - set(accepted))
        if unknown:
            raise TypeError(f"LambdaCallback: unknown hook(s) {unknown}; accepted: {', '.join(accepted)}")
        given.update(kwargs)
        for hook, fn in given.items():
            if fn is not None and not callable(fn):
                raise TypeError(f"LambdaCallback: {hook} must be a function, got {fn!r}")
        self._functions = {hook: fn for hook, fn in given.items() if fn is not None}

    def _call(self, hook, *args):
        fn = self._functions.get(hook)
        if fn is not None:
            fn(*args)


def _indexed(hook):
    def method(self, index, logs=None):
        self._call(hook, index, logs)

    method.__name__ = hook
    return method


def _plain(hook):
    def method(self, logs=None):
        self._call(hook, logs)

    method.__name__ = hook
    return method


for _hook in _EPOCH_HOOKS + _BATCH_HOOKS:
    setattr(LambdaCallback, _hook, _indexed(_hook))
for _hook in _RUN_HOOKS:
    setattr(LambdaCallback, _hook, _plain(_hook))
