"""What ``compile`` resolves, called by the trainer's two hooks: ``CompiledLoss`` by ``compute_loss``,
``CompiledMetrics`` by ``compute_metrics`` (as Keras' ``CompileLoss`` and ``CompileMetrics``).

``CompiledLoss``: the loss of each output with its weight (strings and functions become ``Loss`` objects, as in
Keras), and, for a model with several outputs, one ``<output>_loss`` tracker per output (the unweighted value, as
Keras reports it). When a probability output comes straight from a softmax (or a sigmoid) and the loss is the
matching cross-entropy, the loss is computed from the logits with ``from_logits=True``, as Keras does with its
TensorFlow backend: one fused engine op (``softmax - target`` in the backward) instead of renormalize, clip and log,
and no saturation at the clip bounds. The logits are the ones the Keras face recorded where it produced the
probabilities (``keras.activations.mark_probabilities``: Dense/Activation with "softmax" or "sigmoid", the Softmax
layer, ``keras.ops``); outputs without a graph (evaluation) are not marked and take the plain probability path.

``CompiledMetrics``: compile's ``metrics`` and ``weighted_metrics``, resolved per output on the first batch.
"""

from ...nn import functional as F
from ...tensor import Tensor
from .. import activations as keras_activations
from .. import losses as keras_losses
from .. import metrics as keras_metrics

def flatten(x):
    """A structure of outputs (one Tensor, a list, a tuple or a dict) as a list."""
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
        activation = "softmax"
    elif fn is keras_losses.binary_crossentropy:
        activation = "sigmoid"
    else:
        return None
    kwargs["from_logits"] = True
    return activation, keras_losses.LossFunctionWrapper(fn, reduction=loss.reduction, name=loss.name, **kwargs)


_TWINNABLE = (keras_losses.LossFunctionWrapper, keras_losses.CategoricalCrossentropy,
              keras_losses.SparseCategoricalCrossentropy, keras_losses.BinaryCrossentropy)


def _logits_of(pred, activation):
    """The logits of a (batch, classes) ``pred`` marked as the softmax (over the last axis) or sigmoid of them, or
    None."""
    return keras_activations.logits_of(pred, activation) if pred.ndim == 2 else None


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


def output_names_of(y_pred, model_output_names=None):
    """The names of the outputs in ``y_pred``: a dict's keys, else the model's output names (when they match in
    number), else Keras' defaults ``output`` / ``output_1``, ``output_2``..."""
    if isinstance(y_pred, dict):
        return list(y_pred)
    n = len(flatten(y_pred))
    if model_output_names and len(model_output_names) == n:
        return list(model_output_names)
    return ["output"] if n == 1 else [f"output_{i + 1}" for i in range(n)]


def match_targets(y, names):
    """``y`` as one entry per output named in ``names`` (None for an output without a target)."""
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


