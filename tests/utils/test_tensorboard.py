"""ganglion.utils.tensorboard: event files that TensorBoard reads back (values, steps, tags, CRCs), and the same
bytes and layout as torch.utils.tensorboard writes."""

import os
import socket
import struct

import numpy as np
import pytest

import ganglion
from ganglion.utils.tensorboard import SummaryWriter
from ganglion.utils.tensorboard.crc32c import crc32c, masked_crc32c
from ganglion.utils.tensorboard.event_file import frame_record

event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
event_pb2 = pytest.importorskip("tensorboard.compat.proto.event_pb2")
summary_pb2 = pytest.importorskip("tensorboard.compat.proto.summary_pb2")
stub = pytest.importorskip("tensorboard.compat.tensorflow_stub.pywrap_tensorflow")


def event_files(folder):
    return sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.startswith("events.out.tfevents."))


def read_records(path):
    """Every record of ``path`` through TensorBoard's own record reader, which checks both CRCs."""
    reader, records = stub.PyRecordReader_New(path), []
    while True:
        try:
            reader.GetNext()
        except stub.errors.OutOfRangeError:
            return records
        records.append(reader.record())


def load(folder):
    acc = event_accumulator.EventAccumulator(folder, size_guidance={"scalars": 0, "histograms": 0})
    acc.Reload()
    return acc


def test_crc32c_known_values_and_mask():
    assert crc32c(b"123456789") == 0xE3069283  # the standard CRC-32C check value
    assert crc32c(b"") == 0
    for data in (b"", b"a", bytes(range(256)) * 3):
        assert masked_crc32c(data) == stub.masked_crc32c(data)


def test_frame_record_layout():
    data = b"hello event"
    framed = frame_record(data)
    assert len(framed) == 8 + 4 + len(data) + 4
    assert struct.unpack("<Q", framed[:8])[0] == len(data)
    assert struct.unpack("<I", framed[8:12])[0] == masked_crc32c(framed[:8])
    assert framed[12:-4] == data
    assert struct.unpack("<I", framed[-4:])[0] == masked_crc32c(data)


def test_scalars_read_back_with_steps_values_and_kinds(tmp_path):
    values = [1.5, ganglion.tensor(2.25), np.float32(-3.0), np.array(4), ganglion.tensor([[0.5]]), True]
    with SummaryWriter(tmp_path) as writer:
        for step, value in enumerate(values):
            writer.add_scalar("loss/train", value, step * 10, walltime=100.0 + step)
        writer.add_scalar("other", ganglion.tensor(7.0, requires_grad=True))  # no step: step 0
    acc = load(str(tmp_path))
    assert acc.Tags()["scalars"] == ["loss/train", "other"]
    events = acc.Scalars("loss/train")
    assert [e.step for e in events] == [0, 10, 20, 30, 40, 50]
    assert [e.value for e in events] == [1.5, 2.25, -3.0, 4.0, 0.5, 1.0]
    assert [e.wall_time for e in events] == [100.0 + i for i in range(6)]
    assert [(e.step, e.value) for e in acc.Scalars("other")] == [(0, 7.0)]


def test_file_name_first_record_and_crcs(tmp_path):
    with SummaryWriter(tmp_path, filename_suffix=".x") as writer:
        writer.add_scalar("a", 1.0, 1)
    (path,) = event_files(str(tmp_path))
    name = os.path.basename(path)
    assert name.startswith("events.out.tfevents.") and name.endswith(".x")
    stamp_and_host, pid, counter = name[len("events.out.tfevents."):-len(".x")].rsplit(".", 2)
    stamp, host = stamp_and_host.split(".", 1)
    assert stamp.isdigit() and len(stamp) == 10 and host == socket.gethostname()
    assert pid == str(os.getpid()) and counter.isdigit()
    records = read_records(path)
    first = event_pb2.Event.FromString(records[0])
    assert first.file_version == "brain.Event:2"
    second = event_pb2.Event.FromString(records[1])
    assert second.step == 1 and second.summary.value[0].tag == "a" and second.summary.value[0].simple_value == 1.0


