"""``Parameter``: a leaf Tensor that a Module registers as trainable when assigned as an attribute."""

from ..tensor import Tensor


class Parameter(Tensor):
    """A Tensor that is a module's trainable weight: requires grad by default, found by ``Module.parameters()``.

    ``Parameter(t)`` shares ``t``'s memory (as PyTorch does).
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad=True):
        if isinstance(data, Tensor):
            array = data.array
        else:
            from ..factories import to_array

            array = to_array([] if data is None else data)
        self.array, self.grad, self.requires_grad, self._node, self._out_index = array, None, False, None, 0
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()
