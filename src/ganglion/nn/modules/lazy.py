"""Lazy modules: layers whose input size is read from the first input, as PyTorch's ``nn.LazyLinear`` & co.

Until the first call a lazy layer holds ``UninitializedParameter`` / ``UninitializedBuffer`` placeholders (no shape,
no values). The first call fills them in place (same objects, so an optimizer built before it keeps working),
initializes them as the ordinary layer would, and turns the module into that layer: after
``LazyLinear(10)(x)``, ``type(m) is Linear`` and ``m.in_features == x.shape[-1]``.
"""

from ... import backend
from ...autograd.grad_mode import no_grad
from ...factories import empty
from ...tensor import Tensor
from ..parameter import Parameter
from .conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from .linear import Linear
from .normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d

_SHAPELESS = ("Can't access the shape of an uninitialized parameter or buffer. This error usually happens in "
              "`load_state_dict` when trying to load an uninitialized parameter into an initialized one. Call "
              "`forward` to initialize the parameters before accessing their attributes.")


class _Uninitialized:
    """What the two placeholders share: a dtype and device but no shape, until ``materialize(shape)``.

    The placeholder array is empty; it keeps the dtype and device (so ``module.to(...)`` before the first call
    decides where the values will live) and becomes the real array in place.
    """

    __slots__ = ()
    cls_to_become = None

    def _placeholder(self, device, dtype, requires_grad):
        self.array, self.grad, self.requires_grad, self._node, self._out_index = (
            empty(0, dtype=dtype, device=device).array, None, False, None, 0)
        if requires_grad:
            self.requires_grad_(True)

    def materialize(self, shape, device=None, dtype=None):
        """Give the tensor ``shape`` (uninitialized values, like ``torch.empty``) and make it the ordinary class."""
        device = backend.device_of(self.array) if device is None else device
        dtype = self.array.dtype if dtype is None else dtype
        self.array = empty(*tuple(shape), dtype=dtype, device=device).array
        self.__class__ = self.cls_to_become

    @property
    def shape(self):
        raise RuntimeError(_SHAPELESS)

    @property
    def ndim(self):
        raise RuntimeError(_SHAPELESS)

    def numel(self):
        raise RuntimeError(_SHAPELESS)

    def detach(self):
        """Itself: a placeholder has no values to cut from a graph (``state_dict`` keeps the placeholder)."""
        return self

    def __repr__(self):
        return f"<{type(self).__name__}>"


class UninitializedParameter(_Uninitialized, Parameter):
    """A Parameter whose shape is not known yet; ``materialize(shape)`` turns it into a ``Parameter``."""

    __slots__ = ()
    cls_to_become = Parameter

    def __init__(self, requires_grad=True, device=None, dtype=None):
        self._placeholder(device, dtype, requires_grad)


class UninitializedBuffer(_Uninitialized, Tensor):
    """A buffer whose shape is not known yet; ``materialize(shape)`` turns it into a ``Tensor``."""

    __slots__ = ()
    cls_to_become = Tensor

    def __init__(self, requires_grad=False, device=None, dtype=None):
        self._placeholder(device, dtype, requires_grad)


def is_lazy(value):
    """True for an ``UninitializedParameter`` or ``UninitializedBuffer``."""
    return isinstance(value, _Uninitialized)


