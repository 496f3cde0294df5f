"""How a node's backward is recorded under ``create_graph=True`` (higher-order gradients).

The usual backward walk runs each op's ``backward`` on raw arrays: fast, and nothing recorded. With
``create_graph=True`` the engine calls ``run_backward_graph`` instead, which must return the input gradients as
Tensors built from differentiable ops, so that they can be differentiated again. An op provides that in one of
three ways, simplest first:

1. ``backward_composes = True``: its array ``backward`` is correct on Tensors too. It is run unchanged on a twin of
   the node whose saved inputs/outputs are the Tensors themselves and whose ``xp`` is ``graph_xp`` (NumPy-style
   functions written as ops). Checked: a saved floating array that is neither an input nor an output (its
   dependence on the inputs would be lost) raises instead of giving a wrong second derivative.
2. ``backward_graph``: the rule written in ops (Var, VectorNorm, the gather-like ops through ``IndexAccumulate``).
3. ``forward_graph``: the forward again, composed of differentiable ops; its vector-Jacobian product is taken by
   the engine (Prod, CumProd, convolutions, recurrences). Correct to any order, at the cost of a recompute.
"""

from .. import backend

Tensor = None  # the tensor class, given by ganglion.autograd.register_tensor_class
_new_object = object.__new__


class GraphBackward:
    """The part of ``Function`` that records backward passes (a mixin: ``Function`` is the class to subclass)."""

    __slots__ = ()

    def run_backward_graph(self, grads):
        """Like ``run_backward``, for ``create_graph=True``: ``grads`` and the returned gradients are Tensors, and
        the ops that compute them are recorded (grad mode is on), so they can be differentiated again."""
        self.check_not_freed()
        if self._ctx_style:  # its backward already works on Tensors: recorded as it runs, like any other code
            self.check_saved_versions()
            result = type(self).backward(self.with_graph_saved_tensors(), *grads)
        else:
            if self.saved_versions:
                self.check_saved_versions()
            result = self.backward_graph(*grads)
        if type(result) is not tuple:
            result = (result,)
        T = Tensor
        return tuple(r if r is None or isinstance(r, T) else T._wrap(backend.as_array(r)) for r in result)

    # Set True on an op whose array ``backward`` is also correct on Tensors: it uses only operators and the
    # ``self.xp`` functions that ``graph_xp`` provides, and every floating array it saved is an input's or an output's
    # (so that its dependence on the inputs is seen; bool and integer masks and indices are constants).
    backward_composes = False
    graph_xp = None  # the NumPy-like namespace of differentiable ops (set by ganglion.ops)

    def backward_graph(self, *grads):
        """The gradients of the inputs as Tensors built from differentiable ops, given the outputs' gradients as
        Tensors: what ``backward`` computes, recorded so that it can be differentiated again.

        The default runs ``backward`` itself on Tensors when the op declares ``backward_composes``; other ops
        override this method with their rule written in ops.
        """
        if self.backward_composes:
            return self.on_tensors().backward(*grads)
        if type(self).forward_graph is not GraphBackward.forward_graph:
            return self.backward_by_recomputing(grads)
        raise RuntimeError(
            f"double backward through {type(self).__name__} is not supported: its backward is not written in "
            "differentiable operations, so autograd.grad(..., create_graph=True) cannot differentiate it again"
        )

    def forward_graph(self, *inputs):
        """The forward again, built from differentiable ops on the inputs (Tensors): defined by ops whose backward
        is simplest to differentiate by recomputing them that way (products with zeros, scans, convolutions).

        It receives the arguments ``apply`` was given (Tensors as Tensors)."""
        raise NotImplementedError

    def backward_by_recomputing(self, grads):
        """The inputs' gradients as the vector-Jacobian product of ``forward_graph``, recorded: correct to any
        order, at the cost of recomputing the forward."""
        from . import grad as autograd_grad

        outputs = self.forward_graph(*self.inputs, **self.__dict__.get("call_kwargs", {}))
        outputs = outputs if type(outputs) is tuple else (outputs,)
        wanted = [i for i, needed in enumerate(self.needs_input_grad) if needed]
        pairs = [(o, g) for o, g in zip(outputs, grads) if o.requires_grad]
        found = autograd_grad(
            [o for o, _ in pairs], [self.inputs[i] for i in wanted], [g for _, g in pairs], create_graph=True,
            allow_unused=True,
        )
        result = [None] * len(self.inputs)
        for i, g in zip(wanted, found):
            result[i] = g
        return tuple(result)

    def on_tensors(self):
        """A twin of this node whose saved inputs and outputs are the Tensors themselves (outputs re-attached to
        this node) and whose ``xp`` is ``graph_xp``: running its ``backward`` records differentiable ops."""
        twin = _new_object(type(self))
        twin.__dict__.update(self.__dict__)
        twin.needs_input_grad, twin.inputs, twin.n_outputs = self.needs_input_grad, self.inputs, self.n_outputs
        twin.saved_versions, twin.retained, twin.freed = (), None, False
        twin.xp = self.graph_xp
        as_tensor = {}
        for source, _, counter, array in self.saved_versions:
            as_tensor[id(array)] = self.inputs[source] if source >= 0 else self.output_tensor(-1 - source, counter)
        for s in self.saved:
            floating = hasattr(s, "shape") and getattr(getattr(s, "dtype", None), "kind", "") in "fc"
            if floating and id(s) not in as_tensor:
                raise RuntimeError(
                    f"{type(self).__name__} declares backward_composes but saved a floating array that is neither an "
                    "input nor an output; its backward would treat it as a constant. Give it a backward_graph."
                )
        twin.saved = tuple(as_tensor.get(id(s), s) for s in self.saved)
        return twin

    def with_graph_saved_tensors(self):
        """A twin of this ctx-style node whose ``saved_tensors`` are the inputs and outputs themselves, in the graph
        (forward ran on detached inputs, so what it saved has no graph), as PyTorch's ``saved_tensors``."""
        twin = _new_object(type(self))
        twin.__dict__.update(self.__dict__)
        twin.needs_input_grad, twin.inputs, twin.n_outputs = self.needs_input_grad, self.inputs, self.n_outputs
        twin.saved_versions, twin.retained, twin.freed, twin.xp = (), None, False, self.xp
        by_array = {}
        for source, _, counter, array in self.saved_versions:
            if source is not None:
                by_array[id(array)] = self.inputs[source] if source >= 0 else self.output_tensor(-1 - source, counter)
        twin.saved = tuple(by_array.get(id(t.array), t) if isinstance(t, Tensor) else t for t in self.saved)
        return twin

    def output_tensor(self, index, counter=None):
        """Output ``index`` of this node as a Tensor attached to it (a saved output, differentiated again)."""
        t = _new_object(Tensor)
        t.array, t.grad, t.requires_grad, t._node, t._out_index = self._output_array(index), None, True, self, index
        t._vc = counter
        return t

    def _output_array(self, index):
        for source, _, _, array in self.saved_versions:
            if source == -1 - index:
                return array
        raise RuntimeError(f"{type(self).__name__} did not save output {index}")
