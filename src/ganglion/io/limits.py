"""The bounds that loading enforces, in one place. A file is read only as far as these allow, so a small hostile
file cannot make a loader allocate much more than the file itself, recurse without end, or run code.

Why these numbers:

- ``MAX_HEADER_BYTES``: a safetensors header is JSON describing the tensors (about 100 bytes each) plus ganglion's
  metadata (the architecture). 16 MiB holds some 150,000 tensors; parsing it costs Python a few times that. The
  reference implementation allows 100 MB, which is more than any model file ganglion writes needs and lets a file
  make the parser build hundreds of MB of Python objects.
- ``MAX_JSON_DEPTH``: real configs nest a few levels per nested model (ganglion's deepest, a functional call's
  reference inside a nested model, is about 12); 128 leaves room for models nested dozens deep while staying far
  below Python's recursion limit (1000) for the parser and the loaders that walk the result.
- ``MAX_TENSOR_DIMS``: NumPy's own limit (64).
- ``MAX_COMPRESSION_RATIO`` and ``RATIO_FREE_BYTES``: deflate gets about 1.1x on trained float weights and 10-30x on
  JSON configs; a zip bomb gets about 1000x. A member may decompress to at most 100 times its compressed size, or to
  16 MiB whatever its ratio (so small files of zeros, such as freshly zero-initialised weights, always load).
- ``MAX_CONFIG_BYTES`` / ``MAX_METADATA_BYTES``: a ``.keras`` config is about 1 KB per layer (32 MiB: tens of
  thousands of layers); its metadata is under 100 bytes.
- ``OPTIMIZER_STATE_FACTOR`` / ``OPTIMIZER_STATE_SLACK``: an optimizer keeps at most a few tensors per weight (Adam
  with amsgrad: 3) plus a scalar step each; its saved state may take at most 8 times the weights' bytes plus 1 MiB.
- ``MAX_INPUT_ELEMENTS``: loading a ``.keras`` model runs each layer once on a zero batch of its recorded input
  shape; one sample may hold at most 2^26 values (256 MiB of float32: a 4096 x 4096 x 4 image).
- ``STALE_TEMP_SECONDS``: a temporary file left by a save is removed by a later save of the same file once it is
  this old and no live save holds its lock.
"""

MAX_HEADER_BYTES = 16 * 2**20
MAX_JSON_DEPTH = 128
MAX_TENSOR_DIMS = 64

MAX_COMPRESSION_RATIO = 100
RATIO_FREE_BYTES = 16 * 2**20
MAX_CONFIG_BYTES = 32 * 2**20
MAX_METADATA_BYTES = 2**20
OPTIMIZER_STATE_FACTOR = 8
OPTIMIZER_STATE_SLACK = 2**20
MAX_INPUT_ELEMENTS = 2**26

STALE_TEMP_SECONDS = 60

READ_CHUNK_BYTES = 2**20  # the most a bounded reader asks a stream for at once
