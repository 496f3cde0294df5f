"""``BackupAndRestore``: survive an interrupted ``fit``. At the end of every epoch (or every ``save_freq`` batches)
the training state — the model's weights and buffers, the optimizer's state and step count, its learning rate and
the number of finished epochs — is written to one file in ``backup_dir``, atomically (a crash while writing leaves
the previous backup). A later ``fit`` with the same callback restores that state when it starts and continues from
the first unfinished epoch; a ``fit`` that completes deletes the backup.

As in Keras, the data order of a resumed run is not restored: with ``shuffle=True`` (or random layers) the resumed
epochs see other batches than an uninterrupted run would; with ``shuffle=False`` the result is the same.
"""

import json
import os

from ...io.atomic import atomic_write_bytes
from ...io.weights import load_with_metadata, to_bytes
from .base import Callback, SaveSchedule

BACKUP_FILE = "latest.backup.safetensors"
FORMAT = "ganglion.keras.backup/1"


class BackupAndRestore(Callback):
    """Back up the training state to ``backup_dir`` and resume from it (see the module docstring).

    ``save_freq``: "epoch" or a number of batches. ``delete_checkpoint``: remove the backup when ``fit`` completes.
    """

    def __init__(self, backup_dir, save_freq="epoch", delete_checkpoint=True):
        super().__init__()
        if not backup_dir:
            raise ValueError("BackupAndRestore: backup_dir must be a folder path, got an empty value")
        self._schedule = SaveSchedule(save_freq, "BackupAndRestore")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq, self.delete_checkpoint = save_freq, delete_checkpoint
        self._path = os.path.join(self.backup_dir, BACKUP_FILE)
        self._current_epoch = 0

    # ---------------------------------------------------------------------------------------------- restore
    def on_train_begin(self, logs=None):
        self._current_epoch = 0
        if not os.path.exists(self._path):
            return
        if not self.model.built:
            raise ValueError(f"BackupAndRestore: the model must be built before fit() to restore a backup; "
                             f"{self.model.name} is not (call it on a batch of data or give it an input shape)")
        tensors, meta = load_with_metadata(self._path)
        if not meta or meta.get("format") != FORMAT:
            raise ValueError(f"BackupAndRestore: {self._path!r} is not a backup written by this callback")
        self._restore_model(tensors)
        self._restore_optimizer(tensors, meta)
        self._current_epoch = int(meta["epoch"])
        self.model._initial_epoch = self._current_epoch  # fit starts at the first epoch not finished

    def _restore_model(self, tensors):
        """The saved weights and buffers, by position: a rebuilt model has the same structure, but its layers may
        have other automatic names (dense_2 instead of dense)."""
        saved = [v for k, v in tensors.items() if k.startswith("model/")]
        state = self.model.state_dict()
        shapes = [tuple(v.shape) for v in state.values()]
        if [tuple(v.shape) for v in saved] != shapes:
            raise ValueError(f"BackupAndRestore: the backup in {self._path!r} does not fit model {self.model.name!r}: "
                             f"it holds {len(saved)} arrays of shapes {[tuple(v.shape) for v in saved]}, the model "
                             f"has {len(shapes)} of shapes {shapes}")
        self.model.load_state_dict(dict(zip(state, saved)))

    def _restore_optimizer(self, tensors, meta):
        optimizer = getattr(self.model, "optimizer", None)
        state = meta.get("optimizer")
        if optimizer is None or state is None:
            return
        if not optimizer.built:
            if hasattr(self.model, "_ensure_optimizer"):
                self.model._ensure_optimizer()
            else:
                optimizer.build([p for p in self.model.parameters() if p.requires_grad])
        per_param = {}
        for key, value in tensors.items():
            if key.startswith("optimizer/"):
                index, name = key[len("optimizer/"):].split("/", 1)
                per_param.setdefault(int(index), {})[name] = value
        optimizer._engine.load_state_dict({"state": per_param, "param_groups": state["param_groups"]})
        optimizer.iterations = int(state["iterations"])
        if state.get("learning_rate") is not None:
            optimizer.learning_rate = state["learning_rate"]

    # ------------------------------------------------------------------------------------------------- save
    def on_epoch_end(self, epoch, logs=None):
        self._current_epoch = epoch + 1
        self._schedule.batches_since_save = 0  # a batch-count schedule restarts with each epoch
        if self._schedule.per_epoch:
            self._save()

    def on_train_batch_end(self, batch, logs=None):
        if self._schedule.batch_done():
            self._save()

    def _save(self):
        tensors = {f"model/{i:06d}/{name}": value for i, (name, value) in enumerate(self.model.state_dict().items())}
        meta = {"format": FORMAT, "epoch": self._current_epoch, "optimizer": None}
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and optimizer.built:
            engine_state = optimizer._engine.state_dict()
            for index, entry in engine_state["state"].items():
                for key, value in entry.items():
                    tensors[f"optimizer/{index}/{key}"] = value
            lr = optimizer._learning_rate
            meta["optimizer"] = {"iterations": optimizer.iterations, "param_groups": engine_state["param_groups"],
                                 "learning_rate": None if callable(lr) else float(lr)}
        meta = json.loads(json.dumps(meta, default=_plain))
        atomic_write_bytes(self._path, to_bytes(tensors, meta))

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and os.path.exists(self._path):
            os.remove(self._path)
            if not os.listdir(self.backup_dir):
                os.rmdir(self.backup_dir)


def _plain(value):
    """JSON for the odd values optimizer settings hold (tuples are lists already; NumPy scalars become numbers)."""
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"BackupAndRestore: cannot store {type(value).__name__} {value!r} in the backup metadata")
