"""``Flatten`` and ``Unflatten``: reshape layers between convolutional and dense parts of a network."""

from ..module import Module


class Flatten(Module):
    """Merge dims start_dim..end_dim: (N, C, H, W) -> (N, C*H*W) with the defaults (start_dim=1, end_dim=-1)."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dim ``dim`` into ``unflattened_size``: (N, 12) with dim=1, size (3, 4) -> (N, 3, 4)."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, x):
        n = x.ndim
        if not -n <= self.dim < n:
            raise IndexError(f"{self!r}: dim {self.dim} is out of range for an input of shape {tuple(x.shape)}")
        d = self.dim % n
        known = 1
        for s in self.unflattened_size:
            if s != -1:
                known *= s
        size = x.shape[d]
        if (-1 not in self.unflattened_size and known != size) or (known == 0 or size % known):
            raise ValueError(
                f"{self!r}: cannot unflatten dim {d} of size {size} (input shape {tuple(x.shape)}) into "
                f"{self.unflattened_size}"
            )
        return x.reshape(x.shape[:d] + self.unflattened_size + x.shape[d + 1:])

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
