"""Run a PyTorch or Keras program twice: as written, and with only its import statements switched to ganglion.

A program is a file ``prog_*.py`` in this folder whose ``main()`` returns a dict of plain numbers (accuracy, loss,
largest difference, ...). ``run_program(path, "reference")`` executes it unchanged (Keras on its torch backend);
``run_program(path, "ganglion")`` first rewrites its import nodes by the table ``MODULES``:

    import torch                        ->  import ganglion as torch
    import torch.nn as nn               ->  import ganglion.nn as nn
    from torch.utils.data import X      ->  from ganglion.data import X
    from torch.utils import data        ->  import ganglion.data as data
    import keras / from keras import X  ->  import ganglion.keras as keras / from ganglion.keras import X

and refuses (``RewriteError``, before running anything) a program that reaches the original framework in a way the
import rewrite cannot follow: an attribute path such as ``torch.utils.data.DataLoader`` whose ganglion spelling is
not the same path under the renamed root, a framework name used without importing it, ``__import__`` /
``importlib.import_module`` / ``exec`` / ``eval``, or a string naming a framework module. After the run it checks that
no name in the program's namespace still holds a torch or keras object.
"""

import ast
import contextlib
import os
import pathlib
import re
import sys
import time
import types

# Original module -> ganglion module; a dotted name maps by its longest listed prefix (torch.nn.utils.rnn ->
# ganglion.nn.utils.rnn through "torch").
MODULES = {
    "torch": "ganglion",
    "torch.utils.data": "ganglion.data",
    "keras": "ganglion.keras",
}
FRAMEWORKS = frozenset(name for name in MODULES if "." not in name)
FACES = ("reference", "ganglion")
_DYNAMIC_BUILTINS = {"__import__", "exec", "eval", "compile"}  # called by bare name; model.compile(...) is fine
_FRAMEWORK_STRING = re.compile(r"^(%s)(\.|$)" % "|".join(sorted(FRAMEWORKS)))


class RewriteError(Exception):
    """The program uses the original framework in a way that switching its imports cannot cover."""


def translate(dotted):
    """The ganglion module path for an original one, by the longest prefix in ``MODULES``: ``"torch.nn.utils.rnn"``
    -> ``"ganglion.nn.utils.rnn"``, ``"torch.utils.data.Subset"`` -> ``"ganglion.data.Subset"``."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        prefix = ".".join(parts[:cut])
        if prefix in MODULES:
            return ".".join([MODULES[prefix], *parts[cut:]])
    return dotted


def _is_framework(module):
    return module is not None and module.split(".")[0] in FRAMEWORKS


class _ImportRewriter(ast.NodeTransformer):
    """Replaces framework import nodes by their ganglion spelling and records what each bound name stands for."""

    def __init__(self):
        self.bound = {}  # name in the program -> the original dotted path it was bound to

    def visit_Import(self, node):
        if not any(_is_framework(alias.name) for alias in node.names):
            return node
        out = []
        for alias in node.names:
            if not _is_framework(alias.name):
                out.append(ast.Import(names=[alias]))
            elif alias.asname:  # import torch.nn as nn -> import ganglion.nn as nn
                self.bound[alias.asname] = alias.name
                out.append(ast.Import(names=[ast.alias(translate(alias.name), alias.asname)]))
            else:  # import torch.nn binds "torch": load the submodule, then bind the root under its old name
                root = alias.name.split(".")[0]
                self.bound[root] = root
                if "." in alias.name:
                    out.append(ast.Import(names=[ast.alias(translate(alias.name))]))
                out.append(ast.Import(names=[ast.alias(translate(root), root)]))
        return [ast.copy_location(new, node) for new in out]

    def visit_ImportFrom(self, node):
        if node.level or not _is_framework(node.module):
            return node
        if any(alias.name == "*" for alias in node.names):
            raise RewriteError(f"line {node.lineno}: 'from {node.module} import *' hides which names it uses")
        base = translate(node.module)
        kept, out = [], []
        for alias in node.names:
            name = alias.asname or alias.name
            original = f"{node.module}.{alias.name}"
            self.bound[name] = original
            if translate(original) == f"{base}.{alias.name}":
                kept.append(alias)
            else:  # from torch.utils import data -> import ganglion.data as data
                out.append(ast.Import(names=[ast.alias(translate(original), name)]))
        if kept:
            out.insert(0, ast.ImportFrom(module=base, names=kept, level=0))
        return [ast.copy_location(new, node) for new in out]


def _attribute_path(node):
    """``a.b.c`` -> ("a", ["b", "c"]); None when the chain does not start at a plain name."""
    attrs = []
    while isinstance(node, ast.Attribute):
        attrs.append(node.attr)
        node = node.value
    return (node.id, attrs[::-1]) if isinstance(node, ast.Name) else None


def _check_uses(tree, bound, filename):
    """Raise RewriteError where code outside the import lines reaches the framework past the rewrite."""
    problems = []
    for node in ast.walk(tree):
        where = f"{filename}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Attribute) and not isinstance(getattr(node, "parent", None), ast.Attribute):
            path = _attribute_path(node)
            if path and path[0] in bound:
                original = ".".join([bound[path[0]], *path[1]])
                renamed = ".".join([translate(bound[path[0]]), *path[1]])
                if translate(original) != renamed:
                    problems.append(f"{where}: {original} would become {renamed}, but ganglion spells it "
                                    f"{translate(original)}; import it by name instead")
        elif isinstance(node, ast.Name) and node.id in FRAMEWORKS and node.id not in bound:
            problems.append(f"{where}: '{node.id}' is used but never imported")
        elif isinstance(node, ast.Call):
            func = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
            if (func in _DYNAMIC_BUILTINS and isinstance(node.func, ast.Name)) or func == "import_module":
                problems.append(f"{where}: {func}(...) can reach a framework that the import rewrite never sees")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and _FRAMEWORK_STRING.match(node.value):
            problems.append(f"{where}: the string {node.value!r} names a framework module")
    if problems:
        raise RewriteError("program cannot be switched to ganglion by its imports alone:\n  " + "\n  ".join(problems))


def rewrite(source, filename="<program>"):
    """The program's module AST with its framework imports switched to ganglion (see the module docstring)."""
    tree = ast.parse(source, filename)
    rewriter = _ImportRewriter()
    tree = ast.fix_missing_locations(rewriter.visit(tree))
    for parent in ast.walk(tree):
        for child in ast.iter_child_nodes(parent):
            child.parent = parent
    _check_uses(tree, rewriter.bound, filename)
    return tree


