"""``Tensor``: an n-d array of the active backend, plus what autograd needs (grad, requires_grad, the node that made it).

The raw array is ``tensor.array`` (a NumPy or CuPy array). ``tensor.data`` is PyTorch's: a Tensor sharing the same
array but cut from the graph. ``tensor._version`` is PyTorch's too: it counts the in-place changes of the tensor's
memory, together with its views, so that backward can refuse arrays changed after a node saved them. Every operator
delegates to a function in ``ganglion.ops``, whose ``bind_tensor_methods`` (called once by ``ganglion/__init__.py``)
binds them: ``ganglion.ops`` builds on this module, which therefore never imports it.
"""

import numpy as np

from . import backend
from .arguments import normalize_dim, parse_to, size_argument
from .size import Size
from .autograd import function as _function
from .autograd.grad_mode import state as _grad_state


class Tensor:
    """An n-dimensional array that can record the operations applied to it and differentiate through them.

    Build one with ``ganglion.tensor(data)`` or a factory (``zeros``, ``randn``, ...). ``Tensor(data)`` also works and
    behaves like ``ganglion.tensor(data)``.
    """

    # _vc: the version counter shared with views (a one-element list, or None until one is needed)
    # _consumed: how many recorded ops that are not freed took this tensor as an input (unset: none; read with getattr)
    __slots__ = ("array", "grad", "requires_grad", "_node", "_out_index", "_vc", "_consumed", "__weakref__")
    __array_priority__ = 1000  # NumPy defers `ndarray op tensor` to our reflected operators
    __array_ufunc__ = None
    # The operators, most methods and the two conversions below come from ganglion.ops.bind_tensor_methods:
    # _cast(dtype) and _to_device(device), the differentiable Cast and ToDevice ops that type() and to() run.

    def __new__(cls, *args, **kwargs):
        # every Tensor starts without a version counter, also a subclass whose __init__ sets the slots itself
        # (Parameter); the internal constructors (`_wrap`, Function.apply) bypass this and set the slot directly
        t = object.__new__(cls)
        t._vc = None
        return t

    def __init__(self, data=None, dtype=None, device=None, requires_grad=False):
        from .factories import to_array

        self.array = to_array([] if data is None else data, dtype, device)
        self.grad = None
        self.requires_grad = False
        self._node = None
        self._out_index = 0
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, array, requires_grad=False):
        """A Tensor around ``array`` without copying or converting it (the fast internal constructor)."""
        t = object.__new__(cls)
        t.array, t.grad, t.requires_grad, t._node, t._out_index, t._vc = array, None, requires_grad, None, 0, None
        return t

    # ---------------------------------------------------------------------------------------------- properties
    @property
    def data(self):
        """This tensor's values as a Tensor outside the graph (shares memory, like PyTorch's ``.data``).

        Unlike ``detach()`` it has a version counter of its own, as in PyTorch: changes made through ``.data`` are not
        seen by the graphs that saved this tensor.
        """
        return Tensor._wrap(self.array)

    @data.setter
    def data(self, value):
        array = value.array if isinstance(value, Tensor) else value
        if not hasattr(array, "shape"):
            raise TypeError(f"Tensor.data must be set to a Tensor or an array, got {type(value).__name__}")
        self.array = array

    @property
    def _version(self):
        """How many times this tensor's memory was changed in place (counted together with its views)."""
        counter = self._vc
        return 0 if counter is None else counter[0]

    def _bump_version(self):
        """Count one in-place change. The in-place methods call it; so must code that writes ``.array`` in place
        while a graph may hold it (the write is otherwise invisible to the check in backward)."""
        _function.version_counter(self)[0] += 1

    @property
    def shape(self):
        """The sizes of the dimensions, a ``ganglion.Size`` (a tuple)."""
        # tuple.__new__ skips Size's per-item check: an array's shape is already a tuple of ints
        return tuple.__new__(Size, self.array.shape)

    @property
    def ndim(self):
        return self.array.ndim

    @property
    def dtype(self):
        return self.array.dtype

    @property
    def device(self):
        return backend.device_of(self.array)

    @property
    def is_leaf(self):
        return self._node is None

    @property
    def grad_fn(self):
        return self._node

    @property
    def is_cuda(self):
        return self.device.type == "cuda"

    @property
    def T(self):
        return self.permute(*range(self.ndim - 1, -1, -1))

    @property
    def mT(self):
        return self.transpose(-2, -1)

    def size(self, dim=None):
        """The shape as a ``ganglion.Size``, or the size of dimension ``dim`` (an int)."""
        if dim is None:
            return tuple.__new__(Size, self.array.shape)
        return self.array.shape[normalize_dim(dim, self.ndim, "size")]

    def dim(self):
        return self.array.ndim

    def numel(self):
        return int(self.array.size)

    nelement = numel

    def element_size(self):
        return self.array.itemsize

    # -------------------------------------------------------------------------------------------- conversions
    def numpy(self):
        """The values as a NumPy array (shared with the tensor on the CPU)."""
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on a Tensor that requires grad. Use tensor.detach().numpy() instead.")
        if self.device.type != "cpu":
            raise TypeError("can't convert a cuda tensor to numpy: use tensor.cpu() first")
        return self.array

    def __array__(self, dtype=None, copy=None):
        array = backend.to_numpy(self.array)
        return array if dtype is None else array.astype(dtype)

    def item(self):
        """The single value of a one-element tensor as a Python number."""
        if self.array.size != 1:
            raise ValueError(f"a Tensor with {self.array.size} elements cannot be converted to a Python scalar")
        return self.array.reshape(()).item()

    def tolist(self):
        return backend.to_numpy(self.array).tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        if self.array.size != 1:
            raise RuntimeError(f"the truth value of a Tensor with {self.array.size} elements is ambiguous")
        return bool(self.item())

    def __index__(self):
        if self.array.size != 1 or self.dtype.kind not in "iu":
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.array.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.array.shape[0]))

    __hash__ = object.__hash__

    def __format__(self, format_spec):
        """A 0-d tensor formats as its number (``f"{loss:.4f}"``); any other tensor only with an empty spec, as
        PyTorch (a spec on it raises TypeError)."""
        if self.ndim == 0 and type(self) is Tensor:
            return self.item().__format__(format_spec)
        return object.__format__(self, format_spec)

    def __repr__(self):
        body = np.array2string(
            backend.to_numpy(self.array), separator=", ", prefix="tensor(", precision=4, threshold=1000
        )
        extras = []
        if self.device.type != "cpu":
            extras.append(f"device='{self.device}'")
        if self.dtype not in (backend.get_default_dtype(), backend.int64, backend.bool_):
            extras.append(f"dtype=ganglion.{self.dtype}")
        if self._node is not None:
            extras.append(f"grad_fn=<{type(self._node).__name__}Backward>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    # ------------------------------------------------------------------------------------------------ autograd
    def backward(self, gradient=None, retain_graph=None, create_graph=False):
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

        ``gradient``: d(loss)/d(self), required when ``self`` is not a scalar (same shape as ``self``).
        The graph is freed afterwards unless ``retain_graph=True``. ``create_graph=True`` records the backward pass
        itself, so that the gradients can be differentiated again.
        """
        from .autograd import backward

        backward(
            [self], None if gradient is None else [gradient], retain_graph=retain_graph, create_graph=create_graph
        )

    def detach(self):
        """The same values, cut from the graph (shares memory and the version counter, as in PyTorch)."""
        t = Tensor._wrap(self.array)
        t._vc = _function.version_counter(self)
        return t

    def detach_(self):
        self._node, self.requires_grad = None, False
        return self

    def requires_grad_(self, requires_grad=True):
        """Start (or stop) recording operations on this leaf tensor."""
        if requires_grad and self.dtype.kind not in "fc":
            raise RuntimeError(f"only floating point tensors can require gradients, got dtype {self.dtype}")
        if not requires_grad and self._node is not None:
            raise RuntimeError("requires_grad can only be turned off on leaf tensors; use detach() instead")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self):
        """Keep ``.grad`` on this non-leaf tensor after backward (leaves keep theirs anyway)."""
        if self._node is None:
            return
        retained = self._node.retained or []
        retained.append((self._out_index, self))
        self._node.retained = retained

    def register_post_accumulate_grad_hook(self, hook):
        """Run ``hook(self)`` after each backward has accumulated its whole gradient into this leaf's ``.grad``;
        returns a handle whose ``remove()`` unregisters it (see ``ganglion.autograd.hooks``)."""
        from .autograd import hooks

        return hooks.register_post_accumulate_grad_hook(self, hook)

    # ------------------------------------------------------------------------------------------ devices, dtypes
    def to(self, *args, **kwargs):
        """``to(device)``, ``to(dtype)``, ``to(device, dtype)`` or ``to(other)``: a tensor with that placement and type
        (this one when nothing changes, unless ``copy=True``). The arguments are PyTorch's (``arguments.parse_to``).

        ``non_blocking`` is accepted as in PyTorch; copies here are synchronous, so the result is the same either way.
        """
        request = parse_to("Tensor.to", args, kwargs)
        out = self
        if request.dtype is not None:
            out = out.type(request.dtype)
        if request.device is not None and not backend.same_placement(request.device, out.device):
            out = out._to_device(request.device)
        if request.copy and out is self:
            out = self.clone()
        return out

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None, non_blocking=False):
        return self.to("cuda" if device is None else f"cuda:{int(device)}", non_blocking=non_blocking)

    def type(self, dtype=None):
        if dtype is None:
            return f"ganglion.{self.dtype}"
        dtype = backend.resolve_dtype(dtype)
        if dtype == self.dtype:
            return self
        return self._cast(dtype)

    def float(self):
        return self.type(backend.float32)

    def double(self):
        return self.type(backend.float64)

    def half(self):
        return self.type(backend.float16)

    def long(self):
        return self.type(backend.int64)

    def int(self):
        return self.type(backend.int32)

    def bool(self):
        return self.type(backend.bool_)

    def type_as(self, other):
        """This tensor cast to ``other``'s dtype (itself when it already has it)."""
        if not isinstance(other, Tensor):
            raise TypeError(f"type_as(): argument 'other' must be Tensor, not {type(other).__name__}")
        return self.type(other.dtype)

    # ------------------------------------------------------------------ new tensors with this one's dtype, device
    def _new(self, make, size, dtype, device, requires_grad):
        return make(*size, dtype=self.dtype if dtype is None else dtype,
                    device=self.device if device is None else device, requires_grad=requires_grad)

    def new_zeros(self, *args, size=None, dtype=None, device=None, requires_grad=False):
        """Zeros of ``size``, with this tensor's dtype and device unless given."""
        from .factories import zeros

        return self._new(zeros, size_argument("new_zeros", args, size), dtype, device, requires_grad)

    def new_ones(self, *args, size=None, dtype=None, device=None, requires_grad=False):
        """Ones of ``size``, with this tensor's dtype and device unless given."""
        from .factories import ones

        return self._new(ones, size_argument("new_ones", args, size), dtype, device, requires_grad)

    def new_empty(self, *args, size=None, dtype=None, device=None, requires_grad=False):
        """An uninitialized tensor of ``size``, with this tensor's dtype and device unless given."""
        from .factories import empty

        return self._new(empty, size_argument("new_empty", args, size), dtype, device, requires_grad)

    def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
        """``size`` (a tuple or list) filled with ``fill_value``, with this tensor's dtype and device unless given."""
        from .factories import full

        if not isinstance(size, (tuple, list)):
            raise TypeError(f"new_full(): argument 'size' must be tuple of ints, not {type(size).__name__}")
        return full(size, fill_value, dtype=self.dtype if dtype is None else dtype,
                    device=self.device if device is None else device, requires_grad=requires_grad)

    def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False):
        """A copy of ``data`` (outside any graph) with this tensor's dtype and device unless given."""
        from .factories import tensor

        if isinstance(data, Tensor):
            data = data.detach()
        return tensor(data, dtype=self.dtype if dtype is None else dtype,
                      device=self.device if device is None else device, requires_grad=requires_grad)

    def contiguous(self):
        """This tensor if its memory is C-ordered, else a C-ordered copy (which stays in the graph)."""
        return self if self.array.flags.c_contiguous else self.clone()

    # ------------------------------------------------------------------------------------ in-place (no graph)
    # Each in-place method bumps the version counter once it has changed the memory; graphs that saved this tensor
    # (or a view of the same memory) then refuse to backward through the stale values.
    def _check_inplace(self, name):
        if _grad_state.enabled and self.requires_grad:
            if self._node is None:
                raise RuntimeError(
                    f"a leaf Variable that requires grad is being used in an in-place operation ({name}); "
                    "update it under `with ganglion.no_grad():`"
                )
            raise RuntimeError(
                f"{name}: in-place operations on a tensor that is part of the graph are not supported while recording "
                "it; use the out-of-place operation, or change a detach()ed tensor under `with ganglion.no_grad():`"
            )

    def _inplace(self, name, value, op):
        self._check_inplace(name)
        other = value.array if isinstance(value, Tensor) else value
        try:
            op(self.array, other, out=self.array, casting="unsafe")
        except ValueError:
            raise ValueError(
                f"{name}: cannot apply a value of shape {tuple(np.shape(other))} in place to a tensor of shape "
                f"{tuple(self.shape)}"
            ) from None
        self._bump_version()
        return self

    def add_(self, other, alpha=1):
        """x += alpha other, in place; recorded in the graph where ``+=`` is (``_recorded_in_place``)."""
        recorded = self._recorded_sum("add_", "__iadd__", other, alpha)
        if recorded is not None:
            return recorded
        if alpha != 1:
            other = (other.array if isinstance(other, Tensor) else other) * alpha
        return self._inplace("add_", other, backend.get_array_module(self.array).add)

    def sub_(self, other, alpha=1):
        """x -= alpha other, in place; recorded in the graph where ``-=`` is (``_recorded_in_place``)."""
        recorded = self._recorded_sum("sub_", "__isub__", other, alpha)
        if recorded is not None:
            return recorded
        if alpha != 1:
            other = (other.array if isinstance(other, Tensor) else other) * alpha
        return self._inplace("sub_", other, backend.get_array_module(self.array).subtract)

    def _recorded_sum(self, method, operator, other, alpha):
        """``add_``/``sub_`` while recording: ``x += alpha other`` written over x in the graph by the op of
        ``operator`` (``_recorded_in_place``), or RuntimeError saying why it cannot be
        (``Function.in_place_refusal``). None outside the graph, and for a leaf (``_inplace`` then changes x, or says
        to use no_grad)."""
        if not (_grad_state.enabled and self.requires_grad) or self._node is None:
            return None
        op_class = Tensor._recorded_in_place.get(operator)
        if op_class is None:  # no ops bound (never, once ganglion is imported): the plain refusal
            return None
        refusal = op_class.in_place_refusal(self, other)
        if refusal is not None:
            raise RuntimeError(f"{method}: {refusal}")
        return op_class.apply_in_place(self, other * alpha if alpha != 1 else other)

    def mul_(self, other):
        return self._inplace("mul_", other, backend.get_array_module(self.array).multiply)

    def div_(self, other):
        return self._inplace("div_", other, backend.get_array_module(self.array).true_divide)

    def clamp_(self, min=None, max=None):
        self._check_inplace("clamp_")
        backend.get_array_module(self.array).clip(self.array, min, max, out=self.array)
        self._bump_version()
        return self

    def copy_(self, src):
        """Copy ``src``'s values into this tensor (broadcasting ``src``; casting to this tensor's dtype)."""
        self._check_inplace("copy_")
        value = src.array if isinstance(src, Tensor) else src
        value = backend.to_device(value, self.device) if hasattr(value, "shape") else value
        try:
            self.array[...] = value
        except ValueError:
            raise ValueError(
                f"copy_: cannot copy a value of shape {tuple(np.shape(value))} into a tensor of shape {tuple(self.shape)}"
            ) from None
        self._bump_version()
        return self

    def fill_(self, value):
        self._check_inplace("fill_")
        self.array.fill(value.item() if isinstance(value, Tensor) else value)
        self._bump_version()
        return self

    def zero_(self):
        return self.fill_(0)

    def uniform_(self, a=0.0, b=1.0, generator=None):
        self._check_inplace("uniform_")
        self.array[...] = backend.to_device(backend.rng(generator).uniform(a, b, self.shape), self.device)
        self._bump_version()
        return self

    def normal_(self, mean=0.0, std=1.0, generator=None):
        self._check_inplace("normal_")
        self.array[...] = backend.to_device(backend.rng(generator).normal(mean, std, self.shape), self.device)
        self._bump_version()
        return self

    def __setitem__(self, key, value):
        self._check_inplace("__setitem__")
        self.array[index_key(key)] = value.array if isinstance(value, Tensor) else value
        self._bump_version()

    _recorded_in_place = {}
    """``{"__iadd__": Add, "__isub__": Sub}``, given by ``ops.bind_tensor_methods``: the ops that ``+=`` and ``-=``
    record in place (their backward reads neither input)."""

    def _iop(name, op):
        """``x op= y``: in place outside the graph. While recording, in place too where ``_recorded_in_place`` has
        an op for it that can write over x in the graph (``Function.in_place_refusal``: x a non-leaf that no recorded
        op has used yet, as ``out += identity`` in torchvision's ResNet blocks); else a new node, rebinding the name
        (what x held stays as it was)."""

        def method(self, other):
            if _grad_state.enabled and (self.requires_grad or (isinstance(other, Tensor) and other.requires_grad)):
                if self._node is None and self.requires_grad:
                    raise RuntimeError(
                        f"a leaf Variable that requires grad is being used in an in-place operation ({name}); "
                        "update it under `with ganglion.no_grad():`"
                    )
                op_class = Tensor._recorded_in_place.get(name)
                if op_class is not None and self.requires_grad and op_class.in_place_refusal(self, other) is None:
                    return op_class.apply_in_place(self, other)
                return getattr(Tensor, name.replace("__i", "__", 1))(self, other)
            return op(self, other)

        method.__name__ = name
        return method

    __iadd__ = _iop("__iadd__", lambda s, o: s.add_(o))
    __isub__ = _iop("__isub__", lambda s, o: s.sub_(o))
    __imul__ = _iop("__imul__", lambda s, o: s.mul_(o))
    __itruediv__ = _iop("__itruediv__", lambda s, o: s.div_(o))
    del _iop


def index_key(key):
    """``key`` with the Tensors inside an index replaced by their arrays (bool tensors stay masks, integer tensors
    index arrays), ready to index a NumPy or CuPy array."""
    if isinstance(key, Tensor):
        return key.array
    if isinstance(key, tuple):
        return tuple(k.array if isinstance(k, Tensor) else k for k in key)
    if isinstance(key, list):
        # a list index is an integer (or bool) array index, as in NumPy and PyTorch
        return backend.np.asarray([k.item() if isinstance(k, Tensor) else k for k in key])
    return key
