"""``weights=PATH`` for the applications: a file from ``model.save_weights`` (or a ``.keras`` file) loads as Keras
does (``model.load_weights``); a torchvision state_dict converted with ``ganglion convert`` is mapped layer by layer
onto the Keras names (``ganglion.vision.models`` reads the same files with torchvision's keys).

Layouts, torchvision -> Keras: conv weight (out, in, kh, kw) -> kernel (kh, kw, in, out); linear weight (out, in)
-> kernel (in, out); batch norm weight, bias, running_mean, running_var -> gamma, beta, moving_mean,
moving_variance (``num_batches_tracked`` has no Keras counterpart and is skipped).
"""

import os
import zipfile

import numpy as np

from ...io.weights import load_with_metadata
from ..saving.saving_lib import WEIGHTS_FORMAT

_SKIPPED_SUFFIXES = (".num_batches_tracked",)


def load_weights(model, weights, label, torchvision_prefixes=None):
    """Load ``weights`` (None: keep the initialization) into ``model`` and return it.

    ``torchvision_prefixes(model, state)`` -> ({Keras layer name: torchvision key prefix}, {layer name: kernel
    transform}, key prefixes to skip (the classifier without the top)); None where the Keras architecture has no
    torchvision twin (then such a file is refused).
    """
    if weights is None:
        return model
    if zipfile.is_zipfile(weights):
        model.load_weights(weights)
        return model
    state, metadata = load_with_metadata(weights)
    if isinstance(metadata, dict) and metadata.get("format") == WEIGHTS_FORMAT:
        model.load_weights(weights)
        return model
    if torchvision_prefixes is None:
        raise ValueError(f"{label}: {os.fspath(weights)!r} is not a file written by model.save_weights, and "
                         f"{label} has no torchvision counterpart whose state_dict could be mapped onto it (Keras' "
                         f"{label} differs from torchvision's architecture); load torchvision weights into "
                         f"ganglion.vision.models instead")
    prefixes, transforms, skipped = torchvision_prefixes(model, state)
    assign_state_dict(model, state, prefixes, label, os.fspath(weights), transforms, skipped)
    return model


def _keras_layout(kind, name, array):
    if kind == "Conv2D" and name == "weight":
        return np.transpose(array, (2, 3, 1, 0))
    if kind == "Dense" and name == "weight":
        return np.transpose(array)
    return array


_ENTRIES = {  # torchvision parameter names, in the order of the Keras layer's weights
    "Conv2D": ("weight", "bias"),
    "Dense": ("weight", "bias"),
    "BatchNormalization": ("weight", "bias", "running_mean", "running_var"),
}


def assign_state_dict(model, state, prefixes, label, where, transforms=None, skipped=()):
    """Set each layer named in ``prefixes`` from the state_dict entries ``prefix.weight`` etc.; every entry of
    ``state`` must be used and every weight found, else a ValueError lists what is missing or left over.

    ``transforms``: {layer name: function(kernel in Keras layout) -> kernel} for layouts beyond the transposes
    (VGG's fc1 after a channels-last flatten); ``skipped``: key prefixes left unused on purpose."""
    transforms = transforms or {}
    used, missing = set(), []
    staged = []
    for layer_name, prefix in prefixes.items():
        layer = model.get_layer(layer_name)
        kind = type(layer).__name__
        names = _ENTRIES[kind][:len(layer.get_weights())]
        arrays = []
        for name in names:
            key = f"{prefix}.{name}"
            if key not in state:
                missing.append(key)
                continue
            used.add(key)
            arrays.append(_keras_layout(kind, name, state[key].numpy()))
        if layer_name in transforms and arrays:
            arrays[0] = transforms[layer_name](arrays[0])
        staged.append((layer, arrays))
    extra = [k for k in state if k not in used and not k.endswith(_SKIPPED_SUFFIXES)
             and not k.startswith(tuple(skipped))]
    if missing or extra:
        raise ValueError(f"{label}: the torchvision state_dict in {where!r} does not fit this model: missing "
                         f"{missing[:8]}{' ...' if len(missing) > 8 else ''}, unexpected "
                         f"{extra[:8]}{' ...' if len(extra) > 8 else ''} (include_top=False drops the classifier; "
                         f"the file must be of the same architecture)")
    for layer, arrays in staged:
        expected = [tuple(w.shape) for w in layer.get_weights()]
        got = [tuple(a.shape) for a in arrays]
        if expected != got:
            raise ValueError(f"{label}: layer {layer.name!r} has weights of shapes {expected}, the state_dict in "
                             f"{where!r} gives {got}")
        layer.set_weights(arrays)
