"""Callbacks: objects whose hooks ``fit``, ``evaluate`` and ``predict`` call at the start and end of training,
epochs and batches. ``CallbackList`` dispatches to many; ``History`` records every epoch's logs."""


class Callback:
    """Base class: override the hooks you need. ``self.model`` is set by fit; ``self.params`` holds epochs/steps."""

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None): ...
    def on_train_end(self, logs=None): ...
    def on_epoch_begin(self, epoch, logs=None): ...
    def on_epoch_end(self, epoch, logs=None): ...
    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs=logs)  # Keras' older hook names still work when overridden

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs=logs)

    def on_batch_begin(self, batch, logs=None): ...
    def on_batch_end(self, batch, logs=None): ...
    def on_test_begin(self, logs=None): ...
    def on_test_end(self, logs=None): ...
    def on_test_batch_begin(self, batch, logs=None): ...
    def on_test_batch_end(self, batch, logs=None): ...
    def on_predict_begin(self, logs=None): ...
    def on_predict_end(self, logs=None): ...
    def on_predict_batch_begin(self, batch, logs=None): ...
    def on_predict_batch_end(self, batch, logs=None): ...


class SaveSchedule:
    """Keras' ``save_freq`` of the saving callbacks: "epoch" (the callback saves at each epoch's end) or N (every N
    training batches). ``batch_done()`` counts a batch and says whether a save is due now."""

    def __init__(self, save_freq, owner):
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(save_freq, int) or save_freq <= 0):
            raise ValueError(f"{owner}: save_freq must be 'epoch' or a positive int, got {save_freq!r}")
        self.save_freq = save_freq
        self.batches_since_save = 0

    @property
    def per_epoch(self):
        return self.save_freq == "epoch"

    def batch_done(self):
        if self.per_epoch:
            return False
        self.batches_since_save += 1
        if self.batches_since_save < self.save_freq:
            return False
        self.batches_since_save = 0
        return True


class History(Callback):
    """``history.history``: metric name -> list of per-epoch values; ``history.epoch``: the epoch numbers."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)


class CallbackList:
    """Calls the same hook on every callback, in order: the user's callbacks first, then ``History`` and the
    progress bar, as in Keras (so values a callback adds to the epoch's logs, such as ``learning_rate``, are
    recorded and shown)."""

    def __init__(self, callbacks, model, params):
        from .progbar import ProgbarLogger

        callbacks = list(callbacks)
        rank = lambda cb: 2 if isinstance(cb, ProgbarLogger) else 1 if isinstance(cb, History) else 0  # noqa: E731
        self.callbacks = sorted(callbacks, key=rank)  # stable: the user's order is kept
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must be keras.callbacks.Callback instances, got {type(cb).__name__}")
            cb.set_model(model)
            cb.set_params(params)

    def __getattr__(self, hook):
        if not hook.startswith("on_"):
            raise AttributeError(hook)

        indexed = "epoch" in hook or "batch" in hook  # hooks called with (epoch or batch, logs)

        def call(*args, logs=None):
            if len(args) > (1 if indexed else 0):
                args, logs = args[:-1], args[-1]
            logs = {} if logs is None else logs  # every callback sees a dict, the same one
            for cb in self.callbacks:
                getattr(cb, hook)(*args, logs)

        return call
