"""The backward walk: reverse-mode autodiff over the graph of Function nodes, iteratively (no recursion limit).

1. Order the nodes that lead to the roots topologically (an explicit-stack depth-first search).
2. Visit them from the roots back to the leaves; each node turns the gradient of its output into gradients of its
   inputs (the chain rule), which are summed per input.
3. Leaves that require grad accumulate into ``.grad``; everything else stays inside the walk.
"""

from .. import backend
from . import hooks
from .grad_mode import set_grad_enabled

Tensor = None  # the tensor class, given by ganglion.autograd.register_tensor_class


def sum_to_shape(grad, shape):
    """Sum a broadcast gradient back to the shape of the input it flowed from.

    (2, 3, 4) -> (3, 1): sums over the leading axis and over axis 2, where the input had size 1.
    """
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, size in enumerate(shape) if size == 1 and grad.shape[lead + i] != 1
    )
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


def _zeros(xp, shape, dtype):
    """The gradient of an output nothing depended on: a read-only zero-strided view of one zero, so that a layer
    with a large unused output (an RNN's per-step outputs when only h_n is used) costs no allocation or fill."""
    return xp.broadcast_to(xp.zeros((), dtype=dtype), shape)


def topological_order(roots):
    """Nodes reachable from ``roots`` with every node after all nodes that feed it (parents first)."""
    order = []
    visited = set()
    stack = [(node, False) for node in roots]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if node in visited:
            continue
        visited.add(node)
        stack.append((node, True))
        for inp in node.inputs:
            parent = getattr(inp, "_node", None)
            if parent is not None and parent not in visited:
                stack.append((parent, False))
    return order


def _owned(grad, others, node_grads):
    """A gradient array that nobody else holds, so that later in-place accumulation into ``.grad`` is safe."""
    # CuPy arrays are always writeable and their flags have no `writeable`
    if grad.base is not None or not getattr(grad.flags, "writeable", True) or any(grad is g for g in node_grads):
        return grad.copy()
    if any(grad is o for o in others):
        return grad.copy()
    return grad


def run_backward(roots, root_grads, retain_graph=False, capture=None, create_graph=False):
    """Propagate ``root_grads`` from ``roots`` (Tensors) to the leaves.

    ``capture``: optional list of Tensors whose gradients are returned instead of accumulated into ``.grad``
    (``autograd.grad``); returns that list's gradients (None where no gradient reached it).

    ``create_graph``: the walk itself is recorded, so that the gradients it produces can be differentiated again
    (gradient penalties, Hessian-vector products). Gradients are then Tensors, not arrays: ``root_grads`` must be
    Tensors, every node runs its ``backward_graph`` (built from differentiable ops) instead of its array
    ``backward``, and leaves' ``.grad`` are summed out of place, keeping the graph of the sum.

    One step per function: the roots' gradients (``_seed``); the nodes in order (``topological_order``); then, from
    the roots back, each node's output gradients (``_output_gradients``), its backward, its inputs' gradients summed
    or delivered to the leaves (``_send_to_inputs``), and its saved arrays released (``free``) unless
    ``retain_graph``.
    """
    captured, by_node = _capture_slots(capture)
    with set_grad_enabled(create_graph):
        pending, root_nodes = _seed(roots, root_grads, captured, by_node, create_graph)
        order = topological_order(root_nodes)
        needed = None if capture is None else _leading_to(order, capture)
        hooked = hooks.leaf_uses(order) if capture is None else None  # post-accumulate-grad hooks (autograd/hooks.py)
        for node in reversed(order):
            g_out = pending.pop(node, None)
            if g_out is None:
                continue
            if needed is not None and node not in needed:
                _capture(node, g_out, captured, by_node)
                continue
            grad_outputs = _output_gradients(node, g_out, captured, by_node, create_graph)
            if create_graph:
                in_grads = node.run_backward_graph([_as_tensor(g) for g in grad_outputs])
            else:
                in_grads = node.run_backward(grad_outputs)
            _send_to_inputs(node, in_grads, grad_outputs, pending, captured, by_node, hooked, create_graph)
            if not retain_graph:
                node.free()
        if hooked:
            hooks.flush(hooked)
    return captured


def _capture_slots(capture):
    """``(captured, by_node)`` for ``autograd.grad``: one slot per captured tensor, and where each one's gradient
    comes from (its node and output index, or ``id`` of a leaf); ``(None, {})`` for a plain backward."""
    if capture is None:
        return None, {}
    by_node = {}
    for i, t in enumerate(capture):
        key = t._node if t._node is not None else id(t)
        by_node.setdefault(key, []).append((t._out_index, i))
    return [None] * len(capture), by_node


def _seed(roots, root_grads, captured, by_node, create_graph):
    """``(pending, root_nodes)``: the roots' gradients waiting at the nodes that made them (``{node: gradient of its
    output, or a list of them for several outputs}``) and those nodes. A root that is a leaf gets its gradient at
    once."""
    pending = {}
    root_nodes = []
    for t, g in zip(roots, root_grads):
        node = t._node
        if node is None:  # a leaf given as root: its gradient is the root gradient itself
            _deliver_leaf(t, g if create_graph else g.copy(), captured, by_node)
            continue
        _add(pending, node, t._out_index, g)
        root_nodes.append(node)
    return pending, root_nodes


