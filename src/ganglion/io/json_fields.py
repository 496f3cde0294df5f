"""JSON from files, read defensively: parsing bounded in depth, and fields fetched with their type checked, so that a
malformed file gives a ValueError naming the file and the field instead of a KeyError, TypeError or RecursionError
from deep inside a loader."""

import json

from .limits import MAX_JSON_DEPTH

_KINDS = {  # what a loader asks for -> (test, how the error message calls it)
    "dict": (lambda v: isinstance(v, dict), "an object"),
    "list": (lambda v: isinstance(v, list), "a list"),
    "str": (lambda v: isinstance(v, str), "a string"),
    "int": (lambda v: isinstance(v, int) and not isinstance(v, bool), "an integer"),
    "bool": (lambda v: isinstance(v, bool), "true or false"),
    "number": (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool), "a number"),
}


def _no_duplicates(pairs):
    out = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def loads(raw, where, max_depth=MAX_JSON_DEPTH):
    """Parse ``raw`` (bytes or str) as JSON. ValueError naming ``where`` if it is not UTF-8 JSON, repeats a key in an
    object, or nests more than ``max_depth`` lists and objects."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, (bytes, bytearray, memoryview)) else raw
        value = json.loads(text, object_pairs_hook=_no_duplicates)
    except RecursionError:
        raise ValueError(f"{where} is nested too deeply to be JSON that ganglion wrote (limit {max_depth})") from None
    except (UnicodeDecodeError, ValueError) as e:  # json.JSONDecodeError is a ValueError
        raise ValueError(f"{where} is not valid JSON ({e})") from None
    depth = nesting_depth(value)
    if depth > max_depth:
        raise ValueError(f"{where} nests lists and objects {depth} deep; at most {max_depth} are allowed")
    return value


def nesting_depth(value):
    """How many lists/objects deep ``value`` goes (0 for a scalar), found without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def describe(value):
    """A short description of a JSON value for an error message."""
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 60 else text[:57] + '...'}"


def check(value, kind, where, path):
    """``value`` itself, after checking that it is of ``kind`` ("dict", "list", "str", "int", "bool", "number")."""
    test, wanted = _KINDS[kind]
    if not test(value):
        raise ValueError(f"{where}: field {path} must be {wanted}, got {describe(value)}")
    return value


def field(mapping, key, kind, where, path, default=..., allow_none=False):
    """``mapping[key]`` checked to be of ``kind``. Missing: ``default`` when one is given, else a ValueError naming
    ``where`` and the field ``path.key``. ``allow_none``: null is accepted too (and returned)."""
    name = f"{path}.{key}" if path else key
    if not isinstance(mapping, dict):
        raise ValueError(f"{where}: field {path or '(top level)'} must be an object, got {describe(mapping)}")
    if key not in mapping:
        if default is not ...:
            return default
        raise ValueError(f"{where}: field {name} is missing")
    value = mapping[key]
    if value is None and allow_none:
        return None
    return check(value, kind, where, name)


def shape(value, where, path, allow_none_dims=False):
    """A list of non-negative ints (or None dims, when allowed) as a tuple."""
    check(value, "list", where, path)
    for i, d in enumerate(value):
        if d is None and allow_none_dims:
            continue
        if not (isinstance(d, int) and not isinstance(d, bool) and d >= 0):
            raise ValueError(f"{where}: field {path}[{i}] must be a non-negative integer"
                             f"{' or null' if allow_none_dims else ''}, got {describe(d)}")
    return tuple(value)
