"""Parameters as one vector and back: ``parameters_to_vector`` and ``vector_to_parameters`` (PyTorch's names), for
methods that see the model as a single point in R^n (line searches, second-order methods, weight averaging)."""

from ... import backend
from ...tensor import Tensor


def _parameters(name, parameters):
    items = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    devices = set()
    for i, p in enumerate(items):
        if not isinstance(p, Tensor):
            raise TypeError(f"{name}: expected Tensors, got {type(p).__name__} at position {i}")
        devices.add(backend.device_of(p.array))
    if len(devices) > 1:
        raise TypeError(f"{name}: found parameters on different devices ({', '.join(sorted(map(str, devices)))}), "
                        f"which is not supported")
    return items


def parameters_to_vector(parameters):
    """Flatten and concatenate ``parameters``: shapes (s_1), ..., (s_n) -> (sum of their sizes,).

    Differentiable: the gradient of the vector flows back to each parameter.
    """
    from ... import ops

    items = _parameters("parameters_to_vector", parameters)
    if not items:
        raise ValueError("parameters_to_vector: expected at least one parameter, got none")
    return ops.cat([p.reshape(-1) for p in items])


def vector_to_parameters(vec, parameters):
    """Copy the slices of the 1-D ``vec`` into ``parameters`` in order (each parameter's ``.data`` becomes a view of
    its slice, sharing memory with ``vec``, as in PyTorch). ``vec`` must have exactly as many elements as the
    parameters together."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: expected ganglion.Tensor, but got: {type(vec).__name__}")
    items = _parameters("vector_to_parameters", parameters)
    if vec.ndim != 1:
        raise ValueError(f"vector_to_parameters: expected a 1-D vec, got shape {tuple(vec.shape)}")
    needed = sum(p.numel() for p in items)
    if vec.numel() != needed:
        raise ValueError(f"vector_to_parameters: vec has {vec.numel()} elements, but the parameters have {needed} "
                         f"(shapes {[tuple(p.shape) for p in items]})")
    array, start = vec.array, 0
    for p in items:
        n = p.numel()
        p.array = array[start:start + n].reshape(p.shape)
        start += n
