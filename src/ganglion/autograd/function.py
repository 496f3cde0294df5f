"""``Function``: one differentiable operation, its forward and its backward in one class.

Every op in ganglion is a Function subclass whose ``forward`` and ``backward`` work on raw arrays (NumPy or CuPy):

    class Cube(Function):  # y = x^3;  dy/dx = 3 x^2
        def forward(self, x):
            self.save(x)
            return x * x * x

        def backward(self, dy):
            (x,) = self.saved
            return 3 * dy * x * x

``Cube.apply(t)`` runs forward on ``t``'s array, wraps the result in a Tensor and, when gradients are wanted,
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


_numpy_scalar = backend.np.generic


def _new_node(cls):
    """A bare node of op ``cls``: nothing saved, not retained, not freed (``__init__`` is not run: ops have none)."""
    fn = cls.__new__(cls)
    fn.saved = fn.saved_versions = ()
    fn.retained = None
    fn.freed = False
    return fn


def _unwrap_inputs(args):
    """``(arrays, needs_input_grad, record)`` for the arguments of ``apply``: each Tensor's array (other values as
    they are), whether each requires grad, and whether the call is recorded (grad mode on and some input requires
    grad). Runs for every op, hence the plain loop."""
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
    return arrays, needs, record and _grad_state.enabled


def _array_module(cls, arrays):
    """NumPy, or CuPy for arrays on the GPU, after checking that all the arrays are on one device (only needed once
    a GPU array exists)."""
    if backend.gpu_in_use:
        backend.check_same_device(cls.__name__, arrays)
        return backend.get_array_module(*arrays)
    return backend.np


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
        self.check_not_freed()
        self.check_saved_versions()
        return self.saved

    def mark_non_differentiable(self, *tensors):
        self.__dict__.setdefault("non_differentiable", set()).update(id(t) for t in tensors)

    # -- running ----------------------------------------------------------------------------------------------
    @classmethod
    def apply(cls, *args, **kwargs):
        """Run the op on Tensors (and plain Python values); returns a Tensor, or a tuple for several outputs.

        One step per function: a fresh node (``_new_node``); the inputs' arrays and which of them want a gradient
        (``_unwrap_inputs``); the array module of one device (``_array_module``); ``forward`` on the arrays; the
        outputs wrapped in Tensors (``_wrap_output``, ``_wrap_outputs``), which record the node when grad mode is on
        and an input requires grad (``_record``)."""
        fn = _new_node(cls)
        if cls._ctx_style:
            return fn._apply_ctx_style(args, kwargs)
        arrays, needs, record = _unwrap_inputs(args)
        fn.xp = _array_module(cls, arrays)
        fn.needs_input_grad = needs
        if record and kwargs:  # forward_graph (double backward) recomputes with them
            fn.__dict__["call_kwargs"] = kwargs
        out = fn.forward(*arrays, **kwargs)
        if type(out) is tuple:
            return fn._wrap_outputs(out, args, record, arrays)
        return fn._wrap_output(out, args, record, arrays)

    def _wrap_output(self, out, args, record, arrays):
        """The Tensor around the one output array ``out``, made by this node when ``record`` and ``out`` is floating
        (integer and bool results carry no gradient)."""
        if isinstance(out, _numpy_scalar):  # a full reduction on NumPy gives a scalar
            (out,) = self._as_output_arrays((out,))
        t = _new_object(Tensor)
        if record and out.dtype.kind == "f":
            t.array, t.grad, t.requires_grad, t._node, t._out_index, t._vc = out, None, True, self, 0, None
        else:
            t.array, t.grad, t.requires_grad, t._node, t._out_index, t._vc = out, None, False, None, 0, None
        if out.base is not None:
            _share_version_if_view(t, out.base, args)
        if t._node is not None:
            self._record(args, arrays, (t,))
        return t

    def _wrap_outputs(self, outs, args, record, arrays=None):
        """Tensors around several output arrays. ``arrays``: the inputs' arrays, when ``self.saved`` holds arrays
        whose versions are to be noted (ctx-style functions note theirs in ``save_for_backward``)."""
        outs = self._as_output_arrays(outs)
        self.n_outputs = len(outs)
        result = []
        for i, o in enumerate(outs):
            t = _new_object(Tensor)
            grad_able = record and o.dtype.kind == "f"
            t.array, t.grad, t.requires_grad, t._vc = o, None, grad_able, None
            t._node, t._out_index = (self, i) if grad_able else (None, 0)
            if o.base is not None:
                _share_version_if_view(t, o.base, args)
            result.append(t)
        if record:
            self.__dict__["out_meta"] = [(o.shape, o.dtype) for o in outs]
            self._record(args, arrays, result)
        return tuple(result)

    @classmethod
    def apply_in_place(cls, target, *args, **kwargs):
        """Run this op over ``target`` (and the plain values ``args``) and write the result into its array (PyTorch's
        ``relu_``, ``leaky_relu_``). Returns ``target`` itself, one version later; when the call is recorded, its
        graph now ends in this op.

        The op's ``forward(x, *args, in_place=True, **kwargs)`` must write its result into ``x`` and return ``x``. While
        recording (grad mode on, ``target`` requires grad), a stand-in for the tensor as it was (its array, version
        counter and place in the graph) becomes the node's input, and ``target`` takes the node's output's place;
        what the node saves of ``x`` is checked through the stand-in's counter, which is ``target``'s.

        The backward walk finds an input's node through the input tensor when it runs, so ``target`` must not be an
        input of a recorded op already: that op's gradient would then flow through this one. Such a call, a leaf that
        requires grad, and a view of its producer's input (sharing its version counter: that tensor would keep its
        old place in the graph) raise RuntimeError (``in_place_refusal``); use the out-of-place op there."""
        name = f"{cls.__name__.lower()}_"
        if not (_grad_state.enabled and target.requires_grad):
            fn = _new_node(cls)
            fn.xp = backend.get_array_module(target.array)
            fn.needs_input_grad = [False] * (1 + len(args))
            fn.forward(target.array, *(a.array if isinstance(a, Tensor) else a for a in args), in_place=True, **kwargs)
            target._bump_version()
            return target
        refusal = cls.in_place_refusal(target, *args)
        if refusal is not None:
            raise RuntimeError(f"{name}: {refusal}")
        counter = version_counter(target)
        before = Tensor._wrap(target.array, requires_grad=True)
        before._node, before._out_index, before._vc = target._node, target._out_index, counter
        old = target._node
        counter[0] += 1  # the change about to be made: what the node saves of it is noted at the new version
        node = cls.apply(before, *args, in_place=True, **kwargs)._node  # saved arrays: the input's, via `before`
        recorded = node.__dict__.get("call_kwargs", {})
        recorded.pop("in_place", None)  # to the rest (double backward, ONNX export) it is the op's plain node
        if not recorded:
            node.__dict__.pop("call_kwargs", None)
        target._node, target._out_index = node, 0
        if old.retained is not None:  # a retain_grad() of target follows it to its new place, as in PyTorch
            moved = [(i, t) for i, t in old.retained if t is target]
            if moved:
                old.retained = [(i, t) for i, t in old.retained if t is not target] or None
                node.retained = [(0, target)]
        return target

    @classmethod
    def in_place_refusal(cls, target, *args):
        """Why ``apply_in_place`` cannot record this op over ``target`` (a sentence for the RuntimeError), or None
        when it can: a leaf, a tensor that is also one of ``args``, a view of its producer's input, or an input of a
        recorded op already (``apply_in_place`` says why each)."""
        if target._node is None:
            return "a leaf Variable that requires grad is being used in an in-place operation"
        if any(a is target for a in args):
            return "the tensor written over is also an operand: ganglion's graph cannot tell the two apart"
        view = target._vc is not None and any(getattr(i, "_vc", None) is target._vc and i.array is not target.array
                                              for i in getattr(target._node, "inputs", ()))  # not a stand-in
        if view or getattr(target, "_consumed", False):
            what = "is a view of another tensor" if view else "another op has already used (in a graph not yet freed)"
            return (f"in place on a tensor that {what} while the graph is recorded is not supported by ganglion (the "
                    "graph would send that op's gradient through this one); use the out-of-place op (inplace=False, "
                    "or y = x + other)")
        return None

    def _as_output_arrays(self, outs):
        """``outs`` as arrays (NumPy gives 0-d results as scalars, which cannot be written in place). A saved output
        is replaced by its array too, so that it is still recognised as the output (version check, double
        backward)."""
        arrays = tuple(backend.as_array(o) for o in outs)
        if self.saved:
            swap = {id(o): a for o, a in zip(outs, arrays) if a is not o}
            if swap:
                self.saved = tuple(swap.get(id(s), s) for s in self.saved)
        return arrays

    def _record(self, args, arrays, outputs):
        """Make this node the one that made ``outputs`` (Tensors): keep the inputs for the backward walk, count it
        among each input's users (``apply_in_place`` refuses a tensor with users; ``free`` takes the count back), and
        note the versions of the saved arrays that are an input's or an output's
        (when ``arrays``, the inputs' arrays, are given: ctx-style functions note theirs in ``save_for_backward``)."""
        self.inputs = args
        T = Tensor
        for a in args:
            if isinstance(a, T):
                a._consumed = getattr(a, "_consumed", 0) + 1
        self.marked_inputs = True
        self.n_outputs = len(outputs)
        if self.saved and arrays is not None:
            self.saved_versions = _saved_versions(self.saved, arrays, args, outputs)

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
        """Call backward with the output gradients (arrays); returns one gradient array or None per input (inputs past
        the end of the tuple get no gradient)."""
        self.check_not_freed()
        if self._ctx_style:
            result = self._run_ctx_backward(grads)
        else:
            if self.saved_versions:
                self.check_saved_versions()
            result = self.backward(*grads)
        return result if type(result) is tuple else (result,)

    def _run_ctx_backward(self, grads):
        """A PyTorch-style backward(ctx, *grad_outputs): Tensors in and out, run under no_grad; arrays back."""
        from .grad_mode import no_grad

        T = Tensor
        with no_grad():
            result = type(self).backward(self, *[T._wrap(g) for g in grads])
        if isinstance(result, tuple):
            return tuple(r.array if isinstance(r, T) else r for r in result)
        return result.array if isinstance(result, T) else result

    def check_not_freed(self):
        """Raise PyTorch's RuntimeError if this node's saved arrays were released by an earlier backward."""
        if self.freed:
            raise RuntimeError(
                f"Trying to backward through the graph a second time (through {type(self).__name__}); "
                "pass retain_graph=True to the first backward if you need to"
            )

    def free(self):
        """Drop what this node keeps alive once backward has used it (the graph is then spent). Its inputs stop
        counting it as a user (``_record``): with no other recorded user left, one may be written in place again, as
        PyTorch allows once the graph that used it is freed."""
        if self.__dict__.pop("marked_inputs", False):
            T = Tensor
            for a in self.inputs:
                if isinstance(a, T):
                    a._consumed -= 1
        self.saved = self.saved_versions = ()
        self.inputs = ()
        self.freed = True
