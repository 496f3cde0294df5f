"""``EarlyStopping``: stop ``fit`` when the monitored metric has stopped improving."""

from .monitor import MonitorCallback


class EarlyStopping(MonitorCallback):
    """Stop training after ``patience`` epochs without an improvement of at least ``min_delta`` in ``monitor``.

    ``mode``: "min", "max" or "auto" (from the metric). ``baseline``: the wait counter only restarts when a value also
    beats it. ``restore_best_weights``: at the end, put back the weights of the best epoch (an epoch's weights are
    recorded even if it does not beat the baseline). ``start_from_epoch``: epochs of warm-up that are not watched.
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto", baseline=None,
                 restore_best_weights=False, start_from_epoch=0):
        super().__init__(monitor=monitor, mode=mode, baseline=None, min_delta=min_delta)
        if patience < 0 or start_from_epoch < 0:
            raise ValueError(f"EarlyStopping: patience and start_from_epoch must be >= 0, got patience={patience}, "
                             f"start_from_epoch={start_from_epoch}")
        self.patience, self.verbose, self.baseline = patience, verbose, baseline
        self.restore_best_weights, self.start_from_epoch = restore_best_weights, start_from_epoch
        self.wait, self.stopped_epoch, self.best_weights, self.best_epoch = 0, 0, None, 0

    def on_train_begin(self, logs=None):
        self.wait, self.stopped_epoch, self.best_weights, self.best_epoch = 0, 0, None, 0
        self.monitor_op, self.best = None, None  # a reused instance starts over

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()  # here, once the model's metrics are known
        current = self.get_monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights, self.best_epoch = self.model.get_weights(), epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)
