"""``FunctionalLayer``: the base of the layers that hold no weights and call one ``nn.functional`` function with
the arguments they were built with (activations, softmax and kin, the pixel shuffles)."""

from ..module import Module


class FunctionalLayer(Module):
    """A layer that calls one ``nn.functional`` function: y = _fn(x, *arguments).

    A subclass sets ``_fn`` and calls ``super().__init__(name=value, ...)`` with its arguments in ``_fn``'s order:
    they become attributes, are passed to ``_fn`` positionally and show in the repr as ``name=value`` (PyTorch's
    text, e.g. ``ELU(alpha=1.0)``). ``inplace``, where PyTorch has it, is stored and shown when True, and
    passed to ``_fn`` as ``inplace=`` where ``_passes_inplace`` says ``_fn`` writes over its input (ReLU, LeakyReLU,
    Hardtanh, ReLU6, Threshold); elsewhere results are computed out of place.
    """

    _fn = None
    _passes_inplace = False

    def __init__(self, inplace=None, **arguments):
        super().__init__()
        self._arguments = tuple(arguments)
        for name, value in arguments.items():
            setattr(self, name, value)
        if inplace is not None:
            self.inplace = inplace

    def forward(self, x):
        arguments = [getattr(self, name) for name in self._arguments]
        if self._passes_inplace:
            return type(self)._fn(x, *arguments, inplace=self.inplace)
        return type(self)._fn(x, *arguments)

    def extra_repr(self):
        shown = [f"{name}={getattr(self, name)!r}" for name in self._arguments]
        return ", ".join(shown + (["inplace=True"] if getattr(self, "inplace", False) else []))