def _output_gradients(node, g_out, captured, by_node, create_graph):
    """The gradients of ``node``'s outputs as a sequence for its backward: zeros for an output that nothing
    reached (``g_out`` holds None there). On the way, ``retain_grad()`` outputs accumulate theirs and captured
    outputs keep theirs."""
    received = g_out if node.n_outputs > 1 else (g_out,)  # None: no gradient reached that output
    if node.retained is not None:
        for idx, t in node.retained:  # accumulated across backward calls, like a leaf's .grad
            if received[idx] is None:
                continue
            _accumulate_grad(t, received[idx] if create_graph else received[idx].copy())
    if captured is not None:
        _capture(node, g_out, captured, by_node)
    if node.n_outputs == 1:
        return received
    xp = backend.get_array_module(*[_array(x) for x in received if x is not None])
    return [g if g is not None else _zeros(xp, *meta) for g, meta in zip(received, node.out_meta)]


def _send_to_inputs(node, in_grads, grad_outputs, pending, captured, by_node, hooked, create_graph):
    """Each input's gradient from ``node``'s backward, summed to the input's shape and cast to its dtype: waiting in
    ``pending`` for the node that made the input, or delivered to a leaf (its post-accumulate-grad hooks counted in
    ``hooked``)."""
    inputs = node.inputs
    needs = node.needs_input_grad
    for i, g in enumerate(in_grads):
        if g is None or not needs[i]:
            continue
        inp = inputs[i]
        data = inp.array
        if g.shape != data.shape:
            g = sum_to_shape(g, data.shape)
        if g.dtype != data.dtype:
            g = g.to(data.dtype) if create_graph else g.astype(data.dtype)
        parent = inp._node
        if parent is None:
            _deliver_leaf(inp, g if create_graph else _owned(g, in_grads[:i], grad_outputs), captured, by_node)
            if hooked is not None:
                hooks.delivered(inp, hooked)
        else:
            _add(pending, parent, inp._out_index, g)


def _leading_to(order, capture):
    """The nodes whose backward contributes to the gradient of a captured tensor: those with a captured tensor, or a
    node already found, among their inputs. ``autograd.grad`` runs only these (not the rest of the graph, which can
    be large: the network before the tensors it differentiates with respect to)."""
    wanted = {id(t) for t in capture}
    wanted_outputs = {(t._node, t._out_index) for t in capture if t._node is not None}
    needed = set()
    for node in order:  # parents first
        if node.freed:  # its inputs are gone: run it, so that it says the graph was already used
            needed.add(node)
            continue
        for inp in node.inputs:
            parent = getattr(inp, "_node", None)
            if id(inp) in wanted or parent in needed or (parent, getattr(inp, "_out_index", 0)) in wanted_outputs:
                needed.add(node)
                break
    return needed


def _capture(node, g_out, captured, by_node):
    """Keep the gradients that reached the captured outputs of ``node``."""
    if captured is not None and node in by_node:
        received = g_out if node.n_outputs > 1 else (g_out,)
        for idx, slot in by_node[node]:
            captured[slot] = received[idx]


def _add(grads, node, index, g):
    """Sum ``g`` into the gradient waiting for output ``index`` of ``node`` (never in place: arrays may be shared)."""
    if node.n_outputs == 1:
        prev = grads.get(node)
        grads[node] = g if prev is None else prev + g
    else:
        slots = grads.get(node)
        if slots is None:
            slots = grads[node] = [None] * node.n_outputs
        slots[index] = g if slots[index] is None else slots[index] + g


def _deliver_leaf(t, g, captured, by_node):
    if captured is not None:
        for _, slot in by_node.get(id(t), ()):
            captured[slot] = g if captured[slot] is None else captured[slot] + g
        return
    if not t.requires_grad:
        return
    if t.grad is None and not isinstance(g, Tensor):  # the common case, inline: the first gradient, an array
        t.grad = Tensor._wrap(backend.as_array(g))
        return
    _accumulate_grad(t, g)


def _accumulate_grad(t, g):
    """``t.grad += g``: in place for arrays (the usual walk), out of place for Tensors (``create_graph``: the sum
    keeps the graph of both terms, and a ``.grad`` someone holds is not changed under them, as in PyTorch)."""
    if isinstance(g, Tensor) or (t.grad is not None and t.grad.requires_grad):
        t.grad = _as_tensor(g) if t.grad is None else t.grad + g
    elif t.grad is None:
        t.grad = Tensor._wrap(backend.as_array(g))
    else:
        t.grad.array += g


def _array(g):
    return g.array if isinstance(g, Tensor) else g


def _as_tensor(g):
    """A gradient as a Tensor (the zero gradients of unused outputs are arrays)."""
    return g if isinstance(g, Tensor) else Tensor._wrap(g)
