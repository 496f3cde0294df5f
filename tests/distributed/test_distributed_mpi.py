"""Two ranks under ``mpiexec -n 2`` (dist_worker.py): data-parallel training equals one process with the whole
batch, and a failing rank ends the job with an error instead of a hang.

Skipped when MPI is absent (``pip install "ganglion[distributed]"`` brings mpi4py and MPICH's mpiexec; the test
extra includes it, so CI runs these). Every launch has a subprocess timeout, so a hang fails the test instead of
blocking the suite.
"""

import sys

import numpy as np
import pytest

from dist_launch import HERE, launch_script, needs_mpi

sys.path.insert(0, str(HERE))
import dist_workloads  # noqa: E402

pytestmark = needs_mpi


def launch(mode, out_dir, worker_timeout=60):
    return launch_script(HERE / "dist_worker.py", [mode, str(out_dir)], worker_timeout)


@pytest.fixture(scope="module")
def two_rank_states(tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("ranks")
    result = launch("parity", out_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    return [dict(np.load(out_dir / f"rank{r}.npz")) for r in range(2)]


def test_collectives_over_two_ranks(two_rank_states):
    expected = {"SUM": [3, 30], "AVG": [1.5, 15], "MAX": [2, 20], "MIN": [1, 10], "PRODUCT": [2, 200],
                "strided": [3, 12], "broadcast": [1, 1], "all_gather": [[0, 0], [1, -1]],
                "all_gather_object": [0, 1], "broadcast_object_list": [1, 1]}
    for rank, state in enumerate(two_rank_states):
        for name, values in expected.items():
            np.testing.assert_array_equal(state[f"collectives/{name}"], values, err_msg=f"rank {rank}: {name}")


@pytest.mark.parametrize("kind", dist_workloads.KINDS)
def test_two_ranks_equal_one_process_with_the_whole_batch(kind, two_rank_states):
    reference = dist_workloads.train(kind, dist_workloads.build(kind))
    assert two_rank_states[0][f"{kind}/#buckets"] > 1  # the bucketed, overlapped path is the one under test
    for rank, state in enumerate(two_rank_states):
        for name, expected in reference.items():
            np.testing.assert_allclose(state[f"{kind}/{name}"], expected, rtol=1e-5, atol=2e-6,
                                       err_msg=f"{kind} rank {rank}: {name}")


def test_the_cnn_check_can_fail(two_rank_states):
    """With plain BatchNorm (each rank normalizes its half alone) the two ranks train to other weights than one
    process with the whole batch: the CNN parity above rests on SyncBatchNorm."""
    reference = dist_workloads.train("cnn", dist_workloads.build("cnn"))
    local = two_rank_states[0]["cnn_local_bn/0.weight"]
    assert np.abs(local - reference["0.weight"]).max() > 1e-3


@pytest.mark.parametrize("mode, message", [
    ("mismatch", "the ranks built different models; the first difference is at '0.weight': rank 0 has parameter "
                 "'0.weight' of shape (16, 6)"),
    ("raise", "rank 1 fails on purpose"),
    ("stall", "DistributedTimeoutError"),
    ("kill", "Killed (signal 9)"),
])
def test_a_failing_rank_ends_the_job_with_an_error(mode, message, tmp_path):
    """mismatch: caught at wrap time on both ranks. raise: the uncaught exception aborts every rank. stall: the other
    rank's collective times out after the group's timeout (3 s here). kill: the launcher ends the survivor. In
    every case the job exits non-zero well before the launch timeout, and no rank reaches the end."""
    result = launch(mode, tmp_path, worker_timeout=3)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert message in output, output
    assert "finished" not in result.stdout, output
