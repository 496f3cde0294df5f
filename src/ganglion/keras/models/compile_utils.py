"""What ``compile`` resolves, and how ``fit`` uses it at every step without overhead.

``CompiledLoss``: the loss of each output with its weight (strings and functions become ``Loss`` objects, as in
Keras). When a probability output comes straight from a softmax (or a sigmoid) and the loss is the matching
cross-entropy, the loss is computed from the logits with ``from_logits=True``, as Keras does with its TensorFlow
backend: one fused engine op (``softmax - target`` in the backward) instead of renormalize, clip and log, and no
saturation at the clip bounds. Outputs without a graph (evaluation) take the plain probability path.

``CompiledMetrics``: the loss tracker and the metrics to report. A step only records its arrays; the metrics run
when their values are read (at the end of an epoch, or when a callback asks for the batch's logs), on all recorded
batches at once for Keras' built-in metrics, whose state adds up over samples.
"""

from ...nn import functional as F
from ...ops.reduction import Softmax
from ...ops.unary import Sigmoid
from ...tensor import Tensor
from .. import losses as keras_losses
from .. import metrics as keras_metrics

_FLUSH_EVERY = 512  # recorded batches kept at most before the metrics catch up (bounds the memory held)


def flatten(x):
    if isinstance(x, (list, tuple)):
        return list(x)
    if isinstance(x, dict):
        return list(x.values())
    return [x]


def _as_loss(item):
    """A Loss object (a function is wrapped, as Keras does); None stays None (an output without a loss)."""
    loss = keras_losses.get(item)
    if loss is None or isinstance(loss, keras_losses.Loss):
        return loss
    return keras_losses.LossFunctionWrapper(loss)


def _logit_twin(loss):
    """The same loss on logits (``from_logits=True``) when Keras would use them; None otherwise."""
    if type(loss) not in _TWINNABLE or getattr(loss, "dtype", None) is not None:
        return None
    fn, kwargs = getattr(loss, "fn", None), dict(getattr(loss, "_fn_kwargs", {}))
    if kwargs.get("from_logits", False) or kwargs.get("axis", -1) != -1 or kwargs.get("ignore_class") is not None:
        return None
    if fn in (keras_losses.categorical_crossentropy, keras_losses.sparse_categorical_crossentropy):
        activation = Softmax
    elif fn is keras_losses.binary_crossentropy:
        activation = Sigmoid
    else:
        return None
    kwargs["from_logits"] = True
    return activation, keras_losses.LossFunctionWrapper(fn, reduction=loss.reduction, name=loss.name, **kwargs)


_TWINNABLE = (keras_losses.LossFunctionWrapper, keras_losses.CategoricalCrossentropy,
              keras_losses.SparseCategoricalCrossentropy, keras_losses.BinaryCrossentropy)


def _logits_of(pred, activation):
    """The input of the softmax/sigmoid (over the last axis) that made ``pred``, or None."""
    node = pred._node
    if type(node) is not activation or pred.ndim != 2:
        return None
    if activation is Softmax and node.inputs[1] != pred.ndim - 1:
        return None
    return node.inputs[0]


def _mean_from_logits(twin, y, logits):
    """The batch mean of the cross-entropy in one engine op, when the labels are already in the engine's form
    (same values as ``twin(y, logits)``); None to take the general path, which also explains bad labels."""
    fn, kwargs = twin.fn, twin._fn_kwargs
    if not isinstance(y, Tensor):
        return None
    if fn is keras_losses.sparse_categorical_crossentropy:
        labels = y.reshape(y.shape[0]) if y.ndim == 2 and y.shape[1] == 1 else y
        if labels.dtype.kind not in "iu" or labels.shape != logits.shape[:1]:
            return None
        return F.cross_entropy(logits, labels)
    if y.shape != logits.shape or y.dtype != logits.dtype:
        return None
    smoothing = float(kwargs.get("label_smoothing", 0.0) or 0.0)
    if fn is keras_losses.categorical_crossentropy:
        return F.cross_entropy(logits, y, label_smoothing=smoothing)
    if smoothing:
        y = y * (1 - smoothing) + 0.5 * smoothing
    return F.binary_cross_entropy_with_logits(logits, y)


