"""``save_weights`` / ``load_weights`` for ``.weights.h5`` paths: HDF5 in Keras 3's own layout, so weights move to
and from Keras itself (needs ``h5py``: ``pip install "ganglion[h5]"``).

Keras 3 (``keras/src/saving/saving_lib.py``, ``H5IOStore``) walks the model and stores each object's own variables
in an HDF5 group ``<path>/vars``, as datasets ``0``, ``1``, ... in the layer's ``weights`` order and layout, the
group carrying the layer's name as the attribute ``name``. The paths are structural:

- a Sequential or functional model's layers are ``layers/<class in snake case>`` ranked per class (``layers/dense``,
  ``layers/dense_1``; a functional model counts its input layers, ``layers/input_layer``);
- a layer holding other layers (a subclassed model, ``Bidirectional``, ``TimeDistributed``) puts them under their
  attribute names (``forward_layer``, ``layer``);
- a recurrent layer's weights belong to its cell: ``layers/lstm/cell/vars``.

Keras also writes the optimizer's counters under ``optimizer/vars`` when the model is compiled; ganglion writes
none (Keras then keeps its optimizer as it is) and ignores them when reading.

Reading checks before copying: each layer's group must hold exactly the datasets ``0`` .. ``n-1`` with the shapes
the model expects, read only once their shapes match, and no group may hold weights the model has no layer for.
A failure is a ValueError naming the file, the layer and both shapes.
"""

import io
import os

import numpy as np

from ...io.atomic import atomic_write_bytes
from .weight_names import ranked_name

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
SUFFIX = ".weights.h5"


def require_h5py(what):
    try:
        import h5py
    except ImportError:
        raise ImportError(f'{what}: reading and writing Keras .weights.h5 files needs h5py: pip install "ganglion[h5]" '
                          "(or save to a .safetensors path, which needs nothing more)") from None
    return h5py


def is_hdf5(filepath):
    with open(filepath, "rb") as f:
        return f.read(len(HDF5_MAGIC)) == HDF5_MAGIC


def _is_container(layer):
    return hasattr(layer, "_stack") or getattr(layer, "_functional", False)


def _is_recurrent(layer):
    from ..layers.recurrent_base import Recurrent

    return isinstance(layer, Recurrent)


def keras_entries(model):
    """[(HDF5 group path of the variables, layer, its own KerasWeights)] for ``model`` and every layer inside it, in
    Keras' structural paths (see the module docstring); each layer once."""
    from ..layers.base import Layer

    out, seen = [], set()
    stack = [(model, "")]
    while stack:
        layer, path = stack.pop()
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        join = (lambda name: f"{path}/{name}") if path else (lambda name: name)
        if _is_container(layer):
            used = {}
            children = [(child, join(f"layers/{ranked_name(type(child).__name__, used)}")) for child in layer.layers]
            own = []
        else:
            children = [(child, join(key)) for key, child in layer._modules.items() if isinstance(child, Layer)]
            own = layer.keras_weights()
        vars_path = join("cell/vars") if _is_recurrent(layer) else join("vars")
        out.append((vars_path, layer, own))
        stack.extend(reversed(children))
    return out


def save_h5(model, filepath):
    """Write ``model``'s weights to ``filepath`` as a Keras 3 ``.weights.h5`` file (atomically)."""
    h5py = require_h5py("save_weights")
    if not model.built:
        raise ValueError(f"save_weights: model {model.name!r} is not built yet, so it has no weights to write to "
                         f"{filepath!r}; call it on data or build it first")
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        for vars_path, layer, own in keras_entries(model):
            if vars_path.endswith("cell/vars"):  # Keras keeps an (empty) group for the recurrent layer itself
                f.create_group(vars_path[:-len("cell/vars")] + "vars").attrs["name"] = layer.name
            group = f.create_group(vars_path)
            group.attrs["name"] = layer.name
            for i, w in enumerate(own):
                group.create_dataset(str(i), data=np.asarray(w.numpy()))
    atomic_write_bytes(filepath, buffer.getvalue())


def _layer_label(vars_path, layer):
    return f"layer {layer.name!r} (group {vars_path!r})"


def load_h5(model, filepath, skip_mismatch=False):
    """Copy the weights of the Keras 3 ``.weights.h5`` file ``filepath`` into ``model`` (checked first, see the
    module docstring). With ``skip_mismatch``, layers whose weights do not fit are left as they are."""
    h5py = require_h5py("load_weights")
    what = "load_weights"
    if not model.built:
        raise ValueError(f"{what}: model {model.name!r} is not built yet, so {filepath!r} cannot be compared with its "
                         "weights; call it on data or build it first")
    try:
        f = h5py.File(filepath, "r")
    except OSError as e:
        raise ValueError(f"{what}: {filepath!r} starts like HDF5 but cannot be opened as HDF5: it is truncated or "
                         f"corrupt ({e})") from None
    with f:
        if "vars" not in f and "layers" not in f:
            raise ValueError(f"{what}: {filepath!r} is HDF5 but not in Keras 3's .weights.h5 layout (it has no "
                             f"'layers' or 'vars' group; top level holds {sorted(f.keys())[:10]})")
        entries = keras_entries(model)
        plan, problems = [], []
        for vars_path, layer, own in entries:
            label = _layer_label(vars_path, layer)
            group = f.get(vars_path) if vars_path in f else None
            if group is not None and not isinstance(group, h5py.Group):
                raise ValueError(f"{what}: {filepath!r} is not in Keras 3's .weights.h5 layout: {vars_path!r} is not "
                                 "a group")
            keys = sorted(group.keys()) if group is not None else []
            expected = [str(i) for i in range(len(own))]
            if sorted(keys) != sorted(expected):
                if own and group is None:
                    problems.append(f"{label}: the file has no group {vars_path!r} for its {len(own)} weights")
                else:
                    problems.append(f"{label}: the file holds datasets {keys}, the model expects {expected} "
                                    f"({[w.name for w in own]})")
                continue
            mismatched = []
            for i, w in enumerate(own):
                dataset = group[str(i)]
                if not isinstance(dataset, h5py.Dataset) or dataset.dtype.kind not in "fiub":
                    raise ValueError(f"{what}: {filepath!r}: {vars_path}/{i} of {label} is not a numeric dataset")
                if tuple(dataset.shape) != tuple(w.shape):
                    mismatched.append(f"{w.name} ({vars_path}/{i}): shape {tuple(dataset.shape)} in the file, "
                                      f"{tuple(w.shape)} in the model")
            if mismatched:
                problems.append(f"{label}: " + "; ".join(mismatched))
                continue
            plan.append((group, own))
        known = {vars_path for vars_path, _, _ in entries}
        unknown = [path for path in _weight_groups(f, h5py) if path not in known and not path.startswith("optimizer/")]
        if unknown:
            problems.append(f"the file has weights for layers the model lacks: {unknown[:10]}")
        if problems and not skip_mismatch:
            raise ValueError(f"{what}: the weights in {filepath!r} do not match the model {model.name!r} (is it the "
                             "same architecture?): " + "; ".join(problems))
        for group, own in plan:
            for i, w in enumerate(own):
                w.assign(np.asarray(group[str(i)][()]))


def _weight_groups(f, h5py):
    """Paths of every ``vars`` group in ``f`` that holds at least one dataset."""
    out = []

    def visit(name, obj):
        if isinstance(obj, h5py.Group) and name.rsplit("/", 1)[-1] == "vars" and len(obj):
            out.append(name)

    f.visititems(visit)
    return out
