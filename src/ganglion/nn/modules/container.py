"""Containers: ``Sequential`` chains modules; ``ModuleList`` and ``ModuleDict`` hold modules so that their
parameters are registered, without running them."""

from collections import OrderedDict

from ..module import Module


def _check_module(container, value, where):
    if not isinstance(value, Module):
        raise TypeError(f"{container}: {where} must be a Module, got {type(value).__name__}")
    return value


class _IndexedModules(Module):
    """Shared by Sequential and ModuleList: children named "0", "1", ... kept numbered in order."""

    def _renumber(self, modules):
        """Replace all children by ``modules``, named by position (as PyTorch does after a deletion)."""
        for name in list(self._modules):
            self.__dict__.pop(name, None)
        self._modules.clear()
        for i, m in enumerate(modules):
            self.add_module(str(i), m)

    def _index(self, idx):
        n = len(self._modules)
        if not isinstance(idx, int):
            raise TypeError(f"{type(self).__name__} indices must be integers or slices, not {type(idx).__name__}")
        if not -n <= idx < n:
            raise IndexError(f"{type(self).__name__}: index {idx} is out of range for {n} modules")
        return idx % n

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, idx):
        modules = list(self._modules.values())
        if isinstance(idx, slice):
            return type(self)(*modules[idx]) if isinstance(self, Sequential) else ModuleList(modules[idx])
        return modules[self._index(idx)]

    def __setitem__(self, idx, module):
        name = list(self._modules)[self._index(idx)]
        self.add_module(name, _check_module(type(self).__name__, module, "item"))

    def __delitem__(self, idx):
        modules = list(self._modules.values())
        if isinstance(idx, slice):
            del modules[idx]
        else:
            del modules[self._index(idx)]
        self._renumber(modules)

    def append(self, module):
        """Add ``module`` at the end."""
        self.add_module(str(len(self)), _check_module(type(self).__name__, module, "appended value"))
        return self

    def extend(self, modules):
        for m in modules:
            self.append(m)
        return self

    def insert(self, index, module):
        """Insert ``module`` before position ``index``."""
        modules = list(self._modules.values())
        modules.insert(index, _check_module(type(self).__name__, module, "inserted value"))
        self._renumber(modules)

    def pop(self, index=-1):
        module = self[index]
        del self[index]
        return module

    def __dir__(self):
        return [k for k in super().__dir__() if not k.isdigit()]


class Sequential(_IndexedModules):
    """Run modules in order, each one's output feeding the next.

    ``Sequential(Linear(4, 8), ReLU(), Linear(8, 3))``, or ``Sequential(OrderedDict(name=module, ...))`` to name
    the layers. Indexing, slicing (a new Sequential sharing the layers), ``append``, ``insert``, ``extend``, ``del``.
    """

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, m in modules[0].items():
                self.add_module(name, _check_module("Sequential", m, f"entry {name!r}"))
        else:
            for i, m in enumerate(modules):
                self.add_module(str(i), _check_module("Sequential", m, f"argument {i}"))

    def forward(self, x):
        for m in self._modules.values():
            x = m(x)
        return x

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return Sequential(OrderedDict(list(self._modules.items())[idx]))
        return super().__getitem__(idx)

    def __add__(self, other):
        if not isinstance(other, Sequential):
            raise TypeError(f"can only add a Sequential to a Sequential, got {type(other).__name__}")
        return Sequential(*self, *other)


class ModuleList(_IndexedModules):
    """A list of modules whose parameters are registered (``for layer in self.layers: x = layer(x)``)."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __iadd__(self, modules):
        return self.extend(modules)

    def __add__(self, other):
        return ModuleList(list(self) + list(other))

    def forward(self, *args):
        raise TypeError("ModuleList is not callable: iterate over it and call its modules")

    def __repr__(self):
        """Runs of identical children are shown once, as PyTorch does: ``(0-2): 3 x Linear(...)``."""
        if not self._modules:
            return "ModuleList()"
        lines, run = [], []
        for i, m in enumerate(self._modules.values()):
            text = repr(m).replace("\n", "\n  ")
            if run and run[-1][1] == text:
                run.append((i, text))
                continue
            lines.extend(_render_run(run))
            run = [(i, text)]
        lines.extend(_render_run(run))
        return "ModuleList(\n  " + "\n  ".join(lines) + "\n)"


def _render_run(run):
    if not run:
        return []
    (first, text), last = run[0], run[-1][0]
    return [f"({first}): {text}"] if first == last else [f"({first}-{last}): {len(run)} x {text}"]


class ModuleDict(Module):
    """A dict of modules whose parameters are registered, in insertion order."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        try:
            return self._modules[key]
        except KeyError:
            raise KeyError(f"ModuleDict has no module {key!r}; keys are {list(self._modules)}") from None

    def __setitem__(self, key, module):
        self.add_module(key, _check_module("ModuleDict", module, f"value for {key!r}"))

    def __delitem__(self, key):
        self[key]
        delattr(self, key)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()

    def update(self, modules):
        """Add (name, module) pairs from a mapping or an iterable of pairs."""
        items = modules.items() if hasattr(modules, "items") else modules
        for pair in items:
            if len(pair) != 2:
                raise ValueError(f"ModuleDict.update expects (name, module) pairs, got {pair!r}")
            self[pair[0]] = pair[1]

    def pop(self, key):
        module = self[key]
        del self[key]
        return module

    def clear(self):
        for key in list(self._modules):
            del self[key]

    def forward(self, *args):
        raise TypeError("ModuleDict is not callable: look up its modules by name and call them")
