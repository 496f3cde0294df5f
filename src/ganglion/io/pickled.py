"""Telling a pickled PyTorch file from a safetensors one by its first bytes, to refuse it with advice.

``torch.save`` writes a zip archive whose first member is ``<name>/data.pkl`` (or, before PyTorch 1.6 and with
``_use_new_zipfile_serialization=False``, a bare pickle starting with the protocol opcode ``0x80`` and the protocol
number). Unpickling runs whatever code the file names, so ganglion never does it; it says how to convert instead
(``ganglion convert``, ``ganglion.vision.convert``).
A safetensors file starts with an 8-byte header length and then ``{``, which neither of those has at byte 8.
"""

ZIP_MAGIC = b"PK\x03\x04"
_ADVICE = ("ganglion never unpickles, because unpickling can run any code the file contains. Convert it once with "
           "`ganglion convert model.pth model.safetensors` (PyTorch is needed for that step only), or in PyTorch: "
           "`from safetensors.torch import save_file; save_file(model.state_dict(), \"model.safetensors\")`; then "
           "`ganglion.load(\"model.safetensors\")`")


def _pytorch_kind(stream):
    """What ``stream`` (at its start) holds, by its first bytes: "zip-pickle", "pickle", "zip" or None."""
    head = stream.read(30)
    if head.startswith(ZIP_MAGIC) and len(head) == 30:
        name_length = int.from_bytes(head[26:28], "little")
        first = stream.read(min(name_length, 256))
        return "zip-pickle" if first == b"data.pkl" or first.endswith(b"/data.pkl") else "zip"
    if len(head) > 8 and head[0] == 0x80 and 2 <= head[1] <= 5 and head[8:9] != b"{":
        return "pickle"
    return None


def _pickled_message(op, where, kind):
    what = "torch.save's zip archive with data.pkl" if kind == "zip-pickle" else "a pickle"
    return f"{op}: {where!r} is a pickled PyTorch file ({what}). " + _ADVICE


def refuse_pickled(stream, where):
    """ValueError naming ``where`` if ``stream`` (at its start, left anywhere after) holds a pickle or a zip
    archive rather than safetensors; nothing otherwise. Reads at most 286 bytes."""
    kind = _pytorch_kind(stream)
    if kind == "zip":
        raise ValueError(f"load: {where!r} is a zip archive, not a safetensors file (a .keras model loads with "
                         "ganglion.keras.models.load_model)")
    if kind is not None:
        raise ValueError(_pickled_message("load", where, kind))


def refuse_pytorch_file(path, op):
    """ValueError naming ``op`` and ``path`` if the file is a pickled PyTorch file (``torch.save``), with how to
    convert it; nothing otherwise (other zips, such as .keras models, are the caller's to read)."""
    try:
        with open(path, "rb") as stream:
            kind = _pytorch_kind(stream)
    except OSError:
        return  # the caller's own open reports a missing or unreadable file
    if kind in ("zip-pickle", "pickle"):
        raise ValueError(_pickled_message(op, str(path), kind))
