"""``TextVectorization``: raw strings -> token ids (or bag-of-words vectors), with a vocabulary learned by ``adapt``.

    standardize -> split -> ngrams -> look up each token ->
        "int":       (batch, output_sequence_length) int64 ids, 0-padded (longest row when the length is None)
        "multi_hot": (batch, depth) 1 where the token occurs      "count":  (batch, depth) occurrences
        "tf_idf":    (batch, depth) count * idf                   "one_hot": (batch, depth), split=None only

The layer works on Python strings (lists, NumPy str/bytes/object arrays), outside the autograd graph, as Keras 3
does off TensorFlow; its outputs are Tensors the rest of a model can take. Keras' rules are kept exactly:

- reserved ids: in "int" mode 0 is the padding token "" and 1 is the OOV token "[UNK]"; in the other modes
  "[UNK]" is 0 and an empty token is dropped;
- ``adapt`` orders the vocabulary by count, ties by the token itself, both descending, then keeps the first
  ``max_tokens`` ids (special tokens included);
- "lower" lowers ASCII letters only (``tf.strings.lower``); "strip_punctuation" deletes ``string.punctuation``;
  "whitespace" splits on runs of ASCII whitespace; ``ngrams=n`` appends every 2..n-gram, joined by a space, after
  the unigrams, width by width;
- idf = log(1 + documents / (1 + documents containing the token)); the OOV id gets the mean idf.
"""

import collections
import math
import re
import string

import numpy as np

from ... import backend
from ...factories import tensor
from ...tensor import Tensor
from .base import Layer
from .input_layer import KerasTensor

PAD, OOV = "", "[UNK]"
STANDARDIZE = ("lower_and_strip_punctuation", "lower", "strip_punctuation")
SPLIT = ("whitespace", "character")
OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_NO_PUNCTUATION = str.maketrans("", "", string.punctuation)
_ASCII_WHITESPACE = re.compile(r"[ \t\n\v\f\r]+")


def _check_choice(name, value, choices, allow_none_or_callable):
    if allow_none_or_callable and (value is None or callable(value)):
        return
    if value not in choices:
        extra = ", None or a callable" if allow_none_or_callable else ""
        raise ValueError(f"TextVectorization: `{name}` must be one of {list(choices)}{extra}. Received: "
                         f"{name}={value!r}")


