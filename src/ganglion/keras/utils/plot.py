"""``keras.utils.plot_model`` as text: one box per layer call in execution order, joined by arrows, with the
options Keras' graph drawing has (shapes, dtypes, activations, trainable flags). No Graphviz is needed; the
drawing is returned as a string and written to a ``.txt`` file beside ``to_file``."""

import os
import warnings


def _shape(shape):
    if isinstance(shape, list):
        return "[" + ", ".join(_shape(s) for s in shape) + "]"
    return "(" + ", ".join(str(s) for s in shape) + ")" if shape is not None else "?"


def _calls(model):
    """[(layer, input shapes, output shapes, names of the layers feeding it)] in execution order."""
    from ..layers.input_layer import InputLayer

    nodes = getattr(model, "_nodes", None)
    if nodes is None and getattr(model, "inputs", None) and getattr(model, "_stack", None) is not None:
        first = model._input
        nodes = [first._inbound_nodes[0]] + [layer._inbound_nodes[-1] for layer in model._stack]
    if nodes is None:  # a subclassed model: its layers in the order they were set, connections unknown
        return [(layer, None, None, None) for layer in model.layers]
    calls = []
    for node in nodes:
        ins = [t.shape for t in node.input_tensors]
        outs = [t.shape for t in node.output_tensors]
        sources = [t._keras_history[0].name for t in node.input_tensors]
        if isinstance(node.layer, InputLayer):
            ins, sources = outs, []
        calls.append((node.layer, ins[0] if len(ins) == 1 else ins, outs[0] if len(outs) == 1 else outs, sources))
    return calls


def _box(lines):
    width = max(len(line) for line in lines)
    return (["┌" + "─" * (width + 2) + "┐"] + [f"│ {line.ljust(width)} │" for line in lines]
            + ["└" + "─" * (width + 2) + "┘"])


def model_to_text(model, show_shapes=False, show_dtype=False, show_layer_names=True, rankdir="TB",
                  show_layer_activations=False, show_trainable=False):
    """The text drawing of ``model`` (see ``plot_model`` for the options)."""
    from .. import activations

    if rankdir not in ("TB", "LR"):
        raise ValueError(f"plot_model: rankdir must be 'TB' or 'LR', got {rankdir!r}")
    calls = _calls(model)
    if not calls:
        raise ValueError(f"plot_model: model {model.name!r} has no layers to draw")
    boxes, previous = [], None
    for layer, ins, outs, sources in calls:
        kind = type(layer).__name__
        lines = [f"{layer.name} ({kind})" if show_layer_names else kind]
        if sources and sources != ([previous] if previous else []):
            lines.append("from: " + ", ".join(sources))
        if show_layer_activations and getattr(layer, "activation", None) is not None:
            lines.append(f"activation: {activations.serialize(layer.activation)}")
        if show_dtype:
            lines.append(f"dtype: {layer.dtype_policy or 'float32'}")
        if show_trainable:
            lines.append(f"trainable: {'yes' if layer.trainable else 'no'}")
        if show_shapes:
            lines.append(f"input: {_shape(ins)}  output: {_shape(outs)}" if ins is not None or outs is not None
                         else "shapes: unknown (subclassed model)")
        boxes.append(_box(lines))
        previous = layer.name
    if rankdir == "LR":
        height = max(len(b) for b in boxes)
        boxes = [b + [" " * len(b[0])] * (height - len(b)) for b in boxes]
        rows = []
        for i in range(height):
            joint = " ──▶ " if i == 1 else "     "
            rows.append(joint.join(b[i] for b in boxes))
        return "\n".join(rows)
    out = []
    for i, box in enumerate(boxes):
        if i:
            centre = " " * (len(box[0]) // 2)
            out += [centre + "│", centre + "▼"]
        out += box
    return "\n".join(out)


def plot_model(model, to_file="model.png", show_shapes=False, show_dtype=False, show_layer_names=True, rankdir="TB",
               expand_nested=False, dpi=200, show_layer_activations=False, show_trainable=False, **kwargs):
    """Draw ``model`` as text, write it to ``to_file`` with its extension replaced by ``.txt`` (image formats
    need Graphviz, which ganglion does not use), and return the drawing."""
    text = model_to_text(model, show_shapes, show_dtype, show_layer_names, rankdir, show_layer_activations,
                         show_trainable)
    if to_file:
        path = os.fspath(to_file)
        root, ext = os.path.splitext(path)
        if ext.lower() != ".txt":
            warnings.warn(f"plot_model draws text: writing {root + '.txt'!r} instead of {path!r}", stacklevel=2)
            path = root + ".txt"
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    return text
