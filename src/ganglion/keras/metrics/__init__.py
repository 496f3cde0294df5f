"""``keras.metrics``: stateful metrics (``update_state``, ``result``, ``reset_state``) accumulated over an epoch,
per-sample metric functions, ``get`` by name (as ``compile(metrics=[...])`` does), and Keras' rule that turns
"accuracy" into the binary, categorical or sparse categorical accuracy that fits the loss and the labels."""

from .._registry import REGISTRY, lookup
from ..losses import (  # noqa: F401 - Keras exports the loss functions as metric functions too
    binary_crossentropy, binary_focal_crossentropy, categorical_crossentropy, categorical_hinge, hinge, huber,
    kl_divergence, log_cosh, mean_absolute_error, mean_absolute_percentage_error, mean_squared_error,
    mean_squared_logarithmic_error, poisson, sparse_categorical_crossentropy, squared_hinge,
)
from ..naming import to_snake_case
from .accuracy import (  # noqa: F401
    Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy, accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
    sparse_top_k_categorical_accuracy, top_k_categorical_accuracy,
)
from .base import Mean, MeanMetricWrapper, Metric, Sum  # noqa: F401
from .confusion import AUC, FalseNegatives, FalsePositives, Precision, Recall, TrueNegatives, TruePositives
from .fscore import F1Score, FBetaScore
from .regression import (  # noqa: F401
    BinaryCrossentropy, CategoricalCrossentropy, CategoricalHinge, CosineSimilarity, Hinge, KLDivergence, LogCoshError,
    MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredError, MeanSquaredLogarithmicError, Poisson, R2Score,
    RootMeanSquaredError, SparseCategoricalCrossentropy, SquaredHinge, cosine_similarity,
)
from ..saving.serialization import registered_name_of

CLASSES = (
    Mean, Sum, MeanMetricWrapper, MeanSquaredError, RootMeanSquaredError, MeanAbsoluteError,
    MeanAbsolutePercentageError, MeanSquaredLogarithmicError, CosineSimilarity, LogCoshError, R2Score, AUC,
    FalseNegatives, FalsePositives, Precision, Recall, TrueNegatives, TruePositives, Hinge, SquaredHinge,
    CategoricalHinge, KLDivergence, Poisson, BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy,
    Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, TopKCategoricalAccuracy,
    SparseTopKCategoricalAccuracy, F1Score, FBetaScore,
)
_ALL = {cls.__name__: cls for cls in CLASSES}
_ALL.update({to_snake_case(cls.__name__): cls for cls in CLASSES})
_ALL.update({"bce": BinaryCrossentropy, "BCE": BinaryCrossentropy, "mse": MeanSquaredError, "MSE": MeanSquaredError,
             "mae": MeanAbsoluteError, "MAE": MeanAbsoluteError, "mape": MeanAbsolutePercentageError,
             "MAPE": MeanAbsolutePercentageError, "msle": MeanSquaredLogarithmicError,
             "MSLE": MeanSquaredLogarithmicError, "acc": Accuracy, "logcosh": LogCoshError,
             "rmse": RootMeanSquaredError, "fbeta_score": FBetaScore})


def resolve_accuracy(loss_name, y_true_shape, y_pred_shape):
    """Keras' rule for the string "accuracy": pick the accuracy that fits the loss and the label shapes."""
    if "binary" in loss_name or (len(y_pred_shape) >= 2 and y_pred_shape[-1] == 1):
        return BinaryAccuracy(name="accuracy")
    if "sparse" in loss_name or len(y_true_shape) < len(y_pred_shape) or (
        len(y_true_shape) == len(y_pred_shape) and y_true_shape[-1] == 1
    ):
        return SparseCategoricalAccuracy(name="accuracy")
    return CategoricalAccuracy(name="accuracy")


def get(identifier):
    """A metric from a name ("precision", "auc", "f1_score", "mse"...; the metric then reports under that name, as in
    ``compile``), a config dict, a Metric instance or class, or a per-sample function (averaged)."""
    if identifier is None or isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, dict) and "class_name" in identifier:
        return deserialize(identifier)
    found = lookup("metric", identifier, _ALL)
    if isinstance(found, Metric):
        if isinstance(identifier, str):
            found.name = identifier
        return found
    if callable(found):
        return MeanMetricWrapper(found)
    raise ValueError(f"could not interpret metric {identifier!r}: give a name, a Metric or a function")


def serialize(metric):
    return {"class_name": registered_name_of(type(metric)),
            "config": metric.get_config()}


def deserialize(config, custom_objects=None):
    """A metric from {"class_name": ..., "config": ...} (built-in, ``custom_objects`` or registered classes)."""
    table = {**_ALL, **REGISTRY, **(custom_objects or {})}
    cls = lookup("metric", config["class_name"], table, instantiate=False)
    return cls.from_config(dict(config.get("config") or {}))