class TextVectorization(Layer):
    """Map strings to token ids or bag-of-words vectors.  (batch,) or (batch, 1) strings -> see the module doc."""

    def __init__(self, max_tokens=None, standardize="lower_and_strip_punctuation", split="whitespace", ngrams=None,
                 output_mode="int", output_sequence_length=None, pad_to_max_tokens=False, vocabulary=None,
                 idf_weights=None, sparse=False, ragged=False, encoding="utf-8", name=None, **kwargs):
        has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        frozen_size = kwargs.pop("vocabulary_size", None)
        super().__init__(name=name, **kwargs)
        if sparse:
            raise ValueError("`sparse=True` can only be used with the TensorFlow backend.")
        if ragged:
            raise ValueError("`ragged=True` can only be used with the TensorFlow backend.")
        _check_choice("standardize", standardize, STANDARDIZE, True)
        _check_choice("split", split, SPLIT, True)
        output_mode = {"binary": "multi_hot", "tf-idf": "tf_idf"}.get(output_mode, output_mode)
        _check_choice("output_mode", output_mode, OUTPUT_MODES, False)
        if isinstance(ngrams, list):
            ngrams = tuple(ngrams)  # a config read back from JSON
        widths = (ngrams,) if isinstance(ngrams, int) else ngrams if isinstance(ngrams, tuple) else None
        if ngrams is not None and not (widths and all(_positive_int(n) for n in widths)):
            raise ValueError(f"`ngrams` must be None, an integer, or a tuple of integers. Received: ngrams={ngrams}")
        if output_mode == "int" and not (output_sequence_length is None or isinstance(output_sequence_length, int)):
            raise ValueError("`output_sequence_length` must be either None or an integer when `output_mode` is "
                             f"'int'. Received: output_sequence_length={output_sequence_length}")
        if output_mode != "int" and output_sequence_length is not None:
            raise ValueError("`output_sequence_length` must not be set if `output_mode` is not 'int'. Received "
                             f"output_sequence_length={output_sequence_length}.")
        if output_mode == "one_hot" and split is not None:
            raise ValueError("TextVectorization: `output_mode='one_hot'` encodes one token per string and needs "
                             f"`split=None`. Received: split={split!r}")
        if max_tokens is not None and max_tokens <= 1:
            raise ValueError(f"If set, `max_tokens` must be greater than 1. Received: max_tokens={max_tokens}")
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError(f"If pad_to_max_tokens is True, must set `max_tokens`. Received: max_tokens={max_tokens}")
        if idf_weights is not None and output_mode != "tf_idf":
            raise ValueError("`idf_weights` should only be set if `output_mode` is `'tf_idf'`. Received: "
                             f"idf_weights={idf_weights} and output_mode={output_mode}")
        if output_mode == "tf_idf" and has_input_vocabulary and idf_weights is None:
            raise ValueError("When specifying the `vocabulary` argument, in TF-IDF output mode, the `idf_weights` "
                             "argument must also be provided.")
        self.max_tokens, self.standardize, self.split = max_tokens, standardize, split
        self.ngrams, self.output_mode = ngrams, output_mode
        self.output_sequence_length, self.pad_to_max_tokens, self.encoding = (output_sequence_length,
                                                                               pad_to_max_tokens, encoding)
        self._ngram_widths = tuple(range(1, ngrams + 1)) if isinstance(ngrams, int) else ngrams
        self._input_vocabulary = vocabulary if not isinstance(vocabulary, str) else None
        self._input_idf_weights = idf_weights
        self._has_input_vocabulary = has_input_vocabulary
        self._frozen_size = frozen_size
        self._tokens, self._ids, self._idf = [], {}, None
        if output_mode == "tf_idf" and frozen_size is not None:  # from a config: zeros until load_own_variables
            self._idf = np.zeros(max_tokens if pad_to_max_tokens else frozen_size)
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)
        self.built = True  # no weights: the vocabulary is plain Python state

    # ------------------------------------------------------------------------------------------ vocabulary
    def _token_start(self):
        """The first id of a learned token: after "" and "[UNK]" in "int" mode, after "[UNK]" otherwise."""
        return 2 if self.output_mode == "int" else 1

    def _specials(self):
        return [PAD, OOV] if self.output_mode == "int" else [OOV]

    def vocabulary_size(self):
        """The number of ids, special tokens included."""
        return len(self._tokens) + self._token_start()

    def get_vocabulary(self, include_special_tokens=True):
        """The tokens in id order; without the special tokens when ``include_special_tokens`` is False."""
        return (self._specials() if include_special_tokens else []) + list(self._tokens)

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """Use ``vocabulary`` (a list/array of tokens, or the path of a file with one token per line) as is.  It may
        start with the special tokens, in Keras' order; ``idf_weights`` (one per given token) is for "tf_idf" only."""
        if self.output_mode == "tf_idf" and idf_weights is None:
            raise ValueError("`idf_weights` must be set if output_mode is 'tf_idf'.")
        if self.output_mode != "tf_idf" and idf_weights is not None:
            raise ValueError(f"`idf_weights` should only be set if output_mode is `'tf_idf'`. Received: "
                             f"output_mode={self.output_mode} and idf_weights={idf_weights}")
        if isinstance(vocabulary, str):
            with open(vocabulary, encoding=self.encoding) as f:
                vocabulary = f.read().splitlines()
            while vocabulary and vocabulary[-1] == "":
                vocabulary.pop()
        vocabulary = [self._decode(t) for t in np.asarray(vocabulary, dtype=object).reshape(-1)]
        if not vocabulary:
            raise ValueError(f"Cannot set an empty vocabulary. Received: vocabulary={vocabulary}")
        specials = self._specials()
        found_specials = vocabulary[:len(specials)] == specials
        tokens = vocabulary[len(specials):] if found_specials else vocabulary
        repeated = [t for t, n in collections.Counter(tokens).items() if n > 1]
        if repeated:
            raise ValueError("The passed vocabulary has at least one repeated term. Please uniquify your dataset. "
                             f"The repeated terms are: {repeated}")
        if PAD in tokens:
            raise ValueError("Found reserved mask token at unexpected location in `vocabulary`. Either remove all "
                             "mask and OOV tokens, or include them only at the start of the vocabulary in precisely "
                             f"this order: {specials}. Received: mask_token='' at vocabulary index "
                             f"{vocabulary.index(PAD)}")
        size = self._token_start() + len(tokens)
        if self.max_tokens is not None and size > self.max_tokens:
            raise ValueError(f"Attempted to set a vocabulary larger than the maximum vocab size. Received vocabulary "
                             f"size is {size}; `max_tokens` is {self.max_tokens}.")
        idf = None
        if idf_weights is not None:
            idf = np.asarray(idf_weights, dtype=np.float64)
            if idf.ndim != 1 or len(idf) != len(vocabulary):
                raise ValueError(f"`idf_weights` must be the same length as vocabulary. len(idf_weights) is "
                                 f"{idf.size}; len(vocabulary) is {len(vocabulary)}")
            if not found_specials:  # no document frequency is known for "[UNK]": Keras gives it the mean
                idf = np.concatenate([[idf.mean()], idf])
        self._install(tokens, idf)

    def _install(self, tokens, idf):
        self._tokens = list(tokens)
        self._ids = {t: i for i, t in enumerate(self._tokens, start=self._token_start())}
        if idf is not None and self.pad_to_max_tokens:
            idf = np.pad(idf, (0, self.max_tokens - len(idf)))
        self._idf = idf
        self._frozen_size = self.vocabulary_size()

    # ----------------------------------------------------------------------------------------------- adapt
    def adapt(self, data, batch_size=None, steps=None):
        """Learn the vocabulary (and, for "tf_idf", the idf weights) from ``data``: a list or array of strings,
        or batches of them from a DataLoader / iterable ((x, y) batches use x).  ``steps`` limits the batches."""
        if self._has_input_vocabulary:
            raise ValueError(f"Cannot adapt layer '{self.name}' after setting a static vocabulary via "
                             "`vocabulary` argument or `set_vocabulary()` method.")
        if isinstance(data, (str, bytes, Tensor)) or not hasattr(data, "__iter__"):
            raise TypeError(f"{self.name!r} (TextVectorization): adapt expects a list or array of strings, or an "
                            f"iterable of batches of them, got {type(data).__name__}")
        if isinstance(data, (list, tuple, np.ndarray)):  # Keras: these are the data; other iterables yield batches
            batches = [data]
        else:
            batches = (_batch_inputs(b) for b in data)
        counts, document_counts, documents = collections.Counter(), collections.Counter(), 0
        for i, batch in enumerate(batches):
            if steps is not None and i >= steps:
                break
            for row in self._token_rows(self._as_strings(batch)):
                counts.update(row)
                document_counts.update(set(row))
                documents += 1
        for special in (PAD, OOV):
            counts.pop(special, None)
        if not counts:  # Keras keeps the vocabulary it had when the data holds no token
            return
        order = sorted(counts, key=lambda t: (counts[t], t.encode("utf-8")), reverse=True)
        if self.max_tokens:
            order = order[:self.max_tokens - self._token_start()]
        idf = None
        if self.output_mode == "tf_idf":
            learned = np.array([math.log(1 + documents / (1 + document_counts[t])) for t in order])
            idf = np.concatenate([[learned.mean()], learned])
        self._install(order, idf)

    # -------------------------------------------------------------------------------------------- calling
    accepts_strings = True

    def __call__(self, inputs, *args, **kwargs):
        if isinstance(inputs, KerasTensor):  # Input(dtype="string"): a node of a functional graph
            return Layer.__call__(self, inputs)
        return self.forward(inputs)

    def forward(self, inputs, *args, **kwargs):
        """Strings in, an int64 (``"int"``) or float Tensor out; see the module doc for the shapes."""
        return self.call(inputs)

    def call(self, inputs):
        scalar = isinstance(inputs, (str, bytes))
        strings = self._as_strings([inputs] if scalar else inputs)
        if self.output_mode != "int" and not self.pad_to_max_tokens and self._frozen_size is None:
            raise RuntimeError(f"When using `output_mode={self.output_mode}` and `pad_to_max_tokens=False`, you must "
                               "set the layer's vocabulary before calling it. Either pass a `vocabulary` argument to "
                               "the layer, or call `adapt` with some sample data.")
        rows = self._token_rows(strings)
        out = self._encode_ids(rows) if self.output_mode == "int" else self._encode_bags(rows)
        if self.output_mode == "int" and self.split is None and strings.ndim == 1:
            out = out[:, 0] if out.shape[1] else np.zeros(len(rows), np.int64)  # one id per string, as Keras
        return tensor(out[0] if scalar else out)

    def _encode_ids(self, rows):
        length = self.output_sequence_length
        if length is None:
            length = max((len(r) for r in rows), default=0)
        out = np.zeros((len(rows), length), dtype=np.int64)
        for i, row in enumerate(rows):
            ids = [0 if t == PAD else self._ids.get(t, 1) for t in row[:length]]
            out[i, :len(ids)] = ids
        return out

    def _encode_bags(self, rows):
        # the config's vocabulary_size until load_assets brings the tokens back (Keras sizes its tables so too)
        depth = self.max_tokens if self.pad_to_max_tokens else self._frozen_size
        counts = np.zeros((len(rows), depth), dtype=np.float64)
        for i, row in enumerate(rows):
            for t in row:
                if t != PAD:  # Keras maps the mask token past the last bin, so it is never counted
                    counts[i, self._ids.get(t, 0)] += 1
        if self.output_mode in ("multi_hot", "one_hot"):
            counts = np.minimum(counts, 1)
        elif self.output_mode == "tf_idf":
            counts = counts * self._idf[:depth]
        return counts.astype(backend.get_default_dtype())

    # ------------------------------------------------------------------------------------- text to tokens
    def _decode(self, s):
        return s.decode(self.encoding) if isinstance(s, bytes) else str(s)

    def _as_strings(self, inputs):
        """``inputs`` as a NumPy array of Python str, rank 1 or (batch, 1) (any rank-2 shape with split=None)."""
        if isinstance(inputs, Tensor) or not isinstance(inputs, (list, tuple, np.ndarray)):
            raise TypeError(f"{self.name!r} (TextVectorization): expected a list or array of strings, got "
                            f"{type(inputs).__name__}")
        array = np.asarray(inputs, dtype=object)
        if array.size and not all(isinstance(s, (str, bytes, np.str_, np.bytes_)) for s in array.flat):
            raise TypeError(f"{self.name!r} (TextVectorization): expected strings, got "
                            f"{type(next(s for s in array.flat if not _is_text(s))).__name__}")
        array = np.vectorize(self._decode, otypes=[object])(array) if array.size else array
        if array.ndim not in (1, 2) or self.split is not None and array.ndim == 2 and array.shape[-1] != 1:
            raise ValueError("When using `TextVectorization` to tokenize strings, the input rank must be 1 or the "
                             f"last shape dimension must be 1. Received: inputs.shape={array.shape} with "
                             f"rank={array.ndim}")
        return self._standardized(array)

    def _standardized(self, array):
        if callable(self.standardize):  # Keras off TensorFlow: the callable gets a NumPy array of unicode strings
            result = np.asarray(self.standardize(array.astype(str) if array.size else array))
            return np.vectorize(self._decode, otypes=[object])(result) if result.size else result.astype(object)
        steps = []
        if self.standardize in ("lower", "lower_and_strip_punctuation"):
            steps.append(_ASCII_LOWER)
        if self.standardize in ("strip_punctuation", "lower_and_strip_punctuation"):
            steps.append(_NO_PUNCTUATION)
        for table in steps:
            array = np.vectorize(lambda s, t=table: s.translate(t), otypes=[object])(array) if array.size else array
        return array

    def _token_rows(self, strings):
        """One list of tokens (n-grams included) per row of ``strings``."""
        if self.split is None:
            rows = [list(r) for r in strings.reshape(len(strings), -1)]
        else:
            flat = strings.reshape(-1)
            if self.split == "whitespace":
                rows = [[t for t in _ASCII_WHITESPACE.split(s) if t] for s in flat]
            elif self.split == "character":
                rows = [list(s) for s in flat]
            else:  # a callable: a 1-D NumPy str array in, a sequence of tokens per string out
                rows = [[self._decode(t) for t in r] for r in self.split(flat.astype(str))]
        if self._ngram_widths is None:
            return rows
        return [[" ".join(r[i:i + n]) for n in self._ngram_widths for i in range(len(r) - n + 1)] for r in rows]

    # ---------------------------------------------------------------------------------------------- config
    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return (input_shape[0], self.output_sequence_length)
        return (input_shape[0], self.max_tokens if self.pad_to_max_tokens else self._frozen_size)

    def get_config(self):
        config = super().get_config()
        config.update({
            "max_tokens": self.max_tokens, "standardize": self.standardize, "split": self.split,
            "ngrams": self.ngrams, "output_mode": self.output_mode,
            "output_sequence_length": self.output_sequence_length, "pad_to_max_tokens": self.pad_to_max_tokens,
            "sparse": False, "ragged": False, "vocabulary": _listify(self._input_vocabulary),
            "idf_weights": _listify(self._input_idf_weights), "encoding": self.encoding,
            "vocabulary_size": self.vocabulary_size(),
        })
        return config

    # Keras keeps an adapted vocabulary out of the config, in the model file's assets.
    def save_assets(self, dir_path):
        """Write an adapted vocabulary to ``dir_path``/vocabulary.txt (a given one lives in the config)."""
        if self._input_vocabulary is None:
            with open(f"{dir_path}/vocabulary.txt", "w", encoding="utf-8") as f:
                f.write("\n".join(self.get_vocabulary()))

    def load_assets(self, dir_path):
        """Read back what ``save_assets`` wrote (idf weights come from ``load_own_variables``)."""
        if self._input_vocabulary is None:
            with open(f"{dir_path}/vocabulary.txt", encoding="utf-8") as f:
                lines = f.read().splitlines()
            tokens = lines[self._token_start():]
            self._install(tokens, self._idf)

    def save_own_variables(self, store):
        if self.output_mode == "tf_idf" and self._idf is not None:
            store["idf_weights"] = self._idf.astype(np.float32)

    def load_own_variables(self, store):
        if self.output_mode == "tf_idf" and "idf_weights" in store:
            self._idf = np.asarray(store["idf_weights"], dtype=np.float64)


def _positive_int(n):
    return isinstance(n, int) and not isinstance(n, bool) and n > 0


def _is_text(x):
    return isinstance(x, (str, bytes, np.str_, np.bytes_))


def _first_leaf(data):
    while isinstance(data, (list, tuple, np.ndarray)) and len(data):
        data = data[0]
    return data


def _batch_inputs(batch):
    """A batch of strings as it comes, or the x of an (x, y[, w]) batch (its y holds no strings)."""
    if isinstance(batch, (list, tuple)) and len(batch) in (2, 3) and not _is_text(batch[0]) \
            and not _is_text(_first_leaf(batch[1])):
        return batch[0]
    return batch


def _listify(x):
    if x is None:
        return None
    return x.tolist() if isinstance(x, np.ndarray) else list(x)
