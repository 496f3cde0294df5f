"""``model.summary()``: Keras 3's table of layers (name and type, output shape, parameter count, and for models
that are not a plain chain the "Connected to" column), then the totals with their memory size, laid out exactly as
Keras prints it when its output is captured (no colors): the same column widths for a given ``line_length``, the
same box characters, word wrapping inside cells, and the same totals lines.

Column widths: ``positions`` (fractions of ``line_length``, or absolute ends) give each column's width; with one
space of padding on each side and the frame's vertical bars the table would be wider than ``line_length``, so the
excess is taken from the columns in turn (1/n of what is left, rounded, from each), which is how the table
renderer Keras uses fits a table to its width. Totals: trainable and non-trainable weights (and, once the optimizer
is built, its variables), each with its size in bytes, powers of 1024.
"""

import shutil

import numpy as np

_BOX = {"top": "┏━┳┓", "head": "┃ ┃┃", "head_rule": "┡━╇┩", "row": "│ ││", "row_rule": "├─┼┤", "bottom": "└─┴┘"}


def readable_memory_size(size):
    """Bytes as Keras shows them: 460.00 B, 1.36 KB, ... (powers of 1024)."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size / 1024 < 1:
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} PB"


def _unique(weights):
    return list({id(w.parameter): w for w in weights}.values())


def _count(weights):
    return sum(int(np.prod(w.shape)) for w in _unique(weights))


def _memory(weights):
    return sum(int(np.prod(w.shape)) * w.parameter.array.itemsize for w in _unique(weights))


def format_shape(shape):
    """(None, 8); several outputs as a list of shapes; '?' when unknown."""
    if shape is None:
        return "?"
    if isinstance(shape, list):
        return "[" + ", ".join(format_shape(s) for s in shape) + "]"
    return "(" + ", ".join(str(s) for s in shape) + ")"


# ----------------------------------------------------------------------------------------------- table layout
def column_widths(line_length, positions):
    """Each column's width including its padding, fitted to ``line_length`` with the frame (see module doc)."""
    requested, current = [], 0
    for pos in positions:
        end = int(pos * line_length) if pos <= 1 else int(pos)
        width = end - current
        if width < 4:
            raise ValueError(f"summary: line_length={line_length} with positions={positions} leaves a column "
                             f"{width} characters wide (at least 4 are needed)")
        requested.append(width + 2)
        current += width
    available = line_length - (len(positions) + 1)
    excess = sum(requested) - available
    if excess <= 0:
        return requested
    widths, remaining, ratio_left = [], excess, len(requested)
    for width in requested:
        taken = min(width, round(remaining / ratio_left))
        widths.append(width - taken)
        remaining -= taken
        ratio_left -= 1
    return widths


def wrap(text, width):
    """Greedy word wrap; a word longer than ``width`` is cut with an ellipsis."""
    lines, current = [], ""
    for word in text.split(" "):
        if len(word) > width:
            if current:
                lines.append(current)
            lines.append(word[:width - 1] + "…")
            current = ""
        elif not current:
            current = word
        elif len(current) + 1 + len(word) <= width:
            current += " " + word
        else:
            lines.append(current)
            current = word
    if current or not lines:
        lines.append(current)
    return lines


def _rule(kind, widths):
    left, fill, mid, right = _BOX[kind]
    return left + mid.join(fill * w for w in widths) + right


def _row(kind, cells, widths, aligns):
    left, _, mid, right = _BOX[kind]
    wrapped = [wrap(cell, w - 2) for cell, w in zip(cells, widths)]
    height = max(len(lines) for lines in wrapped)
    out = []
    for i in range(height):
        parts = []
        for lines, w, align in zip(wrapped, widths, aligns):
            text = lines[i] if i < len(lines) else ""
            parts.append(" " + _align(text, w - 2, align) + " ")
        out.append(left + mid.join(parts) + right)
    return out