def test_corrupted_byte_fails_crc_check(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        writer.add_scalar("a", 1.0, 1)
    (path,) = event_files(str(tmp_path))
    raw = bytearray(open(path, "rb").read())
    raw[-6] ^= 0xFF  # inside the last record's data
    open(path, "wb").write(bytes(raw))
    with pytest.raises(stub.errors.DataLossError):
        read_records(path)


def test_add_scalars_writes_one_subfolder_per_tag(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        for step in range(3):
            writer.add_scalars("run/loss", {"train": step, "val": -step}, step)
    assert sorted(os.listdir(tmp_path)) == sorted([os.path.basename(event_files(str(tmp_path))[0]),
                                                   "run_loss_train", "run_loss_val"])
    train, val = load(str(tmp_path / "run_loss_train")), load(str(tmp_path / "run_loss_val"))
    assert train.Tags()["scalars"] == ["run/loss"] == val.Tags()["scalars"]
    assert [(e.step, e.value) for e in val.Scalars("run/loss")] == [(0, 0.0), (1, -1.0), (2, -2.0)]


def test_histogram_statistics_and_buckets(tmp_path):
    values = np.array([-1.0, 0.5, 0.5, 2.0, 3.0])
    with SummaryWriter(tmp_path) as writer:
        writer.add_histogram("w", ganglion.tensor(values), 5)
        writer.add_histogram("w", values, 6, bins=np.array([-2.0, 0.0, 1.0, 4.0]))
    acc = load(str(tmp_path))
    first, second = (e.histogram_value for e in acc.Histograms("w"))
    assert (first.num, first.min, first.max, first.sum, first.sum_squares) == (5, -1.0, 3.0, 5.0, 14.5)
    assert sum(first.bucket) == 5
    assert list(second.bucket_limit) == [-2.0, 0.0, 1.0, 4.0] and list(second.bucket) == [0, 1, 2, 2]


def test_bad_values_raise_naming_the_tag(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        with pytest.raises(ValueError, match="'loss'.*shape"):
            writer.add_scalar("loss", np.ones(3))
        with pytest.raises(ValueError, match="'h'.*empty"):
            writer.add_histogram("h", np.array([]))


def test_queue_is_written_when_full_and_on_flush(tmp_path):
    writer = SummaryWriter(tmp_path, max_queue=3, flush_secs=3600)
    (path,) = event_files(str(tmp_path))
    assert len(read_records(path)) == 1  # the file-version record is on disk at once
    writer.add_scalar("a", 1.0, 1)
    assert len(read_records(path)) == 1
    writer.add_scalar("a", 2.0, 2)
    writer.add_scalar("a", 3.0, 3)
    assert len(read_records(path)) == 4
    writer.add_scalar("a", 4.0, 4)
    writer.flush()
    assert len(read_records(path)) == 5
    writer.close()
    writer.add_scalar("a", 5.0, 5)  # after close: a new file, as torch's writer does
    writer.close()
    assert len(event_files(str(tmp_path))) == 2


def test_purge_step_hides_earlier_events_at_or_after_it(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        for step in range(5):
            writer.add_scalar("a", step, step)
    with SummaryWriter(tmp_path, purge_step=2) as writer:
        writer.add_scalar("a", 20.0, 2)
    assert [(e.step, e.value) for e in load(str(tmp_path)).Scalars("a")] == [(0, 0.0), (1, 1.0), (2, 20.0)]


def test_default_log_dir_is_torch_runs_layout(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    writer = SummaryWriter(comment="_lr0.1")
    writer.close()
    (folder,) = os.listdir(tmp_path / "runs")
    assert writer.get_logdir() == os.path.join("runs", folder) and folder.endswith("_lr0.1")


def test_same_event_bytes_and_layout_as_torch(tmp_path):
    torch_tb = pytest.importorskip("torch.utils.tensorboard")
    values = np.random.default_rng(0).normal(size=200)
    runs = {}
    for name, cls in (("ganglion", SummaryWriter), ("torch", torch_tb.SummaryWriter)):
        folder = tmp_path / name
        with cls(str(folder)) as writer:
            writer.add_scalar("loss", 0.25, 3, walltime=50.0)
            writer.add_scalar("neg", -1.5, -2, walltime=51.0)
            writer.add_histogram("w", values, 4, walltime=52.0)
            writer.add_histogram("w", values, 5, bins="auto", max_bins=7, walltime=53.0)
            writer.add_scalars("pair", {"a": 1.0, "b": 2.0}, 6, walltime=54.0)
        runs[name] = folder
    ours, theirs = runs["ganglion"], runs["torch"]
    assert sorted(d for d in os.listdir(ours) if os.path.isdir(ours / d)) == ["pair_a", "pair_b"]
    assert sorted(d for d in os.listdir(theirs) if os.path.isdir(theirs / d)) == ["pair_a", "pair_b"]
    for sub in ("", "pair_a", "pair_b"):
        (ours_file,), (theirs_file,) = event_files(str(ours / sub)), event_files(str(theirs / sub))
        # Skip the file-version record: its wall time is the moment the file opened.
        assert read_records(ours_file)[1:] == read_records(theirs_file)[1:]
