"""Core ``keras.ops``: conversion and dtype (``convert_to_tensor``, ``convert_to_numpy``, ``cast``, ``shape``,
``is_tensor``), ``stop_gradient`` and Python-level control flow (``cond``, ``fori_loop``, ``while_loop``), plus
``slice``, ``unstack`` and ``scatter``. Control flow runs eagerly: the engine records whatever branch runs."""

import builtins

import numpy as np

from ... import ops as E
from ._convert import cast, convert_to_numpy, convert_to_tensor, is_tensor, shape, tensor_of

__all__ = [
    "cast", "convert_to_numpy", "convert_to_tensor", "is_tensor", "shape", "stop_gradient", "cond", "fori_loop",
    "while_loop", "slice", "unstack", "scatter", "dtype",
]


def stop_gradient(variable):
    """The same values, cut from the graph: no gradient flows back through it."""
    return tensor_of(variable, "stop_gradient").detach()


def dtype(x):
    """The dtype of ``x`` as Keras names it ("float32")."""
    return str(tensor_of(x, "dtype").dtype)


def cond(pred, true_fn, false_fn):
    """``true_fn()`` if ``pred`` else ``false_fn()`` (``pred`` a bool or a one-element tensor)."""
    if not callable(true_fn) or not callable(false_fn):
        raise TypeError("cond: true_fn and false_fn must be callables taking no arguments")
    return true_fn() if bool(convert_to_numpy(pred)) else false_fn()


def fori_loop(lower, upper, body_fun, init_val):
    """``val = body_fun(i, val)`` for i in [lower, upper); returns the final ``val``."""
    val = init_val
    for i in range(int(lower), int(upper)):
        val = body_fun(i, val)
    return val


def while_loop(cond, body, loop_vars, maximum_iterations=None):
    """Apply ``body`` to ``loop_vars`` while ``cond(*loop_vars)`` holds (at most ``maximum_iterations`` times)."""
    is_tuple = isinstance(loop_vars, (list, tuple))
    state = tuple(loop_vars) if is_tuple else (loop_vars,)
    steps = 0
    while bool(convert_to_numpy(cond(*state))) and (maximum_iterations is None or steps < maximum_iterations):
        state = body(*state)
        state = tuple(state) if isinstance(state, (list, tuple)) else (state,)
        steps += 1
    return state if is_tuple else state[0]


def slice(inputs, start_indices, shape):
    """The block of ``inputs`` starting at ``start_indices`` with size ``shape`` (differentiable)."""
    x = tensor_of(inputs, "slice")
    starts = [int(s) for s in np.asarray(convert_to_numpy(start_indices)).reshape(-1)]
    sizes = list(shape)
    if len(starts) != x.ndim or len(sizes) != x.ndim:
        raise ValueError(f"slice: start_indices {starts} and shape {sizes} must each have one entry per dimension "
                         f"of inputs {tuple(x.shape)}")
    return x[tuple(builtins.slice(s, s + n) for s, n in zip(starts, sizes))]


def unstack(x, num=None, axis=0):
    """The slices of ``x`` along ``axis`` as a list."""
    x = tensor_of(x, "unstack")
    return [E.squeeze(part, axis) for part in E.split(x, 1, axis)]


def scatter(indices, values, shape):
    """A zero tensor of ``shape`` with ``values`` added at ``indices`` (rows of coordinates; repeats add up)."""
    indices = convert_to_numpy(indices).astype(np.int64)
    if indices.ndim < 1 or indices.shape[-1] > len(shape):
        raise ValueError(f"scatter: indices of shape {indices.shape} do not index a tensor of shape {tuple(shape)}")
    values = tensor_of(values, "scatter")
    depth = indices.shape[-1]
    flat = np.ravel_multi_index(tuple(indices.reshape(-1, depth).T), tuple(shape[:depth]))
    block = int(np.prod(shape[depth:], dtype=np.int64))
    values = values.reshape(len(flat), block)
    # the index and the zeros are made where ``values`` lives, so the op runs on its device
    index = tensor_of(np.repeat(flat[:, None], block, axis=1), "scatter", np.dtype("int64")).to(device=values.device)
    zeros = tensor_of(np.zeros((int(np.prod(shape[:depth])), block)), "scatter", values.dtype).to(device=values.device)
    out = E.scatter_add(zeros, 0, index, values)
    return out.reshape(tuple(shape))
