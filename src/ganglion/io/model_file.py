"""Model files: one safetensors file holding the weights and, in its header, a JSON description of the model.

Loading reads the header first (bounded, see ``safetensors_format``), checks the description field by field and
compares the weights it implies with the header's tensors, and only then builds the model and reads the tensors:
a small file describing a huge layer is refused before anything of that size is allocated.
"""

import re

from .architecture import expected_weights, module_from_config, module_to_config
from .json_fields import field
from .pickled import refuse_pytorch_file
from .weights import read_file, save

FORMAT_NAME, FORMAT_VERSION = "ganglion.model", 1
FORMAT = f"{FORMAT_NAME}/{FORMAT_VERSION}"


def save_model(model, path, extra=None):
    """Save ``model`` (architecture + weights) to ``path`` atomically. ``extra``: JSON-ready info to keep with it."""
    meta = {"format": FORMAT, "architecture": module_to_config(model)}
    if extra is not None:
        meta["extra"] = extra
    save(model.state_dict(), path, metadata=meta)


def _check_format(meta, where):
    if not isinstance(meta, dict) or "format" not in meta:
        raise ValueError(f"{where} holds tensors but no ganglion model description; use ganglion.load")
    name = field(meta, "format", "str", where, "")
    match = re.fullmatch(re.escape(FORMAT_NAME) + r"/(\d{1,9})", name)
    if match is None:
        raise ValueError(f"{where}: field format is {name!r}, not a ganglion model file ({FORMAT!r}); use "
                         "ganglion.load for plain tensors")
    if int(match.group(1)) != FORMAT_VERSION:
        raise ValueError(f"{where}: field format is {name!r}, a version this ganglion does not read (it reads "
                         f"{FORMAT!r})")
    field(meta, "architecture", "dict", where, "")


def compare_weights(expected, found, where, what="the architecture"):
    """ValueError listing every weight of ``expected`` ({name: (shape, layer, type)}) that ``found`` ({name: shape})
    lacks or holds with another shape, and every tensor of ``found`` that ``expected`` lacks."""
    problems = []
    for name, (shape, layer, kind) in expected.items():
        if name not in found:
            problems.append(f"{name} of layer {layer!r} ({kind}): {what} expects shape {shape}, the file lacks it")
        elif tuple(found[name]) != tuple(shape):
            problems.append(f"{name} of layer {layer!r} ({kind}): {what} expects shape {shape}, the file holds "
                            f"{tuple(found[name])}")
    problems += [f"{name}: the file holds shape {tuple(found[name])}, {what} has no such weight"
                 for name in found if name not in expected]
    if problems:
        shown = problems[:8] + ([f"... and {len(problems) - 8} more"] if len(problems) > 8 else [])
        raise ValueError(f"{where}: the weights do not match {what}: " + "; ".join(shown))


def load_model(path, return_extra=False):
    """Rebuild the model saved by ``save_model``, with its weights, in eval mode."""
    refuse_pytorch_file(path, "load_model")
    built = {}

    def check(header):
        where = f"load_model: {header.where!r}"
        _check_format(header.payload, where)
        architecture = header.payload["architecture"]
        expected = expected_weights(architecture, where)
        if expected is not None:
            compare_weights(expected, header.shapes(), where)
        model = module_from_config(architecture, where)
        if expected is None:  # a registered type without a weights rule: compare what was built
            compare_weights({name: (tuple(t.shape), name.rpartition(".")[0] or "(model)", "module")
                             for name, t in model.state_dict().items()}, header.shapes(), where)
        built["model"] = model

    header, tensors = read_file(path, check, what="load_model")
    model = built["model"]
    model.load_state_dict(tensors)
    model.eval()
    extra = header.payload.get("extra")
    return (model, extra) if return_extra else model
