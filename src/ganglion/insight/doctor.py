"""``Doctor``: watches a PyTorch-style training loop and says what goes wrong, with the numbers and the remedy.

    doctor = Doctor(model, optimizer=opt)
    for x, y in batches:
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        doctor.step(loss)            # after backward (gradients are read here); before or after opt.step(),
        opt.step()                   # but always the same side: the weight change between two calls is one update
    doctor.step(loss, val_loss=v)    # now and then (say once per epoch): enables the overfitting check
    print(doctor)                    # the diagnoses; doctor.report() returns them as a list of Diagnosis
    doctor.close()                   # removes the hooks (or use ``with Doctor(model) as doctor:``)

What it observes (``Observations``), the checks that read it (checks.py, ``CHECKS``) and their limits
(``THRESHOLDS``) are separate: ``ganglion.keras.callbacks.TrainingDoctor`` feeds the same observations from ``fit``.
Forward hooks on ReLU/sigmoid/tanh modules record which units fire and how many outputs saturate (only while
gradients are being recorded, so validation passes under ``no_grad`` are not counted); a hook on the model records
whether its outputs are probabilities. The activation that produces the model's output is not judged for dead or
saturated units (a trained sigmoid output saturates by design). ``target=`` in ``step`` lets the doctor check the
labels against the loss.
"""

import collections
import math

import numpy as np

from ..autograd.grad_mode import is_grad_enabled
from ..nn.modules.activation import ReLU, Sigmoid, Tanh
from ..tensor import Tensor
from .checks import CHECKS, THRESHOLDS

ACTIVATION_KINDS = {ReLU: "relu", Sigmoid: "sigmoid", Tanh: "tanh"}
# the loss op that made the loss tensor -> (kind the checks know, the name shown)
LOSS_KINDS = {
    "SoftmaxCrossEntropy": ("cross_entropy", "cross_entropy"), "BinaryCrossEntropy": ("bce", "binary_cross_entropy"),
    "BinaryCrossEntropyWithLogits": ("bce_with_logits", "binary_cross_entropy_with_logits"),
    "SquaredError": ("regression", "mse_loss"), "AbsoluteError": ("regression", "l1_loss"),
    "SmoothL1": ("regression", "smooth_l1_loss"), "Huber": ("regression", "huber_loss"),
}


def _array(value):
    return np.asarray(value.array if isinstance(value, Tensor) else value)


class Observations:
    """What a doctor has seen: losses, per-layer gradient norms, update/weight ratios, activation statistics of the
    last ``window`` batches, validation pairs, the loss kind and the model's outputs."""

    def __init__(self, window):
        self.window = window
        self.losses, self.grad_norms, self.update_ratios, self.validation = [], [], [], []
        self.layer_names = []
        self.relu_active = collections.defaultdict(lambda: collections.deque(maxlen=window))
        self.saturation = collections.defaultdict(lambda: collections.deque(maxlen=window))
        self.loss_kind = self.loss_name = None
        self.probability_flags = collections.deque(maxlen=window)  # per forward: (rows sum to 1, all in [0, 1])
        self.target_stats = None

    def dead_shares(self):
        """ReLU layer name -> share of its units that were not active in any of the recent batches."""
        return {name: 1.0 - float(np.mean(np.logical_or.reduce(list(batches))))
                for name, batches in self.relu_active.items() if batches}

    def saturated_shares(self):
        return {name: float(np.mean(shares)) for name, shares in self.saturation.items() if shares}

    def activation_batches(self):
        return max((len(b) for b in self.relu_active.values()), default=0)

    @property
    def output_sums_to_one(self):
        return bool(self.probability_flags) and all(rows for rows, _ in self.probability_flags)

    @property
    def output_probabilities(self):
        """Whether every recent output was a probability as the loss kind reads it (None before any forward)."""
        if not self.probability_flags:
            return None
        index = 1 if self.loss_kind == "bce_with_logits" else 0
        return all(flags[index] for flags in self.probability_flags)