class CompiledLoss:
    """compile's ``loss`` and ``loss_weights``, resolved per output on the first call (when the outputs are known).

    ``compiled(y, y_pred, sample_weight)`` is the weighted sum of the outputs' losses, or None when no output has a
    loss; ``metrics`` are the per-output loss trackers it updates (none for a single output)."""

    def __init__(self, loss, loss_weights=None):
        if isinstance(loss, dict):
            self.spec = {k: _as_loss(v) for k, v in loss.items()}
        elif isinstance(loss, (list, tuple)):
            self.spec = [_as_loss(v) for v in loss]
        else:
            self.spec = _as_loss(loss)
        if loss_weights is not None and not isinstance(loss_weights, (dict, list, tuple, int, float)):
            raise ValueError(f"compile: loss_weights must be a list, a dict or a number, got {loss_weights!r}")
        self.loss_weights = loss_weights
        self.entries = None  # [(Loss, weight, (activation, logits twin) or None)] per output
        self.metrics = []

    def build(self, output_names):
        """Resolve the loss and weight of each output, and make the per-output trackers."""
        n = len(output_names)
        spec = self.spec
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
        for loss, name in zip(per_output, output_names):
            if loss is not None and sum(other is loss for other in per_output) == 1:
                loss.output_layer = name  # named by the from_logits-on-probabilities warning
        self.entries = [(loss, float(w), None if loss is None else _logit_twin(loss))
                        for loss, w in zip(per_output, weights)]
        self.metrics = [] if n == 1 else [keras_metrics.Mean(name=f"{name}_loss")
                                          for name, loss in zip(output_names, per_output) if loss is not None]

    def losses_for(self, y_pred, model_output_names=None):
        """The Loss of each output of ``y_pred`` (None for an output without one); builds if no call has yet."""
        if self.entries is None:
            self.build(output_names_of(y_pred, model_output_names))
        return [entry[0] for entry in self.entries]

    def __call__(self, y, y_pred, sample_weight=None, model_output_names=None):
        """The total weighted loss Tensor of ``y_pred`` against ``y``; None when no output has a loss."""
        names = output_names_of(y_pred, model_output_names)
        if self.entries is None:
            self.build(names)
        elif len(names) != len(self.entries):
            raise ValueError(f"the loss was compiled for {len(self.entries)} output(s) but y_pred holds {len(names)}")
        if y is None and any(entry[0] is not None for entry in self.entries):
            raise ValueError("the compiled loss needs targets, and y is None: pass y to fit / evaluate (or batches "
                             "of (x, y))")
        ys, preds = match_targets(y, names), flatten(y_pred)
        trackers = iter(self.metrics)
        total = None
        for name, (loss, weight, twin), target, pred in zip(names, self.entries, ys, preds):
            if loss is None:
                continue
            if target is None:
                raise ValueError(f"output {name!r} has a loss but y holds no target for it")
            value = _output_loss(loss, twin, target, pred, sample_weight)
            if self.metrics:
                next(trackers).update_state(float(value.item()), int(pred.shape[0]))
            value = value * weight if weight != 1.0 else value
            total = value if total is None else total + value
        return total


def _output_loss(loss, twin, y, pred, sample_weight):
    """One output's loss: from the logits when ``pred`` comes straight from the matching softmax/sigmoid."""
    if twin is not None:
        logits = _logits_of(pred, twin[0])
        if logits is not None:
            value = None
            if sample_weight is None and loss.reduction in ("sum_over_batch_size", "mean"):
                value = _mean_from_logits(twin[1], y, logits)
            return value if value is not None else twin[1](y, logits, sample_weight)
    return loss(y, pred, sample_weight)


class CompiledMetrics:
    """compile's ``metrics`` and ``weighted_metrics``: ``update_state(y, y_pred, sample_weight)`` builds them on the
    first batch (``"accuracy"`` is resolved from the output's loss and shapes, as in Keras) and updates them;
    ``metrics`` lists them, once built."""

    def __init__(self, metrics=None, weighted_metrics=None):
        self.spec = self._validate(metrics, "metrics")
        self.weighted_spec = self._validate(weighted_metrics, "weighted_metrics")
        self.entries = None  # [(output index, Metric, weighted)]

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

    @property
    def metrics(self):
        return [] if self.entries is None else [metric for _, metric, _ in self.entries]

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
        self.entries = resolved

    @staticmethod
    def _make(m, loss, y, pred):
        if isinstance(m, str) and m in ("accuracy", "acc"):
            loss_name = keras_losses.name_of(getattr(loss, "fn", None) or loss) if loss is not None else ""
            shape = () if y is None else tuple(y.shape)
            metric = keras_metrics.resolve_accuracy(loss_name, shape, tuple(pred.shape))
            metric.name = m
            return metric
        if isinstance(m, keras_metrics.Metric):
            return m
        return keras_metrics.get(m)

    def update_state(self, y, y_pred, sample_weight=None, losses=None, model_output_names=None):
        """Update every metric with this batch (``losses``: each output's Loss, to resolve ``"accuracy"``)."""
        names = output_names_of(y_pred, model_output_names)
        ys, preds = match_targets(y, names), flatten(y_pred)
        if self.entries is None:
            self.build(ys, preds, losses or [None] * len(preds), names)
        for i, metric, weighted in self.entries:
            if ys[i] is not None:
                metric.update_state(ys[i], preds[i], sample_weight if weighted else None)

    def reset_state(self):
        for _, metric, _ in self.entries or ():
            metric.reset_state()
