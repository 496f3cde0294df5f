"""``Function``: one differentiable operation, its forward and its backward in one class.

Every op in ganglion is a Function subclass whose ``forward`` and ``backward`` work on raw arrays (NumPy or CuPy):

    class Exp(Function):
        def forward(self, x):
            y = self.xp.exp(x)
            self.save(y)
            return y

        def backward(self, dy):
            (y,) = self.saved
            return dy * y

``Exp.apply(t)`` runs forward on ``t``'s array, wraps the result in a Tensor and, when gradients are wanted,
remembers this Function as the node that made it. ``backward`` returns one gradient per positional input (``None``
where there is none); gradients of broadcast inputs are reduced to the input's shape by the engine, not by the op.

PyTorch-style custom functions are accepted too: with ``forward(ctx, ...)`` and ``backward(ctx, ...)`` written as
static methods, they receive and return Tensors and use ``ctx.save_for_backward`` / ``ctx.saved_tensors``.
"""

from .. import backend
from .grad_mode import state as _grad_state

Tensor = None  # set by ganglion.tensor once the class exists (the two modules need each other)


class Function:
    """Base class of every differentiable operation. Subclass it and call ``YourOp.apply(*inputs)``."""

    __slots__ = ("inputs", "saved", "needs_input_grad", "xp", "n_outputs", "retained", "freed", "__dict__")

    _ctx_style = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        forward = None
        for klass in cls.__mro__:
            if "forward" in klass.__dict__:
                forward = klass.__dict__["forward"]
                break
        cls._ctx_style = isinstance(forward, staticmethod)

    # -- what ops use inside forward/backward ------------------------------------------------------------------
    def save(self, *arrays):
        """Keep what backward will need (arrays or any Python values)."""
        self.saved = arrays

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward")

    def backward(self, *grad_outputs):
        raise NotImplementedError(f"{type(self).__name__} does not support backward")

    # -- PyTorch-style context API --------------------------------------------------------------------------------
    def save_for_backward(self, *tensors):
        self.saved = tensors

    @property
    def saved_tensors(self):
        if self.freed:
            raise RuntimeError(
                "Trying to backward through the graph a second time; pass retain_graph=True to the first backward"
            )
        return self.saved

    def mark_non_differentiable(self, *tensors):
        self.__dict__.setdefault("non_differentiable", set()).update(id(t) for t in tensors)

    # -- running ----------------------------------------------------------------------------------------------
    @classmethod
    def apply(cls, *args, **kwargs):
        """Run the op on Tensors (and plain Python values); returns a Tensor, or a tuple for several outputs."""
        fn = cls.__new__(cls)
        fn.saved = ()
        fn.retained = None
        fn.freed = False
        if cls._ctx_style:
            return fn._apply_ctx_style(args, kwargs)
        T = Tensor
        record = False
        needs = []
        arrays = []
        for a in args:
            if isinstance(a, T):
                arrays.append(a.array)
                r = a.requires_grad
                needs.append(r)
                record |= r
            else:
                arrays.append(a)
                needs.append(False)
        if backend.gpu_in_use:
            backend.check_same_device(cls.__name__, arrays)
            fn.xp = backend.get_array_module(*arrays)
        else:
            fn.xp = backend.np
        record = record and _grad_state.enabled
        fn.needs_input_grad = needs
        out = fn.forward(*arrays, **kwargs)
        if type(out) is tuple:
            return fn._wrap_outputs(out, args, record)
        if isinstance(out, backend.np.generic):
            out = backend.as_array(out)
        if record and out.dtype.kind == "f":
            fn.inputs = args
            fn.n_outputs = 1
            t = T.__new__(T)
            t.array, t.grad, t.requires_grad, t._node, t._out_index = out, None, True, fn, 0
            return t
        t = T.__new__(T)
        t.array, t.grad, t.requires_grad, t._node, t._out_index = out, None, False, None, 0
        return t

    def _wrap_outputs(self, outs, args, record):
        T = Tensor
        outs = tuple(backend.as_array(o) for o in outs)
        self.n_outputs = len(outs)
        if record:
            self.inputs = args
            self.__dict__["out_meta"] = [(o.shape, o.dtype) for o in outs]
        result = []
        for i, o in enumerate(outs):
            t = T.__new__(T)
            grad_able = record and o.dtype.kind == "f"
            t.array, t.grad, t.requires_grad = o, None, grad_able
            t._node, t._out_index = (self, i) if grad_able else (None, 0)
            result.append(t)
        return tuple(result)

    def _apply_ctx_style(self, args, kwargs):
        """A PyTorch-style Function: forward(ctx, *tensors) under no_grad, outputs re-attached to the graph."""
        from .grad_mode import no_grad

        T = Tensor
        self.needs_input_grad = [isinstance(a, T) and a.requires_grad for a in args]
        arrays = [a.array for a in args if isinstance(a, T)]
        self.xp = backend.get_array_module(*arrays)
        record = _grad_state.enabled and any(self.needs_input_grad)
        plain_args = [a.detach() if isinstance(a, T) else a for a in args]
        with no_grad():
            out = type(self).forward(self, *plain_args, **kwargs)
        single = not isinstance(out, tuple)
        outs = (out,) if single else out
        if not all(isinstance(o, T) for o in outs):
            raise TypeError(f"{type(self).__name__}.forward must return a Tensor or a tuple of Tensors")
        blocked = self.__dict__.get("non_differentiable", set())
        wrapped = self._wrap_outputs(tuple(o.array for o in outs), args, record)
        if record:
            for t, o in zip(wrapped, outs):
                if id(o) in blocked:
                    t.requires_grad, t._node = False, None
        return wrapped[0] if single else wrapped

    def run_backward(self, grads):
        """Call backward with the output gradients (arrays); returns one gradient array or None per input."""
        if self.freed:
            raise RuntimeError(
                f"Trying to backward through the graph a second time (through {type(self).__name__}); "
                "pass retain_graph=True to the first backward if you need to"
            )
        if not self._ctx_style:
            result = self.backward(*grads)
        else:
            T = Tensor
            wrapped = [T._wrap(g) for g in grads]
            from .grad_mode import no_grad

            with no_grad():
                result = type(self).backward(self, *wrapped)
            if isinstance(result, tuple):
                result = tuple(r.array if isinstance(r, T) else r for r in result)
            elif isinstance(result, T):
                result = result.array
        if type(result) is not tuple:
            result = (result,)
        return result  # inputs past the end of the tuple get no gradient

    def free(self):
        """Drop what this node keeps alive once backward has used it (the graph is then spent)."""
        self.saved = ()
        self.inputs = ()
        self.freed = True