class Doctor:
    """Hooks into ``model`` (an ``nn.Module``) to diagnose its training; see the module doc for the loop.

    ``optimizer``: optional, shown in the report (its learning rate); ``window``: how many recent steps the checks
    look at; ``thresholds``: overrides of ``checks.THRESHOLDS``; ``activations``: {module: "relu" | "sigmoid" |
    "tanh"} for activations that are not ReLU/Sigmoid/Tanh modules (the Keras callback passes its layers')."""

    def __init__(self, model, optimizer=None, window=20, thresholds=None, activations=None):
        unknown = set(thresholds or {}) - set(THRESHOLDS)
        if unknown:
            raise ValueError(f"Doctor: unknown thresholds {sorted(unknown)}; the thresholds are {sorted(THRESHOLDS)}")
        if not isinstance(window, int) or window < 2:
            raise ValueError(f"Doctor: window must be an int of at least 2 steps, got {window!r}")
        self.model, self.optimizer = model, optimizer
        self.thresholds = {**THRESHOLDS, **(thresholds or {})}
        self.obs = Observations(window)
        self.steps = 0
        names = {id(m): name for name, m in model.named_modules()}
        found = {m: kind for m in model.modules() for cls, kind in ACTIVATION_KINDS.items() if type(m) is cls}
        found.update(activations or {})
        self._activation_names = {id(m): names.get(id(m), type(m).__name__) for m in found}
        self._output_module = None  # the activation whose output is the model's output
        self._last_outputs = {}
        self._handles = [m.register_forward_hook(self._activation_hook(kind)) for m, kind in found.items()]
        self._handles.append(model.register_forward_hook(self._output_hook))
        self._layers = [(name, [p for p in m.parameters(recurse=False) if p.requires_grad])
                        for name, m in model.named_modules()
                        if any(p.ndim >= 2 and p.requires_grad for p in m.parameters(recurse=False))]
        self.obs.layer_names = [name for name, _ in self._layers]
        self._previous_weights = None

    # ------------------------------------------------------------------------------------------------- hooks
    def _activation_hook(self, kind):
        def hook(module, args, output):
            if not is_grad_enabled() or not isinstance(output, Tensor):
                return
            self._last_outputs[id(module)] = output
            y = _array(output)
            name = self._activation_names[id(module)]
            if kind == "relu":
                unit_axis = 1 if y.ndim > 2 else y.ndim - 1
                axes = tuple(a for a in range(y.ndim) if a != unit_axis)
                self.obs.relu_active[name].append(np.any(y > 0, axis=axes))
            else:
                margin = self.thresholds["saturation_margin"]
                low, high = (0.0, 1.0) if kind == "sigmoid" else (-1.0, 1.0)
                self.obs.saturation[name].append(float(np.mean((y < low + margin) | (y > high - margin))))
        return hook

    def _output_hook(self, module, args, output):
        if not is_grad_enabled() or not isinstance(output, Tensor):
            return
        if self._output_module is None:
            self._output_module = next((key for key, t in self._last_outputs.items() if t is output), None)
        if self._output_module is not None:  # the output activation is judged by the loss checks, not these
            name = self._activation_names[self._output_module]
            self.obs.relu_active.pop(name, None)
            self.obs.saturation.pop(name, None)
        self._last_outputs.clear()
        y = _array(output).astype(np.float64)
        tol = self.thresholds["probability_tolerance"]
        in_unit = bool(y.size) and bool(np.all((y >= -tol) & (y <= 1 + tol)))
        rows = y.ndim == 2 and y.shape[1] >= 2 and in_unit and bool(np.all(np.abs(y.sum(axis=1) - 1) < tol * 10))
        self.obs.probability_flags.append((rows, in_unit))

    # -------------------------------------------------------------------------------------------------- steps
    def step(self, loss, val_loss=None, target=None):
        """Record one training step: ``loss`` (a Tensor after ``backward()``, or a number), optionally the latest
        validation loss (enables the overfitting check) and the batch's targets (enables the labels check)."""
        value = float(_array(loss)) if isinstance(loss, Tensor) else float(loss)
        self.obs.losses.append(value)
        node = loss.grad_fn if isinstance(loss, Tensor) else None
        if node is not None and type(node).__name__ in LOSS_KINDS:
            self.obs.loss_kind, self.obs.loss_name = LOSS_KINDS[type(node).__name__]
        norms = []
        for _, params in self._layers:
            grads = [_array(p.grad) for p in params if p.grad is not None]
            norms.append(math.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64))) for g in grads)))
        if any(n > 0 for n in norms) or not all(map(math.isfinite, norms)):
            self.obs.grad_norms.append(norms)
        self.obs.update_ratios.append(self._update_ratio())
        if val_loss is not None:
            self.obs.validation.append((value, float(_array(val_loss))))
        if target is not None:
            self.obs.target_stats = _target_stats(_array(target))
        self.steps += 1

    def _update_ratio(self):
        """Median over layers of ||w_now - w_before|| / ||w_before|| since the last step (None at the first)."""
        current = [np.concatenate([_array(p).ravel() for p in params]).astype(np.float64)
                   for _, params in self._layers]
        previous, self._previous_weights = self._previous_weights, current
        if previous is None:
            return None
        ratios = [np.linalg.norm(now - before) / max(np.linalg.norm(before), 1e-12)
                  for now, before in zip(current, previous)]
        return float(np.median(ratios)) if ratios else None

    def set_loss(self, kind, name):
        """Tell the doctor the loss kind when it cannot see the loss op (the Keras callback does)."""
        self.obs.loss_kind, self.obs.loss_name = kind, name

    def record_validation(self, train_loss, val_loss):
        """One (training loss, validation loss) pair for the overfitting check, such as an epoch's means."""
        self.obs.validation.append((float(train_loss), float(val_loss)))

    # ------------------------------------------------------------------------------------------------ results
    def report(self):
        """The diagnoses of the steps seen so far (an empty list: nothing wrong found)."""
        found = [check(self.obs, self.thresholds) for check in CHECKS]
        return [d for d in found if d is not None]

    def gradient_norms(self):
        """{layer name: [gradient norm per recorded step]} in the model's layer order (for ``plot_gradient_flow``)."""
        return {name: [step[i] for step in self.obs.grad_norms] for i, name in enumerate(self.obs.layer_names)}

    def __str__(self):
        diagnoses = self.report()
        head = f"Training doctor: {self.steps} steps"
        if self.optimizer is not None:
            lrs = sorted({g.get("lr") for g in getattr(self.optimizer, "param_groups", []) if "lr" in g})
            head += f", learning rate {', '.join(f'{lr:g}' for lr in lrs)}" if lrs else ""
        if not diagnoses:
            return head + ": no problems found"
        return head + f", {len(diagnoses)} problem(s):\n" + "\n".join(str(d) for d in diagnoses)

    def close(self):
        """Remove the hooks (the observations stay readable)."""
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _target_stats(y):
    y = y.astype(np.float64)
    one_hot = (y.ndim == 2 and y.shape[1] >= 2 and bool(np.all((y == 0) | (y == 1)))
               and bool(np.all(y.sum(axis=1) == 1)))
    return {"min": float(y.min()), "max": float(y.max()), "one_hot": one_hot}
