"""Fine-tuning a trained network on a new task: freeze its early layers, give it a new head, and train the head
faster than the rest.

    freeze(model, until="layer3")          # every module defined before model.layer3 stops learning
    head = replace_head(model, 5)          # a fresh Linear(in_features, 5) as model.fc / model.classifier
    optimizer = optim.SGD(param_groups(model, backbone_lr=1e-3, head_lr=1e-2), momentum=0.9)

A frozen part is a set of modules, chosen by name (``names=``, dotted prefixes such as ``"layer1"`` or
``"features.0"``, or the modules themselves) or by position (``until=``: every module that comes before that one
in definition order, its ancestors excepted). Freezing sets ``requires_grad=False`` on their parameters, and keeps
their batch-norm layers in evaluation mode through later ``model.train()`` calls (see ``Module.train``): the
running statistics learnt on the old data are what the frozen weights after them expect.
"""

from ...arguments import positive_int
from ..module import Module
from ..modules.container import Sequential
from ..modules.linear import Linear
from ..modules.normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d

HEAD_NAMES = ("fc", "classifier")


def _module_names(model):
    """{id(module): name} over ``model`` and its descendants, in definition order."""
    return {id(m): name for name, m in model.named_modules()}


def _name_of(model, target, argument):
    if isinstance(target, Module):
        name = _module_names(model).get(id(target))
        if name is None:
            raise ValueError(f"{argument}: the {type(target).__name__} given is not a submodule of the model")
        return name
    if not isinstance(target, str):
        raise TypeError(f"{argument}: expected a submodule's name or the submodule, got {type(target).__name__}")
    known = dict(model.named_modules())
    if target not in known or target == "":
        children = [name for name, _ in model.named_children()]
        raise ValueError(f"{argument}: the model has no submodule {target!r}; its children are {children}")
    return target


def _inside(name, prefix):
    return name == prefix or name.startswith(prefix + ".")


def select_modules(model, until=None, names=None):
    """[(name, module)] of the part ``until`` / ``names`` describe (see the module docstring); the whole model when
    neither is given."""
    if until is not None and names is not None:
        raise ValueError("freeze/unfreeze: give until= or names=, not both")
    modules = list(model.named_modules())
    if until is not None:
        stop = _name_of(model, until, "until")
        position = next(i for i, (name, _) in enumerate(modules) if name == stop)
        return [(name, m) for name, m in modules[:position] if not (name == "" or _inside(stop, name))]
    if names is not None:
        if isinstance(names, (str, Module)):
            names = [names]
        prefixes = [_name_of(model, n, "names") for n in names]
        return [(name, m) for name, m in modules if any(_inside(name, p) for p in prefixes)]
    return modules


def _set_frozen(model, until, names, frozen):
    touched = []
    for name, module in select_modules(model, until, names):
        for param_name, param in module._parameters.items():
            if param is not None:
                param.requires_grad_(not frozen)
                touched.append(f"{name}.{param_name}" if name else param_name)
        if isinstance(module, (BatchNorm1d, BatchNorm2d, BatchNorm3d)):
            module.__dict__["_keep_eval"] = frozen
            if frozen:
                module.__dict__["training"] = False
            else:
                module.__dict__["training"] = model.training
    return touched


def freeze(model, until=None, names=None):
    """Stop training part of ``model`` (all of it by default): ``until`` (a child's dotted name or the module)
    freezes every module defined before it; ``names`` (dotted prefixes or modules) freezes those subtrees. Batch
    norms inside stay in evaluation mode even when ``model.train()`` is called. Returns the names of the parameters
    frozen."""
    return _set_frozen(model, until, names, True)


def unfreeze(model, until=None, names=None):
    """Undo ``freeze`` for the part chosen the same way (all of ``model`` by default): parameters train again and
    batch norms follow ``model.train()`` / ``eval()`` again (they take the model's current mode now). Returns the
    names of the parameters unfrozen."""
    return _set_frozen(model, until, names, False)


def find_head(model):
    """(owner, attribute, Linear): the model's final classifier, ``model.fc`` or ``model.classifier``, or the last
    Linear inside ``model.classifier`` when that is a Sequential."""
    for attribute in HEAD_NAMES:
        head = getattr(model, "_modules", {}).get(attribute)
        if isinstance(head, Linear):
            return model, attribute, head
        if isinstance(head, Sequential):
            for key in reversed(list(head._modules)):
                if isinstance(head._modules[key], Linear):
                    return head, key, head._modules[key]
    raise ValueError(f"replace_head: {type(model).__name__} has no Linear head: expected model.fc or "
                     "model.classifier (a Linear, or a Sequential ending in one); replace the layer yourself with "
                     "setattr(model, name, nn.Linear(in_features, num_classes))")


def replace_head(model, num_classes):
    """Put a freshly initialised ``Linear(in_features, num_classes)`` (with a bias if the old head had one, on its
    device and dtype) where the model's head was (see ``find_head``); returns the new layer."""
    num_classes = positive_int("replace_head", "num_classes", num_classes)
    owner, attribute, old = find_head(model)
    new = Linear(old.in_features, num_classes, bias=old.bias is not None, device=old.weight.device,
                 dtype=old.weight.dtype)
    new.train(old.training)
    # in place, not by setattr: Module.__setattr__ re-registers a child at the end, and the head keeps its position
    # (state_dict order, Sequential order, what ``freeze(until=...)`` counts as coming before)
    owner._modules[attribute] = new
    object.__setattr__(owner, attribute, new)
    return new


def param_groups(model, backbone_lr, head_lr, head=None, **options):
    """Optimizer parameter groups: ``[{"params": backbone, "lr": backbone_lr, **options}, {"params": head, "lr":
    head_lr, **options}]``. ``head``: the head's name or module (default: ``find_head``'s layer). Frozen parameters
    (``requires_grad=False``) are left out, and so is the backbone group when nothing in it trains."""
    if head is None:
        head = find_head(model)[2]
    head_name = _name_of(model, head, "head")
    backbone, head_params = [], []
    for name, param in model.named_parameters():
        if param.requires_grad:
            (head_params if _inside(name, head_name) else backbone).append(param)
    if not head_params:
        raise ValueError(f"param_groups: the head {head_name!r} has no trainable parameter")
    groups = [{"params": backbone, "lr": backbone_lr, **options}] if backbone else []
    return groups + [{"params": head_params, "lr": head_lr, **options}]
