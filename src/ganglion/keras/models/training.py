"""Keras' training API, written once on the engine's loop: ``compile``, ``fit``, ``evaluate``, ``predict``,
``train_on_batch``, ``test_on_batch``, ``predict_on_batch``. Each training step is the same
``zero_grad / backward / step`` a PyTorch-style user writes by hand."""

import numpy as np

from ... import backend
from ...autograd.grad_mode import no_grad
from ...tensor import Tensor
from .. import losses as keras_losses
from .. import metrics as keras_metrics
from .. import optimizers as keras_optimizers
from ..callbacks import CallbackList, History, ProgbarLogger
from ..callbacks.progbar import format_logs
from .data_adapter import ArrayData, adapt


def _flatten(x):
    if isinstance(x, (list, tuple)):
        return list(x)
    return [x]


class Trainer:
    """Mixed into ``Model``: everything about compiling and running training, evaluation and prediction."""

    compiled = False
    optimizer = None
    stop_training = False

    # ------------------------------------------------------------------------------------------------ compile
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None, weighted_metrics=None,
                run_eagerly=False, steps_per_execution=1, jit_compile="auto", auto_scale_loss=True):
        """Choose the optimizer, the loss (one, or one per output) and the metrics to report."""
        self.optimizer = keras_optimizers.get(optimizer)
        self._loss_spec, self._loss_weights = loss, loss_weights
        self._metric_spec = metrics
        self._compiled_losses = None  # resolved per output at the first batch, when the outputs are known
        self._compiled_metrics = None
        self.__dict__["compiled"] = True

    def _check_compiled(self, what):
        if not self.compiled:
            raise RuntimeError(f"You must call compile() before {what}")

    def _output_names(self):
        return getattr(self, "output_names", None) or ["output"]

    def _resolve_losses(self, n_outputs):
        spec = self._loss_spec
        if spec is None:
            raise ValueError("compile(loss=...) is required to train or evaluate: give a loss name or function")
        names = self._output_names()
        if isinstance(spec, dict):
            missing = [n for n in names if n not in spec]
            if missing:
                raise ValueError(f"loss dict has no entry for output(s) {missing}; outputs are {names}")
            per_output = [spec[n] for n in names[:n_outputs]]
        elif isinstance(spec, (list, tuple)):
            if len(spec) != n_outputs:
                raise ValueError(f"compile got {len(spec)} losses for a model with {n_outputs} output(s)")
            per_output = list(spec)
        else:
            per_output = [spec] * n_outputs
        losses = []
        for item in per_output:
            fn = keras_losses.get(item)
            losses.append(fn)
        weights = self._loss_weights
        if weights is None:
            weights = [1.0] * n_outputs
        elif isinstance(weights, dict):
            weights = [weights.get(n, 1.0) for n in names[:n_outputs]]
        elif len(weights) != n_outputs:
            raise ValueError(f"compile got {len(weights)} loss_weights for a model with {n_outputs} output(s)")
        return list(zip(losses, weights))

    def _resolve_metrics(self, ys, preds):
        spec = self._metric_spec or []
        if isinstance(spec, dict):
            per_output = [_flatten(spec.get(n, [])) for n in self._output_names()[:len(preds)]]
        elif spec and isinstance(spec[0], (list, tuple)):
            per_output = [list(s) for s in spec]
        else:
            per_output = [list(spec)] * len(preds)
        resolved = []
        for i, (names, y, p) in enumerate(zip(per_output, ys, preds)):
            loss_name = keras_losses.name_of(self._compiled_losses[i][0])
            for m in names:
                if m in ("accuracy", "acc"):
                    metric = keras_metrics.resolve_accuracy(loss_name, tuple(y.shape), tuple(p.shape))
                    if m == "acc":
                        metric.name = "acc"
                else:
                    metric = keras_metrics.get(m) if not isinstance(m, keras_metrics.Metric) else m
                if len(preds) > 1:
                    metric.name = f"{self._output_names()[i]}_{metric.name}"
                resolved.append((i, metric))
        return resolved

    # ---------------------------------------------------------------------------------------------- one batch
    def _compute_loss(self, y, y_pred, sample_weight):
        preds = _flatten(y_pred)
        ys = _flatten(y) if isinstance(y, (list, tuple)) else (
            [y[n] for n in self._output_names()] if isinstance(y, dict) else [y]
        )
        if len(ys) != len(preds):
            raise ValueError(f"the model has {len(preds)} output(s) but y holds {len(ys)} target(s)")
        if self._compiled_losses is None:
            self._compiled_losses = self._resolve_losses(len(preds))
            self._compiled_metrics = self._resolve_metrics(ys, preds)
        total = None
        for (fn, weight), target, pred in zip(self._compiled_losses, ys, preds):
            if isinstance(fn, keras_losses.Loss):
                value = fn(target, pred, sample_weight=sample_weight)
            else:
                per = fn(target, pred)
                if sample_weight is not None:
                    per = per * sample_weight.type(per.dtype).reshape(
                        tuple(per.shape[:1]) + (1,) * (per.ndim - 1))
                value = per.mean()
            value = value * weight if weight != 1.0 else value
            total = value if total is None else total + value
        penalties = self.losses
        for penalty in penalties:
            total = total + penalty
        return total, ys, preds

    def _update_metrics(self, loss, ys, preds, sample_weight, n):
        self._loss_tracker.update_state(float(loss.item()), sample_weight=n)
        for i, metric in self._compiled_metrics:
            metric.update_state(ys[i], preds[i].detach(), sample_weight)
        return self._logs()

    def _logs(self):
        logs = {"loss": self._loss_tracker.result()}
        for _, metric in self._compiled_metrics or []:
            logs[metric.name] = float(metric.result())
        return logs

    def _reset_metrics(self):
        self._loss_tracker = keras_metrics.Mean(name="loss")
        for _, metric in self._compiled_metrics or []:
            metric.reset_state()

    def _ensure_optimizer(self):
        if not self.optimizer.built:
            self.optimizer.build([p for p in self.parameters() if p.requires_grad])

    def train_step(self, x, y, sample_weight=None):
        """Forward, loss, backward and one optimizer update on one batch; returns the batch's loss Tensor."""
        y_pred = self(x, training=True)
        loss, ys, preds = self._compute_loss(y, y_pred, sample_weight)
        self._ensure_optimizer()
        for p in self.optimizer._params:
            p.grad = None
        loss.backward()
        self.optimizer.apply_gradients()
        self._apply_constraints()
        return loss, ys, preds

    def _apply_constraints(self):
        for m in self.modules():
            for name, constraint in getattr(m, "__dict__", {}).get("_constraints", ()):
                with no_grad():
                    target = m._penalty_target(name)
                    target.array[...] = constraint(target).array

    # ------------------------------------------------------------------------------------------------------ fit
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
            steps_per_epoch=None, validation_steps=None, validation_batch_size=None, validation_freq=1):
        """Train for ``epochs`` epochs; returns a ``History`` whose ``history`` maps each metric to its values."""
        self._check_compiled("fit")
        if not isinstance(epochs, int) or epochs < 0:
            raise ValueError(f"epochs must be a non-negative int, got {epochs!r}")
        data = adapt(x, y, sample_weight, batch_size, shuffle)
        if class_weight is not None:
            if not isinstance(data, ArrayData):
                raise ValueError("class_weight needs in-memory arrays for x and y")
            data.sample_weight = _class_weights(data.y, class_weight, data.sample_weight)
        val = None
        if validation_data is not None:
            val = _validation(validation_data, validation_batch_size or batch_size)
        elif validation_split:
            if not isinstance(data, ArrayData):
                raise ValueError("validation_split needs in-memory arrays; pass validation_data for a Dataset")
            data, val = data.split(validation_split)
            val.shuffle = False
        steps = data.steps if steps_per_epoch is None else min(steps_per_epoch, data.steps or steps_per_epoch)
        verbose = 1 if verbose == "auto" else verbose
        history = History()
        cbs = [history] + list(callbacks or [])
        if verbose:
            cbs.append(ProgbarLogger(verbose))
        callback_list = CallbackList(cbs, self, {"epochs": epochs, "steps": steps, "verbose": verbose})
        self.history = history
        self.stop_training = False
        rng = np.random.default_rng(backend.default_generator.numpy.integers(2**63))
        callback_list.on_train_begin()
        logs = {}
        for epoch in range(initial_epoch, epochs):
            self._reset_metrics()
            self.train()
            callback_list.on_epoch_begin(epoch)
            for step, (xb, yb, swb) in enumerate(data.batches(rng)):
                if steps_per_epoch is not None and step >= steps_per_epoch:
                    break
                callback_list.on_train_batch_begin(step)
                if yb is None:
                    raise ValueError("fit needs targets: pass y, or batches of (x, y) from the Dataset/DataLoader")
                loss, ys, preds = self.train_step(xb, yb, swb)
                logs = self._update_metrics(loss, ys, preds, swb, _batch_len(xb))
                callback_list.on_train_batch_end(step, logs)
                if self.stop_training:
                    break
            self.eval()
            logs = dict(self._logs())
            if val is not None and (epoch + 1) % validation_freq == 0:
                val_logs = self._evaluate_data(val, steps=validation_steps)
                logs.update({f"val_{k}": v for k, v in val_logs.items()})
            callback_list.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        callback_list.on_train_end(logs)
        self.eval()
        return history

    # ------------------------------------------------------------------------------------------------ evaluate
    def _evaluate_data(self, data, steps=None, callback_list=None):
        self._reset_metrics()
        self.eval()
        with no_grad():
            for step, (xb, yb, swb) in enumerate(data.batches(None)):
                if steps is not None and step >= steps:
                    break
                if callback_list:
                    callback_list.on_test_batch_begin(step)
                if yb is None:
                    raise ValueError("evaluate needs targets: pass y, or batches of (x, y)")
                y_pred = self(xb, training=False)
                loss, ys, preds = self._compute_loss(yb, y_pred, swb)
                logs = self._update_metrics(loss, ys, preds, swb, _batch_len(xb))
                if callback_list:
                    callback_list.on_test_batch_end(step, logs)
        return self._logs()

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 callbacks=None, return_dict=False):
        """Loss and metrics on the data: a list [loss, metric...] (a float alone without metrics), or a dict."""
        self._check_compiled("evaluate")
        data = adapt(x, y, sample_weight, batch_size, False)
        callback_list = CallbackList(list(callbacks or []), self, {"steps": data.steps})
        callback_list.on_test_begin()
        logs = self._evaluate_data(data, steps, callback_list)
        callback_list.on_test_end(logs)
        if verbose:  # "auto" and 1 print the summary line Keras ends its bar with
            n = data.steps or 0
            print(f"{n}/{n} {'━' * 20} - {format_logs(logs)}")
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    # ------------------------------------------------------------------------------------------------- predict
    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """The model's outputs for ``x``, batched, in inference mode and without a graph: NumPy arrays."""
        data = adapt(x, None, None, batch_size, False)
        outputs = []
        self.eval()
        with no_grad():
            for step, (xb, _, _) in enumerate(data.batches(None)):
                if steps is not None and step >= steps:
                    break
                out = self(xb, training=False)
                outputs.append([backend.to_numpy(o.array) for o in _flatten(out)])
        if not outputs:
            raise ValueError("predict got no data")
        merged = [np.concatenate([batch[i] for batch in outputs]) for i in range(len(outputs[0]))]
        return merged[0] if len(merged) == 1 else merged

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        self._check_compiled("train_on_batch")
        data = ArrayData(x, y, sample_weight, batch_size=None, shuffle=False)
        if class_weight is not None:
            data.sample_weight = _class_weights(data.y, class_weight, data.sample_weight)
        data.batch_size = data.n
        xb, yb, swb = next(data.batches())
        self._reset_metrics()
        self.train()
        loss, ys, preds = self.train_step(xb, yb, swb)
        self.eval()
        logs = self._update_metrics(loss, ys, preds, swb, data.n)
        return logs if return_dict else _as_list(logs)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        self._check_compiled("test_on_batch")
        data = ArrayData(x, y, sample_weight, batch_size=None, shuffle=False)
        data.batch_size = data.n
        logs = self._evaluate_data(data)
        return logs if return_dict else _as_list(logs)

    def predict_on_batch(self, x):
        return self.predict(x, batch_size=len(_flatten(x)[0]))


