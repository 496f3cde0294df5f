"""ganglion's own safetensors reader: round trips of every dtype it reads, the tensor list taken from the header
(never from the ganglion.keys metadata), and a table of malformed headers, each a ValueError naming the file and
the tensor or field, raised before any tensor is allocated."""

import json
import struct
import tracemalloc

import numpy as np
import pytest

import ganglion
from ganglion.io import load, load_with_metadata, save


def _write(path, header, data=b"", length=None):
    """A safetensors file from a header (dict, or raw bytes) and data; ``length`` overrides the length field."""
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw) if length is None else length) + raw + data)
    return path


def _entry(dtype, shape, begin, end):
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}


def test_round_trip_keeps_order_dtypes_and_shapes(tmp_path):
    tensors = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "step": np.array(7, dtype=np.int64),
               "empty": np.zeros((0, 4), dtype=np.float16), "mask": np.array([True, False]),
               "b": np.arange(3, dtype=np.float64), "u": np.arange(4, dtype=np.uint16).reshape(2, 2)}
    save(tensors, tmp_path / "t.safetensors", metadata={"a": [1]})
    loaded, meta = load_with_metadata(tmp_path / "t.safetensors")
    assert list(loaded) == list(tensors) and meta == {"a": [1]}
    for name, array in tensors.items():
        assert loaded[name].dtype == array.dtype and loaded[name].shape == array.shape
        np.testing.assert_array_equal(loaded[name].numpy(), array)


def test_files_from_other_tools_load_in_name_order(tmp_path):
    data = np.arange(2, dtype="<f4").tobytes() + np.arange(3, dtype="<i4").tobytes()
    path = _write(tmp_path / "other.safetensors",
                  {"zeta": _entry("F32", [2], 0, 8), "alpha": _entry("I32", [3], 8, 20)}, data)
    loaded = load(path)
    assert list(loaded) == ["alpha", "zeta"]
    np.testing.assert_array_equal(loaded["alpha"].numpy(), [0, 1, 2])


def test_crafted_key_metadata_cannot_hide_a_tensor(tmp_path):
    data = np.ones(2, dtype="<f4").tobytes() * 2
    header = {"__metadata__": {"ganglion.keys": json.dumps(["a"])},
              "a": _entry("F32", [2], 0, 8), "hidden": _entry("F32", [2], 8, 16)}
    path = _write(tmp_path / "crafted.safetensors", header, data)
    with pytest.raises(ValueError, match=r"crafted\.safetensors.*ganglion\.keys.*not listed: \['hidden'\]"):
        load(path)


_GOOD = {"w": _entry("F32", [2], 0, 8)}
_DATA = b"\x00" * 8


@pytest.mark.parametrize("header, data, length, pattern", [
    (b"", b"", 2**60, r"claims 1152921504606846976 bytes but only 0 follow"),
    (b"{}" + b" " * 6, b"", 10**6, r"claims 1000000 bytes but only 8 follow"),
    (b"[1, 2]", b"", None, r"header is not a JSON object"),
    (b"{not json", b"", None, r"not valid JSON"),
    (b'{"w": ' * 3000 + b"1" + b"}" * 3000, b"", None, r"nested too deeply|nests"),
    (b'{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "w": {}}', _DATA, None, r"duplicate key 'w'"),
    ({"w": _entry("BF16", [4], 0, 8)}, _DATA, None, r"tensor 'w': dtype 'BF16' is not one ganglion reads"),
    ({"w": _entry(7, [2], 0, 8)}, _DATA, None, r"tensor 'w': dtype 7"),
    ({"w": _entry("F32", [-2], 0, 8)}, _DATA, None, r"tensor 'w': shape must be a list of non-negative"),
    ({"w": _entry("F32", "2", 0, 8)}, _DATA, None, r"tensor 'w': shape must be a list"),
    ({"w": _entry("F32", [True, 2], 0, 8)}, _DATA, None, r"tensor 'w': shape must be a list of non-negative"),
    ({"w": _entry("F32", [1] * 65, 0, 4)}, b"\x00" * 4, None, r"tensor 'w': shape has 65 dimensions"),
    ({"w": _entry("F32", [2], 0, 80)}, _DATA, None, r"tensor 'w': data_offsets \[0, 80\] lie outside the 8"),
    ({"w": _entry("F32", [2], -8, 0)}, _DATA, None, r"tensor 'w': data_offsets \[-8, 0\] lie outside"),
    ({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0]}}, _DATA, None, r"tensor 'w': data_offsets must be"),
    ({"w": {"dtype": "F32", "shape": [2]}}, _DATA, None, r"tensor 'w': field 'data_offsets' is missing"),
    ({"w": [1, 2]}, _DATA, None, r"tensor 'w': expected an object"),
    ({"w": _entry("F32", [3], 0, 8)}, _DATA, None, r"tensor 'w': shape \[3\] of F32 needs 12 bytes"),
    ({"w": _entry("F32", [2**40, 2**40], 0, 8)}, _DATA, None, r"tensor 'w': shape .* is too large|needs"),
    ({"a": _entry("F32", [2], 0, 8), "b": _entry("F32", [1], 4, 8)}, _DATA, None, r"'a' and 'b' overlap"),
    ({"a": _entry("F32", [1], 4, 8)}, _DATA, None, r"bytes \[0, 4\) of the data belong to no tensor"),
    ({"a": _entry("F32", [1], 0, 4)}, _DATA, None, r"bytes \[4, 8\) of the data belong to no tensor"),
    ({"__metadata__": {"k": 1}, **_GOOD}, _DATA, None, r"__metadata__ field 'k' must be a string"),
    ({"__metadata__": [], **_GOOD}, _DATA, None, r"__metadata__ must be an object"),
    ({"__metadata__": {"ganglion.keys": "[1]"}, **_GOOD}, _DATA, None, r"ganglion\.keys' must be a list of"),
    ({"__metadata__": {"ganglion.keys": '["w", "w"]'}, **_GOOD}, _DATA, None, r"ganglion\.keys' does not list"),
    ({"__metadata__": {"ganglion": "{oops"}, **_GOOD}, _DATA, None, r"metadata field 'ganglion' is not valid JSON"),
    ({"__metadata__": {"ganglion": "[" * 500 + "]" * 500}, **_GOOD}, _DATA, None,
     r"'ganglion' nests lists and objects 500 deep"),
])
def test_malformed_headers_name_the_file_and_the_tensor(tmp_path, header, data, length, pattern):
    path = _write(tmp_path / "bad.safetensors", header, data, length)
    with pytest.raises(ValueError, match=r"'[^']*bad\.safetensors' is not a valid safetensors file .*" + pattern):
        load(path)


def test_too_short_and_truncated_files(tmp_path):
    (tmp_path / "short.safetensors").write_bytes(b"\x01\x02")
    with pytest.raises(ValueError, match=r"short\.safetensors.*2 bytes, fewer than the 8"):
        load(tmp_path / "short.safetensors")
    save({"w": ganglion.ones(100)}, tmp_path / "cut.safetensors")
    raw = (tmp_path / "cut.safetensors").read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(raw[:-10])
    with pytest.raises(ValueError, match=r"cut\.safetensors.*belong to no tensor|lie outside"):
        load(tmp_path / "cut.safetensors")


def test_a_header_claiming_huge_tensors_allocates_nothing(tmp_path):
    header = {"big": _entry("F64", [50_000, 50_000], 0, 8 * 50_000 * 50_000)}
    path = _write(tmp_path / "huge.safetensors", header, b"\x00" * 64)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"tensor 'big': data_offsets .* lie outside the 64 bytes"):
            load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000
