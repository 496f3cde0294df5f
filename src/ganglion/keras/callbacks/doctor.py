"""``TrainingDoctor``: ``ganglion.insight.Doctor`` as a Keras callback. The same observations and checks; the
callback only feeds them from ``fit``: every batch's loss (the gradients are still on the weights after the
optimizer step), each epoch's ``loss`` / ``val_loss`` pair, the compiled loss's kind, and hooks on the layers whose
``activation`` is relu, sigmoid or tanh. At the end of training the report is printed and kept on ``.diagnoses``.
"""

from ...insight.doctor import Doctor
from .base import Callback

_ACTIVATIONS = ("relu", "sigmoid", "tanh")


def _loss_kind(loss):
    """(kind the checks know, name) for a compiled Keras loss: a name, a function or a Loss object."""
    name = loss if isinstance(loss, str) else getattr(loss, "name", None) or getattr(loss, "__name__", None) \
        or type(loss).__name__
    key = str(name).lower().replace("_", "")
    config = loss.get_config() if hasattr(loss, "get_config") else {}
    logits = bool(config.get("from_logits", getattr(loss, "from_logits", False)))
    if key in ("mse", "mae", "meansquarederror", "meanabsoluteerror", "huber"):
        return "regression", name
    if key.endswith("categoricalcrossentropy"):
        return ("cross_entropy" if logits else "probabilities"), name
    if key == "binarycrossentropy":
        return ("bce_with_logits" if logits else "bce"), name
    return None, name


class TrainingDoctor(Callback):
    """Diagnose a ``fit``: vanishing/exploding gradients, dead ReLUs, saturated units, learning rate too high or
    too low, overfitting (needs validation data), probabilities fed to a from_logits loss, a classifier trained
    with a regression loss. ``window`` and ``thresholds`` as in ``ganglion.insight.Doctor``; ``verbose=0`` keeps
    the report off the screen (it is always on ``.diagnoses``)."""

    def __init__(self, window=20, thresholds=None, verbose=1):
        super().__init__()
        self.window, self.thresholds, self.verbose = window, thresholds, verbose
        self.doctor, self.diagnoses = None, []

    def on_train_begin(self, logs=None):
        from ..activations import serialize  # noqa: PLC0415 - keras.activations imports the layers' package

        activations = {}
        for layer in self.model.modules():
            act = getattr(layer, "activation", None)
            if layer is not self.model and callable(act) and serialize(act) in _ACTIVATIONS:
                activations[layer] = serialize(act)
        self.doctor = Doctor(self.model, optimizer=None, window=self.window, thresholds=self.thresholds,
                             activations=activations)
        spec = getattr(self.model, "_compile_spec", None) or {}
        if spec.get("loss") is not None and not isinstance(spec["loss"], (list, dict)):
            self.doctor.set_loss(*_loss_kind(spec["loss"]))

    def on_train_batch_end(self, batch, logs=None):
        if logs and "loss" in logs:
            self.doctor.step(logs["loss"])

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if "loss" in logs and "val_loss" in logs:
            self.doctor.record_validation(logs["loss"], logs["val_loss"])

    def on_train_end(self, logs=None):
        self.diagnoses = self.doctor.report()
        if self.verbose:
            print(self.doctor)
        self.doctor.close()
