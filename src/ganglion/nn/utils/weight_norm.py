"""``weight_norm``: write a module's weight as w = g v / ||v||, a length g and a direction v trained separately
(PyTorch's ``torch.nn.utils.weight_norm``, with the same parameter names and shapes)."""

from ...autograd.function import Function
from ...tensor import Tensor
from ..parameter import Parameter
from .reparametrization import WeightReparametrization


def _norm_axes(ndim, dim):
    """The axes ||v|| is taken over: all but ``dim``, or all of them for dim=-1 (PyTorch's convention)."""
    return tuple(range(ndim)) if dim == -1 else tuple(a for a in range(ndim) if a != dim)


def norm_except_dim(v, pow=2, dim=0):
    """The ``pow``-norm of the array ``v`` over every axis but ``dim``, kept as size-1 axes (a 0-d array for
    dim=-1: the norm of all of v)."""
    from ... import backend

    xp = backend.get_array_module(v)
    axes = _norm_axes(v.ndim, dim)
    norm = (xp.abs(v) ** pow).sum(axis=axes, keepdims=dim != -1) ** (1.0 / pow)
    return backend.as_array(norm)


class WeightNorm(Function):
    """w = g v / ||v||, the 2-norm over every axis of v but ``dim`` (over all of them for dim=-1).

    v: the weight's shape; g: v's shape with size 1 on the normed axes (0-d for dim=-1) -> w: v's shape.
    With n = ||v||:  dg = sum(dw v) / n,  dv = (g / n) (dw - v sum(dw v) / n^2), sums over the normed axes.
    """

    def forward(self, v, g, dim):
        axes = _norm_axes(v.ndim, dim)
        norm = self.xp.sqrt((v * v).sum(axis=axes, keepdims=True))
        g_b = g.reshape(norm.shape)
        self.save(v, g_b, norm, axes)
        return v * (g_b / norm)

    def backward(self, dw):
        v, g_b, norm, axes = self.saved
        dot = (dw * v).sum(axis=axes, keepdims=True)
        dv = dg = None
        if self.needs_input_grad[0]:
            dv = (g_b / norm) * (dw - v * (dot / (norm * norm)))
        if self.needs_input_grad[1]:
            dg = (dot / norm).reshape(self.inputs[1].shape)
        return dv, dg

    def forward_graph(self, v, g, dim):
        """The same w from ops, for double backward."""
        axes = _norm_axes(v.ndim, dim)
        norm = (v * v).sum(axis=axes, keepdims=True).sqrt()
        return v * (g.reshape(norm.shape) / norm)


def _weight_norm(v, g, dim=0):
    """w = g v / ||v|| (see ``WeightNorm``) for Tensors v and g."""
    return WeightNorm.apply(v, g, dim)


class WeightNormHook(WeightReparametrization):
    """The forward pre-hook that recomputes ``module.<name>`` from ``<name>_g`` and ``<name>_v`` before each call."""

    kind = "weight_norm"
    suffixes = ("_g", "_v")

    def __init__(self, name, dim):
        super().__init__(name)
        self.dim = -1 if dim is None else dim

    def compute_weight(self, module, training=False):
        """g v / ||v|| (the same in training and evaluation mode)."""
        return _weight_norm(getattr(module, self.name + "_v"), getattr(module, self.name + "_g"), self.dim)

    @staticmethod
    def apply(module, name, dim):
        weight = WeightNormHook.parameter_to_replace(module, name)
        fn = WeightNormHook(name, dim)
        if fn.dim != -1:
            if not -weight.ndim <= fn.dim < weight.ndim:
                raise ValueError(f"weight_norm: dim={dim} is out of range for {name!r} of shape {tuple(weight.shape)}")
            fn.dim %= weight.ndim
        delattr(module, name)
        module.register_parameter(name + "_g", Parameter(Tensor._wrap(norm_except_dim(weight.array, 2, fn.dim))))
        module.register_parameter(name + "_v", Parameter(weight.detach()))
        setattr(module, name, fn.compute_weight(module))
        fn.handle = module.register_forward_pre_hook(fn)
        return fn


def weight_norm(module, name="weight", dim=0):
    """Reparametrize ``module.<name>`` as w = g v / ||v||: parameters ``<name>_g`` (the norms, shape of w with size
    1 on the normed axes) and ``<name>_v`` (the direction, shape of w), PyTorch's keys. The norm is over every axis
    but ``dim``; ``dim=None`` (or -1, as in PyTorch) takes it over the whole tensor, g then being 0-d. Returns the
    module.
    """
    WeightNormHook.apply(module, name, dim)
    return module


def remove_weight_norm(module, name="weight"):
    """Undo ``weight_norm``: ``module.<name>`` becomes a plain parameter holding the current g v / ||v||."""
    return WeightNormHook.remove_from(module, name)