class CompiledLoss:
    """compile's ``loss`` and ``loss_weights``, resolved per output once the model's outputs are known."""

    def __init__(self, loss, loss_weights=None):
        if loss is None:
            self.spec = None
        elif isinstance(loss, dict):
            self.spec = {k: _as_loss(v) for k, v in loss.items()}
        elif isinstance(loss, (list, tuple)):
            self.spec = [_as_loss(v) for v in loss]
        else:
            self.spec = _as_loss(loss)
        if loss_weights is not None and not isinstance(loss_weights, (dict, list, tuple, int, float)):
            raise ValueError(f"compile: loss_weights must be a list, a dict or a number, got {loss_weights!r}")
        self.loss_weights = loss_weights
        self.entries = None  # [(Loss, weight, (activation, logits twin) or None)] per output

    def build(self, output_names):
        n = len(output_names)
        spec = self.spec
        if spec is None:
            raise ValueError("compile(loss=...) is required to train or evaluate: give a loss name, a Loss or a "
                             "function")
        if isinstance(spec, dict):
            unknown = sorted(set(spec) - set(output_names))
            if unknown:
                raise ValueError(f"compile: loss dict has key(s) {unknown} that name no output; the outputs are "
                                 f"{output_names}")
            per_output = [spec.get(name) for name in output_names]
        elif isinstance(spec, list):
            if len(spec) != n:
                raise ValueError(f"compile: got {len(spec)} losses for a model with {n} output(s) {output_names}")
            per_output = spec
        else:
            per_output = [spec] * n
        weights = self.loss_weights
        if weights is None:
            weights = [1.0] * n
        elif isinstance(weights, (int, float)):
            weights = [float(weights)] * n
        elif isinstance(weights, dict):
            unknown = sorted(set(weights) - set(output_names))
            if unknown:
                raise ValueError(f"compile: loss_weights has key(s) {unknown} that name no output; the outputs are "
                                 f"{output_names}")
            weights = [float(weights.get(name, 1.0)) for name in output_names]
        elif len(weights) != n:
            raise ValueError(f"compile: got {len(weights)} loss_weights for a model with {n} output(s)")
        self.entries = [(loss, float(w), None if loss is None else _logit_twin(loss))
                        for loss, w in zip(per_output, weights)]

    def __call__(self, ys, preds, sample_weight):
        """(total weighted loss Tensor, [loss Tensor per output, or None for outputs without a loss])."""
        total, per_output = None, []
        for (loss, weight, twin), y, pred in zip(self.entries, ys, preds):
            if loss is None:
                per_output.append(None)
                continue
            if y is None:
                raise ValueError("the model's output has a loss but y holds no target for it")
            value = None
            if twin is not None and pred._node is not None:
                logits = _logits_of(pred, twin[0])
                if logits is not None:
                    if sample_weight is None and loss.reduction in ("sum_over_batch_size", "mean"):
                        value = _mean_from_logits(twin[1], y, logits)
                    if value is None:
                        value = twin[1](y, logits, sample_weight)
            if value is None:
                value = loss(y, pred, sample_weight)
            per_output.append(value)
            value = value * weight if weight != 1.0 else value
            total = value if total is None else total + value
        if total is None:
            raise ValueError("no output of the model has a loss: give compile(loss=...) an entry for at least one")
        return total, per_output


