"""``ModelCheckpoint``: save the model (``model.save``) or its weights (``model.save_weights``) during ``fit``."""

import os
import warnings

import numpy as np

from .base import SaveSchedule
from .monitor import MonitorCallback, as_float


class ModelCheckpoint(MonitorCallback):
    """Save after every epoch (``save_freq="epoch"``) or every ``save_freq`` batches.

    ``filepath`` may hold ``str.format`` fields filled from ``epoch`` (counted from 1), ``batch`` and the logs:
    ``"ckpt-{epoch:02d}-{val_loss:.2f}.keras"``. It must end in ``.keras`` (whole model) or, with
    ``save_weights_only=True``, in ``.weights.h5`` (the file holds safetensors data under Keras' name).
    ``save_best_only``: save only when ``monitor`` improves (``mode``, ``initial_value_threshold`` as the first best).
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False, save_weights_only=False,
                 mode="auto", save_freq="epoch", initial_value_threshold=None):
        super().__init__(monitor=monitor, mode=mode, baseline=initial_value_threshold)
        self.filepath = os.fspath(filepath)
        self.verbose, self.save_best_only, self.save_weights_only = verbose, save_best_only, save_weights_only
        self._schedule = SaveSchedule(save_freq, "ModelCheckpoint")
        self.save_freq = save_freq
        if save_weights_only and not self.filepath.endswith(".weights.h5"):
            raise ValueError("ModelCheckpoint: with save_weights_only=True the filepath must end in `.weights.h5`, "
                             f"got filepath={self.filepath!r}")
        if not save_weights_only and not self.filepath.endswith(".keras"):
            raise ValueError(f"ModelCheckpoint: the filepath must end in `.keras` (the model format), got "
                             f"filepath={self.filepath!r}; use save_weights_only=True with a `.weights.h5` name to "
                             "save only the weights")
        self._current_epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self._schedule.batch_done():
            self._save(self._current_epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self._schedule.per_epoch:
            self._save(epoch, None, logs)

    def _file_path(self, epoch, batch, logs):
        fields = dict(logs or {})
        fields["epoch"] = epoch + 1
        if batch is not None and "batch" not in fields:
            fields["batch"] = batch + 1
        try:
            return self.filepath.format(**fields)
        except KeyError as error:
            raise KeyError(f"ModelCheckpoint: cannot format filepath {self.filepath!r}: no value for {error} in the "
                           f"logs (available: {', '.join(fields)})") from None

    def _should_save(self, epoch, logs, filepath):
        if not self.save_best_only:
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: saving model to {filepath}")
            return True
        current = (logs or {}).get(self.monitor)
        if current is None:
            warnings.warn(f"ModelCheckpoint: can save the best model only with {self.monitor!r} available; saving",
                          stacklevel=3)
            return True
        if np.ndim(current) > 0:
            warnings.warn(f"ModelCheckpoint: {self.monitor!r} is not a scalar; falling back to save_best_only=False",
                          stacklevel=3)
            return True
        current = as_float(current)
        best = "None" if self.best is None else f"{self.best:.5f}"
        if self._is_improvement(current, self.best):
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {best} to {current:.5f}, saving model to "
                      f"{filepath}")
            self.best = current
            return True
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best}")
        return False

    def _save(self, epoch, batch, logs):
        if self.save_best_only and self.monitor_op is None:
            self._set_monitor_op()  # here, once the model's metrics are known
        filepath = self._file_path(epoch, batch, logs)
        if os.path.isdir(filepath):
            raise IsADirectoryError(f"ModelCheckpoint: filepath {filepath!r} is an existing directory; give a file "
                                    "name")
        if not self._should_save(epoch, logs, filepath):
            return
        folder = os.path.dirname(filepath)
        if folder:
            os.makedirs(folder, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(filepath, overwrite=True)
        else:
            self.model.save(filepath, overwrite=True)
