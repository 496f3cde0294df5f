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
