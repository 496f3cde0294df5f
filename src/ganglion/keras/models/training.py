"""Keras' training API, written once on the engine's loop: ``compile``, the hooks ``compute_loss`` and
``compute_metrics``, the steps ``train_step`` / ``test_step`` / ``predict_step``, and ``fit`` (evaluation.py holds
``evaluate``, ``predict`` and the ``*_on_batch`` methods). A training step is the ``zero_grad / backward / step`` a
PyTorch-style user writes by hand.

There is one loss path, as in Keras 3: every step, built in or custom, gets its loss from ``self.compute_loss(x, y,
y_pred, sample_weight, training=...)`` (the compiled loss plus the ``add_loss`` and regularization losses of the
model and its layers) and its logs from ``self.compute_metrics(x, y, y_pred, sample_weight)``. Override
``compute_loss`` to change what ``fit`` trains on and ``evaluate`` reports; override ``train_step(self, data)`` /
``test_step(self, data)`` (``data`` is ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``, returning a logs dict) for
custom logic.
"""

import inspect
import warnings

import numpy as np

from ... import backend
from ...autograd.grad_mode import no_grad
from .. import metrics as keras_metrics
from .. import optimizers as keras_optimizers
from ..callbacks import CallbackList, History, ProgbarLogger
from .compile_utils import CompiledLoss, CompiledMetrics, flatten, match_targets, output_names_of
from .class_weight import with_class_weight
from .data_adapter import ArrayData, EpochIterator, adapt, pack, unpack
from .data_parallel import DataParallel
from .evaluation import _device_of, _overrides


def _batch_len(x):
    """The number of samples in the batch ``x`` (its first input's leading dimension), as Keras counts them."""
    return int(next(t for t in flatten(x) if t is not None).shape[0])


