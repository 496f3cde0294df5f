"""``EventFileWriter``: one TensorBoard event file, written as TFRecords.

A record is framed as TFRecord frames it:

    uint64 length (little-endian) | uint32 masked_crc32c(length bytes) | data | uint32 masked_crc32c(data)

The first record is the ``Event`` whose ``file_version`` is "brain.Event:2". The file is opened for appending, and
records are kept in a queue of at most ``max_queue`` events that is written and flushed when full, when
``flush_secs`` have passed since the last flush (checked as events arrive: there is no background thread), on
``flush()`` and on ``close()``."""

import itertools
import os
import socket
import struct
import time

from . import proto
from .crc32c import masked_crc32c

FILE_VERSION = "brain.Event:2"

# Tells apart files one process opens within the same second, as TensorBoard's writer does; itertools.count is
# atomic under the GIL.
_file_counter = itertools.count()


def frame_record(data):
    """``data`` framed as one TFRecord: length, its masked CRC-32C, the data, its masked CRC-32C."""
    length = struct.pack("<Q", len(data))
    return length + struct.pack("<I", masked_crc32c(length)) + data + struct.pack("<I", masked_crc32c(data))


def event_file_name(filename_suffix=""):
    """``events.out.tfevents.{int(time)}.{hostname}.{pid}.{counter}{suffix}``, torch's and TensorBoard's name."""
    return (f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}.{os.getpid()}."
            f"{next(_file_counter)}{filename_suffix}")


class EventFileWriter:
    """Writes encoded ``Event`` messages to a new event file in ``log_dir`` (created if missing)."""

    def __init__(self, log_dir, max_queue=10, flush_secs=120, filename_suffix=""):
        if max_queue < 1:
            raise ValueError(f"max_queue must be at least 1, got {max_queue}")
        self.log_dir = os.fspath(log_dir)
        os.makedirs(self.log_dir, exist_ok=True)
        self.path = os.path.join(self.log_dir, event_file_name(filename_suffix))
        self.max_queue, self.flush_secs = int(max_queue), float(flush_secs)
        self._queue = []
        self._file = open(self.path, "ab")
        self._last_flush = time.monotonic()
        self.add_event(proto.event(time.time(), file_version=FILE_VERSION))
        self.flush()  # an empty run still shows up as a valid file at once

    @property
    def closed(self):
        return self._file.closed

    def add_event(self, event_bytes):
        """Queue one encoded ``Event``; write the queue out when it is full or ``flush_secs`` have passed."""
        if self._file.closed:
            raise ValueError(f"add_event on a closed event file: {self.path}")
        self._queue.append(frame_record(event_bytes))
        if len(self._queue) >= self.max_queue or time.monotonic() - self._last_flush >= self.flush_secs:
            self.flush()

    def flush(self):
        """Write every queued record and flush it to the operating system."""
        if self._file.closed:
            return
        if self._queue:
            self._file.write(b"".join(self._queue))
            self._queue.clear()
        self._file.flush()
        self._last_flush = time.monotonic()

    def close(self):
        """Flush and close the file; later calls do nothing."""
        if not self._file.closed:
            self.flush()
            self._file.close()
