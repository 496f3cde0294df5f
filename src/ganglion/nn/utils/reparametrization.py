"""``WeightReparametrization``: what ``spectral_norm`` and ``weight_norm`` share. Each replaces a module's parameter
``<name>`` by other parameters and buffers (``<name>_orig``, ``<name>_g``, ...) and installs itself as a forward
pre-hook that recomputes ``module.<name>`` from them before every call; ``remove`` puts a plain parameter back."""

from ...autograd.grad_mode import no_grad
from ..parameter import Parameter


class WeightReparametrization:
    """Base of the reparametrization hooks. A subclass names its function (``kind``, for errors), the attribute
    suffixes it adds (``suffixes``) and defines ``compute_weight(module, training)``, the weight from the new
    parameters and buffers (``training`` says whether the module is in training mode)."""

    kind = None
    suffixes = ()

    def __init__(self, name):
        self.name = name
        self.handle = None

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module, module.training))

    @classmethod
    def parameter_to_replace(cls, module, name):
        """The Parameter ``module.<name>``; RuntimeError when a hook of this kind already replaces it, ValueError
        listing the module's parameters when there is none of that name."""
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, cls) and hook.name == name:
                raise RuntimeError(f"{cls.kind}: cannot register two {cls.kind} hooks on the same parameter {name!r}")
        weight = module._parameters.get(name)
        if weight is None:
            raise ValueError(
                f"{cls.kind}: {type(module).__name__} has no parameter {name!r}; its parameters are "
                f"{', '.join(k for k, p in module._parameters.items() if p is not None) or 'none'}"
            )
        return weight

    def remove(self, module):
        """Undo the reparametrization: ``module.<name>`` becomes a plain parameter holding the weight as it is now."""
        with no_grad():
            weight = self.compute_weight(module, False)
        self.handle.remove()
        for suffix in ("",) + self.suffixes:
            delattr(module, self.name + suffix)
        module.register_parameter(self.name, Parameter(weight.detach()))

    @classmethod
    def remove_from(cls, module, name):
        """Remove the hook of this kind on ``module.<name>``; returns the module. ValueError when there is none."""
        for hook in list(module._forward_pre_hooks.values()):
            if isinstance(hook, cls) and hook.name == name:
                hook.remove(module)
                return module
        raise ValueError(f"{cls.kind} of {name!r} not found in {type(module).__name__}")
