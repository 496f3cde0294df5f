"""Ops that move values without changing them -> ONNX: reshape (view, flatten, squeeze, unsqueeze), permute
(transpose), expand, cat (Concatenate), stack, constant padding and basic indexing (ints, slices, None, ...).

Shapes that a dynamic axis (batch, sequence) changes are written so that ONNX recomputes them: -1 in a Reshape, 1
in an Expand of the input's own dim, otherwise the dim read from a tensor's Shape (``g.runtime_shape``); the dims
come from the traces' comparison (``g.shape``)."""

import numpy as np

from ...tensor import Tensor

_END = np.iinfo(np.int64).max


def reshape(g, node, x, shape):
    """The target is the traced output's shape, its dynamic dims computed when the file runs."""
    return g.reshape(x, g.output(node))


def permute(g, node, x, dims):
    return g.add("Transpose", [g.value(x)], perm=[int(d) for d in dims])


def expand(g, node, x, shape):
    """Expand to the traced shape. A dynamic dim that is x's own is written 1 (ONNX keeps x's size); one that is
    not (a learned token expanded to the batch: ``cls.expand(x.shape[0], -1, -1)``) is read from the inputs'
    Shape when the file runs."""
    out = g.output_shape(node)
    lead = len(out) - x.ndim
    dims_x = g.shape(x)
    if all(d is not None or (i >= lead and dims_x[i - lead] is None) for i, d in enumerate(out)):
        return g.add("Expand", [g.value(x), g.ints([1 if d is None else d for d in out], "shape")])
    return g.add("Expand", [g.value(x), g.runtime_shape(g.output(node), like=x)])


def cat(g, node, *xs, dim):
    return g.add("Concat", [g.value(x) for x in xs], axis=int(dim))


def stack(g, node, *xs, dim):
    dim = int(dim) % (xs[0].ndim + 1)
    return g.add("Concat", [g.unsqueeze(g.value(x), [dim]) for x in xs], axis=dim)


def pad_constant(g, node, x, widths, value):
    pads = [int(lo) for lo, _ in widths] + [int(hi) for _, hi in widths]
    fill = g.const(np.asarray(value, dtype=x.dtype), "pad_value")
    return g.add("Pad", [g.value(x), g.ints(pads, "pads"), fill], mode="constant")


def get_item(g, node, x, key):
    """x[key] for keys of ints, slices, None and Ellipsis (one Slice, then Squeeze / Unsqueeze), or one integer
    array along one axis (Gather)."""
    key = key if isinstance(key, tuple) else (key,)
    arrays = [i for i, k in enumerate(key) if isinstance(k, (list, np.ndarray, Tensor)) or hasattr(k, "dtype")]
    if arrays:
        return _gather(g, x, key, arrays)
    if key.count(Ellipsis) > 1:
        raise g.unsupported(f"an index {key!r} with more than one Ellipsis")
    used = sum(1 for k in key if k is not None and k is not Ellipsis)
    if Ellipsis in key:
        at = key.index(Ellipsis)
        key = key[:at] + (slice(None),) * (x.ndim - used) + key[at + 1:]
    key = key + (slice(None),) * (x.ndim - sum(1 for k in key if k is not None))
    starts, ends, axes, steps, dropped, inserted = [], [], [], [], [], []
    axis = out_axis = 0
    for k in key:
        if k is None:
            inserted.append(out_axis)
            out_axis += 1
            continue
        if isinstance(k, (int, np.integer)) and not isinstance(k, bool):
            k = int(k)
            starts.append(k), ends.append(k + 1 if k != -1 else _END), axes.append(axis), steps.append(1)
            dropped.append(axis)
        elif isinstance(k, slice):
            if k != slice(None):
                step = 1 if k.step is None else int(k.step)
                start = k.start if k.start is not None else (0 if step > 0 else _END)
                end = k.stop if k.stop is not None else (_END if step > 0 else -_END)
                starts.append(int(start)), ends.append(int(end)), axes.append(axis), steps.append(step)
            out_axis += 1
        else:
            raise g.unsupported(f"an index {key!r} with an entry of type {type(k).__name__}")
        axis += 1
    y = g.value(x)
    if axes:
        y = g.add("Slice", [y, g.ints(starts, "starts"), g.ints(ends, "ends"), g.ints(axes, "axes"),
                            g.ints(steps, "steps")])
    if dropped:
        y = g.squeeze(y, dropped)
    if inserted:
        y = g.unsqueeze(y, inserted)
    return y if (axes or dropped or inserted) else g.add("Identity", [y])


def _gather(g, x, key, arrays):
    at = arrays[0]
    rest = [k for i, k in enumerate(key) if i != at]
    if len(arrays) > 1 or any(k != slice(None) for k in rest if not isinstance(k, (list, np.ndarray, Tensor))):
        raise g.unsupported(f"an index {key!r}: only one integer array along one axis, with whole slices elsewhere, "
                            "has an ONNX form (Gather)")
    index = key[at]
    if isinstance(index, list) or not isinstance(index, Tensor):
        index = np.asarray(index)
        if index.dtype.kind == "b":
            raise g.unsupported("a boolean mask index (its result's shape depends on the values)")
        return g.add("Gather", [g.value(x), g.const(index.astype(np.int64), "index")], axis=at)
    return g.add("Gather", [g.value(x), g.value(index)], axis=at)


MAPPINGS = {
    "Reshape": reshape, "Permute": permute, "Expand": expand, "Cat": cat, "Stack": stack,
    "PadConstant": pad_constant, "GetItem": get_item,
}