class CompiledMetrics:
    """The running loss (and per-output losses) and compile's ``metrics``, updated lazily (see the module doc)."""

    def __init__(self, metrics=None, weighted_metrics=None):
        self.spec = self._validate(metrics, "metrics")
        self.weighted_spec = self._validate(weighted_metrics, "weighted_metrics")
        self.metrics = None  # [(output index, Metric, weighted)]
        self.loss_tracker = keras_metrics.Mean(name="loss")
        self.output_loss_trackers = []
        self._pending = []
        self._batched = frozenset(getattr(keras_metrics, "CLASSES", ()))

    @staticmethod
    def _validate(spec, arg):
        """Fail at compile time on unknown names (the accepted names are listed by metrics.get)."""
        if spec is None:
            return []
        items = list(spec.values()) if isinstance(spec, dict) else [spec] if isinstance(spec, str) else list(spec)
        for item in items:
            for m in item if isinstance(item, (list, tuple)) else [item]:
                if not (isinstance(m, str) and m in ("accuracy", "acc")):
                    keras_metrics.get(m)
        return spec

    def build(self, ys, preds, losses, output_names):
        n = len(preds)
        resolved = []
        for spec, weighted in ((self.spec, False), (self.weighted_spec, True)):
            if isinstance(spec, dict):
                unknown = sorted(set(spec) - set(output_names))
                if unknown:
                    raise ValueError(f"compile: metrics dict has key(s) {unknown} that name no output; the outputs "
                                     f"are {output_names}")
                per_output = [flatten(spec.get(name, [])) for name in output_names]
            elif isinstance(spec, (list, tuple)) and spec and all(isinstance(s, (list, tuple)) for s in spec):
                if len(spec) != n:
                    raise ValueError(f"compile: got {len(spec)} metric lists for a model with {n} output(s)")
                per_output = [list(s) for s in spec]
            else:
                per_output = [flatten(spec)] * n
            for i, names in enumerate(per_output):
                for m in names:
                    metric = self._make(m, losses[i], ys[i], preds[i])
                    if n > 1:
                        metric.name = f"{output_names[i]}_{metric.name}"
                    if weighted and any(metric.name == other.name for _, other, _ in resolved):
                        metric.name = f"weighted_{metric.name}"
                    resolved.append((i, metric, weighted))
        self.metrics = resolved
        if n > 1:
            self.output_loss_trackers = [keras_metrics.Mean(name=f"{name}_loss") if losses[i] is not None else None
                                         for i, name in enumerate(output_names)]

    @staticmethod
    def _make(m, loss, y, pred):
        if isinstance(m, str) and m in ("accuracy", "acc"):
            loss_name = keras_losses.name_of(getattr(loss, "fn", None) or loss) if loss is not None else ""
            metric = keras_metrics.resolve_accuracy(loss_name, tuple(y.shape), tuple(pred.shape))
            metric.name = m
            return metric
        if isinstance(m, keras_metrics.Metric):
            return m
        return keras_metrics.get(m)

    # ------------------------------------------------------------------------------------------- recording
    def record(self, loss, per_output, ys, preds, sample_weight, batch_size):
        """Keep this batch's loss and arrays for the metrics (nothing is computed here)."""
        self._pending.append((loss.array, [None if v is None else v.array for v in per_output],
                              [None if y is None else y.array for y in ys], [p.array for p in preds],
                              None if sample_weight is None else sample_weight.array, batch_size))
        if len(self._pending) >= _FLUSH_EVERY:
            self.flush()

    def flush(self):
        pending, self._pending = self._pending, []
        if not pending:
            return
        for loss, per_output, _, _, _, n in pending:
            self.loss_tracker.update_state(float(loss), n)
            for tracker, value in zip(self.output_loss_trackers, per_output):
                if tracker is not None:
                    tracker.update_state(float(value), n)
        for i, metric, weighted in self.metrics:
            rows = [(b[2][i], b[3][i], b[4] if weighted else None) for b in pending]
            if rows[0][0] is None:
                continue
            if type(metric) in self._batched and _stackable(rows):
                rows = [_stack(rows)]
            for y, pred, sw in rows:
                metric.update_state(Tensor._wrap(y), Tensor._wrap(pred), None if sw is None else Tensor._wrap(sw))

    def results(self):
        """{name: float} of the loss, the per-output losses and the metrics (Keras sorts the names)."""
        self.flush()
        logs = {"loss": float(self.loss_tracker.result())}
        for tracker in self.output_loss_trackers:
            if tracker is not None:
                logs[tracker.name] = float(tracker.result())
        for _, metric, _ in self.metrics or ():
            logs[metric.name] = _pythonify(metric.result())
        return dict(sorted(logs.items()))

    def ordered_results(self):
        """The values in Keras' ``metrics_names`` order: loss, per-output losses, then the metrics."""
        logs = self.results()
        names = ["loss"] + [t.name for t in self.output_loss_trackers if t is not None]
        names += [m.name for _, m, _ in self.metrics or ()]
        return [logs[name] for name in names]

    def names(self):
        names = ["loss"] + [t.name for t in self.output_loss_trackers if t is not None]
        return names + [m.name for _, m, _ in self.metrics or ()]

    def reset(self):
        self._pending = []
        self.loss_tracker.reset_state()
        for tracker in self.output_loss_trackers:
            if tracker is not None:
                tracker.reset_state()
        for _, metric, _ in self.metrics or ():
            metric.reset_state()


def _pythonify(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


def _stackable(rows):
    first = rows[0]
    return all(r[0].shape[1:] == first[0].shape[1:] and r[1].shape[1:] == first[1].shape[1:]
               and (r[2] is None) == (first[2] is None) for r in rows)


def _stack(rows):
    from ... import backend

    xp = backend.get_array_module(rows[0][1])
    ys = xp.concatenate([r[0] for r in rows]) if len(rows) > 1 else rows[0][0]
    preds = xp.concatenate([r[1] for r in rows]) if len(rows) > 1 else rows[0][1]
    sws = None if rows[0][2] is None else xp.concatenate([xp.reshape(r[2], (len(r[2]),) + r[2].shape[1:])
                                                           for r in rows])
    return ys, preds, sws