def _framework_leftovers(namespace):
    """Names in the executed program that still hold a torch or keras module, class or function."""
    leftovers = []
    for name, value in namespace.items():
        owner = value.__name__ if isinstance(value, types.ModuleType) else getattr(value, "__module__", None)
        if isinstance(owner, str) and _is_framework(owner):
            leftovers.append(f"{name} -> {owner}")
    return leftovers


def use_keras_torch_backend():
    """Keras reads KERAS_BACKEND once, when first imported: set it to torch before that happens, or say why not."""
    keras = sys.modules.get("keras")
    if keras is None:
        os.environ["KERAS_BACKEND"] = "torch"
    elif keras.backend.backend() != "torch":
        raise RuntimeError(f"keras was imported with the {keras.backend.backend()!r} backend before the programs "
                           "ran; run them with KERAS_BACKEND=torch")


@contextlib.contextmanager
def _one_math_thread(face):
    """PyTorch's intra-op pool (reference runs) and NumPy's BLAS (both runs, through threadpoolctl where installed)
    on one thread while a program runs. The programs are many tiny steps, which thread pools slow down several-fold
    when the machine's cores are busy (both frameworks measured 3x slower on a loaded two-core machine)."""
    with contextlib.ExitStack() as stack:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # a scikit-learn dependency; without it BLAS keeps its threads
            pass
        else:
            stack.enter_context(threadpool_limits(limits=1, user_api="blas"))
        if face == "reference":
            import torch

            threads = torch.get_num_threads()
            torch.set_num_threads(1)
            stack.callback(torch.set_num_threads, threads)
        yield


def run_program(path, face):
    """Execute the program at ``path`` as written (face "reference") or switched to ganglion (face "ganglion") in a
    fresh namespace; return (what its main() returned, seconds main() took, its imports not counted)."""
    if face not in FACES:
        raise ValueError(f"run_program: face must be one of {FACES}, got {face!r}")
    path = pathlib.Path(path)
    source = path.read_text(encoding="utf-8")
    if face == "reference":
        use_keras_torch_backend()
        tree = ast.parse(source, str(path))
    else:
        tree = rewrite(source, str(path))
    namespace = {"__name__": f"program_{path.stem}", "__file__": str(path)}
    with _one_math_thread(face):
        exec(compile(tree, str(path), "exec"), namespace)
        if face == "ganglion" and (leftovers := _framework_leftovers(namespace)):
            raise RewriteError(f"{path.name} still reaches the original framework: {', '.join(leftovers)}")
        start = time.perf_counter()
        results = namespace["main"]()
    seconds = time.perf_counter() - start
    if not isinstance(results, dict) or not all(isinstance(k, str) for k in results):
        raise TypeError(f"{path.name}: main() must return a dict keyed by str, got {type(results).__name__}")
    return results, seconds

