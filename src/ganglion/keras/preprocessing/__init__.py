"""``keras.preprocessing``: the legacy module path of ``keras.preprocessing.sequence.pad_sequences``."""

from . import sequence  # noqa: F401
