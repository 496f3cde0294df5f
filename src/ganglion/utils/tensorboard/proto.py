"""The few protobuf messages a TensorBoard event file holds, encoded by hand (no protobuf dependency).

Field numbers are those of ``tensorboard/compat/proto`` (``event.proto``, ``summary.proto``, ``histogram.proto``):

    Event          wall_time: double = 1, step: int64 = 2, file_version: string = 3, summary: Summary = 5,
                   session_log: SessionLog = 7
    SessionLog     status: enum = 1 (START = 1)
    Summary        value: repeated Value = 1
    Summary.Value  tag: string = 1, simple_value: float = 2, histo: HistogramProto = 5   (the last two a oneof)
    HistogramProto min = 1, max = 2, num = 3, sum = 4, sum_squares = 5 (doubles),
                   bucket_limit = 6, bucket = 7 (packed repeated doubles)

Encoding follows proto3 as protobuf's own serializer does: scalar fields at their default (0, empty) are left out,
except members of a oneof, which are written whenever set. So the bytes equal ``SerializeToString()``'s."""

import struct

# Wire types.
_VARINT, _FIXED64, _LENGTH_DELIMITED, _FIXED32 = 0, 1, 2, 5

SESSION_START = 1


def _varint(value):
    """Base-128 varint; a negative int64 is written as its 64-bit two's complement (10 bytes), as protobuf does."""
    value &= 0xFFFFFFFFFFFFFFFF
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _key(field, wire_type):
    return _varint((field << 3) | wire_type)


def _double(field, value, always=False):
    if value == 0 and not always:
        return b""
    return _key(field, _FIXED64) + struct.pack("<d", value)


def _int64(field, value):
    if value == 0:
        return b""
    return _key(field, _VARINT) + _varint(int(value))


def _bytes(field, payload, always=False):
    if not payload and not always:
        return b""
    return _key(field, _LENGTH_DELIMITED) + _varint(len(payload)) + payload


def _packed_doubles(field, values):
    values = list(values)
    if not values:
        return b""
    return _bytes(field, struct.pack(f"<{len(values)}d", *values))


def histogram_proto(min, max, num, sum, sum_squares, bucket_limit, bucket):  # noqa: A002 (the proto's names)
    """A ``HistogramProto``: summary statistics and buckets; bucket ``i`` counts values in
    ``(bucket_limit[i-1], bucket_limit[i]]``."""
    return (_double(1, min) + _double(2, max) + _double(3, num) + _double(4, sum) + _double(5, sum_squares)
            + _packed_doubles(6, bucket_limit) + _packed_doubles(7, bucket))


def scalar_value(tag, value):
    """A ``Summary.Value`` holding ``simple_value`` (a 32-bit float, as TensorBoard stores it)."""
    return _bytes(1, tag.encode("utf-8")) + _key(2, _FIXED32) + struct.pack("<f", value)


def histogram_value(tag, histogram):
    """A ``Summary.Value`` holding ``histo``: ``histogram`` is the bytes of a ``histogram_proto``."""
    return _bytes(1, tag.encode("utf-8")) + _bytes(5, histogram, always=True)


def summary(values):
    """A ``Summary`` message from encoded ``Summary.Value`` messages."""
    return b"".join(_bytes(1, value, always=True) for value in values)


def event(wall_time, step=0, file_version=None, summary=None, session_status=None):  # noqa: A002
    """An ``Event``: ``wall_time`` seconds since the epoch, ``step``, and one of a file-version string, a
    ``Summary`` (encoded bytes) or a session log status (such as ``SESSION_START``)."""
    out = _double(1, wall_time) + _int64(2, step)
    if file_version is not None:
        out += _bytes(3, file_version.encode("utf-8"), always=True)
    if summary is not None:
        out += _bytes(5, summary, always=True)
    if session_status is not None:
        out += _bytes(7, _int64(1, session_status), always=True)
    return out
