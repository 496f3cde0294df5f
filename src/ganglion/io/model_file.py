"""Model files: one safetensors file holding the weights and, in its header, a JSON description of the model."""

from .architecture import module_from_config, module_to_config
from .weights import load_with_metadata, save

FORMAT = "ganglion.model/1"


def save_model(model, path, extra=None):
    """Save ``model`` (architecture + weights) to ``path`` atomically. ``extra``: JSON-ready info to keep with it."""
    meta = {"format": FORMAT, "architecture": module_to_config(model)}
    if extra is not None:
        meta["extra"] = extra
    save(model.state_dict(), path, metadata=meta)


def load_model(path, return_extra=False):
    """Rebuild the model saved by ``save_model``, with its weights, in eval mode."""
    tensors, meta = load_with_metadata(path)
    if not meta or meta.get("format") != FORMAT:
        raise ValueError(f"load_model: {path!r} holds tensors but no ganglion model description; use ganglion.load")
    model = module_from_config(meta["architecture"])
    model.load_state_dict(tensors)
    model.eval()
    return (model, meta.get("extra")) if return_extra else model
