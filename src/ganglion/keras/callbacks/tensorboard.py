"""``TensorBoard``: training curves (and optionally weight histograms) written as TensorBoard event files, in
Keras 3's layout, by ganglion's own event writer (viewing them needs ``pip install ganglion[tensorboard]``).

    {log_dir}/train/       epoch_loss, epoch_<metric>, epoch_learning_rate [, epoch_steps_per_second]
                           at step = epoch; batch_<name> [, batch_steps_per_second] at step = global batch
                           (from 1) every update_freq batches; <weight path>/histogram every histogram_freq epochs
    {log_dir}/validation/  epoch_<metric> from the val_ logs (prefix dropped), at step = epoch;
                           evaluation_<name>_vs_iterations after evaluate(callbacks=[...]), at step = the
                           optimizer's iterations
"""

import os
import time

from ...utils.tensorboard import SummaryWriter
from .base import Callback


def _update_freq(value):
    if value == "batch":
        return 1
    if value == "epoch":
        return value
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    raise ValueError(f"TensorBoard: update_freq must be 'epoch', 'batch' or a positive integer, got {value!r}")


class TensorBoard(Callback):
    """Log epoch (and, with ``update_freq="batch"`` or an integer N, every N-th batch's) losses and metrics, the
    learning rate, optionally steps per second and weight histograms, for TensorBoard:
    ``tensorboard --logdir {log_dir}``.

    ``histogram_freq=N`` writes a histogram of every weight every N epochs. ``write_graph`` is accepted and writes
    nothing: Keras 3 documents it as not supported at this time, and outside TensorFlow it writes no graph either.
    ``write_images``, ``profile_batch``, ``embeddings_freq`` and ``embeddings_metadata`` are not supported and
    raise ``ValueError`` when set, rather than being ignored."""

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq="epoch", profile_batch=0, embeddings_freq=0,
                 embeddings_metadata=None):
        super().__init__()
        unsupported = {"write_images": write_images, "profile_batch": profile_batch,
                       "embeddings_freq": embeddings_freq, "embeddings_metadata": embeddings_metadata}
        for name, value in unsupported.items():
            if value:
                raise ValueError(f"TensorBoard: {name}={value!r} is not supported by ganglion (leave it at its "
                                 "default); scalars, histogram_freq and write_steps_per_second are")
        if not isinstance(histogram_freq, int) or isinstance(histogram_freq, bool) or histogram_freq < 0:
            raise ValueError(f"TensorBoard: histogram_freq must be a non-negative integer, got {histogram_freq!r}")
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq, self.write_graph = histogram_freq, write_graph
        self.write_images, self.write_steps_per_second = write_images, write_steps_per_second
        self.update_freq = _update_freq(update_freq)
        self._writers = {}
        self._global_train_batch = 0
        self._batch_start_time = self._epoch_start_time = 0.0
        self._epoch_start_iterations = 0

    # Writers are opened on first use, so a run that logs nothing leaves no empty files (as Keras does).
    def _writer(self, kind):
        if kind not in self._writers:
            folder = os.path.join(self.log_dir, kind)
            self._writers[kind] = SummaryWriter(folder, filename_suffix=".v2")  # tf.summary's file name
        return self._writers[kind]

    def _close_writers(self):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    def set_model(self, model):
        self._close_writers()  # each fit or evaluate starts new event files, as Keras' set_model does
        super().set_model(model)

    def _iterations(self):
        optimizer = getattr(self.model, "optimizer", None)
        return None if optimizer is None else getattr(optimizer, "iterations", None)

    # ----------------------------------------------------------------------------------------------- training
    def on_train_begin(self, logs=None):
        self._global_train_batch = 0

    def on_train_end(self, logs=None):
        self._close_writers()

    def on_epoch_begin(self, epoch, logs=None):
        if self.write_steps_per_second:
            self._epoch_start_iterations = int(self._iterations() or 0)
            self._epoch_start_time = time.time()

    def on_train_batch_begin(self, batch, logs=None):
        self._global_train_batch += 1
        if self.write_steps_per_second:
            self._batch_start_time = time.time()

    def on_train_batch_end(self, batch, logs=None):
        if self.update_freq == "epoch" or self._global_train_batch % self.update_freq:
            return
        writer, step = self._writer("train"), self._global_train_batch
        if self.write_steps_per_second:
            elapsed = max(time.time() - self._batch_start_time, 1e-9)
            writer.add_scalar("batch_steps_per_second", 1.0 / elapsed, step)
        if isinstance(logs, dict):
            for name, value in logs.items():
                writer.add_scalar(f"batch_{name}", value, step)

    def on_epoch_end(self, epoch, logs=None):
        self._log_epoch_metrics(epoch, logs or {})
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)
        for writer in self._writers.values():
            writer.flush()  # a run being watched shows each epoch as it ends

    def _log_epoch_metrics(self, epoch, logs):
        if not logs:
            return
        train_logs = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val_logs = {k[len("val_"):]: v for k, v in logs.items() if k.startswith("val_")}
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and hasattr(optimizer, "learning_rate"):
            train_logs["learning_rate"] = optimizer.learning_rate
        if self.write_steps_per_second:
            elapsed = max(time.time() - self._epoch_start_time, 1e-9)
            train_logs["steps_per_second"] = (int(self._iterations() or 0) - self._epoch_start_iterations) / elapsed
        for kind, kind_logs in (("train", train_logs), ("validation", val_logs)):
            if kind_logs:
                writer = self._writer(kind)
                for name, value in kind_logs.items():
                    writer.add_scalar(f"epoch_{name}", value, epoch)

    def _log_weights(self, epoch):
        writer = self._writer("train")
        for layer in self.model.layers:
            for weight in layer.weights:
                writer.add_histogram(f"{weight.path.replace(':', '_')}/histogram", weight.numpy(), epoch)

    # ------------------------------------------------------------------------------------------------- evaluate
    def on_test_end(self, logs=None):
        iterations = self._iterations()
        if iterations is None or not logs:
            return
        writer = self._writer("validation")
        for name, value in logs.items():
            writer.add_scalar(f"evaluation_{name}_vs_iterations", value, int(iterations))
        writer.flush()
