"""``ganglion.Size``: the type of ``Tensor.shape`` and ``Tensor.size()``, as ``torch.Size``."""

import operator


class Size(tuple):
    """A tuple of dimension sizes, printed ``ganglion.Size([2, 3])``, as ``torch.Size``.

    It is a tuple: it equals and hashes as the plain tuple of the same ints, unpacks, indexes (``s[0]`` is an int).
    Slicing, ``+`` and ``*`` with tuples give a Size again; ``numel()`` is the product of the sizes (1 for ``Size([])``).
    ``Size(iterable)`` takes ints (anything with ``__index__``, NumPy ints included) and raises TypeError otherwise.
    """

    __slots__ = ()

    def __new__(cls, sizes=()):
        items = []
        for position, item in enumerate(sizes):
            try:
                items.append(operator.index(item))
            except TypeError:
                raise TypeError(f"ganglion.Size() takes an iterable of 'int' (item {position} is "
                                f"'{type(item).__name__}')") from None
        return tuple.__new__(cls, items)

    def __getitem__(self, key):
        item = tuple.__getitem__(self, key)
        return tuple.__new__(Size, item) if isinstance(key, slice) else item

    def __add__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return tuple.__new__(Size, tuple.__add__(self, other))

    def __radd__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return tuple.__new__(Size, tuple.__add__(other, self))

    def __mul__(self, times):
        result = tuple.__mul__(self, times)
        return result if result is NotImplemented else tuple.__new__(Size, result)

    __rmul__ = __mul__

    def __reduce__(self):
        return Size, (tuple(self),)

    def numel(self):
        """The number of elements of a tensor of this shape: the product of the sizes."""
        count = 1
        for size in self:
            count *= size
        return count

    def __repr__(self):
        return f"ganglion.Size({list(self)})"

    __str__ = __repr__
