"""Shape checks at a layer's door: errors that name the layer, what it expected and what it got."""


def check_last_dim(module, x, expected):
    """Raise ValueError unless ``x`` has at least one dimension and its last one is ``expected``."""
    if x.ndim == 0 or x.array.shape[-1] != expected:
        raise ValueError(f"{module!r}: expected input of shape (*, {expected}), got {tuple(x.shape)}")
