"""PyTorch ``.pth`` / ``.pt`` weight files to safetensors, once, so that ganglion loads them without PyTorch.

    ganglion convert resnet18.pth resnet18.safetensors          (the command)
    ganglion.vision.convert.convert("resnet18.pth", "resnet18.safetensors")

The file is read with ``torch.load(path, weights_only=True, map_location="cpu")``: PyTorch's restricted unpickler,
which rebuilds tensors and plain containers and refuses anything that would run code. ganglion itself never
unpickles; PyTorch is needed for this step only. What the file holds may be a ``state_dict`` or a checkpoint dict
with the state dict under ``"state_dict"`` or ``"model"`` (``key=`` picks another). The output is a plain
safetensors file, written atomically, that ``ganglion.load`` and ``Module.load_state_dict`` read.
"""

import os
import pickle
from collections import OrderedDict

from ..io.weights import save as save_safetensors

CHECKPOINT_KEYS = ("state_dict", "model")


def _import_torch():
    try:
        import torch
    except ImportError:
        raise ImportError("ganglion convert reads .pth files with PyTorch, which is not installed here: pip install "
                          "torch (it is needed for the conversion only; ganglion loads the converted file without "
                          "it)") from None
    return torch


def find_state_dict(obj, where, key=None):
    """The dict of name -> tensor inside what ``torch.load`` returned: ``obj`` itself, ``obj[key]``, or the first of
    ``obj["state_dict"]``, ``obj["model"]`` that exists. ``where`` names the file in errors."""
    if not isinstance(obj, dict):
        raise ValueError(f"convert: {where} holds a {type(obj).__name__}, not a state_dict (a dict of name -> "
                         "tensor); save model.state_dict() rather than the model")
    if key is not None:
        if key not in obj:
            raise ValueError(f"convert: {where} has no key {key!r}; its keys are {sorted(map(str, obj))}")
        return obj[key]
    if obj and all(_is_tensor(v) for v in obj.values()):
        return obj
    for name in CHECKPOINT_KEYS:
        if isinstance(obj.get(name), dict):
            return obj[name]
    raise ValueError(f"convert: {where} is neither a state_dict nor a checkpoint with one under "
                     f"{' or '.join(map(repr, CHECKPOINT_KEYS))} (its keys: {sorted(map(str, obj))[:10]}); pass "
                     "key= (or --key) to name the entry that holds it")


def _is_tensor(value):
    return type(value).__module__.startswith("torch") and hasattr(value, "detach")


def to_arrays(state_dict, where):
    """OrderedDict of name -> NumPy array (CPU, contiguous) from a dict of name -> torch tensor. bfloat16, which
    NumPy lacks, is widened to float32 (exactly)."""
    torch = _import_torch()
    if not isinstance(state_dict, dict) or not state_dict:
        raise ValueError(f"convert: the state_dict in {where} is empty or not a dict")
    arrays = OrderedDict()
    for name, value in state_dict.items():
        if not isinstance(name, str):
            raise ValueError(f"convert: {where}: state_dict keys must be strings, got {name!r}")
        if not isinstance(value, torch.Tensor):
            raise ValueError(f"convert: {where}: entry {name!r} is a {type(value).__name__}, not a tensor")
        tensor = value.detach().cpu()
        if tensor.dtype == torch.bfloat16:
            tensor = tensor.float()
        arrays[name] = tensor.numpy().copy()  # contiguous, and a 0-d tensor stays 0-d (ascontiguousarray would not)
    return arrays


def load_pth(path, key=None):
    """The state dict of a PyTorch file as an OrderedDict of name -> NumPy array (see the module docstring)."""
    torch = _import_torch()
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"convert: no such file: {path!r}")
    try:
        obj = torch.load(path, weights_only=True, map_location="cpu")
    except (pickle.UnpicklingError, RuntimeError, EOFError) as error:
        raise ValueError(f"convert: torch.load({path!r}, weights_only=True) could not read it: {error}") from error
    return to_arrays(find_state_dict(obj, repr(path), key), repr(path))


def convert(src, dst, key=None):
    """Convert the PyTorch file ``src`` to the safetensors file ``dst`` (written atomically); returns the names of
    the tensors written, in the file's order."""
    arrays = load_pth(src, key)
    save_safetensors(arrays, dst, metadata={"converted_from": os.path.basename(os.fspath(src))})
    return list(arrays)
