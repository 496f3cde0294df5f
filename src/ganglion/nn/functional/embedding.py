"""``embedding``: look up rows of a weight matrix by integer index (PyTorch's ``torch.nn.functional.embedding``)."""

from ... import backend
from ...autograd.function import Function
from ...autograd.grad_mode import no_grad
from ...ops.indexing import accumulate_at
from ...tensor import Tensor


class EmbeddingLookup(Function):
    """y[...] = W[idx[...]].  W: (V, D), idx: any integer shape -> y: idx.shape + (D,).

    dW[v] = sum of dy over the positions where idx == v (each divided by how often v occurs in idx with
    ``scale_grad_by_freq``); the row ``padding_idx`` gets no gradient.
    """

    def forward(self, weight, indices, padding_idx, scale_grad_by_freq):
        self.save(weight.shape, indices, padding_idx, scale_grad_by_freq)
        return self.xp.take(weight, indices, axis=0)

    def backward(self, dy):
        shape, indices, padding_idx, scale_grad_by_freq = self.saved
        xp = self.xp
        flat = indices.reshape(-1)
        rows = dy.reshape(-1, shape[1])
        if scale_grad_by_freq:
            counts = xp.bincount(flat, minlength=shape[0])
            rows = rows / counts[flat][:, None].astype(dy.dtype)
        dw = xp.zeros(shape, dtype=dy.dtype)
        xp.add.at(dw, flat, rows)
        if padding_idx is not None:
            dw[padding_idx] = 0
        return dw, None, None, None

    def backward_graph(self, dy):
        """The same sum as ``backward``, recorded as an index-accumulate (whose own backward is the lookup)."""
        shape, indices, padding_idx, scale_grad_by_freq = self.saved
        xp = self.xp
        flat = indices.reshape(-1)
        rows = dy.reshape(-1, shape[1])
        dtype = dy.array.dtype
        if scale_grad_by_freq:
            counts = xp.bincount(flat, minlength=shape[0])
            rows = rows / counts[flat][:, None].astype(dtype)
        if padding_idx is not None:
            rows = rows * (flat != padding_idx)[:, None].astype(dtype)
        return accumulate_at(rows, shape, (flat,)), None, None, None


def check_padding_idx(owner, padding_idx, num_embeddings):
    """padding_idx as a row number in [0, num_embeddings) (negative counts from the end), or None."""
    if padding_idx is None:
        return None
    if not isinstance(padding_idx, int) or isinstance(padding_idx, bool):
        raise TypeError(f"{owner}: padding_idx must be an int or None, got {padding_idx!r}")
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise ValueError(
            f"{owner}: padding_idx={padding_idx} must be within [-{num_embeddings}, {num_embeddings}) for "
            f"{num_embeddings} embeddings"
        )
    return padding_idx % num_embeddings


def check_indices(owner, input, num_embeddings):
    """Raise unless ``input`` is an integer Tensor whose values index one of ``num_embeddings`` rows."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{owner}: input must be an integer Tensor, got {type(input).__name__}")
    if input.dtype.kind not in "iu":
        raise TypeError(f"{owner}: input must be an integer (int64 or int32) tensor of indices, got {input.dtype}")
    if input.array.size:
        low, high = int(input.array.min()), int(input.array.max())
        if low < 0 or high >= num_embeddings:
            bad = low if low < 0 else high
            raise IndexError(
                f"{owner}: index {bad} is out of range for {num_embeddings} embeddings "
                f"(valid: 0 to {num_embeddings - 1})"
            )


def renorm_rows_(weight, indices, max_norm, norm_type):
    """Rescale, in place and outside the graph, each row of ``weight`` named in ``indices`` whose ``norm_type``-norm
    exceeds ``max_norm`` to norm max_norm (PyTorch's factor max_norm / (norm + 1e-7))."""
    xp = backend.get_array_module(weight.array)
    rows = xp.unique(indices.reshape(-1))
    with no_grad():
        w = weight.array
        norms = xp.linalg.norm(w[rows].astype(backend.float64), ord=norm_type, axis=1)
        over = norms > max_norm
        if bool(over.any()):
            rows = rows[over]
            w[rows] *= (max_norm / (norms[over] + 1e-7)).astype(w.dtype)[:, None]


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight`` (V, D) at the integer ``input`` indices (any shape) -> input.shape + (D,).

    ``padding_idx``: that row gets no gradient. ``max_norm``: rows looked up whose ``norm_type``-norm exceeds it are
    first rescaled in place to that norm. ``scale_grad_by_freq``: each row's gradient is divided by how often its index
    occurs in ``input``. Only dense gradients (``sparse=False``).
    """
    if not isinstance(weight, Tensor) or weight.ndim != 2:
        raise ValueError(
            f"embedding: weight must be a 2-D (num_embeddings, embedding_dim) tensor, got "
            f"{tuple(weight.shape) if isinstance(weight, Tensor) else type(weight).__name__}"
        )
    if sparse:
        raise ValueError("embedding: sparse gradients are not supported; use sparse=False (dense gradients)")
    num = weight.shape[0]
    padding_idx = check_padding_idx("embedding", padding_idx, num)
    check_indices("embedding", input, num)
    if max_norm is not None:
        renorm_rows_(weight, input.array, max_norm, norm_type)
    return EmbeddingLookup.apply(weight, input.array, padding_idx, bool(scale_grad_by_freq))
