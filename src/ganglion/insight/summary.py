"""``model_summary(model, input_size)``: one forward pass on zeros, seen through forward hooks, reported per layer:
name, type, output shape, parameters, FLOPs (multiply-adds, from ``cost.layer_cost``) and activation memory (the
bytes of the layer's outputs), with the totals.

A row is a leaf module (no children) or a module that holds parameters of its own (so every parameter is counted
once). A module called several times in one forward (a ReLU reused in a residual block) is one row whose FLOPs and
activation bytes add up its calls (``calls`` says how many); its output shape is the first call's. The model runs
in eval mode (no batch-norm statistics updated, no dropout) without recording gradients; its mode is restored.
"""

from .. import backend
from ..autograd.grad_mode import no_grad
from ..factories import zeros
from ..tensor import Tensor
from .cost import layer_cost


def _tensors(value):
    """Every Tensor in a (nested) output, in order."""
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in _tensors(v)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _tensors(v)]
    return []


def _human(n, unit=""):
    for prefix in ("", "K", "M", "G", "T"):
        if abs(n) < 1000:
            return f"{n:.2f} {prefix}{unit}".strip() if prefix else f"{n} {unit}".strip()
        n /= 1000
    return f"{n:.2f} P{unit}"


class ModelSummary:
    """What ``model_summary`` found: ``rows`` (dicts with name, type, output_shape, params, flops,
    activation_bytes, calls) and the totals; ``str()`` is the table."""

    def __init__(self, model_name, input_size, rows, total_params, trainable_params):
        self.model_name, self.input_size, self.rows = model_name, input_size, rows
        self.total_params, self.trainable_params = total_params, trainable_params
        self.unknown_flops = [r["name"] for r in rows if r["flops"] is None]
        self.total_flops = sum(r["flops"] for r in rows if r["flops"] is not None)
        self.activation_bytes = sum(r["activation_bytes"] for r in rows)

    def __str__(self):
        header = ("Layer (type)", "Output shape", "Param #", "FLOPs (mult-adds)", "Activations")
        body = [(f"{r['name']} ({r['type']})" + (f" x{r['calls']}" if r["calls"] > 1 else ""),
                 str(r["output_shape"]), f"{r['params']:,}", "?" if r["flops"] is None else f"{r['flops']:,}",
                 _human(r["activation_bytes"], "B")) for r in self.rows]
        widths = [max(len(line[i]) for line in [header] + body) for i in range(len(header))]
        fmt = lambda cells: "  ".join(  # noqa: E731
            c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))
        rule = "-" * len(fmt(header))
        lines = [f"{self.model_name} on input {self.input_size}", rule, fmt(header), rule]
        lines += [fmt(cells) for cells in body] + [rule]
        lines.append(f"Total params: {self.total_params:,}")
        lines.append(f"Trainable params: {self.trainable_params:,}")
        lines.append(f"Non-trainable params: {self.total_params - self.trainable_params:,}")
        flops = f"Total FLOPs (mult-adds): {self.total_flops:,} ({_human(self.total_flops)})"
        if self.unknown_flops:
            flops += f"; not counted (unknown layer types): {', '.join(self.unknown_flops)}"
        lines.append(flops)
        lines.append(f"Activation memory: {self.activation_bytes:,} bytes ({_human(self.activation_bytes, 'B')})")
        return "\n".join(lines)

    __repr__ = __str__


def _input_shapes(input_size):
    """One shape or a list of shapes (several inputs), each a tuple of ints with the batch dim."""
    if isinstance(input_size, (tuple, list)) and input_size and all(isinstance(s, (tuple, list)) for s in input_size):
        shapes = [tuple(s) for s in input_size]
    else:
        shapes = [tuple(input_size)]
    for shape in shapes:
        if not shape or not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in shape):
            raise ValueError(f"model_summary: input_size must be a shape of positive ints with the batch dim "
                             f"(such as (1, 3, 32, 32)) or a list of such shapes, got {input_size!r}")
    return shapes


def model_summary(model, input_size, dtype=None):
    """Summarize an ``nn.Module`` by running it on zeros of ``input_size`` (batch included; a list of shapes for a
    model of several inputs) in ``dtype`` (default: the default dtype). Returns a ``ModelSummary``."""
    shapes = _input_shapes(input_size)
    dtype = backend.resolve_dtype(dtype) if dtype is not None else backend.get_default_dtype()
    records, handles = {}, []

    def hook(module, args, output):
        outs = _tensors(output)
        rec = records.setdefault(id(module), {"calls": 0, "flops": 0, "activation_bytes": 0, "output_shape": None})
        in_shapes = tuple(tuple(t.shape) for t in _tensors(args))
        flops = layer_cost(module, in_shapes, tuple(outs[0].shape)) if outs else 0
        rec["flops"] = None if flops is None or rec["flops"] is None else rec["flops"] + flops
        rec["activation_bytes"] += sum(t.array.nbytes for t in outs)
        if rec["output_shape"] is None:
            shapes_out = [tuple(t.shape) for t in outs]
            rec["output_shape"] = shapes_out[0] if len(shapes_out) == 1 else shapes_out
        rec["calls"] += 1

    named = [(name, m) for name, m in model.named_modules()
             if name and (not any(True for _ in m.children()) or any(True for _ in m.parameters(recurse=False)))]
    if not named:  # a model that is itself one layer
        named = [(type(model).__name__, model)]
    for _, module in named:
        handles.append(module.register_forward_hook(hook))
    was_training = model.training
    try:
        model.eval()
        with no_grad():
            model(*[zeros(*shape, dtype=dtype) for shape in shapes])
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    rows = []
    for name, module in named:
        rec = records.get(id(module))
        if rec is None:  # defined but not called by forward
            continue
        rows.append({"name": name, "type": type(module).__name__, "output_shape": rec["output_shape"],
                     "params": sum(p.numel() for p in module.parameters(recurse=False)), "flops": rec["flops"],
                     "activation_bytes": rec["activation_bytes"], "calls": rec["calls"]})
    unique = {id(p): p for p in model.parameters()}.values()
    total = sum(p.numel() for p in unique)
    trainable = sum(p.numel() for p in unique if p.requires_grad)
    input_text = shapes[0] if len(shapes) == 1 else shapes
    return ModelSummary(type(model).__name__, input_text, rows, total, trainable)