class LazyModuleMixin:
    """Shapes its parameters from the first input: ``initialize_parameters(*inputs)`` materializes them, then the
    module becomes ``cls_to_become``. A state_dict loaded before the first call materializes them from its shapes
    (the module stays lazy until it is called)."""

    cls_to_become = None
    inferred = None  # the size read from the first input: "in_features", "in_channels", "num_features"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._initialize_hook = self.register_forward_pre_hook(LazyModuleMixin._infer_parameters)

    def _weight_and_bias_placeholders(self, bias, device, dtype):
        """``weight`` (and ``bias`` when asked) as placeholders on ``device`` with ``dtype``."""
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def reset_parameters(self):
        """The ordinary layer's initialization, once the parameters have shapes (a no-op before)."""
        if not self.has_uninitialized_params() and getattr(self, self.inferred) != 0:
            super().reset_parameters()

    def has_uninitialized_params(self):
        """True while any parameter or buffer of this module is still a placeholder."""
        return any(is_lazy(v) for v in (*self._parameters.values(), *self._buffers.values()))

    def initialize_parameters(self, *args, **kwargs):
        raise NotImplementedError(f"initialize_parameters is not implemented for {type(self).__name__}")

    @staticmethod
    def _infer_parameters(module, args):
        """The forward pre-hook of the first call: shape, initialize, drop the hook, become the ordinary class."""
        with no_grad():
            module.initialize_parameters(*args)
        if module.has_uninitialized_params():
            raise RuntimeError(f"module {module._get_name()} has not been fully initialized")
        module._initialize_hook.remove()
        del module._initialize_hook
        if module.cls_to_become is not None:
            module.__class__ = module.cls_to_become

    def _load_state_dict_pre_hook(self, state_dict, prefix):
        """Called by ``Module.load_state_dict`` before shapes are compared: placeholders take the loaded shapes."""
        for name, value in (*self._parameters.items(), *self._buffers.items()):
            loaded = state_dict.get(prefix + name)
            if is_lazy(value) and loaded is not None and not is_lazy(loaded):
                value.materialize(tuple(loaded.shape))
                self._sizes_from_parameters()

    def _sizes_from_parameters(self):
        """Set the inferred size (``in_features``...) from materialized parameters, so the layer's input check
        agrees with loaded weights. (PyTorch leaves it at 0 here; its forward does not check it.)"""


class LazyLinear(LazyModuleMixin, Linear):
    """``Linear`` with ``in_features`` read from the first input's last dimension: (*, H_in) -> (*, out_features)."""

    cls_to_become = Linear

    inferred = "in_features"

    def __init__(self, out_features, bias=True, device=None, dtype=None):
        super().__init__(0, 0, False)
        self.out_features = out_features
        self._weight_and_bias_placeholders(bias, device, dtype)

    def _sizes_from_parameters(self):
        if not is_lazy(self.weight):
            self.in_features = self.weight.array.shape[1]

    def initialize_parameters(self, input, *args, **kwargs):
        if self.has_uninitialized_params():
            self.in_features = input.shape[-1]
            self.weight.materialize((self.out_features, self.in_features))
            if self.bias is not None:
                self.bias.materialize((self.out_features,))
            self.reset_parameters()