def _as_list(logs):
    values = list(logs.values())
    return values[0] if len(values) == 1 else values


def _batch_len(xb):
    first = _flatten(xb)[0] if not isinstance(xb, dict) else next(iter(xb.values()))
    return first.shape[0] if isinstance(first, Tensor) else len(first)


def _validation(validation_data, batch_size):
    if isinstance(validation_data, (tuple, list)):
        if len(validation_data) not in (2, 3):
            raise ValueError("validation_data must be (x_val, y_val) or (x_val, y_val, sample_weight)")
        return ArrayData(*validation_data, batch_size=batch_size, shuffle=False)
    return adapt(validation_data, batch_size=batch_size)


def _class_weights(y, class_weight, sample_weight):
    if isinstance(y, (list, dict)):
        raise ValueError("class_weight is only supported for models with one output")
    labels = y.argmax(axis=-1) if (y.ndim > 1 and y.shape[-1] > 1) else y.reshape(len(y)).round().astype(np.int64)
    missing = sorted(set(np.unique(labels).tolist()) - set(class_weight))
    if missing:
        raise ValueError(f"class_weight has no weight for class(es) {missing}")
    weights = np.array([class_weight[int(c)] for c in labels], dtype=np.float64)
    return weights if sample_weight is None else weights * sample_weight
