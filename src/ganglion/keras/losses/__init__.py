"""``keras.losses``: loss functions (one value per sample) and ``Loss`` classes (weighted and reduced over the
batch), and ``get`` to find either by name, as ``compile(loss="...")`` does. See functions.py for the formulas and
loss.py for the reductions."""

from .classes import CLASSES
from .classes import (  # noqa: F401
    BinaryCrossentropy, BinaryFocalCrossentropy, CategoricalCrossentropy, CategoricalHinge, CosineSimilarity, Hinge,
    Huber, KLDivergence, LogCosh, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredError,
    MeanSquaredLogarithmicError, Poisson, SparseCategoricalCrossentropy, SquaredHinge,
)
from .functions import (  # noqa: F401
    EPSILON, KLD, MAE, MAPE, MSE, MSLE, binary_crossentropy, binary_focal_crossentropy, categorical_crossentropy,
    categorical_hinge, cosine_similarity, hinge, huber, kl_divergence, kld, kullback_leibler_divergence, log_cosh,
    logcosh, mae, mape, mean_absolute_error, mean_absolute_percentage_error, mean_squared_error,
    mean_squared_logarithmic_error, mse, msle, poisson, sparse_categorical_crossentropy, squared_hinge,
)
from .loss import Loss, LossFunctionWrapper, reduce_weighted_values  # noqa: F401
from .._registry import lookup
from ..saving.serialization import registered_name_of

FUNCTIONS = (mean_squared_error, mean_absolute_error, mean_absolute_percentage_error, mean_squared_logarithmic_error,
             cosine_similarity, huber, log_cosh, hinge, squared_hinge, categorical_hinge, kl_divergence, poisson,
             binary_crossentropy, binary_focal_crossentropy, categorical_crossentropy,
             sparse_categorical_crossentropy)
_ALL = {f.__name__: f for f in FUNCTIONS}
_ALL.update({"mse": mse, "MSE": mse, "mae": mae, "MAE": mae, "mape": mape, "MAPE": mape, "msle": msle, "MSLE": msle,
             "kld": kld, "KLD": kld, "kullback_leibler_divergence": kld, "logcosh": log_cosh})
_ALL.update({cls.__name__: cls for cls in CLASSES + (Loss, LossFunctionWrapper)})


def get(identifier):
    """A loss from a function name ("mse", "sparse_categorical_crossentropy"), a class name ("Huber"), a config dict
    ({"class_name": ..., "config": ...}), a Loss instance or class, or a function."""
    if isinstance(identifier, dict) and "class_name" in identifier:
        from .._registry import REGISTRY

        table = {**_ALL, **{k: v for k, v in REGISTRY.items() if isinstance(v, type) and issubclass(v, Loss)}}
        found = lookup("loss", identifier["class_name"], table, instantiate=False)
        return found.from_config(identifier.get("config") or {}) if isinstance(found, type) else found
    found = lookup("loss", identifier, _ALL)
    if found is not None and not callable(found):
        raise ValueError(f"could not interpret loss {identifier!r}: give a name, a Loss or a function")
    return found


def serialize(loss):
    """A Loss as {"class_name", "config"}; a built-in loss function as its name."""
    if isinstance(loss, Loss):
        return {"class_name": registered_name_of(type(loss)),
                "config": loss.get_config()}
    if getattr(loss, "__name__", None) in _ALL and _ALL[loss.__name__] is loss:
        return loss.__name__
    raise ValueError(f"cannot serialize loss {loss!r}: use a keras.losses function or a Loss class")


def deserialize(config, custom_objects=None):
    """The inverse of ``serialize`` (``custom_objects`` maps class names to your own Loss classes)."""
    if isinstance(config, dict) and custom_objects and config.get("class_name") in custom_objects:
        return custom_objects[config["class_name"]].from_config(config.get("config") or {})
    return get(config)


def name_of(loss):
    """The loss function's name Keras looks at to resolve "accuracy" (e.g. 'binary_crossentropy')."""
    if isinstance(loss, LossFunctionWrapper):
        return getattr(loss.fn, "__name__", loss.name)
    if isinstance(loss, Loss):
        return loss.name
    return getattr(loss, "__name__", type(loss).__name__)
