"""``model.summary()``: Keras' table of layers (name and type, output shape, parameter count), then the totals
with their memory size, laid out as Keras 3 prints it when output is not a terminal."""

import shutil

import numpy as np

_LINE = {"top": "┏┳┓━", "head": "┃┃┃ ", "below_head": "┡╇┩━", "row": "│││ ", "between": "├┼┤─", "bottom": "└┴┘─"}


def readable_memory_size(size):
    """Bytes as Keras shows them: 460.00 B, 1.23 KB, ... (powers of 1024)."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size / 1024 < 1:
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} PB"


def _memory(weights):
    return sum(int(np.prod(w.shape)) * w.parameter.array.itemsize for w in {id(w.parameter): w for w in weights}.values())


def _count(weights):
    return sum(int(np.prod(w.shape)) for w in {id(w.parameter): w for w in weights}.values())


def _format_shape(shape):
    if shape is None:
        return "?"
    if isinstance(shape, list):
        return "[" + ", ".join(_format_shape(s) for s in shape) + "]"
    return "(" + ", ".join(str(s) for s in shape) + ")"


def _rule(kind, widths):
    left, mid, right, fill = _LINE[kind]
    return left + mid.join(fill * (w + 2) for w in widths) + right


def _row(kind, cells, widths, aligns):
    left, mid, right, _ = _LINE[kind]
    parts = []
    for cell, w, align in zip(cells, widths, aligns):
        text = cell if len(cell) <= w else cell[: w - 1] + "…"
        parts.append(" " + (text.rjust(w) if align == "right" else text.ljust(w)) + " ")
    return left + mid.join(parts) + right


def summary_lines(model, line_length=None, positions=None):
    """The summary as a list of lines."""
    rows = model._summary_rows()
    line_length = line_length or min(88, shutil.get_terminal_size((80, 24)).columns - 4)
    positions = positions or [0.45, 0.80, 1.0]
    header = ["Layer (type)", "Output Shape", "Param #"]
    aligns = ["left", "left", "right"]
    bounds = [int(p * line_length) if p <= 1 else int(p) for p in positions]
    widths = [b - a for a, b in zip([0] + bounds[:-1], bounds)]
    widths = [max(4, w - 3) for w in widths]  # each column loses its border and padding to the frame
    lines = [f'Model: "{model.name}"', _rule("top", widths), _row("head", header, widths, aligns),
             _rule("below_head", widths)]
    for i, (name, shape, params) in enumerate(rows):
        if i:
            lines.append(_rule("between", widths))
        lines.append(_row("row", [name, _format_shape(shape), params], widths, aligns))
    lines.append(_rule("bottom", widths))
    trainable, frozen = model.trainable_weights, model.non_trainable_weights
    t_count, f_count = _count(trainable), _count(frozen)
    t_mem, f_mem = _memory(trainable), _memory(frozen)
    lines.append(f" Total params: {t_count + f_count:,} ({readable_memory_size(t_mem + f_mem)})")
    lines.append(f" Trainable params: {t_count:,} ({readable_memory_size(t_mem)})")
    lines.append(f" Non-trainable params: {f_count:,} ({readable_memory_size(f_mem)})")
    return lines


def print_summary(model, line_length=None, positions=None, print_fn=None):
    text = "\n".join(summary_lines(model, line_length, positions))
    (print_fn or print)(text)
