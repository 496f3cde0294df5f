"""Post-accumulate-grad hooks: ``hook(leaf)`` runs once per backward walk, as soon as ``leaf.grad`` holds the whole
gradient that walk gives it (PyTorch's ``Tensor.register_post_accumulate_grad_hook``).

A leaf used by k nodes of the graph receives k gradients, one per node, in the order of the walk. Before the walk
the engine counts, for each hooked leaf, how many of the nodes it is about to visit take that leaf as an input that
needs a gradient (``leaf_uses``); each delivery counts one down (``delivered``), and the hooks run when the count
reaches zero. A node that is visited but sends no gradient (nothing reached its output) never counts down, so the
leaves still waiting at the end of the walk that did receive something have their hooks run then (``flush``).

This is what data-parallel training needs to start reducing a layer's gradients while the walk is still computing
the gradients of the layers below it (``nn.parallel.DistributedDataParallel``).

The hooks live in a table keyed by the leaf's id, holding the leaf weakly (a Tensor has ``__slots__`` and no room
for them; a ``WeakKeyDictionary`` would compare tensors with ``==``, which is elementwise): a leaf that goes away
takes its hooks with it. The table is empty unless someone registered a hook, and the engine then skips the
counting altogether.
"""

import itertools
import weakref

_hooks = {}  # id(leaf) -> (weakref to the leaf, {handle id: hook})
_handle_ids = itertools.count()


def _hooks_of(tensor):
    """{handle id: hook} registered on ``tensor`` (None if none)."""
    entry = _hooks.get(id(tensor))
    return entry[1] if entry is not None and entry[0]() is tensor else None


class RemovableHandle:
    """What ``register_post_accumulate_grad_hook`` returns: ``handle.remove()`` unregisters the hook."""

    def __init__(self, tensor, handle_id):
        self._tensor = weakref.ref(tensor)
        self.id = handle_id

    def remove(self):
        tensor = self._tensor()
        table = _hooks_of(tensor) if tensor is not None else None
        if table is not None:
            table.pop(self.id, None)
            if not table:
                del _hooks[id(tensor)]


def register_post_accumulate_grad_hook(tensor, hook):
    """Run ``hook(tensor)`` after each backward walk has accumulated its gradient into the leaf ``tensor.grad``."""
    if tensor._node is not None:
        raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
    if not callable(hook):
        raise TypeError(f"register_post_accumulate_grad_hook: hook must be callable, got {type(hook).__name__}")
    handle_id = next(_handle_ids)
    table = _hooks_of(tensor)
    if table is None:
        key = id(tensor)
        table = {}
        # the callback holds the table itself: it may run at interpreter exit, after module globals are cleared
        _hooks[key] = (weakref.ref(tensor, lambda _, key=key, hooks=_hooks: hooks.pop(key, None)), table)
    table[handle_id] = hook
    return RemovableHandle(tensor, handle_id)


def leaf_uses(order):
    """{id(leaf): [leaf, deliveries still to come, received one]} for the hooked leaves that the nodes in ``order``
    take as inputs needing a gradient; None when no hook is registered anywhere (the common case: no cost)."""
    if not _hooks:
        return None
    pending = {}
    for node in order:
        needs = node.needs_input_grad
        for i, inp in enumerate(node.inputs):
            if needs[i] and getattr(inp, "_node", 1) is None and _hooks_of(inp) is not None:
                entry = pending.setdefault(id(inp), [inp, 0, False])
                entry[1] += 1
    return pending or None


def delivered(leaf, pending):
    """Count one gradient delivered into ``leaf.grad``; run its hooks if it was the last one of this walk."""
    entry = pending.get(id(leaf))
    if entry is None:
        return
    entry[1] -= 1
    entry[2] = True
    if entry[1] == 0:
        del pending[id(leaf)]
        _run(leaf)


def flush(pending):
    """At the end of the walk: run the hooks of the leaves that received a gradient but expected more."""
    for leaf, _, received in list(pending.values()):
        if received:
            _run(leaf)
    pending.clear()


def _run(leaf):
    for hook in list((_hooks_of(leaf) or {}).values()):
        hook(leaf)
