"""Name lookups shared by activations, initializers, losses, metrics, optimizers and regularizers: one ``get``
that accepts a name, an instance, a class or a function, and says which names exist when it fails."""


def lookup(kind, identifier, table, instantiate=True):
    """Resolve ``identifier`` against ``table`` (name -> object or class); classes are instantiated."""
    if identifier is None:
        return None
    if isinstance(identifier, str):
        key = identifier
        if key not in table:
            key = identifier.lower()
        if key not in table:
            raise ValueError(f"unknown {kind} {identifier!r}; accepted names are: {', '.join(sorted(table))}")
        found = table[key]
        return found() if instantiate and isinstance(found, type) else found
    if isinstance(identifier, dict) and "class_name" in identifier:
        found = lookup(kind, identifier["class_name"], table, instantiate=False)
        return found(**identifier.get("config", {})) if isinstance(found, type) else found
    if isinstance(identifier, type):
        return identifier() if instantiate else identifier
    if isinstance(identifier, (int, float, bool, list, tuple, set)):
        raise ValueError(f"could not interpret {kind} {identifier!r}: give a name, an instance or a function")
    return identifier  # an instance or a function: the caller checks that it is the right kind
