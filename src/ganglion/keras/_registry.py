"""Name lookups shared by activations, initializers, losses, metrics, optimizers and regularizers: one ``lookup``
that accepts a name, a saved ``{"class_name", "config"}``, an instance, a class or a function, and says which names
exist when it fails. Beyond each module's own table, a name may be a class or function registered with
``keras.saving.register_keras_serializable`` or one given in ``custom_objects`` while a model loads
(``custom_object_scope``)."""

import contextlib
import difflib
import threading

#: registered objects: "package>name" and the bare name -> class or function
REGISTRY = {}

#: the built-in layer and model classes by name, as configs name them. ``keras.layers`` and ``keras.models`` add
#: theirs when they are imported (``register_builtin_layers``): this module is at the bottom of keras, so that
#: serialization finds them without importing the packages that build on it.
BUILTIN_LAYERS = {}


def register_builtin_layers(table):
    """Add ``{class name: class}`` to the classes a saved config may name (a later entry wins over an earlier one)."""
    BUILTIN_LAYERS.update(table)


def registered_name_of(obj):
    """The name a class or function is saved under: its own registration (not one inherited from a registered
    base class), else its plain name."""
    own = obj.__dict__.get("_registered_name") if hasattr(obj, "__dict__") else None
    return own or obj.__name__


class _Scopes(threading.local):
    """The calling thread's custom_object_scope dicts, innermost last (per thread, as in Keras 3)."""

    def __init__(self):
        self.stack = []


_SCOPES = _Scopes()


@contextlib.contextmanager
def custom_object_scope(*objects):
    """Within the block, names in the given dicts resolve to their objects (as ``custom_objects=`` does)."""
    merged = {}
    for mapping in objects:
        merged.update(mapping or {})
    _SCOPES.stack.append(merged)
    try:
        yield merged
    finally:
        _SCOPES.stack.pop()


def custom_object(name):
    """The object called ``name`` in the active custom_object_scope or the registry, or None."""
    for scope in reversed(_SCOPES.stack):
        if name in scope:
            return scope[name]
    return REGISTRY.get(name)


def unknown_name_message(kind, name, table):
    """"unknown optimizer 'adm'; accepted names are: adadelta, ... Did you mean 'adam'?" (the hint only when a
    name is close, by ``difflib``; it comes last so that the message still starts as before)."""
    names = sorted(table)
    close = difflib.get_close_matches(name, names, n=1) or difflib.get_close_matches(name.lower(), names, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return f"unknown {kind} {name!r}; accepted names are: {', '.join(names)}.{hint}"


class FromConfig:
    """Keras' config protocol, the half every class shares: ``from_config(config)`` is ``cls(**config)``; each class
    writes its own ``get_config``."""

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def serialize(obj):
    """What ``lookup`` turns back into ``obj``: ``{"class_name", "config"}`` for an object with ``get_config``, a
    function's name; None stays None. Initializers, regularizers and constraints serialize this way."""
    if obj is None:
        return None
    if hasattr(obj, "get_config"):
        return {"class_name": type(obj).__name__, "config": obj.get_config()}
    return getattr(obj, "__name__", repr(obj))


def lookup(kind, identifier, table, instantiate=True):
    """Resolve ``identifier`` against ``table`` (name -> object or class); classes are instantiated."""
    if identifier is None:
        return None
    if isinstance(identifier, str):
        key = identifier
        if key not in table:
            key = identifier.lower()
        if key in table:
            found = table[key]
        else:
            found = custom_object(identifier)
            if found is None:
                raise ValueError(unknown_name_message(kind, identifier, table))
        return found() if instantiate and isinstance(found, type) else found
    if isinstance(identifier, dict) and "class_name" in identifier:
        found = lookup(kind, identifier["class_name"], table, instantiate=False)
        if isinstance(found, type):
            config = identifier.get("config") or {}
            return found.from_config(config) if hasattr(found, "from_config") else found(**config)
        return found
    if isinstance(identifier, type):
        return identifier() if instantiate else identifier
    if isinstance(identifier, (int, float, bool, list, tuple, set, dict)):
        raise ValueError(f"could not interpret {kind} {identifier!r}: give a name, an instance or a function")
    return identifier  # an instance or a function: the caller checks that it is the right kind
