"""Timing harness: run the ganglion and PyTorch versions of a workload alternately in one process, report medians
and the ratio ganglion / PyTorch (below 1 means ganglion is faster)."""

import statistics
import time


def time_pair(make_ganglion, make_torch, rounds=5):
    """Each ``make_*`` returns a zero-argument callable running the workload once; returns (g_median, t_median).

    The callables are built once (setup is not timed); each round times both, alternating which goes first.
    """
    run_g, run_t = make_ganglion(), make_torch()
    run_g(), run_t()  # warm-up: first-call costs (imports, allocator growth, BLAS thread start)
    g_times, t_times = [], []
    for r in range(rounds):
        order = [(run_g, g_times), (run_t, t_times)]
        if r % 2:
            order.reverse()
        for run, times in order:
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
    return statistics.median(g_times), statistics.median(t_times)


def time_sides_isolated(runner, name, rounds=5, first="ganglion"):
    """Time each framework's side of workload ``name`` in its own child process (``runner --child``), one after the
    other, so that neither's idle BLAS/OpenMP threads (which spin for a while after work) steal CPU from the
    other. Returns (g_median, t_median)."""
    import json
    import subprocess
    import sys

    medians = {}
    for side in (first, "pytorch" if first == "ganglion" else "ganglion"):
        out = subprocess.run([sys.executable, runner, "--child", name, "--side", side, "--rounds", str(rounds)],
                             capture_output=True, text=True, check=True).stdout
        medians[side] = statistics.median(json.loads(out.strip().splitlines()[-1]))
    return medians["ganglion"], medians["pytorch"]


def run_side(make_pair_result, side, rounds):
    """In a child process: build one side, warm it up, and time ``rounds`` runs of it."""
    make_ganglion, make_torch = make_pair_result
    run = (make_ganglion if side == "ganglion" else make_torch)()
    run()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return times
