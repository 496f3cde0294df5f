"""``spectral_norm``: divide a module's weight by its largest singular value, estimated by power iteration
(PyTorch's ``torch.nn.utils.spectral_norm``, with the same parameter and buffer names)."""

from ... import backend
from ...autograd.grad_mode import no_grad
from .reparametrization import WeightReparametrization

_TRANSPOSED_CONVS = ("ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d")


def _normalize(xp, a, eps):
    """a / max(||a||_2, eps)."""
    return a / max(float(xp.linalg.norm(a)), eps)


class SpectralNorm(WeightReparametrization):
    """The forward pre-hook that sets ``module.<name> = <name>_orig / sigma`` before every call.

    W (the weight with axis ``dim`` moved first, flattened to an (h, w) matrix) has its top singular vectors tracked
    in the buffers u (h,) and v (w,). In training mode each call first runs ``n_power_iterations`` steps of
        v <- normalize(W^T u),  u <- normalize(W v);
    then sigma = u . (W v), with u and v held constant, so the gradient reaches <name>_orig through both W and sigma.
    In eval mode u and v are used as they are.
    """

    kind = "spectral_norm"
    suffixes = ("_u", "_v", "_orig")

    def __init__(self, name="weight", n_power_iterations=1, dim=0, eps=1e-12):
        super().__init__(name)
        self.dim, self.eps = dim, eps
        if n_power_iterations <= 0:
            raise ValueError(
                f"spectral_norm: expected n_power_iterations to be positive, got n_power_iterations={n_power_iterations}"
            )
        self.n_power_iterations = n_power_iterations

    def reshape_weight_to_matrix(self, weight):
        """The weight as an (h, w) matrix, axis ``dim`` becoming the rows (works on Tensors, inside the graph)."""
        if self.dim != 0:
            weight = weight.permute(self.dim, *[d for d in range(weight.ndim) if d != self.dim])
        return weight.reshape(weight.shape[0], -1)

    def compute_weight(self, module, do_power_iteration):
        """<name>_orig / sigma, after ``n_power_iterations`` updates of u and v when ``do_power_iteration``."""
        weight = getattr(module, self.name + "_orig")
        u = getattr(module, self.name + "_u")
        v = getattr(module, self.name + "_v")
        weight_mat = self.reshape_weight_to_matrix(weight)
        if do_power_iteration:
            with no_grad():
                w = weight_mat.array
                xp = backend.get_array_module(w)
                for _ in range(self.n_power_iterations):
                    v.array[...] = _normalize(xp, w.T @ u.array, self.eps)
                    u.array[...] = _normalize(xp, w @ v.array, self.eps)
        # copies: the graph must keep this call's u and v even if a later call updates the buffers in place
        u_now, v_now = u.detach().clone(), v.detach().clone()
        sigma = (u_now * (weight_mat @ v_now)).sum()
        return weight / sigma

    @staticmethod
    def apply(module, name, n_power_iterations, dim, eps):
        weight = SpectralNorm.parameter_to_replace(module, name)
        if not -weight.ndim <= dim < max(weight.ndim, 1):
            raise ValueError(f"spectral_norm: dim={dim} is out of range for {name!r} of shape {tuple(weight.shape)}")
        fn = SpectralNorm(name, n_power_iterations, dim % max(weight.ndim, 1), eps)
        with no_grad():
            h, w = fn.reshape_weight_to_matrix(weight).shape
            xp = backend.get_array_module(weight.array)
            rng = backend.rng()
            # u, v start as random unit vectors, drawn on the CPU from ganglion's generator
            u = backend.to_device(rng.standard_normal(h).astype(weight.dtype), weight.device)
            v = backend.to_device(rng.standard_normal(w).astype(weight.dtype), weight.device)
            u, v = _normalize(xp, u, eps), _normalize(xp, v, eps)
        from ...tensor import Tensor

        delattr(module, name)
        module.register_parameter(name + "_orig", weight)
        setattr(module, name, weight.detach())
        module.register_buffer(name + "_u", Tensor._wrap(u))
        module.register_buffer(name + "_v", Tensor._wrap(v))
        fn.handle = module.register_forward_pre_hook(fn)
        return fn


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Reparametrize ``module.<name>`` as W / sigma(W), sigma the spectral norm estimated by power iteration.

    Replaces the parameter ``<name>`` by the parameter ``<name>_orig`` and the buffers ``<name>_u`` (h,) and
    ``<name>_v`` (w,), PyTorch's state_dict keys; ``dim`` (default 0, or 1 for transposed convolutions) is the axis
    of the weight that indexes the output. Returns the module.
    """
    if dim is None:
        is_transposed = any(klass.__name__ in _TRANSPOSED_CONVS for klass in type(module).__mro__)
        dim = 1 if is_transposed else 0
    SpectralNorm.apply(module, name, n_power_iterations, dim, eps)
    return module


def remove_spectral_norm(module, name="weight"):
    """Undo ``spectral_norm``: ``module.<name>`` becomes a plain parameter holding the current W / sigma."""
    return SpectralNorm.remove_from(module, name)
