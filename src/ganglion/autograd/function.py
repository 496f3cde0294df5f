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

Version counters (PyTorch's): every in-place change of a tensor (``add_``, ``x[i] = v``, ...) bumps the version it
shares with its views. When a node saves an input's or an output's array, it notes that tensor's version; backward
refuses to run on a saved array that changed since, instead of returning gradients computed from the new values.
Saved arrays are found by identity: an op that saves ``x`` itself (not ``x.reshape(...)``) gets ``x`` checked.
"""

from .. import backend
from .grad_mode import state as _grad_state
from .graph_backward import GraphBackward

Tensor = None  # the tensor class, given by ganglion.autograd.register_tensor_class (a plain global: apply reads it)
_new_object = object.__new__  # a bare Tensor, without Tensor.__new__'s Python-level call: apply sets every slot


def version_counter(t):
    """The version counter ``t`` shares with its views: a one-element list ``[version]``, made on first need (most
    tensors are never changed in place nor viewed, so creating one stays free)."""
    counter = t._vc
    if counter is None:
        counter = t._vc = [0]
    return counter


def _share_version_if_view(t, base, args):
    """Give ``t`` (whose array is a view of ``base``) the version counter of the input it views, if any: a view and
    its base are one piece of memory, so changing either in place must be seen by graphs that saved the other."""
    for a in args:
        if isinstance(a, Tensor):
            array = a.array
            if base is array or base is array.base:  # NumPy and CuPy give a view of a view its owner as base
                t._vc = version_counter(a)
                return


_PLAIN_VALUES = frozenset((tuple, int, float, bool, type(None)))  # shapes, axes, flags: never a tensor's array


def _saved_versions(saved, arrays, args, outputs):
    """``[(source, version, counter, array)]`` for each saved array that is an input's or an output's array.

    ``source``: the input's position (``counter`` None: the input's version is read through ``inputs[source]``,
    which needs no counter made now), or ``-1 - k`` for output ``k`` (whose counter is kept: a node must not hold its
    own output). Other saved values (shapes, masks, temporaries of the forward) belong to no tensor a caller could
    change, and are not checked. Runs for every recorded op that saves something, hence the plain loops.
    """
    entries = []
    for s in saved:
        if s.__class__ in _PLAIN_VALUES:
            continue
        i = 0
        for array in arrays:
            if array is s:
                t = args[i]
                if t is not s:  # a Tensor whose array was saved, not a plain value passed through
                    counter = t._vc
                    entries.append((i, 0 if counter is None else counter[0], None, s))
                    break
            i += 1
        else:
            k = -1
            for o in outputs:
                if o.array is s:
                    counter = version_counter(o)
                    entries.append((k, counter[0], counter, s))
                    break
                k -= 1
    return entries


def _source(array, args, outputs):
    """Where a tensor saved by a ctx-style function comes from: input ``i``, output ``-1 - k``, or None (made inside
    forward)."""
    for i, a in enumerate(args):
        if isinstance(a, Tensor) and a.array is array:
            return i
    for k, o in enumerate(outputs):
        if o.array is array:
            return -1 - k
    return None


class Function(GraphBackward):
    """Base class of every differentiable operation. Subclass it and call ``YourOp.apply(*inputs)``.

    Under ``create_graph=True`` the engine runs ``run_backward_graph`` (from ``GraphBackward``) instead of
    ``run_backward``; see graph_backward.py for the three ways an op supports that."""

    __slots__ = (
        "inputs", "saved", "saved_versions", "needs_input_grad", "xp", "n_outputs", "retained", "freed", "__dict__"
    )

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
        """Keep what backward will need (arrays or any Python values). An input's or the output's array saved as it
        is has its tensor's version checked by backward."""
        self.saved = arrays

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward")

    def backward(self, *grad_outputs):
        raise NotImplementedError(f"{type(self).__name__} does not support backward")

    # -- PyTorch-style context API --------------------------------------------------------------------------------
    def save_for_backward(self, *tensors):
        """Keep Tensors (or None) for backward; their versions now are checked when ``saved_tensors`` is read."""
        self.saved = tensors
        entries = []
        for t in tensors:
            if isinstance(t, Tensor):
                counter = version_counter(t)
                entries.append((None, counter[0], counter, t.array))  # the source is found once outputs exist
        self.saved_versions = tuple(entries)

    @property
    def saved_tensors(self):
        if self.freed:
            raise RuntimeError(
                "Trying to backward through the graph a second time; pass retain_graph=True to the first backward"
            )
        self.check_saved_versions()
        return self.saved

    def mark_non_differentiable(self, *tensors):
        self.__dict__.setdefault("non_differentiable", set()).update(id(t) for t in tensors)

    # -- running ----------------------------------------------------------------------------------------------
    @classmethod
    def apply(cls, *args, **kwargs):
        """Run the op on Tensors (and plain Python values); returns a Tensor, or a tuple for several outputs."""
        fn = cls.__new__(cls)
        fn.saved = fn.saved_versions = ()
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
        if record and kwargs:  # forward_graph (double backward) recomputes with them
            fn.__dict__["call_kwargs"] = kwargs
        fn.needs_input_grad = needs
        out = fn.forward(*arrays, **kwargs)
        if type(out) is tuple:
            return fn._wrap_outputs(out, args, record, arrays)
        if isinstance(out, backend.np.generic):
            scalar, out = out, backend.as_array(out)
            if fn.saved:  # a saved 0-d output must stay the output's array, to be recognised as the output
                fn.saved = tuple(out if s is scalar else s for s in fn.saved)
        t = _new_object(T)
        if record and out.dtype.kind == "f":
            fn.inputs = args
            fn.n_outputs = 1
            t.array, t.grad, t.requires_grad, t._node, t._out_index, t._vc = out, None, True, fn, 0, None
            if out.base is not None:
                _share_version_if_view(t, out.base, args)
            if fn.saved:
                fn.saved_versions = _saved_versions(fn.saved, arrays, args, (t,))
            return t
        t.array, t.grad, t.requires_grad, t._node, t._out_index, t._vc = out, None, False, None, 0, None
        if out.base is not None:
            _share_version_if_view(t, out.base, args)
        return t

    def _wrap_outputs(self, outs, args, record, arrays=None):
        """Tensors around several output arrays. ``arrays``: the inputs' arrays, when ``self.saved`` holds arrays
        whose versions are to be noted (ctx-style functions note theirs in ``save_for_backward``)."""
        T = Tensor
        converted = tuple(backend.as_array(o) for o in outs)
        if self.saved and any(c is not o for c, o in zip(converted, outs)):
            swap = {id(o): c for c, o in zip(converted, outs)}
            self.saved = tuple(swap.get(id(s), s) for s in self.saved)
        outs = converted
        self.n_outputs = len(outs)
        if record:
            self.inputs = args
            self.__dict__["out_meta"] = [(o.shape, o.dtype) for o in outs]
        result = []
        for i, o in enumerate(outs):
            t = _new_object(T)
            grad_able = record and o.dtype.kind == "f"
            t.array, t.grad, t.requires_grad, t._vc = o, None, grad_able, None
            t._node, t._out_index = (self, i) if grad_able else (None, 0)
            if o.base is not None:
                _share_version_if_view(t, o.base, args)
            result.append(t)
        if record and arrays is not None and self.saved:
            self.saved_versions = _saved_versions(self.saved, arrays, args, result)
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
        for t, o in zip(wrapped, outs):
            t._vc = version_counter(o)  # the caller's output and what forward returned (maybe saved) are one tensor
        if record:
            for t, o in zip(wrapped, outs):
                if id(o) in blocked:
                    t.requires_grad, t._node = False, None
            self.saved_versions = tuple(
                (_source(array, args, wrapped), version, counter, array)
                for _, version, counter, array in self.saved_versions
            )
        return wrapped[0] if single else wrapped

    def check_saved_versions(self):
        """Raise PyTorch's RuntimeError if a tensor whose array this node saved was changed in place since."""
        for source, version, counter, array in self.saved_versions:
            if counter is None:  # an input's: read through the tensor, which may have made its counter since
                counter = self.inputs[source]._vc or (0,)
            current = counter[0]
            if current != version:
                raise RuntimeError(self._modified_message(current, version, array, source))

    def _modified_message(self, current, version, array, source):
        producer = None  # the node whose output the saved tensor is, named as PyTorch does
        if source is not None and source >= 0:
            producer, index = self.inputs[source]._node, self.inputs[source]._out_index
        elif source is not None:
            producer, index = self, -1 - source
        which = f", which is output {index} of {type(producer).__name__}," if producer is not None else ""
        return (
            "one of the variables needed for gradient computation has been modified by an inplace operation: "
            f"[ganglion.{array.dtype} [{', '.join(str(n) for n in array.shape)}]]{which} is at version {current}; "
            f"expected version {version} instead. Hint: {type(self).__name__} saved this tensor for its backward and "
            "it was changed in place afterwards (add_, mul_, copy_, x[...] = ..., also under no_grad()); change a "
            "clone() instead, or use the out-of-place operation."
        )

    def run_backward(self, grads):
        """Call backward with the output gradients (arrays); returns one gradient array or None per input."""
        if self.freed:
            raise RuntimeError(
                f"Trying to backward through the graph a second time (through {type(self).__name__}); "
                "pass retain_graph=True to the first backward if you need to"
            )
        if not self._ctx_style:
            if self.saved_versions:
                self.check_saved_versions()
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
        self.saved = self.saved_versions = ()
        self.inputs = ()
        self.freed = True
