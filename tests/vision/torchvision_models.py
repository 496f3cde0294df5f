"""torchvision's model definitions as the reference for ``ganglion.vision.models``, without ``import torchvision``.

Why: torchvision 0.28.0 from PyPI installs beside torch 2.13 CPU, but ``import torchvision`` fails there (its
``_meta_registrations.py`` registers fake kernels for C++ operators such as ``torchvision::nms`` that the CPU build
does not load). The files that define the models, ``torchvision/models/{alexnet,vgg,googlenet,resnet}.py``, need
none of that: they are plain ``torch.nn`` code.

How: the installed package's folder is found from its distribution metadata (``importlib.metadata``, which reads
the ``.dist-info`` and imports nothing). Inside a private ``sys.modules`` context, empty package modules
``torchvision``, ``torchvision.models`` and ``torchvision.transforms`` are registered with ``__path__`` pointing at
the real folders, so ``torchvision/__init__.py`` never runs, and the model modules are imported through them. Their
helpers ``models/_api.py``, ``models/_meta.py``, ``models/_utils.py``, ``_utils.py`` and
``_internally_replaced_utils.py`` are pure Python and are imported for real. Two imports are stubbed:
``torchvision.utils`` (only ``_log_api_usage_once`` is used, a telemetry no-op; the real module imports PIL and
drawing code) and ``torchvision.transforms._presets`` (only ``ImageClassification`` is named, in the pretrained
weights' metadata; the real one pulls in the transforms package and its C++ image ops). After loading, every
``torchvision*`` entry is taken back out of ``sys.modules`` (and any that were there before are put back): the
model classes keep their own globals.

How CI gets torchvision: ``torchvision==0.28.0`` is in the ``test`` extra of ``pyproject.toml``; it pins
``torch==2.13.0``, the same torch the extra already pins, so ``pip install -e ".[test]"`` resolves both from the
local wheels (torch 2.13.0+cpu) without pulling another torch. Without torchvision installed, the tests that need it
skip with the reason given by ``load_or_skip``.
"""

import importlib
import importlib.metadata
import sys
import types
from pathlib import Path

MODEL_MODULES = ("alexnet", "vgg", "googlenet", "resnet")
TESTED_VERSION = "0.28.0"

_loaded = None


def torchvision_folder():
    """(folder of the installed torchvision package, its version), or (None, None) when it is not installed."""
    try:
        dist = importlib.metadata.distribution("torchvision")
    except importlib.metadata.PackageNotFoundError:
        return None, None
    folder = Path(dist.locate_file("torchvision"))
    return (folder, dist.version) if (folder / "models").is_dir() else (None, dist.version)


def _package(name, folder):
    module = types.ModuleType(name)
    module.__path__ = [str(folder)]
    module.__package__ = name
    return module


def _stub(name, **attributes):
    module = types.ModuleType(name)
    module.__dict__.update(attributes)
    return module


class _ImageClassificationStub:
    """Stands in for torchvision's ImageClassification preset, named only in pretrained weights' metadata."""

    def __init__(self, *args, **kwargs):
        raise RuntimeError("torchvision_models: the ImageClassification preset is not loaded (tests need none)")


def load():
    """A namespace with torchvision's ``alexnet``, ``vgg``, ``googlenet`` and ``resnet`` model modules, or None
    when torchvision is not installed."""
    global _loaded
    if _loaded is not None:
        return _loaded
    folder, version = torchvision_folder()
    if folder is None:
        return None
    before = {name: module for name, module in sys.modules.items()
              if name == "torchvision" or name.startswith("torchvision.")}
    for name in before:
        del sys.modules[name]
    try:
        sys.modules.update({
            "torchvision": _package("torchvision", folder),
            "torchvision.models": _package("torchvision.models", folder / "models"),
            "torchvision.transforms": _package("torchvision.transforms", folder / "transforms"),
            "torchvision.utils": _stub("torchvision.utils", _log_api_usage_once=lambda obj: None),
            "torchvision.transforms._presets": _stub("torchvision.transforms._presets",
                                                     ImageClassification=_ImageClassificationStub),
        })
        modules = {name: importlib.import_module(f"torchvision.models.{name}") for name in MODEL_MODULES}
    finally:
        for name in [n for n in sys.modules if n == "torchvision" or n.startswith("torchvision.")]:
            del sys.modules[name]
        sys.modules.update(before)
    _loaded = types.SimpleNamespace(version=version, folder=folder, **modules)
    return _loaded


def load_or_skip():
    """``load()``, or skip the calling test with the reason (pytest.skip) when torchvision is not installed."""
    import pytest

    tv = load()
    if tv is None:
        pytest.skip('torchvision is not installed: pip install --no-deps torchvision==0.28.0 (or pip install -e '
                    '".[test]"); it is the reference for ganglion.vision.models')
    return tv
