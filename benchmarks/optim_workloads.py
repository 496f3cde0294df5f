"""Optimizer-step workloads (``python benchmarks/optim_workloads.py``: ganglion alone, NumPy rule vs compiled loop on 1
and 2 threads): the time of ``optimizer.step()`` alone (gradients fixed, no forward or backward) for a
model of 100 small tensors and for one of a few large ones, ganglion vs PyTorch's default CPU path (its per-tensor
loop) and vs PyTorch's multi-tensor ``foreach=True`` path; plus ``clip_grad_norm_`` over the 100 small tensors.

ganglion keeps each param group in one flat array (each parameter a view into it), so a step over many small
tensors is a handful of NumPy calls; for large tensors it updates each parameter's slice in place (Adam and SGD: in one
compiled loop, ``ganglion.kernels.optim``).
"""

import numpy as np

SMALL = [(16, 16), (16,)] * 50  # 100 tensors, 13,600 numbers
LARGE = [(1024, 1024), (1024, 1024), (1024, 512), (512,)]  # 4 tensors, 2.6 M numbers


def _arrays(shapes, seed):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(np.float32) for s in shapes]


def step_pair(optimizer, kwargs, shapes, steps, torch_kwargs=None):
    """(make_ganglion, make_torch): each returns a callable doing ``steps`` optimizer steps on the same tensors."""
    values, grads = _arrays(shapes, 0), _arrays(shapes, 1)

    def make_ganglion():
        import ganglion

        params = [ganglion.nn.Parameter(ganglion.from_numpy(v.copy())) for v in values]
        for p, gr in zip(params, grads):
            p.grad = ganglion.from_numpy(gr.copy())
        opt = getattr(ganglion.optim, optimizer)(params, **kwargs)

        def run():
            for _ in range(steps):
                opt.step()

        return run

    def make_torch():
        import torch

        params = [torch.nn.Parameter(torch.from_numpy(v.copy())) for v in values]
        for p, gr in zip(params, grads):
            p.grad = torch.from_numpy(gr.copy())
        opt = getattr(torch.optim, optimizer)(params, **kwargs, **(torch_kwargs or {}))

        def run():
            for _ in range(steps):
                opt.step()

        return run

    return make_ganglion, make_torch


def clip_pair(shapes, calls):
    """(make_ganglion, make_torch) for ``calls`` clip_grad_norm_ calls (max_norm high enough to leave grads as they
    are, so every call measures the same work)."""
    grads = _arrays(shapes, 1)

    def make(framework):
        def build():
            if framework == "ganglion":
                import ganglion as lib

                params = [lib.nn.Parameter(lib.zeros(*gr.shape)) for gr in grads]
                for p, gr in zip(params, grads):
                    p.grad = lib.from_numpy(gr.copy())
            else:
                import torch as lib

                params = [lib.nn.Parameter(lib.zeros(*gr.shape)) for gr in grads]
                for p, gr in zip(params, grads):
                    p.grad = lib.from_numpy(gr.copy())

            def run():
                for _ in range(calls):
                    lib.nn.utils.clip_grad_norm_(params, max_norm=1e9)

            return run

        return build

    return make("ganglion"), make("torch")


WORKLOADS = {
    "Adam step, 100 small tensors (200 steps)": lambda: step_pair("Adam", dict(lr=1e-3), SMALL, 200),
    "Adam step, 100 small tensors, torch foreach=True": lambda: step_pair("Adam", dict(lr=1e-3), SMALL, 200,
                                                                          dict(foreach=True)),
    "SGD momentum step, 100 small tensors (200 steps)": lambda: step_pair("SGD", dict(lr=1e-2, momentum=0.9), SMALL,
                                                                          200),
    "RMSprop centered step, 100 small tensors (200 steps)": lambda: step_pair(
        "RMSprop", dict(lr=1e-3, centered=True, momentum=0.9), SMALL, 200),
    "Adam step, 4 large tensors, 2.6M numbers (20 steps)": lambda: step_pair("Adam", dict(lr=1e-3), LARGE, 20),
    "Adam step, 4 large tensors, torch foreach=True": lambda: step_pair("Adam", dict(lr=1e-3), LARGE, 20,
                                                                        dict(foreach=True)),
    "SGD momentum step, 4 large tensors (20 steps)": lambda: step_pair("SGD", dict(lr=1e-2, momentum=0.9), LARGE, 20),
    "clip_grad_norm_, 100 small tensors (200 calls)": lambda: clip_pair(SMALL, 200),
}


def compare_modes(rounds=9, steps=5):
    """Ganglion alone, in one process: Adam and SGD-momentum steps on ``LARGE`` with the NumPy rule
    (``GANGLION_COMPILED=0``), the compiled loop on one thread and on two, alternating round by round (so a burst of
    load from the machine's neighbours lands on every mode). Prints min and median milliseconds per step."""
    import os
    import statistics
    import time

    import ganglion

    modes = {"NumPy rule": ("0", 2), "compiled, 1 thread": ("1", 1), "compiled, 2 threads": ("1", 2)}
    for name, kwargs in (("Adam", dict(lr=1e-3)), ("SGD", dict(lr=1e-2, momentum=0.9))):
        run = step_pair(name, kwargs, LARGE, steps)[0]()
        run()
        times = {mode: [] for mode in modes}
        for r in range(rounds):
            for mode in (list(modes) if r % 2 == 0 else list(modes)[::-1]):
                os.environ["GANGLION_COMPILED"], threads = modes[mode]
                ganglion.set_num_threads(threads)
                start = time.perf_counter()
                run()
                times[mode].append((time.perf_counter() - start) / steps * 1e3)
        print(f"{name} {kwargs}: " + "; ".join(f"{mode} {min(t):.1f} / {statistics.median(t):.1f} ms"
                                                for mode, t in times.items()), flush=True)


if __name__ == "__main__":
    compare_modes()