def _align(text, width, align):
    excess = width - len(text)
    if align == "right":
        return " " * excess + text
    if align == "center":
        return " " * (excess // 2) + text + " " * (excess - excess // 2)
    return text + " " * excess


# ------------------------------------------------------------------------------------------------- the model
def _layer_shape(layer, model_nodes):
    nodes = [n for n in layer._inbound_nodes if model_nodes is None or any(n is m for m in model_nodes)]
    if not nodes:  # a layer called on data only (subclassed models): Keras shows its shape from build
        shape = layer.__dict__.get("_build_input_shape")
        if shape is None or not layer.built:
            return None
        try:
            out = layer.compute_output_shape(shape)
        except NotImplementedError:  # as Keras: a layer that cannot say shows "?"
            return None
        return list(out) if isinstance(out, list) else out
    outs = nodes[-1].output_tensors
    return outs[0].shape if len(outs) == 1 else [o.shape for o in outs]


def _params(layer):
    if not layer.built:
        return "0 (unbuilt)"
    return f"{layer.count_params():,}"


def _connections(layer, model_nodes):
    parts = []
    for node in layer._inbound_nodes:
        if model_nodes is not None and not any(node is m for m in model_nodes):
            continue
        for t in node.input_tensors:
            inbound, node_index, tensor_index = t._keras_history
            parts.append(f"{inbound.name}[{node_index}][{tensor_index}]")
    return ", ".join(parts) or "-"


def _flops(layer, model_nodes):
    """``show_flops``: multiply-adds of one sample through ``layer``: ``ganglion.insight.layer_cost`` of the engine
    modules it holds, plus one op per output element for a fused activation; None when the shape is unknown."""
    from ...insight.cost import elements, layer_cost  # noqa: PLC0415 - only when asked for
    from ...nn.module import Module  # noqa: PLC0415

    shape = _layer_shape(layer, model_nodes)
    if shape is None or isinstance(shape, list) or not layer.built:
        return None
    out = (1,) + tuple(shape[1:])
    nodes = [n for n in layer._inbound_nodes if model_nodes is None or any(n is m for m in model_nodes)]
    ins = tuple((1,) + tuple(t.shape[1:]) for t in nodes[-1].input_tensors) if nodes else None
    engines = [m for m in layer.children() if isinstance(m, Module) and type(m).__module__.startswith("ganglion.nn")]
    costs = [layer_cost(m, ins, out) for m in engines]
    if getattr(layer, "activation", None) is not None and getattr(layer.activation, "__name__", "") != "linear":
        costs.append(elements(out))
    return None if None in costs else sum(costs)


def summary_lines(model, line_length=None, positions=None, show_trainable=False, layer_range=None,
                  expand_nested=False, show_flops=False):
    """The summary as a list of lines (what ``model.summary()`` prints); ``show_flops`` (ganglion's addition) adds
    a FLOPs column (multiply-adds per sample, see ganglion/insight/cost.py) and their total."""
    nodes = getattr(model, "_nodes", None) if getattr(model, "_functional", False) else None
    chain = nodes is None or model._is_chain()
    if chain:
        default_length, default_positions = 88, [0.45, 0.80, 1.0]
        header, aligns = ["Layer (type)", "Output Shape", "Param #"], ["left", "left", "right"]
    else:
        default_length, default_positions = 108, [0.3, 0.56, 0.74, 1.0]
        header, aligns = ["Layer (type)", "Output Shape", "Param #", "Connected to"], ["left", "left", "right", "left"]
    positions = list(positions or default_positions)
    if show_trainable:
        default_length += 12
        positions = [p * 0.9 for p in positions] + [1.0]
        header.append("Trainable")
        aligns.append("center")
    if show_flops:
        default_length += 14
        positions = [p * 0.88 for p in positions] + [1.0]
        header.append("FLOPs")
        aligns.append("right")
    default_length = min(default_length, shutil.get_terminal_size().columns - 4)
    widths = column_widths(line_length or default_length, positions)
    lines = [f'Model: "{model.name}"', _rule("top", widths)]
    lines += _row("head", header, widths, aligns)
    lines.append(_rule("head_rule", widths))
    rows = [(layer, "") for layer in _select(model.layers, layer_range)]
    total_flops = 0
    if expand_nested:
        rows = [entry for layer, _ in rows for entry in _nested(layer, 0)]
    for i, (layer, prefix) in enumerate(rows):
        cells = [f"{prefix}{layer.name} ({type(layer).__name__})", format_shape(_layer_shape(layer, nodes)),
                 _params(layer)]
        if not chain:
            cells.append(_connections(layer, nodes))
        if show_trainable:
            cells.append(("Y" if layer.trainable else "N") if layer.weights else "-")
        if show_flops:
            flops = _flops(layer, nodes)
            total_flops = None if flops is None or total_flops is None else total_flops + flops
            cells.append("?" if flops is None else f"{flops:,}")
        if i:
            lines.append(_rule("row_rule", widths))
        lines += _row("row", cells, widths, aligns)
    lines.append(_rule("bottom", widths))
    trainable, frozen = model.trainable_weights, model.non_trainable_weights
    t_count, f_count = _count(trainable), _count(frozen)
    t_mem, f_mem = _memory(trainable), _memory(frozen)
    o_count = o_mem = 0
    optimizer = getattr(model, "optimizer", None)
    if getattr(model, "compiled", False) and optimizer is not None and optimizer.built:
        variables = optimizer.variables
        o_count = sum(int(np.size(v)) for v in variables)
        o_mem = sum(int(np.size(v)) * np.asarray(v).itemsize for v in variables)
    lines.append(f" Total params: {t_count + f_count + o_count:,} ({readable_memory_size(t_mem + f_mem + o_mem)})")
    lines.append(f" Trainable params: {t_count:,} ({readable_memory_size(t_mem)})")
    lines.append(f" Non-trainable params: {f_count:,} ({readable_memory_size(f_mem)})")
    if optimizer is not None and getattr(model, "compiled", False) and optimizer.built:
        lines.append(f" Optimizer params: {o_count:,} ({readable_memory_size(o_mem)})")
    if show_flops:
        lines.append(f" Total FLOPs (mult-adds per sample): {'?' if total_flops is None else f'{total_flops:,}'}")
    return lines


def _nested(layer, level):
    """(layer, prefix) for ``layer`` and, indented with Keras' "└ ", the layers of the models inside it."""
    rows = [(layer, "   " * level + "└ " if level else "")]
    for inner in getattr(layer, "layers", None) or []:
        rows.extend(_nested(inner, level + 1))
    return rows


def _select(layers, layer_range):
    """Keras' ``layer_range``: (first name, last name), each a regular expression; both ends included."""
    if layer_range is None:
        return layers
    import re

    if len(layer_range) != 2 or not all(isinstance(s, str) for s in layer_range):
        raise ValueError(f"summary: layer_range must be a pair of layer names (or patterns), got {layer_range!r}")
    lower = [i for i, layer in enumerate(layers) if re.match(layer_range[0], layer.name)]
    upper = [i for i, layer in enumerate(layers) if re.match(layer_range[1], layer.name)]
    if not lower or not upper:
        raise ValueError(f"summary: layer_range {layer_range} matches no layer; the layers are "
                         f"{[layer.name for layer in layers]}")
    if min(lower) > max(upper):
        return layers[min(upper):max(lower) + 1]
    return layers[min(lower):max(upper) + 1]


def print_summary(model, line_length=None, positions=None, print_fn=None, show_trainable=False, layer_range=None,
                  expand_nested=False, show_flops=False):
    text = "\n".join(summary_lines(model, line_length, positions, show_trainable, layer_range, expand_nested,
                                   show_flops))
    (print_fn or print)(text)
