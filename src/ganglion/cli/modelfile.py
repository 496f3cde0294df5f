"""Model files as the commands use them: ``ganglion.io``'s safetensors model file (architecture and weights) whose
``extra`` metadata holds what ``predict`` needs besides the weights: the class names, the input columns and the
preprocessing (``preprocess.py``), with how the model was trained and how it scored.

Where ``train`` writes is settled before training starts: an existing file is never overwritten without ``--force``
(the default path instead takes the next free number: ``models/iris-mlp-2.safetensors``), and a folder that cannot
be written to is reported then, not after the training.
"""

import os
import tempfile

from .errors import CommandError

CLI_FORMAT = 1
PYTORCH_SUFFIXES = (".pth", ".pt", ".bin", ".ckpt")


def numbered(path):
    """``path`` if no file is there, else the first free ``stem-2.ext``, ``stem-3.ext``, ..."""
    if not os.path.exists(path):
        return path
    stem, ext = os.path.splitext(path)
    number = 2
    while os.path.exists(f"{stem}-{number}{ext}"):
        number += 1
    return f"{stem}-{number}{ext}"


def check_writable(path):
    """Create ``path``'s folder if needed and prove a file can be written there; CommandError naming the path
    otherwise. Writes and removes a temporary file, nothing else."""
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise CommandError(f"cannot save the model to {path}: it is a folder; give a file name such as "
                           f"{os.path.join(path, 'model.safetensors')}")
    try:
        os.makedirs(folder, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".ganglion-write-check-"):
            pass
    except OSError as error:
        raise CommandError(f"cannot save the model to {path}: {error.strerror or error} (checked before training)") \
            from None


def resolve_out(out, default, force):
    """The path ``train`` will write: ``out`` (refused if it exists, unless ``force``), or for ``out=None`` the
    ``default`` path, numbered if taken. Returns (path, note for stderr or None)."""
    if out is None:
        path = numbered(default)
        note = None if path == default else f"{default} exists; saving to {path} instead (--out PATH --force " \
                                            "overwrites)"
    else:
        path, note = out, None
        if os.path.exists(out) and not os.path.isdir(out):
            if not force:
                raise CommandError(f"{out} already exists; pass --force to overwrite it, or choose another --out")
            note = f"overwriting {out} (--force)"
    check_writable(path)
    return path, note


def save(model, path, meta):
    from ..io import save_model

    save_model(model, path, extra={"ganglion_cli": CLI_FORMAT, **meta})


def load(path):
    """(model in eval mode, metadata) of a model file ``ganglion train`` wrote; CommandError saying what is wrong
    (missing file, a PyTorch file to convert, a model file without the command's metadata) otherwise."""
    from ..io import load_model
    from ..io.pickled import refuse_pickled
    from . import models  # noqa: F401  (registers the image networks' types with ganglion.io)

    if not os.path.exists(path):
        raise CommandError(f"no model file at {path}")
    if os.path.isdir(path):
        raise CommandError(f"{path} is a folder, not a model file")
    if path.lower().endswith(PYTORCH_SUFFIXES):
        raise CommandError(f"{path} is a PyTorch file; ganglion never unpickles (it could run code). Convert it with "
                           f"`ganglion convert {path} OUT.safetensors` (needs PyTorch for that step only)")
    try:
        with open(path, "rb") as stream:  # a torch.save file under another name: say how to convert it
            refuse_pickled(stream, path)
        model, meta = load_model(path, return_extra=True)
    except (OSError, ValueError) as error:
        raise CommandError(str(error)) from None
    if not isinstance(meta, dict) or meta.get("ganglion_cli") != CLI_FORMAT:
        raise CommandError(f"{path} is a ganglion model file but not one `ganglion train` wrote: it lacks the class "
                           "names and preprocessing the command needs")
    return model, meta
