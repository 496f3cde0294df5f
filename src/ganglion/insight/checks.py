"""The training doctor's checks: each reads the ``Observations`` a Doctor gathered and returns a ``Diagnosis``
(the problem, the numbers that show it, the remedy) or None. ``CHECKS`` is the table the Doctor runs, in order;
``THRESHOLDS`` holds every limit they use, so a reader sees (and a caller may change) what "tiny" means.
"""

import math
from dataclasses import dataclass, field

import numpy as np

THRESHOLDS = {
    "vanishing_ratio": 1e-3,     # gradient norm, first weighted layer / last, below this: vanishing
    "exploding_ratio": 1e3,      # ... above this: exploding across depth
    "exploding_norm": 1e3,       # any layer's gradient norm above this: exploding
    "dead_share": 0.5,           # share of a ReLU layer's units never active over the recent batches
    "saturated_share": 0.5,      # share of sigmoid/tanh outputs within `saturation_margin` of an asymptote
    "saturation_margin": 0.02,
    "update_ratio_high": 1e-1,   # ||update|| / ||weight|| per step; the notes' rule of thumb is about 1e-3
    "update_ratio_low": 1e-5,
    "flat_loss": 0.01,           # relative change of the loss over the recent steps below this: flat
    "loss_rise": 1.5,            # recent loss above this x the early loss: diverging
    "loss_spike": 10.0,          # any loss above this x the first loss: a spike
    "overfit_rise": 1.1,         # validation loss above this x its best while training loss keeps falling
    "probability_tolerance": 1e-4,
}


@dataclass
class Diagnosis:
    """One problem the doctor found: ``name`` (a short id such as "vanishing_gradients"), ``message`` (what it
    sees), ``remedy`` (what to change) and ``numbers`` (the measurements behind it)."""

    name: str
    message: str
    remedy: str
    numbers: dict = field(default_factory=dict)

    def __str__(self):
        numbers = ", ".join(f"{k}={_fmt(v)}" for k, v in self.numbers.items())
        return f"[{self.name}] {self.message}\n    numbers: {numbers}\n    remedy: {self.remedy}"


def _fmt(v):
    if isinstance(v, float):
        return f"{v:.3g}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    return str(v)


def _median_norms(obs):
    """Median gradient norm per weighted layer over the recent steps (layer order: the model's)."""
    recent = obs.grad_norms[-obs.window:]
    if not recent or not recent[0]:
        return []
    return [float(np.median([step[i] for step in recent])) for i in range(len(recent[0]))]


def vanishing_gradients(obs, t):
    norms = _median_norms(obs)
    if len(norms) < 2 or not norms[-1] > 0:
        return None
    ratio = norms[0] / norms[-1]
    if ratio < t["vanishing_ratio"]:
        return Diagnosis(
            "vanishing_gradients",
            f"the first layer's gradient is {ratio:.1e} of the last layer's: the early layers barely learn",
            "use ReLU (or a relative) instead of sigmoid/tanh in hidden layers, He (kaiming) initialization, and "
            "BatchNorm between layers; consider residual connections",
            {"first_layer_grad_norm": norms[0], "last_layer_grad_norm": norms[-1], "ratio": ratio,
             "layer_norms": norms})
    return None


def exploding_gradients(obs, t):
    norms = _median_norms(obs)
    if not norms:
        return None
    peak = max(norms)
    ratio = norms[0] / norms[-1] if len(norms) > 1 and norms[-1] > 0 else 1.0
    if not math.isfinite(peak) or peak > t["exploding_norm"] or ratio > t["exploding_ratio"]:
        return Diagnosis(
            "exploding_gradients",
            f"gradient norms reach {peak:.3g} and grow {ratio:.3g}x from the last layer back to the first",
            "clip gradients (nn.utils.clip_grad_norm_), lower the learning rate, and use a scaled initialization "
            "(Xavier/He) instead of large random weights",
            {"max_grad_norm": peak, "first_over_last": ratio, "layer_norms": norms})
    return None


def _worst_layer(shares, threshold):
    """(layer name, share) of the layer with the largest share above ``threshold``, or None."""
    name, share = max(shares.items(), key=lambda item: item[1], default=(None, threshold))
    return (name, share) if share > threshold else None


def dead_relus(obs, t):
    worst = _worst_layer(obs.dead_shares(), t["dead_share"])
    if worst is None:
        return None
    return Diagnosis(
        "dead_relus",
        f"{worst[1]:.0%} of the units of ReLU {worst[0]!r} were never active over the last "
        f"{obs.activation_batches()} batches: they pass no gradient and no longer learn",
        "use LeakyReLU (or ELU), lower the learning rate, use He initialization and small (zero) biases",
        {"layer": worst[0], "dead_share": worst[1], "batches": obs.activation_batches()})


def saturated_units(obs, t):
    worst = _worst_layer(obs.saturated_shares(), t["saturated_share"])
    if worst is None:
        return None
    return Diagnosis(
        "saturated_units",
        f"{worst[1]:.0%} of the outputs of {worst[0]!r} sit next to its asymptotes, where its derivative is ~0",
        "use ReLU in hidden layers, normalize the inputs, use Xavier initialization, add BatchNorm before the "
        "activation",
        {"layer": worst[0], "saturated_share": worst[1]})


def _recent_ratio(obs):
    recent = [r for r in obs.update_ratios[-obs.window:] if r is not None]
    return float(np.median(recent)) if recent else None


