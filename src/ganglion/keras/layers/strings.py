"""String data in the Keras face. Keras models may take raw text (``keras.Input(shape=(1,), dtype="string")``); off
TensorFlow there is no string tensor, so text travels as a NumPy array of Python strings, never converted: models
hand it on, a layer whose class sets ``accepts_strings = True`` (``TextVectorization``) reads it, and any other
layer refuses it by name. ``KerasTensor``s of text have the NumPy object dtype; configs call it "string"."""

import numpy as np

STRING = np.dtype(object)
_TEXT_TYPES = (str, bytes, np.str_, np.bytes_)


def is_string_dtype(dtype):
    """True for Keras' "string" (and the NumPy dtypes that hold text)."""
    if isinstance(dtype, str) and dtype in ("string", "str"):
        return True
    return dtype is str or dtype is bytes or (isinstance(dtype, np.dtype) and dtype.kind in "OUS")


def dtype_name(dtype):
    """The dtype as a config writes it: "string" for text, else NumPy's name."""
    return "string" if is_string_dtype(dtype) else str(dtype)


def is_text(x):
    """True for a NumPy array of str/bytes (or objects that all are), or a (nested) list of them."""
    if isinstance(x, np.ndarray):
        if x.dtype.kind in "US":
            return True
        return x.dtype == object and x.size > 0 and all(isinstance(s, _TEXT_TYPES) for s in x.flat)
    if isinstance(x, (list, tuple)):
        while isinstance(x, (list, tuple)) and x:
            x = x[0]
        return isinstance(x, _TEXT_TYPES)
    return False


def as_text_array(x):
    """Text as a NumPy array of Python strings (object dtype: any length, bytes kept for the layer to decode)."""
    return np.asarray(x, dtype=object)


def dummy_text(shape, words):
    """A small batch of text shaped like ``shape`` (unknown dims 2), each string ``words`` tokens long: what a layer
    is run on to learn its output shape."""
    concrete = tuple(2 if s is None else s for s in shape)
    return np.full(concrete, " ".join(["a"] * words), dtype=object)


def refuse_text(layer, x):
    """The TypeError for text given to a layer that computes on numbers."""
    return TypeError(f"Layer {layer.name!r} (of type {type(layer).__name__}) cannot take strings: it got an array of "
                     f"strings of shape {np.shape(x)}. Turn text into numbers first, with a TextVectorization layer "
                     f"as the first layer of the model (or called on the data).")
