"""Keras' training API, written once on the engine's loop: ``compile``, ``fit``, ``evaluate``, ``predict``,
``train_on_batch``, ``test_on_batch``, ``predict_on_batch``. A training step is the ``zero_grad / backward / step``
a PyTorch-style user writes by hand; what Keras adds around it is kept off the per-step path: data converted once
(data_adapter.py), metrics recorded and computed when read (compile_utils.py), loss terms, constraints and
callback hooks looked up once per call of ``fit``.

Override ``train_step(self, data)`` / ``test_step(self, data)`` (``data`` is ``(x, y, sample_weight)``, returning a
logs dict) for custom logic, as in Keras.
"""

import warnings

import numpy as np

from ... import backend
from ...autograd.grad_mode import no_grad
from .. import optimizers as keras_optimizers
from ..callbacks import CallbackList, History, ProgbarLogger
from .compile_utils import CompiledLoss, CompiledMetrics, flatten
from .data_adapter import ArrayData, EpochIterator, adapt, class_weights_to_sample_weights, pack, unpack
from .evaluation import _device_of, _overrides


def _batch_len(x):
    return int(flatten(x)[0].shape[0])


class Trainer:
    """Mixed into ``Model``: compiling, and running training, evaluation and prediction."""

    compiled = False
    optimizer = None
    stop_training = False
    _train_context = None
    _initial_epoch = 0

    # ------------------------------------------------------------------------------------------------ compile
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None, weighted_metrics=None,
                run_eagerly=False, steps_per_execution=1, jit_compile="auto", auto_scale_loss=True):
        """Choose the optimizer, the loss (one, or one per output, with ``loss_weights``) and the metrics."""
        self.optimizer = keras_optimizers.get(optimizer)
        self._compile_loss = CompiledLoss(loss, loss_weights)
        self._compile_metrics = CompiledMetrics(metrics, weighted_metrics)
        self.__dict__["_compile_spec"] = {"loss": loss, "loss_weights": loss_weights, "metrics": metrics,
                                          "weighted_metrics": weighted_metrics}
        self.__dict__["compiled"] = True

    def _assert_compiled(self, what):
        if not self.compiled:
            raise ValueError(f"You must call compile() before {what}()")

    @property
    def metrics(self):
        """The loss tracker, then the compiled metrics (once the first batch has built them)."""
        if not self.compiled:
            return []
        cm = self._compile_metrics
        return [cm.loss_tracker] + [t for t in cm.output_loss_trackers if t is not None] + \
            [m for _, m, _ in cm.metrics or ()]

    @property
    def metrics_names(self):
        return [m.name for m in self.metrics]

    def reset_metrics(self):
        if self.compiled:
            self._compile_metrics.reset()

    def get_metrics_result(self):
        """The current values of the loss and metrics: {name: float}."""
        return self._compile_metrics.results()

    # ------------------------------------------------------------------------------------------- outputs, y
    def _output_names(self, preds, y_pred):
        if isinstance(y_pred, dict):
            return list(y_pred)
        names = getattr(self, "output_names", None)
        if names and len(names) == len(preds):
            return list(names)
        return ["output"] if len(preds) == 1 else [f"output_{i + 1}" for i in range(len(preds))]

    def _targets(self, y, names):
        """y as one entry per output (None for an output without a target)."""
        if y is None:
            return [None] * len(names)
        if isinstance(y, dict):
            unknown = sorted(set(y) - set(names))
            if unknown:
                raise ValueError(f"y has key(s) {unknown} that name no output; the outputs are {names}")
            return [y.get(name) for name in names]
        if isinstance(y, (list, tuple)):
            if len(y) != len(names):
                raise ValueError(f"the model has {len(names)} output(s) {names} but y holds {len(y)} target(s)")
            return list(y)
        if len(names) != 1:
            raise ValueError(f"the model has {len(names)} outputs {names}: give y as a list or a dict of "
                             f"{len(names)} targets")
        return [y]

    def _ensure_compiled_for(self, ys, preds, names):
        if self._compile_loss.entries is None:
            self._compile_loss.build(names)
            losses = [entry[0] for entry in self._compile_loss.entries]
            self._compile_metrics.build(ys, preds, losses, names)

    # ------------------------------------------------------------------------------------------------ losses
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The compiled loss of ``y_pred`` against ``y`` plus the model's regularization losses (a scalar Tensor)."""
        self._assert_compiled("compute_loss")
        preds = flatten(y_pred)
        names = self._output_names(preds, y_pred)
        ys = self._targets(y, names)
        self._ensure_compiled_for(ys, preds, names)
        total, _ = self._compile_loss(ys, preds, sample_weight)
        return self._add_model_losses(total)

    def _add_model_losses(self, total):
        context = self._train_context
        if context is None:
            terms = self._loss_terms()
        else:  # looked up after the first forward pass, which builds lazily built layers
            terms = context["terms"]
            if terms is None:
                terms = context["terms"] = self._loss_terms()
        for term in terms:
            value = term()
            if value is not None:
                total = total + value
        return total

    def _step_loss(self, x, y, sample_weight, training):
        """Forward pass and loss of one batch; the metrics record it. Returns the loss Tensor."""
        y_pred = self(x, training=training)
        preds = flatten(y_pred)
        names = self._output_names(preds, y_pred)
        ys = self._targets(y, names)
        self._ensure_compiled_for(ys, preds, names)
        total, per_output = self._compile_loss(ys, preds, sample_weight)
        total = self._add_model_losses(total)
        self._compile_metrics.record(total, per_output, ys, preds, sample_weight, _batch_len(x))
        return total

    # ------------------------------------------------------------------------------------------------- steps
    def train_step(self, data):
        """One training step on ``data`` = (x, y) or (x, y, sample_weight): forward, loss, backward, optimizer
        update. Returns the logs (the running loss and metrics). Override it for custom training logic."""
        self._train_batch(*unpack(data))
        return self.get_metrics_result()

    def _train_batch(self, x, y, sample_weight):
        loss = self._step_loss(x, y, sample_weight, training=True)
        optimizer = self.optimizer
        if not optimizer.built:
            self._build_optimizer()
        for p in optimizer._params:
            p.grad = None
        loss.backward()
        optimizer.apply_gradients()
        context = self._train_context
        if context is None:
            constraints = self._constraints()
        else:
            constraints = context["constraints"]
            if constraints is None:
                constraints = context["constraints"] = self._constraints()
        for layer, name, constraint in constraints:
            with no_grad():
                target = layer._penalty_target(name)
                target.array[...] = constraint(target).array

    def test_step(self, data):
        """Loss and metrics of one batch without training; returns the running logs."""
        self._test_batch(*unpack(data))
        return self.get_metrics_result()

    def _test_batch(self, x, y, sample_weight):
        with no_grad():
            self._step_loss(x, y, sample_weight, training=False)

    def predict_step(self, data):
        x = data[0] if isinstance(data, tuple) else data
        with no_grad():
            return self(x, training=False)

    def _build_optimizer(self):
        """Build the optimizer on the trainable parameters, in the model's order (saved states rely on it)."""
        params = [p for p in self.parameters() if p.requires_grad]
        self.optimizer.build(params)

    def _ensure_optimizer(self):
        if not self.optimizer.built:
            self._build_optimizer()

    def _constraints(self):
        return [(m, name, c) for m in self.modules() for name, c in m.__dict__.get("_constraints", ())]

    def _enter(self):
        """Start a run of steps: the loss terms and constraints are then looked up once, at the first step (after
        the forward pass has built any lazily built layer); an optimizer built before the trainable flags changed
        is rebuilt on the trainable parameters."""
        if self.compiled and self.optimizer.built:
            wanted = [p for p in self.parameters() if p.requires_grad]
            if {id(p) for p in wanted} != {id(p) for p in self.optimizer._params}:
                self.optimizer.build(wanted)  # trainable flags changed since the optimizer was built
        self.__dict__["_train_context"] = {"terms": None, "constraints": None}

    def _exit(self):
        self.__dict__["_train_context"] = None

    def _custom(self, name):
        return getattr(type(self), name) is not getattr(Trainer, name)

    # ------------------------------------------------------------------------------------------------------ fit
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
            steps_per_epoch=None, validation_steps=None, validation_batch_size=None, validation_freq=1):
        """Train for ``epochs`` epochs; returns a ``History`` whose ``history`` maps each metric to its values."""
        self._assert_compiled("fit")
        for arg, value in (("epochs", epochs), ("initial_epoch", initial_epoch)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
                raise ValueError(f"{arg} must be a non-negative int, got {value!r}")
        data = adapt(x, y, sample_weight, batch_size, shuffle)
        if class_weight is not None:
            if not isinstance(data, ArrayData) or data.y is None:
                raise ValueError("class_weight needs in-memory arrays for x and y")
            data.sample_weight = class_weights_to_sample_weights(data.y, class_weight, data.sample_weight)
        val = None
        if validation_data is not None:
            val = _validation(validation_data, validation_batch_size or batch_size)
        elif validation_split:
            if not isinstance(data, ArrayData):
                raise ValueError("validation_split needs in-memory arrays; pass validation_data for a Dataset or "
                                 "DataLoader")
            data, val = data.split(validation_split)
            val.shuffle = False
        device = _device_of(self)
        data.to_device(device)
        if val is not None:
            val.to_device(device)
        rng = np.random.default_rng(int(backend.default_generator.numpy.integers(2**63)))
        iterator = EpochIterator(data, steps_per_epoch, rng)
        verbose = 1 if verbose == "auto" else int(verbose)
        history = History()
        cbs = list(callbacks or [])
        cbs.append(history)
        if verbose:
            progbar = ProgbarLogger()
            progbar.verbose = verbose
            cbs.append(progbar)
        params = {"epochs": epochs, "steps": iterator.steps, "verbose": verbose}
        callback_list = CallbackList(cbs, self, params)
        begin = [cb.on_train_batch_begin for cb in cbs if _overrides(cb, "on_train_batch_begin", "on_batch_begin")]
        end = [cb.on_train_batch_end for cb in cbs if _overrides(cb, "on_train_batch_end", "on_batch_end")]
        custom_step = self._custom("train_step")
        self.__dict__["history"] = history
        self.stop_training = False
        self.__dict__["_initial_epoch"] = int(initial_epoch)
        self._enter()
        try:
            callback_list.on_train_begin()  # BackupAndRestore may move _initial_epoch past finished epochs
            epoch_logs = {}
            for epoch in range(max(int(initial_epoch), self._initial_epoch), epochs):
                self.reset_metrics()
                self.train()
                callback_list.on_epoch_begin(epoch)
                steps_run, logs = 0, None
                for step, batch in iterator.epoch():
                    for hook in begin:
                        hook(step)
                    if custom_step:
                        logs = self.train_step(pack(*batch))
                    else:
                        self._train_batch(*batch)
                    steps_run += 1
                    if end:
                        logs = logs if custom_step else self.get_metrics_result()
                        for hook in end:
                            hook(step, logs)
                    if self.stop_training:
                        break
                if steps_run == 0:
                    warnings.warn("fit: the input ran out of data; stopping training (give steps_per_epoch that "
                                  "the data can provide, or data that repeats)", stacklevel=2)
                    break
                if iterator.ran_out:
                    warnings.warn(f"fit: the input ran out of data after {steps_run} of steps_per_epoch="
                                  f"{steps_per_epoch} steps in epoch {epoch + 1}; the next epoch starts a new pass "
                                  "(make sure the data can provide steps_per_epoch * epochs batches)", stacklevel=2)
                epoch_logs = dict(logs) if custom_step and logs else self.get_metrics_result()
                if val is not None and _validate_now(epoch, validation_freq):
                    val_logs = self._evaluate_data(val, validation_steps)
                    epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
                self.train()
                callback_list.on_epoch_end(epoch, epoch_logs)
                if self.stop_training:
                    break
            callback_list.on_train_end(epoch_logs)
        finally:
            self._exit()
            self.eval()
        return history

def _validate_now(epoch, freq):
    if isinstance(freq, int):
        if freq <= 0:
            raise ValueError(f"validation_freq must be a positive int or a list of epochs, got {freq}")
        return (epoch + 1) % freq == 0
    return epoch + 1 in freq


def _validation(validation_data, batch_size):
    if isinstance(validation_data, (tuple, list)):
        if len(validation_data) not in (2, 3):
            raise ValueError(f"validation_data must be (x_val, y_val) or (x_val, y_val, val_sample_weight), got a "
                             f"{type(validation_data).__name__} of {len(validation_data)} items")
        return ArrayData(*validation_data, batch_size=batch_size, shuffle=False)
    return adapt(validation_data, batch_size=batch_size)
