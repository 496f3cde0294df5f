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


def time_sides_isolated(runner, name, rounds=5, first="ganglion", repeats=3):
    """Time each framework's side of workload ``name`` in its own child process (``runner --child``), so that
    neither's idle BLAS/OpenMP threads (which spin for a while after work) steal CPU from the other.

    The two sides alternate ``repeats`` times (g, t, t, g, g, t, ...), each child timing ``rounds`` runs, so that a
    burst of load from the machine's neighbours lands on both. Returns (g_median, t_median, ratios): the medians over
    every round of each side, and the ratio of the two children's medians for each repeat (their spread shows the
    noise)."""
    import json
    import subprocess
    import sys

    def child(side):
        out = subprocess.run([sys.executable, runner, "--child", name, "--side", side, "--rounds", str(rounds)],
                             capture_output=True, text=True, check=True).stdout
        return json.loads(out.strip().splitlines()[-1])

    other = "pytorch" if first == "ganglion" else "ganglion"
    times = {"ganglion": [], "pytorch": []}
    ratios = []
    for r in range(repeats):
        medians = {}
        for side in ((first, other) if r % 2 == 0 else (other, first)):
            runs = child(side)
            times[side] += runs
            medians[side] = statistics.median(runs)
        ratios.append(medians["ganglion"] / medians["pytorch"])
    return statistics.median(times["ganglion"]), statistics.median(times["pytorch"]), ratios


def run_side(make_pair_result, side, rounds):
    """In a child process: build one side, warm it up, and time ``rounds`` runs of it."""
    make_ganglion, make_torch = make_pair_result
    return timed_runs((make_ganglion if side == "ganglion" else make_torch)(), rounds)


def timed_runs(run, rounds):
    """Call ``run`` once to warm it up, then ``rounds`` times: the list of their times in seconds."""
    run()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return times


def layers_on_threads(layers, thread_counts=(1, 2)):
    """For each (channels, size) of ``layers`` and each thread count: ``(channels, size, threads)``, with
    ``ganglion.set_num_threads(threads)`` in effect (the per-layer tables of conv_layers.py and norm_layers.py)."""
    import ganglion

    for channels, size in layers:
        for threads in thread_counts:
            ganglion.set_num_threads(threads)
            yield channels, size, threads


def first_step(run):
    """Time ``run``'s first call (compile, warm-up, work arrays filling) and a second one, and the growth of the peak
    resident memory over the two, measured from what is resident once the side is built (its framework's libraries
    imported: torch on PyTorch's side, numba on ganglion's). Returns {"first_s", "second_s", "peak_growth_mb"}."""
    before = _resident_now_and_reset_peak()
    start = time.perf_counter()
    run()
    first = time.perf_counter() - start
    start = time.perf_counter()
    run()
    second = time.perf_counter() - start
    return {"first_s": first, "second_s": second, "peak_growth_mb": (_peak_resident() - before) / 1024}


def first_step_side(make_pair_result, side):
    """In a child process: build one side and measure ``first_step`` on it. Ganglion imports numba at its first
    compiled kernel (~0.4 s, ~53 MB); it is imported here first, as ``import torch`` loads PyTorch's kernels before
    PyTorch's side is measured, so that both sides' figures are the workload's own."""
    make_ganglion, make_torch = make_pair_result
    run = (make_ganglion if side == "ganglion" else make_torch)()
    if side == "ganglion":
        import importlib.util

        if importlib.util.find_spec("numba"):
            import numba  # noqa: F401
    return first_step(run)


def _resident_now_and_reset_peak():
    """The resident memory now (KB), with Linux's peak-resident mark (VmHWM) reset to it. ru_maxrss never resets:
    measured from building the workload's transient peak, it understated the growth (the 7x7 convolution: PyTorch's
    64 MB is 112-137 MB from what is resident). Elsewhere: ru_maxrss."""
    import resource

    try:
        with open("/proc/self/clear_refs", "w") as marks:
            marks.write("5")
        return _status_kb("VmRSS")
    except (OSError, KeyError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _peak_resident():
    """The peak resident memory (KB) since ``_resident_now_and_reset_peak``."""
    import resource

    try:
        return _status_kb("VmHWM")
    except (OSError, KeyError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _status_kb(field):
    with open("/proc/self/status") as status:
        values = dict(line.split(":", 1) for line in status if ":" in line)
    return int(values[field].split()[0])