class _LazyConvMixin(LazyModuleMixin):
    """``in_channels`` from the first input: dim 1 of a batched input (N, C, *spatial), dim 0 of an unbatched one."""

    inferred = "in_channels"

    def _lazy_setup(self, out_channels, bias, device, dtype):
        self.out_channels = out_channels
        self._weight_and_bias_placeholders(bias, device, dtype)

    def initialize_parameters(self, input, *args, **kwargs):
        if self.has_uninitialized_params():
            self.in_channels = self._get_in_channels(input)
            if self.in_channels % self.groups != 0:
                raise ValueError("in_channels must be divisible by groups")
            if self.transposed:
                self.weight.materialize((self.in_channels, self.out_channels // self.groups, *self.kernel_size))
            else:
                self.weight.materialize((self.out_channels, self.in_channels // self.groups, *self.kernel_size))
            if self.bias is not None:
                self.bias.materialize((self.out_channels,))
            self.reset_parameters()

    def _sizes_from_parameters(self):
        if not is_lazy(self.weight):
            shape = self.weight.array.shape
            self.in_channels = shape[0] if self.transposed else shape[1] * self.groups

    def _get_in_channels(self, input):
        unbatched, batched = self._nd + 1, self._nd + 2
        if input.ndim not in (unbatched, batched):
            raise RuntimeError(f"Expected {unbatched}D (unbatched) or {batched}D (batched) input to "
                               f"{type(self).__name__}, but got input of size: {tuple(input.shape)}")
        return input.shape[1] if input.ndim == batched else input.shape[0]


class _LazyConv(_LazyConvMixin):
    def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None):
        # in and out channels 0 and no bias: nothing real is built before the placeholders replace it (as PyTorch)
        super().__init__(0, 0, kernel_size, stride, padding, dilation, groups, False, padding_mode, device, dtype)
        self._lazy_setup(out_channels, bias, device, dtype)


class _LazyConvTranspose(_LazyConvMixin):
    def __init__(self, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1, bias=True,
                 dilation=1, padding_mode="zeros", device=None, dtype=None):
        super().__init__(0, 0, kernel_size, stride, padding, output_padding, groups, False, dilation, padding_mode,
                         device, dtype)
        self._lazy_setup(out_channels, bias, device, dtype)


class _LazyBatchNorm(LazyModuleMixin):
    """Batch norm with ``num_features`` read from the first input's dim 1."""

    inferred = "num_features"

    def __init__(self, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None, dtype=None):
        # The ordinary constructor refuses 0 features; build a 1-feature layer without parameters or statistics,
        # then show PyTorch's 0 and put the placeholders in.
        super().__init__(1, eps, momentum, False, False, device, dtype)
        self.num_features, self.affine, self.track_running_stats = 0, bool(affine), bool(track_running_stats)
        if self.affine:
            self.weight = UninitializedParameter(device=device, dtype=dtype)
            self.bias = UninitializedParameter(device=device, dtype=dtype)
        if self.track_running_stats:
            self.register_buffer("running_mean", UninitializedBuffer(device=device, dtype=dtype))
            self.register_buffer("running_var", UninitializedBuffer(device=device, dtype=dtype))
            self.register_buffer("num_batches_tracked", Tensor(0, dtype=backend.int64, device=device))

    def _sizes_from_parameters(self):
        for name in ("weight", "bias", "running_mean", "running_var"):
            value = getattr(self, name)
            if value is not None and not is_lazy(value):
                self.num_features = value.array.shape[0]

    def initialize_parameters(self, input, *args, **kwargs):
        if self.has_uninitialized_params():
            if input.ndim < 2:
                raise ValueError(f"{type(self).__name__}: expected an input with a channel dimension (N, C, ...), "
                                 f"got shape {tuple(input.shape)}")
            self.num_features = input.shape[1]
            for name in ("weight", "bias", "running_mean", "running_var"):
                value = getattr(self, name)
                if value is not None:
                    value.materialize((self.num_features,))
            self.reset_parameters()


def _lazy_form(lazy_base, cls, read):
    """The class ``Lazy<cls>``: ``cls`` with its ``read`` argument taken from the first input, which then turns the
    module into a ``cls`` (``lazy_base`` holds how)."""
    return type(f"Lazy{cls.__name__}", (lazy_base, cls), {
        "__doc__": f"``{cls.__name__}`` with ``{read}`` read from the first input; input and output shapes as "
                   f"``{cls.__name__}``'s.",
        "__module__": __name__, "cls_to_become": cls,
    })


LazyConv1d, LazyConv2d, LazyConv3d = (_lazy_form(_LazyConv, c, "in_channels") for c in (Conv1d, Conv2d, Conv3d))
LazyConvTranspose1d, LazyConvTranspose2d, LazyConvTranspose3d = (
    _lazy_form(_LazyConvTranspose, c, "in_channels") for c in (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d))
LazyBatchNorm1d, LazyBatchNorm2d, LazyBatchNorm3d = (
    _lazy_form(_LazyBatchNorm, c, "num_features") for c in (BatchNorm1d, BatchNorm2d, BatchNorm3d))
