"""Keras' training API, written once on the engine's loop: ``compile``, ``fit``, ``evaluate``, ``predict``,
``train_on_batch``, ``test_on_batch``, ``predict_on_batch``. A training step is the ``zero_grad / backward / step``
a PyTorch-style user writes by hand; what Keras adds around it is kept off the per-step path: data converted once
(data_adapter.py), metrics recorded and computed when read (compile_utils.py), loss terms, constraints and
callback hooks looked up once per call of ``fit``.

Override ``train_step(self, data)`` / ``test_step(self, data)`` (``data`` is ``(x, y, sample_weight)``, returning a
logs dict) for custom logic, as in Keras.
"""

import time
import warnings

import numpy as np

from ... import backend
from ...autograd.grad_mode import no_grad
from .. import optimizers as keras_optimizers
from ..callbacks import Callback, CallbackList, History, ProgbarLogger
from .compile_utils import CompiledLoss, CompiledMetrics, flatten
from .data_adapter import ArrayData, EpochIterator, adapt, class_weights_to_sample_weights


def _overrides(cb, *hooks):
    """Whether callback ``cb`` defines any of ``hooks`` itself (the base class's are no-ops)."""
    return any(getattr(type(cb), h, None) is not getattr(Callback, h, None) for h in hooks)


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
        terms = context["terms"] if context is not None else self._loss_terms()
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
        """One training step on ``data`` = (x, y, sample_weight): forward, loss, backward, optimizer update.
        Returns the logs (the running loss and metrics)."""
        self._train_batch(*data)
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
        for layer, name, constraint in (context["constraints"] if context is not None else self._constraints()):
            with no_grad():
                target = layer._penalty_target(name)
                target.array[...] = constraint(target).array

    def test_step(self, data):
        """Loss and metrics of one batch without training; returns the running logs."""
        self._test_batch(*data)
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
        """Look up once what every step needs (loss terms, constraints, the optimizer's parameters)."""
        if self.compiled and self.optimizer.built:
            wanted = [p for p in self.parameters() if p.requires_grad]
            if {id(p) for p in wanted} != {id(p) for p in self.optimizer._params}:
                self.optimizer.build(wanted)  # trainable flags changed since the optimizer was built
        self.__dict__["_train_context"] = {"terms": self._loss_terms(), "constraints": self._constraints()}

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
                        logs = self.train_step(batch)
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

    # ------------------------------------------------------------------------------------------------ evaluate
    def _evaluate_data(self, data, steps=None, callback_list=None):
        """Loss and metrics over ``data`` in inference mode (the metrics start from zero)."""
        self.reset_metrics()
        was_training = self.training
        self.eval()
        custom = self._custom("test_step")
        logs = None
        try:
            for step, batch in EpochIterator(data, steps).epoch():
                if callback_list is not None:
                    callback_list.on_test_batch_begin(step)
                if batch[1] is None and not custom:
                    raise ValueError("evaluate needs targets: pass y, or batches of (x, y)")
                if custom:
                    logs = self.test_step(batch)
                else:
                    self._test_batch(*batch)
                if callback_list is not None:
                    callback_list.on_test_batch_end(step, logs if custom else self.get_metrics_result())
        finally:
            self.train(was_training)
        return dict(logs) if custom and logs else self.get_metrics_result()

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 callbacks=None, return_dict=False):
        """Loss and metrics on the data: a list [loss, metric...] in ``metrics_names`` order (a float when there is
        only the loss), or a dict with ``return_dict=True``."""
        self._assert_compiled("evaluate")
        data = adapt(x, y, sample_weight, batch_size, False).to_device(_device_of(self))
        callback_list = CallbackList(list(callbacks or []), self, {"steps": data.steps, "verbose": verbose})
        start = time.perf_counter()
        callback_list.on_test_begin()
        own = self._train_context is None
        if own:
            self._enter()
        try:
            logs = self._evaluate_data(data, steps, callback_list)
        finally:
            if own:
                self._exit()
        callback_list.on_test_end(logs)
        if verbose:
            _print_done(data.steps if steps is None else min(steps, data.steps or steps), start, logs)
        if return_dict:
            return logs
        values = self._compile_metrics.ordered_results()
        return values[0] if len(values) == 1 else values

    # ------------------------------------------------------------------------------------------------- predict
    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """The model's outputs for ``x``, batched, in inference mode and without a graph: NumPy arrays (a list or
        dict of them for several outputs)."""
        data = adapt(x, None, None, batch_size, False).to_device(_device_of(self))
        callback_list = CallbackList(list(callbacks or []), self, {"steps": data.steps, "verbose": verbose})
        was_training = self.training
        self.eval()
        outputs, structure, start = [], None, time.perf_counter()
        callback_list.on_predict_begin()
        try:
            for step, (xb, _, _) in EpochIterator(data, steps).epoch():
                callback_list.on_predict_batch_begin(step)
                out = self.predict_step((xb,))
                structure = out
                outputs.append([backend.to_numpy(o.array) for o in flatten(out)])
                callback_list.on_predict_batch_end(step, {"outputs": out})
        finally:
            self.train(was_training)
        callback_list.on_predict_end()
        if not outputs:
            raise ValueError("predict got no data: x is empty (or steps=0)")
        if verbose:
            _print_done(len(outputs), start, {})
        merged = [np.concatenate([batch[i] for batch in outputs]) for i in range(len(outputs[0]))]
        if isinstance(structure, dict):
            return dict(zip(structure, merged))
        return merged if isinstance(structure, (list, tuple)) else merged[0]

    # -------------------------------------------------------------------------------------------- on_batch
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One training step on one batch; returns the running loss and metrics (since the last reset_metrics)."""
        self._assert_compiled("train_on_batch")
        data = ArrayData(x, y, sample_weight, batch_size=None).to_device(_device_of(self))
        if class_weight is not None:
            data.sample_weight = class_weights_to_sample_weights(data.y, class_weight, data.sample_weight)
        data.batch_size = data.n
        batch = next(data.batches())
        self.train()
        self._enter()
        try:
            logs = self.train_step(batch) if self._custom("train_step") else (self._train_batch(*batch) or
                                                                              self.get_metrics_result())
        finally:
            self._exit()
            self.eval()
        return logs if return_dict else self._flat_logs(logs)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """Loss and metrics on one batch (running since the last reset_metrics), without training."""
        self._assert_compiled("test_on_batch")
        data = ArrayData(x, y, sample_weight, batch_size=None).to_device(_device_of(self))
        data.batch_size = data.n
        batch = next(data.batches())
        was_training = self.training
        self.eval()
        self._enter()
        try:
            logs = self.test_step(batch) if self._custom("test_step") else (self._test_batch(*batch) or
                                                                            self.get_metrics_result())
        finally:
            self._exit()
            self.train(was_training)
        return logs if return_dict else self._flat_logs(logs)

    def predict_on_batch(self, x):
        """The outputs for one batch, as NumPy arrays."""
        data = ArrayData(x, None, None, batch_size=None).to_device(_device_of(self))
        data.batch_size = data.n
        was_training = self.training
        self.eval()
        try:
            out = self.predict_step(next(data.batches()))
        finally:
            self.train(was_training)
        if isinstance(out, dict):
            return {k: backend.to_numpy(v.array) for k, v in out.items()}
        arrays = [backend.to_numpy(o.array) for o in flatten(out)]
        return arrays if isinstance(out, (list, tuple)) else arrays[0]

    def _flat_logs(self, logs):
        values = self._compile_metrics.ordered_results() if not self._custom("train_step") else list(logs.values())
        return values[0] if len(values) == 1 else values


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


def _device_of(model):
    for p in model.parameters():
        return p.device
    return None


def _print_done(steps, start, logs):
    elapsed = time.perf_counter() - start
    per_step = elapsed / max(steps or 1, 1)
    text = f"{steps}/{steps} {'━' * 20} {_format_time(elapsed)} {_format_time(per_step)}/step"
    metrics = " - ".join(f"{k}: {v:.4f}" for k, v in logs.items() if isinstance(v, float))
    print(text + (f" - {metrics}" if metrics else ""))


def _format_time(seconds):
    if seconds >= 1:
        return f"{seconds:.0f}s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms"
    return f"{seconds * 1e6:.0f}us"
