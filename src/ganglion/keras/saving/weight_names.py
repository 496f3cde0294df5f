"""Weights named by the model's structure, not by the layers' automatic names (which differ between two instances
of the same model): a layer inside a Sequential or functional model is named after its class and its rank among the
layers of that class (dense, dense_1, ...), a layer held by a subclassed model by its attribute name. A weight's
name is its layer's path and the engine's parameter name: ``dense_1.linear.weight``."""

from ..naming import to_snake_case


def child_names(module):
    """Path components for ``module``'s children: class-based names inside a model that keys its layers by their
    (automatic) names, the attribute name otherwise."""
    from ..layers.base import Layer

    keyed_by_name = getattr(module, "_functional", False) or hasattr(module, "_stack")
    names, used = {}, {}
    for key, child in module._modules.items():
        if keyed_by_name and isinstance(child, Layer) and key == child.name:
            names[key] = ranked_name(type(child).__name__, used)
        else:
            names[key] = key
    return names


def ranked_name(class_name, used):
    """``dense`` for the first layer of class Dense, ``dense_1`` for the second...; ``used`` counts per class."""
    base = to_snake_case(class_name)
    count = used.get(base, 0)
    used[base] = count + 1
    return base if count == 0 else f"{base}_{count}"


def weight_items(model):
    """{structural name: Tensor} of every parameter and persistent buffer (each shared tensor once)."""
    out, seen = {}, set()
    stack = [(model, "")]
    while stack:
        module, prefix = stack.pop()
        for name, p in module._parameters.items():
            if p is not None and id(p) not in seen:
                seen.add(id(p))
                out[prefix + name] = p
        for name, b in module._buffers.items():
            if b is not None and name not in module._non_persistent and id(b) not in seen:
                seen.add(id(b))
                out[prefix + name] = b
        names = child_names(module)
        stack.extend((child, prefix + names[key] + ".") for key, child in reversed(module._modules.items())
                     if child is not None)
    return out


def check_weights(model, shapes, where):
    """ValueError listing every weight of ``model`` that ``shapes`` ({structural name: shape}) lacks or holds with
    another shape, and every name of ``shapes`` the model lacks."""
    own = weight_items(model)
    problems = []
    missing = [k for k in own if k not in shapes]
    unexpected = [k for k in shapes if k not in own]
    if missing:
        problems.append(f"the model has weights the file lacks: {missing}")
    if unexpected:
        problems.append(f"the file has weights the model lacks: {unexpected}")
    problems += [f"{key}: shape {tuple(shapes[key])} in the file, {tuple(target.shape)} in the model"
                 for key, target in own.items() if key in shapes and tuple(shapes[key]) != tuple(target.shape)]
    if problems:
        raise ValueError(f"{where} does not match the model {model.name!r} (is it the same architecture?): "
                         + "; ".join(problems))


def assign_weights(model, tensors, where, skip_mismatch=False):
    """Copy ``tensors`` ({structural name: Tensor}) into ``model``'s weights. Unless ``skip_mismatch``, first a
    ValueError for any missing, unexpected or differently shaped weight (``check_weights``); with it, those are
    left as they are."""
    from ... import backend

    if not skip_mismatch:
        check_weights(model, {name: tuple(t.shape) for name, t in tensors.items()}, where)
    for key, target in weight_items(model).items():
        value = tensors.get(key)
        if value is not None and tuple(value.shape) == tuple(target.shape):
            target.array[...] = backend.to_device(value.array.astype(target.dtype, copy=False), target.device)
