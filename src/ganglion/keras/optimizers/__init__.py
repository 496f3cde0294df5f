"""``keras.optimizers``: Keras' optimizers over the engine's (``ganglion.optim``), and ``get`` by name."""

from .._registry import lookup
from .algorithms import SGD, Adadelta, Adagrad, Adam, Adamax, AdamW, Lion, Nadam, RMSprop
from .base import Optimizer
from . import schedules

_ALL = {
    "sgd": SGD, "adam": Adam, "adamw": AdamW, "adamax": Adamax, "nadam": Nadam, "rmsprop": RMSprop,
    "adagrad": Adagrad, "adadelta": Adadelta, "lion": Lion,
    "SGD": SGD, "Adam": Adam, "AdamW": AdamW, "Adamax": Adamax, "Nadam": Nadam, "RMSprop": RMSprop,
    "Adagrad": Adagrad, "Adadelta": Adadelta, "Lion": Lion,
}


def get(identifier):
    """An optimizer from a name ("adam"), an instance or a class."""
    found = lookup("optimizer", identifier, _ALL)
    if not isinstance(found, Optimizer):
        raise ValueError(f"could not interpret optimizer {identifier!r}: give a name or a keras optimizer")
    return found