class Trainer:
    """Mixed into ``Model``: compiling, the loss and metric hooks, and the training loop."""

    compiled = False
    optimizer = None
    stop_training = False
    _compile_loss = None
    _compile_metrics = None
    _loss_tracker = None
    _train_context = None
    _initial_epoch = 0

    # ------------------------------------------------------------------------------------------------ compile
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None, weighted_metrics=None,
                run_eagerly=False, steps_per_execution=1, jit_compile="auto", auto_scale_loss=True):
        """Choose the optimizer, the loss (one, or one per output, with ``loss_weights``) and the metrics. Without
        a loss, the model trains on its ``add_loss`` and regularization losses alone (or a ``compute_loss``
        override)."""
        d = self.__dict__
        self.optimizer = keras_optimizers.get(optimizer)
        d["_compile_loss"] = None if loss is None else CompiledLoss(loss, loss_weights)
        d["_compile_metrics"] = CompiledMetrics(metrics, weighted_metrics)
        d["_loss_tracker"] = keras_metrics.Mean(name="loss")
        # Keras 3.3 added ``training``; an override written without it is still called (without it).
        d["_compute_loss_has_training_arg"] = "training" in inspect.signature(self.compute_loss).parameters
        d["_compile_spec"] = {"loss": loss, "loss_weights": loss_weights, "metrics": metrics,
                              "weighted_metrics": weighted_metrics}
        d["compiled"] = True

    def _assert_compiled(self, what):
        if not self.compiled:
            raise ValueError(f"You must call compile() before {what}()")

    # ------------------------------------------------------------------------------------------------ losses
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The total loss of a batch (a scalar Tensor): the compiled loss of ``y_pred`` against ``y`` plus every
        ``add_loss`` value and regularization penalty of the model and its layers. ``fit``'s and ``evaluate``'s
        steps call it; override it (same signature) to train on something else. ``x`` and ``training`` are unused
        here, given for overrides."""
        del x, training
        total = None
        if self._compile_loss is not None:
            total = self._compile_loss(y, y_pred, sample_weight, getattr(self, "output_names", None))
        for term in self._loss_term_list():
            value = term()
            if value is None:
                continue
            if value.ndim:
                value = value.sum()  # Keras sums a non-scalar added loss
            total = value if total is None else total + value
        if total is None:
            raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`.")
        return total

    def _compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """``compute_loss`` as the steps call it: positionally, and with ``training`` only when the (overridden)
        method takes it, as Keras does."""
        if self.__dict__.get("_compute_loss_has_training_arg", True):
            return self.compute_loss(x, y, y_pred, sample_weight, training=training)
        return self.compute_loss(x, y, y_pred, sample_weight)

    def _loss_term_list(self):
        """The model's loss terms (``add_loss`` values, penalties), looked up once per run of steps: after the
        first forward pass, which builds any lazily built layer."""
        context = self._train_context
        if context is None:
            return self._loss_terms()
        if context["terms"] is None:
            context["terms"] = self._loss_terms()
        return context["terms"]

    # ----------------------------------------------------------------------------------------------- metrics
    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        """Update the compiled metrics with this batch and return the logs of every metric in ``self.metrics``
        (``get_metrics_result``). Override it to update metrics of your own."""
        del x
        compiled = self._compile_metrics
        if compiled is not None:
            names = getattr(self, "output_names", None)
            losses = None
            if compiled.entries is None and self._compile_loss is not None:  # "accuracy" is resolved from them
                losses = self._compile_loss.losses_for(y_pred, names)
            compiled.update_state(y, y_pred, sample_weight, losses, names)
        return self.get_metrics_result()

    def _build_compiled_metrics(self, data):
        """Build the compiled metrics from one batch before the first step, as Keras 3's fit does symbolically, so
        that ``self.metrics`` lists them inside a custom ``train_step`` that updates them itself. The forward pass
        runs in inference mode and without a graph: it changes no weight, statistic or random stream."""
        compiled = self._compile_metrics
        if compiled is None or compiled.entries is not None:
            return
        x, y, _ = unpack(data)
        with no_grad():
            y_pred = self(x, training=False)
        names = output_names_of(y_pred, getattr(self, "output_names", None))
        preds = flatten(y_pred)
        losses = self._compile_loss.losses_for(y_pred, names) if self._compile_loss is not None else None
        compiled.build(match_targets(y, names), preds, losses or [None] * len(preds), names)

    @property
    def metrics(self):
        """The loss tracker, the per-output loss trackers, the compiled metrics (once the first batch has built
        them), then any ``Metric`` the model or its layers hold as attributes."""
        found = []
        if self.compiled:
            found.append(self._loss_tracker)
            if self._compile_loss is not None:
                found.extend(self._compile_loss.metrics)
            found.extend(self._compile_metrics.metrics)
        context = self._train_context
        if context is None:
            held = self._held_metrics()
        else:
            held = context["metrics"]
            if held is None:
                held = context["metrics"] = self._held_metrics()
        return found + [m for m in held if all(m is not other for other in found)]

    def _held_metrics(self):
        """The ``Metric`` objects held as attributes by the model and its layers (as Keras tracks them); a nested
        model's own trackers belong to its own training, not to this model's."""
        found = []
        for module in self.modules():
            if module is not self and isinstance(module, Trainer):
                continue
            for value in module.__dict__.values():
                if isinstance(value, keras_metrics.Metric) and all(value is not m for m in found):
                    found.append(value)
        return found

    @property
    def metrics_names(self):
        return [m.name for m in self.metrics]

    def reset_metrics(self):
        for metric in self.metrics:
            metric.reset_state()

    def get_metrics_result(self):
        """The current value of every metric in ``self.metrics``: {name: float}, sorted by name as Keras logs are
        (a metric whose result is a dict adds its entries)."""
        logs = {}
        for metric in self.metrics:
            result = metric.result()
            if isinstance(result, dict):
                logs.update(result)
            else:
                logs[metric.name] = result
        return {name: _pythonify(value) for name, value in sorted(logs.items())}

    def _get_metrics_result_or_logs(self, logs):
        """The metrics' current values when a step's ``logs`` report the same names (the built-in steps) or are no
        dict; a custom step's own logs otherwise."""
        metric_logs = self.get_metrics_result()
        if not isinstance(logs, dict) or set(logs) == set(metric_logs):
            return metric_logs
        return logs

    def _flatten_metrics_in_order(self, logs):
        """``logs`` as Keras' list: values in ``metrics_names`` order, then the other names sorted; one value
        alone is returned bare."""
        names = [m.name for m in self.metrics]
        values = [logs[name] for name in names if name in logs]
        values += [logs[name] for name in sorted(logs) if name not in names]
        return values[0] if len(values) == 1 else values

    # ------------------------------------------------------------------------------------------------- steps
    def train_step(self, data):
        """One training step on ``data`` = (x,), (x, y) or (x, y, sample_weight): forward, ``compute_loss``,
        backward, optimizer update, weight constraints; returns ``compute_metrics``' logs. Override it for custom
        training logic."""
        x, y, sample_weight = unpack(data)
        y_pred = self(x, training=True)
        loss = self._compute_loss(x, y, y_pred, sample_weight, training=True)
        self._ensure_optimizer()
        optimizer = self.optimizer
        for p in optimizer.params:
            p.grad = None
        loss.backward()
        optimizer.apply_gradients()
        self._apply_constraints()
        loss_value, rows = float(loss.item()), _batch_len(x)
        strategy = self._train_context.get("strategy") if self._train_context is not None else None
        if strategy is not None:  # fit(distribute=...): log the global batch, every rank's rows (data_parallel.py)
            y, y_pred, sample_weight, loss_value, rows = strategy.gather(y, y_pred, sample_weight, loss_value, rows)
        self._loss_tracker.update_state(loss_value, rows)
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def test_step(self, data):
        """Loss and metrics of one batch in inference mode (``evaluate`` runs it without a graph); returns
        ``compute_metrics``' logs."""
        x, y, sample_weight = unpack(data)
        y_pred = self(x, training=False)
        loss = self._compute_loss(x, y, y_pred, sample_weight, training=False)
        self._loss_tracker.update_state(float(loss.item()), _batch_len(x))
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def predict_step(self, data):
        """The model's outputs for one batch (``predict`` runs it without a graph)."""
        x, _, _ = unpack(data)
        return self(x, training=False)

    def _apply_constraints(self):
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
        """Start a run of steps: the loss terms, constraints and metrics held by layers are then looked up once, at
        the first step (after the forward pass has built any lazily built layer); an optimizer built before the
        trainable flags changed is rebuilt on the trainable parameters."""
        if self.compiled and self.optimizer.built:
            wanted = [p for p in self.parameters() if p.requires_grad]
            if {id(p) for p in wanted} != {id(p) for p in self.optimizer.params}:
                self.optimizer.build(wanted)  # trainable flags changed since the optimizer was built
        self.__dict__["_train_context"] = {"terms": None, "constraints": None, "metrics": None}

    def _exit(self):
        self.__dict__["_train_context"] = None

    # ------------------------------------------------------------------------------------------------------ fit
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
            steps_per_epoch=None, validation_steps=None, validation_batch_size=None, validation_freq=1,
            distribute=False):
        """Train for ``epochs`` epochs; returns a ``History`` whose ``history`` maps each metric to its values.

        ``distribute``: True or a ``DataParallel`` trains across the ranks of an MPI job, ``batch_size`` being the
        global batch (keras/models/data_parallel.py; docs/distributed.md)."""
        self._assert_compiled("fit")
        strategy = DataParallel.from_argument(distribute)
        for arg, value in (("epochs", epochs), ("initial_epoch", initial_epoch)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
                raise ValueError(f"{arg} must be a non-negative int, got {value!r}")
        data = adapt(x, y, sample_weight, batch_size, shuffle)
        val = None
        if validation_data is not None:
            val = _validation(validation_data, validation_batch_size or batch_size)
        elif validation_split:
            if not isinstance(data, ArrayData):
                raise ValueError("validation_split needs in-memory arrays; pass validation_data for a Dataset or "
                                 "DataLoader")
            data, val = data.split(validation_split)
            val.shuffle = False
        if class_weight is not None:  # on the training data only (Keras splits first)
            data = with_class_weight(data, class_weight, sample_weight)
        device = _device_of(self)
        data.to_device(device)
        if val is not None:
            val.to_device(device)
        seed = int(backend.default_generator.numpy.integers(2**63))
        if strategy is not None:  # every rank walks the same global batches
            strategy.start(self, next(iter(data.batches())))
            seed = strategy.same_seed(seed)
        rng = np.random.default_rng(seed)
        iterator = EpochIterator(data, steps_per_epoch, rng)
        verbose = 1 if verbose == "auto" else int(verbose)
        if strategy is not None and strategy.rank != 0:
            verbose = 0
        history = History()
        cbs = list(callbacks or []) if strategy is None else strategy.callbacks(list(callbacks or []))
        cbs.append(history)
        if verbose:
            progbar = ProgbarLogger()
            progbar.verbose = verbose
            cbs.append(progbar)
        params = {"epochs": epochs, "steps": iterator.steps, "verbose": verbose}
        callback_list = CallbackList(cbs, self, params)
        begin = [cb.on_train_batch_begin for cb in cbs if _overrides(cb, "on_train_batch_begin", "on_batch_begin")]
        end = [cb.on_train_batch_end for cb in cbs if _overrides(cb, "on_train_batch_end", "on_batch_end")]
        self.__dict__["history"] = history
        self.stop_training = False
        self.__dict__["_initial_epoch"] = int(initial_epoch)
        self._enter()
        self._train_context["strategy"] = strategy
        try:
            callback_list.on_train_begin()  # BackupAndRestore may move _initial_epoch past finished epochs
            if strategy is not None:
                strategy.sync_from_rank0(self)
            epoch_logs = {}
            for epoch in range(max(int(initial_epoch), self._initial_epoch), epochs):
                self.reset_metrics()
                self.train()
                callback_list.on_epoch_begin(epoch)
                steps_run, logs = 0, None
                for step, batch in iterator.epoch():
                    for hook in begin:
                        hook(step)
                    if strategy is not None:
                        batch, global_rows = strategy.shard(batch)
                        strategy.prepare_step(_batch_len(batch[0]), global_rows)
                    if steps_run == 0:
                        self._build_compiled_metrics(pack(*batch))
                    logs = self.train_step(pack(*batch))
                    steps_run += 1
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
                epoch_logs = dict(self._get_metrics_result_or_logs(logs))
                if val is not None and _validate_now(epoch, validation_freq):
                    callback_list.on_test_begin()  # Keras 3's fit validates through evaluate and its hooks
                    val_logs = self._evaluate_data(val, validation_steps, callback_list)
                    callback_list.on_test_end(val_logs)
                    epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
                self.train()
                callback_list.on_epoch_end(epoch, epoch_logs)
                if self.stop_training:
                    break
            callback_list.on_train_end(epoch_logs)
        finally:
            self._exit()
            self.eval()
            if strategy is not None:
                strategy.finish()
        return history


def _pythonify(value):
    """A metric's result as a Python float where it is a number (a confusion matrix stays an array)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


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
