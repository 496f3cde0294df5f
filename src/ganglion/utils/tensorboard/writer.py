"""``SummaryWriter``: torch.utils.tensorboard's writer for the PyTorch face, with no TensorFlow or TensorBoard
needed at run time. TensorBoard (``pip install ganglion[tensorboard]``) only has to be installed to view the runs."""

import os
import socket
import time
from datetime import datetime

from . import proto, summary
from .event_file import EventFileWriter


def default_log_dir(comment=""):
    """``runs/{Mon}{day}_{HH-MM-SS}_{hostname}{comment}``, torch's default run folder."""
    stamp = datetime.now().strftime("%b%d_%H-%M-%S")
    return os.path.join("runs", f"{stamp}_{socket.gethostname()}{comment}")


class SummaryWriter:
    """Writes scalars and histograms to an event file in ``log_dir`` for TensorBoard to show.

    ``purge_step``: on resuming a run that crashed, TensorBoard hides the events at or after this step written
    before (the writer records a session start at it). ``max_queue`` events are kept before a write; pending events
    are also written once ``flush_secs`` have passed, when the next event arrives. ``add_scalars`` writes each curve
    to its own sub-folder ``{log_dir}/{main_tag}_{tag}``, so TensorBoard draws them as runs on one chart.

    >>> with SummaryWriter("runs/demo") as writer:
    ...     for step in range(3):
    ...         writer.add_scalar("loss", 1.0 / (step + 1), step)
    """

    def __init__(self, log_dir=None, comment="", purge_step=None, max_queue=10, flush_secs=120,
                 filename_suffix=""):
        self.log_dir = os.fspath(log_dir) if log_dir is not None else default_log_dir(comment)
        self.purge_step, self.max_queue, self.flush_secs = purge_step, max_queue, flush_secs
        self.filename_suffix = filename_suffix
        self._writers = {}  # folder -> EventFileWriter; the main folder's writer is created first
        self._main_writer()

    def get_logdir(self):
        """The folder this writer's event file is in."""
        return self.log_dir

    def _writer_for(self, folder):
        writer = self._writers.get(folder)
        if writer is None:
            writer = EventFileWriter(folder, self.max_queue, self.flush_secs, self.filename_suffix)
            self._writers[folder] = writer
        return writer

    def _main_writer(self):
        """The main folder's file; reopened (a new file) when used after ``close()``, as torch does."""
        is_new = self.log_dir not in self._writers
        writer = self._writer_for(self.log_dir)
        if is_new and self.purge_step is not None:
            now = time.time()
            writer.add_event(proto.event(now, step=self.purge_step, file_version="brain.Event:2"))
            writer.add_event(proto.event(now, step=self.purge_step, session_status=proto.SESSION_START))
            self.purge_step = None
        return writer

    @staticmethod
    def _event(summary_bytes, global_step, walltime):
        step = 0 if global_step is None else int(global_step)
        return proto.event(time.time() if walltime is None else float(walltime), step=step, summary=summary_bytes)

    def add_scalar(self, tag, scalar_value, global_step=None, walltime=None):
        """Record ``scalar_value`` (a number, NumPy scalar or one-element tensor) under ``tag`` at ``global_step``."""
        self._main_writer().add_event(self._event(summary.scalar(tag, scalar_value), global_step, walltime))

    def add_scalars(self, main_tag, tag_scalar_dict, global_step=None, walltime=None):
        """Record several related scalars at once: ``{tag: value}``, each in ``{log_dir}/{main_tag}_{tag}`` under
        the tag ``main_tag`` ("/" in ``main_tag`` becomes "_" in the folder name)."""
        walltime = time.time() if walltime is None else walltime
        self._main_writer()
        for tag, value in tag_scalar_dict.items():
            folder = self.log_dir + "/" + main_tag.replace("/", "_") + "_" + tag
            self._writer_for(folder).add_event(self._event(summary.scalar(main_tag, value), global_step, walltime))

    def add_histogram(self, tag, values, global_step=None, bins="tensorflow", walltime=None, max_bins=None):
        """Record the distribution of ``values`` (a tensor or array of any shape); ``bins`` as ``np.histogram``
        takes them, or "tensorflow" for TensorBoard's exponential buckets."""
        histo = summary.histogram(tag, values, bins=bins, max_bins=max_bins)
        self._main_writer().add_event(self._event(histo, global_step, walltime))

    def flush(self):
        """Write every pending event of every folder to disk."""
        for writer in self._writers.values():
            writer.flush()

    def close(self):
        """Flush and close every file; a later ``add_*`` starts a new file in the same folder."""
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
