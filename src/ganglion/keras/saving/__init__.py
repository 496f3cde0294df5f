"""``keras.saving``: ``model.save`` / ``load_model`` (one ``.keras`` zip: config, weights, optimizer state; see
saving_lib.py), ``save_weights`` / ``load_weights``, and the registry that lets custom classes load by name."""

from .saving_lib import load_model, load_weights, save_model, save_weights
from .serialization import (
    custom_object_scope, deserialize_layer, get_registered_name, get_registered_object, register_keras_serializable,
    serialize_layer,
)

__all__ = ["save_model", "load_model", "save_weights", "load_weights", "register_keras_serializable",
           "custom_object_scope", "get_registered_object", "get_registered_name", "serialize_layer",
           "deserialize_layer"]
