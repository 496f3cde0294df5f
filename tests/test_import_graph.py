"""The import graph of ``src/ganglion`` flows one way, and no private name crosses a package boundary.

Every module is parsed with ``ast`` (nothing is imported); every import counts, at module level or inside a function
(a lazy import is still a dependency, only a hidden one). Two rules:

(a) layers: a module imports only from its own layer or lower ones (STYLE.md: "a lower layer never imports a higher
    one"). The table below places every top-level module and package of ``ganglion``; a new one must be added to it.
(b) privacy: a name that starts with "_" (a module or a symbol; dunders such as ``__version__`` excepted) is imported
    only from inside the package that owns it. ``ops/_util.py`` serves ``ops.*``; ``nn.functional._x`` does not serve
    ``nn.modules`` (make it public instead).
"""

import ast
import functools
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1] / "src"

#: layer of each top-level module or package of ``ganglion``, lowest first. Within a layer imports may go either way.
LAYERS = {
    # 0: arrays, devices, dtypes, sizes. memory's pools hold backend arrays and backend.empty_cache empties them,
    # so the two are one layer.
    "backend": 0, "size": 0, "memory": 0, "arguments": 0,
    # compiled CPU kernels and the thread count they and BLAS use; below everything that runs math
    "kernels": 0,
    # 1: the tensor and its autograd engine, tensor factories, the torch.cuda / torch.accelerator namespaces
    "autograd": 1, "tensor": 1, "factories": 1, "cuda": 1, "accelerator": 1,
    # 2: differentiable ops (linalg.py is the torch.linalg namespace over ops.linalg)
    "ops": 2, "linalg": 2,
    # collectives over tensors between MPI ranks; nn (DistributedDataParallel, SyncBatchNorm) builds on them
    "distributed": 2,
    # 3: modules, functional, init
    "nn": 3,
    # 4: what builds on nn: optimizers, data pipelines, vision models, metrics, model files, torch.utils' paths,
    # model inspection
    "optim": 4, "data": 4, "vision": 4, "metrics": 4, "io": 4, "utils": 4, "insight": 4,
    # ONNX export: traces nn modules, writes through io; the Keras face calls it from Model.export
    "onnx": 4,
    # 5: the Keras-style API
    "keras": 5,
    # 6: the command line (``python -m ganglion`` too), and ganglion/__init__.py, the public namespace: it imports
    # everything, so only the command line may import from it
    "cli": 6, "__main__": 6, "": 6,
}

#: (importer, imported) pairs allowed to break rule (b), each with its reason: none today. Keep it empty.
ALLOWED_PRIVATE = set()


def _modules():
    """{dotted name: (path, is_package)} for every module under src/ganglion."""
    out = {}
    for path in sorted((ROOT / "ganglion").rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        out[".".join(parts)] = (path, is_package)
    return out


MODULES = _modules()


def _absolute(module, is_package, node):
    """The absolute module an ``ImportFrom`` names (relative imports resolved against ``module``)."""
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


@functools.lru_cache(maxsize=None)
def imports_of(module):
    """[(imported dotted path, line)] of ``module``'s ganglion imports, everywhere in the file. The path is the module
    imported, or ``module.symbol`` for a name that is not itself a module."""
    path, is_package = MODULES[module]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            target = _absolute(module, is_package, node)
            found.extend((f"{target}.{alias.name}" if alias.name != "*" else target, node.lineno)
                         for alias in node.names)
    return tuple((name, line) for name, line in found if name == "ganglion" or name.startswith("ganglion."))


def _imported_module(name):
    """The module behind an imported path: itself, or the module a symbol was imported from."""
    while name not in MODULES:
        name = name.rpartition(".")[0]
    return name


def layer_of(module):
    top = module.split(".")[1] if "." in module else ""
    return LAYERS.get(top)


def _package_of(module):
    return module if MODULES[module][1] else module.rpartition(".")[0]


def _private_owner(name):
    """The package that owns the first private part of ``name`` (a module or a symbol starting with "_", not a
    dunder), or None when every part is public."""
    parts = name.split(".")
    for k, part in enumerate(parts):
        if part.startswith("_") and not (part.startswith("__") and part.endswith("__")):
            return _package_of(_imported_module(".".join(parts[:k])))
    return None


def test_every_top_level_module_has_a_layer():
    tops = {m.split(".")[1] for m in MODULES if "." in m}
    assert sorted(tops - set(LAYERS)) == [], "place these in LAYERS (tests/test_import_graph.py)"


def test_imports_never_go_to_a_higher_layer():
    bad = []
    for module in MODULES:
        for name, line in imports_of(module):
            target = _imported_module(name)
            if layer_of(target) > layer_of(module):
                bad.append(f"{module}:{line} imports {name} (layer {layer_of(target)} > {layer_of(module)})")
    assert bad == []


def test_private_names_stay_in_their_package():
    bad = []
    for module in MODULES:
        for name, line in imports_of(module):
            owner = _private_owner(name)
            if owner is None or module == owner or module.startswith(owner + "."):
                continue
            if (module, name) not in ALLOWED_PRIVATE:
                bad.append(f"{module}:{line} imports {name}, private to {owner}")
    assert bad == []


def test_the_rules_catch_what_they_should():
    """The checks above would fail on the patterns they forbid (guards against a vacuous pass)."""
    assert layer_of("ganglion.autograd.function") < layer_of("ganglion.ops.shape") < layer_of("ganglion.keras.layers")
    assert layer_of("ganglion") > layer_of("ganglion.keras")
    assert _private_owner("ganglion.ops._util.as_operand") == "ganglion.ops"
    assert _private_owner("ganglion.ops.indexing._helper") == "ganglion.ops"
    assert _private_owner("ganglion.ops.indexing") is None
    assert _private_owner("ganglion.__version__") is None
    assert any(name == "ganglion.tensor.Tensor" for name, _ in imports_of("ganglion.ops.arithmetic"))
