"""fit(distribute=True) under ``mpiexec -n 2`` (dist_keras_worker.py): two ranks with unequal shares of each batch
train to the weights and report the metrics of one process; only rank 0 writes files; the backup rank 0 wrote
resumes in one process, ending where an uninterrupted single-process run ends."""

import sys

import numpy as np
import pytest

from dist_launch import HERE, launch_script, needs_mpi

sys.path.insert(0, str(HERE))
import dist_keras_worker as worker  # noqa: E402


@needs_mpi
def test_two_ranks_fit_then_one_process_resumes(tmp_path):
    reference_weights, reference_history = worker.run(4, tmp_path, distribute=False)
    result = launch_script(HERE / "dist_keras_worker.py", ["2", str(tmp_path)])
    assert result.returncode == 0, result.stdout + result.stderr
    ranks = [np.load(tmp_path / f"rank{r}.npz") for r in range(2)]
    for rank, saved in enumerate(ranks):
        np.testing.assert_allclose(saved["loss"], reference_history["loss"][:2], rtol=1e-5)
        np.testing.assert_allclose(saved["accuracy"], reference_history["accuracy"][:2])
    assert (tmp_path / "log_rank0.csv").is_file() and not (tmp_path / "log_rank1.csv").exists()
    assert (tmp_path / "backup").is_dir()

    from ganglion import keras

    resumed, history = worker.run(4, tmp_path, distribute=True,
                                  callbacks=[keras.callbacks.BackupAndRestore(str(tmp_path / "backup"))])
    assert len(history["loss"]) == 2  # epochs 3 and 4 only
    np.testing.assert_allclose(history["loss"], reference_history["loss"][2:], rtol=1e-5)
    for got, expected in zip(resumed, reference_weights):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_distribute_argument_is_checked():
    model = worker.build()
    x, y = worker.data()
    with pytest.raises(TypeError, match="distribute must be True, False or a DataParallel, got str"):
        model.fit(x, y, distribute="mirrored", verbose=0)
