"""Traces of one model, compared: the same graph, or a DataDependentError naming the first difference.

The first trace ran on the example input; each other one on other values and, for a dynamic axis (batch,
sequence), one more entry along that axis. Every graph must match the first node for node: the same op classes, fed
from the same places, with equal plain arguments. An integer may differ only as the varied axis does
(``a / size_a == b / size_b``: a reshape to (N * T, H) is fine, a loop count read from the data is not). The
comparison also pairs every recorded tensor with its twins, which gives each tensor its *dynamic* shape (the dims
that changed with an axis are None) and, per dim, its *signature*: its sizes in all the traces, which tells which
dims hold the same symbolic size (the batch of the input, the batch of a state, the batch of an output).
"""

import numpy as np

from .. import backend
from ..tensor import Tensor
from .errors import DataDependentError
from .trace import node_arguments


class Comparison:
    """The result of ``compare``. ``shape(t)``: ``t``'s shape in the first trace with None where a twin differed;
    ``signature(t, i)``: the sizes of dim i of ``t`` in every trace; ``axis_name(signature)``: the dynamic axis
    whose size that is, or None."""

    def __init__(self, twins, axis_signatures):
        self._twins = twins  # id(tensor or array of the first trace) -> (it, [its twin in each other trace])
        self._axes = axis_signatures  # signature -> axis name

    def shape(self, t):
        pair = self._twins.get(id(t))
        if pair is None:
            return tuple(t.shape)
        a, others = pair
        return tuple(None if any(o.shape[i] != n for o in others) else n for i, n in enumerate(a.shape))

    def signature(self, t, i):
        pair = self._twins.get(id(t))
        if pair is None:
            return None
        a, others = pair
        return (a.shape[i],) + tuple(o.shape[i] for o in others)

    def axis_name(self, signature):
        return self._axes.get(signature)


def compare(first, others, model_name):
    """Check that every trace in ``others`` recorded ``first``'s graph; returns their Comparison. ``others``: triples
    (trace, axis name, ratio): the axis the trace varied and its (size in ``first``, size in the trace), or
    (trace, None, None) for a trace on other values only."""
    twins = {}
    for k, t in enumerate(first.inputs):
        twins[id(t)] = (t, [trace.inputs[k] for trace, _, _ in others])
    for position, (trace, _, ratio) in enumerate(others):
        for key, twin in _compare_pair(first, trace, ratio, model_name).items():
            a, b = twin
            entry = twins.setdefault(key, (a, [None] * len(others)))
            entry[1][position] = b
    twins = {key: (a, bs) for key, (a, bs) in twins.items() if all(b is not None for b in bs)}
    axis_signatures = {}
    for position, (_, name, ratio) in enumerate(others):
        if ratio is not None:
            signature = tuple([ratio[0]] + [ratio[1] if p == position else ratio[0] for p in range(len(others))])
            axis_signatures[signature] = name
    return Comparison(twins, axis_signatures)


def _compare_pair(a, b, ratio, model_name):
    """Twins of ``a``'s tensors in ``b``: id -> (tensor of a, tensor of b); a DataDependentError when the graphs
    differ."""
    if len(a.outputs) != len(b.outputs):
        _differ(model_name, f"the model returned {len(a.outputs)} tensors on the example input and "
                            f"{len(b.outputs)} on the other one")
    if len(a.nodes) != len(b.nodes):
        _differ(model_name, f"the example input recorded {len(a.nodes)} ops and the other one {len(b.nodes)}")
    places_a, places_b = _Places(a), _Places(b)
    twins = {}
    for i, (node_a, node_b) in enumerate(zip(a.nodes, b.nodes)):
        what = f"op {i} ({type(node_a).__name__}{_in(a.owners.get(node_a))})"
        if type(node_a) is not type(node_b):
            _differ(model_name, f"{what} became {type(node_b).__name__} on the other input")
        args_a, args_b = node_arguments(node_a), node_arguments(node_b)
        if len(args_a) != len(args_b):
            _differ(model_name, f"{what} got {len(args_a)} arguments, then {len(args_b)}")
        for k, (x, y) in enumerate(zip(args_a, args_b)):
            problem = _diff(x, y, places_a, places_b, ratio, twins)
            if problem:
                _differ(model_name, f"argument {k} of {what} {problem}")
    for k, (x, y) in enumerate(zip(a.outputs, b.outputs)):
        if places_a.of(x) != places_b.of(y):
            _differ(model_name, f"output {k} comes from another op on the other input")
        twins[id(x)] = (x, y)
    return twins