def learning_rate_too_high(obs, t):
    losses = obs.losses
    bad = [i for i, v in enumerate(losses) if not math.isfinite(v)]
    ratio = _recent_ratio(obs)
    numbers = {"update_to_weight_ratio": ratio}
    if bad:
        numbers["first_nonfinite_step"] = bad[0]
        message = f"the loss became {losses[bad[0]]} at step {bad[0]}"
    elif ratio is not None and ratio > t["update_ratio_high"]:
        message = (f"each step changes the weights by {ratio:.2g} of their size (a healthy ratio is about 1e-3)")
    elif losses and max(losses) > t["loss_spike"] * losses[0]:
        peak = int(np.argmax(losses))
        numbers.update(first_loss=losses[0], peak_loss=losses[peak], peak_step=peak)
        message = f"the loss spiked from {losses[0]:.3g} to {losses[peak]:.3g} at step {peak}"
    else:
        quarter = max(len(losses) // 4, 1)
        if len(losses) < 8:
            return None
        early, late = float(np.median(losses[:quarter])), float(np.median(losses[-quarter:]))
        if not late > t["loss_rise"] * early:
            return None
        numbers.update(early_loss=early, recent_loss=late)
        message = f"the loss rose from {early:.3g} to {late:.3g}: training diverges"
    return Diagnosis("learning_rate_too_high", message,
                     "lower the learning rate (try 10x smaller), clip gradients, or use a warm-up schedule",
                     numbers)


def learning_rate_too_low(obs, t):
    ratio = _recent_ratio(obs)
    losses = [v for v in obs.losses[-obs.window:] if math.isfinite(v)]
    if ratio is None or len(losses) < 4 or ratio >= t["update_ratio_low"]:
        return None
    change = abs(losses[0] - losses[-1]) / max(abs(losses[0]), 1e-12)
    if change >= t["flat_loss"]:
        return None
    return Diagnosis(
        "learning_rate_too_low",
        f"each step changes the weights by only {ratio:.2g} of their size and the loss is flat "
        f"({change:.2%} change over {len(losses)} steps)",
        "raise the learning rate (try 10x larger) or use an adaptive optimizer such as Adam",
        {"update_to_weight_ratio": ratio, "relative_loss_change": change})


def overfitting(obs, t):
    pairs = obs.validation
    if len(pairs) < 3:
        return None
    val = [v for _, v in pairs]
    best = int(np.argmin(val))
    train_then, train_now, val_now = pairs[best][0], pairs[-1][0], val[-1]
    if best < len(pairs) - 1 and val_now > t["overfit_rise"] * val[best] and train_now < train_then:
        return Diagnosis(
            "overfitting",
            f"validation loss rose from {val[best]:.3g} (check {best}) to {val_now:.3g} while training loss fell "
            f"from {train_then:.3g} to {train_now:.3g}",
            "get more data or augment it, add regularization (weight decay, dropout), use a smaller model, or "
            "stop early at the best validation loss",
            {"best_val_loss": val[best], "best_at": best, "val_loss": val_now, "train_loss_at_best": train_then,
             "train_loss": train_now})
    return None


def probabilities_into_logit_loss(obs, t):
    if obs.loss_kind not in ("cross_entropy", "bce_with_logits") or obs.output_probabilities is None:
        return None
    if not obs.output_probabilities:
        return None
    what = "rows summing to 1 (a softmax)" if obs.loss_kind == "cross_entropy" else "values in [0, 1] (a sigmoid)"
    return Diagnosis(
        "probabilities_into_logit_loss",
        f"the model's outputs are already probabilities, {what}, but the loss ({obs.loss_name}) applies its own "
        "softmax/sigmoid to logits: gradients shrink and training stalls",
        "remove the final Softmax/Sigmoid and feed the raw logits to the loss (or, in Keras, use "
        "from_logits=False)",
        {"loss": obs.loss_name, "output_kind": what})


def labels_loss_mismatch(obs, t):
    if obs.loss_kind == "regression" and obs.output_sums_to_one:
        return Diagnosis(
            "labels_loss_mismatch",
            f"a classifier (softmax outputs) is trained with a regression loss ({obs.loss_name})",
            "use cross-entropy with class-index labels (CrossEntropyLoss / sparse_categorical_crossentropy)",
            {"loss": obs.loss_name})
    target = obs.target_stats
    if target is None:
        return None
    if obs.loss_kind == "regression" and target["one_hot"]:
        return Diagnosis(
            "labels_loss_mismatch",
            f"the targets are one-hot class labels but the loss is {obs.loss_name}",
            "use cross-entropy: F.cross_entropy(logits, class_indices)", {"loss": obs.loss_name, **target})
    if obs.loss_kind in ("bce", "bce_with_logits") and (target["min"] < 0 or target["max"] > 1):
        return Diagnosis(
            "labels_loss_mismatch",
            f"binary cross-entropy needs targets in [0, 1], got targets in [{target['min']:.3g}, {target['max']:.3g}]",
            "use 0/1 targets for BCE, or cross-entropy with class indices for more than two classes",
            {"loss": obs.loss_name, **target})
    return None


CHECKS = (
    vanishing_gradients, exploding_gradients, dead_relus, saturated_units, learning_rate_too_high,
    learning_rate_too_low, overfitting, probabilities_into_logit_loss, labels_loss_mismatch,
)
