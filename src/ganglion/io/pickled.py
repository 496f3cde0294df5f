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


def refuse_pickled(stream, where):
    """ValueError naming ``where`` if ``stream`` (at its start, left anywhere after) holds a pickle or a zip
    archive rather than safetensors; nothing otherwise. Reads at most 286 bytes."""
    head = stream.read(30)
    if head.startswith(ZIP_MAGIC) and len(head) == 30:
        name_length = int.from_bytes(head[26:28], "little")
        first = stream.read(min(name_length, 256))
        if first == b"data.pkl" or first.endswith(b"/data.pkl"):
            raise ValueError(f"load: {where!r} is a pickled PyTorch file (torch.save's zip archive with data.pkl). "
                             + _ADVICE)
        raise ValueError(f"load: {where!r} is a zip archive, not a safetensors file (a .keras model loads with "
                         "ganglion.keras.models.load_model)")
    if len(head) > 8 and head[0] == 0x80 and 2 <= head[1] <= 5 and head[8:9] != b"{":
        raise ValueError(f"load: {where!r} is a pickled PyTorch file (a pickle of protocol {head[1]}). " + _ADVICE)