def _in(owner):
    return f" in layer {owner}" if owner else ""


def _differ(model_name, detail):
    raise DataDependentError(
        f"ganglion.onnx.export: {model_name} recorded different graphs on the example input and on a second input "
        f"with other values (and, for a dynamic axis, another batch size or sequence length): {detail}. Its forward "
        "pass depends on the input's values (a Python if/loop on a tensor, .item(), .numpy(), integer ops that are "
        "not recorded), which a static ONNX graph cannot replay; compute such branches with tensor ops (where, masks) "
        "or export each branch as its own model"
    )


class _Places:
    """Where a trace's values come from: ``inputs`` maps id(input Tensor or its array) -> ("input", k), ``index``
    maps each node to its position."""

    def __init__(self, trace):
        self.inputs = {}
        for k, t in enumerate(trace.inputs):
            self.inputs[id(t)] = self.inputs[id(t.array)] = ("input", k)
        self.index = {node: i for i, node in enumerate(trace.nodes)}

    def of(self, t):
        if id(t) in self.inputs:
            return self.inputs[id(t)]
        if t._node is not None:
            return ("op", self.index.get(t._node), t._out_index)
        return None


def _diff(x, y, places_a, places_b, ratio, twins):
    """None when ``x`` (first trace) and ``y`` (second) agree, else words saying how they differ."""
    if isinstance(x, Tensor) or isinstance(y, Tensor):
        if not (isinstance(x, Tensor) and isinstance(y, Tensor)):
            return "is a tensor in one trace only"
        px, py = places_a.of(x), places_b.of(y)
        if px != py:
            return f"comes from {_words(px)} on the example input but from {_words(py)} on the other one"
        twins[id(x)] = (x, y)
        if px is None:  # a constant or a parameter: the same values, unless the batch changed its shape
            return _diff_arrays(x.array, y.array, ratio)
        return None
    if id(x) in places_a.inputs or id(y) in places_b.inputs:  # an input's array passed as it is (embedding indices)
        same = places_a.inputs.get(id(x)) == places_b.inputs.get(id(y))
        return None if same else "is the input array in one trace only"
    if isinstance(x, (tuple, list)) and isinstance(y, (tuple, list)):
        if len(x) != len(y):
            return f"has {len(x)} entries, then {len(y)}"
        for u, v in zip(x, y):
            problem = _diff(u, v, places_a, places_b, ratio, twins)
            if problem:
                return problem
        return None
    if hasattr(x, "shape") and hasattr(x, "dtype") and hasattr(y, "shape"):
        twins[id(x)] = (x, y)
        return _diff_arrays(x, y, ratio)
    if isinstance(x, bool) or isinstance(y, bool) or not isinstance(x, int) or not isinstance(y, int):
        same = type(x) is type(y) and (x == y or (x != x and y != y))  # NaN equals NaN here
        return None if same else f"is {x!r}, then {y!r}"
    if x == y or _scales_with_batch(x, y, ratio):
        return None
    if ratio is None:
        return f"is {x}, then {y}"
    return f"is {x}, then {y}, which does not follow the varied size ({ratio[0]}, then {ratio[1]})"


def _scales_with_batch(x, y, ratio):
    """True when integer ``x`` became ``y`` as the varied axis went from ``ratio[0]`` to ``ratio[1]``."""
    if ratio is None:
        return False
    a, b = ratio
    return a != b and x * b == y * a


def _diff_arrays(x, y, ratio):
    x, y = backend.to_numpy(x), backend.to_numpy(y)
    if x.shape != y.shape:
        if len(x.shape) == len(y.shape) and all(u == v or _scales_with_batch(u, v, ratio) for u, v in
                                                zip(x.shape, y.shape)):
            return None
        return f"is an array of shape {x.shape}, then {y.shape}"
    same = np.array_equal(x, y, equal_nan=x.dtype.kind in "fc")
    return None if same else f"holds other values (an array of shape {x.shape} computed from the input's values)"


def _words(place):
    if place is None:
        return "a constant"
    if place[0] == "input":
        return f"input {place[1]}"
    return f"op {place[1]}"
