"""Each convolution of a training step timed inside the network, for one framework in this process: the quarter-width
ResNet-18 (batch 32) or LeNet-5 (batch 64), median per call over 10 steps after 5 of warm-up. ganglion's side times
its convolution op's forward and backward; PyTorch's reads its profiler (``mkldnn_convolution`` and
``convolution_backward``, grouped by input shape; the profiler adds a little to each call).

    python benchmarks/layer_times.py ganglion ResNet 2     # framework, workload (ResNet or LeNet), threads
    python benchmarks/layer_times.py pytorch ResNet 2

Run each framework in its own process, one after the other, for the reasons in ``step_phases.py``. A layer runs
back to back in ``conv_layers.py``; here it runs where the network puts it (caches cold, the pool thread asleep).

    python benchmarks/layer_times.py ganglion ResNet 2 --ops   # every op of ganglion's step, summed by kind
"""

import argparse
import collections
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from step_phases import training_parts  # noqa: E402

STEPS, WARM_UP = 10, 5


def _layer(x_shape, w_shape, stride):
    """A layer's name: channels in -> out, kernel, input size, stride."""
    return f"{w_shape[1]:>3} -> {w_shape[0]:<3} {w_shape[2]}x{w_shape[3]} on {x_shape[2]}x{x_shape[3]}, stride {stride}"


def _training(framework, workload):
    """A function doing one training step of ``workload`` in ``framework``."""
    model, opt, x, y = training_parts(framework, workload)

    def step():
        loss = framework.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def ganglion_times(workload):
    """{layer: {"forward": [seconds per call], "backward": [...]}} from ganglion's Conv op."""
    from ganglion.nn.functional import conv

    times = collections.defaultdict(lambda: collections.defaultdict(list))
    forward, backward = conv.Conv.forward, conv.Conv.backward

    def timed_forward(self, x, weight, bias, stride, *args):
        self._layer_name = _layer(x.shape, weight.shape, stride[0])
        start = time.perf_counter()
        y = forward(self, x, weight, bias, stride, *args)
        times[self._layer_name]["forward"].append(time.perf_counter() - start)
        return y

    def timed_backward(self, dy):
        start = time.perf_counter()
        grads = backward(self, dy)
        times[self._layer_name]["backward"].append(time.perf_counter() - start)
        return grads

    import ganglion

    step = _training(ganglion, workload)
    for _ in range(WARM_UP):
        step()
    conv.Conv.forward, conv.Conv.backward = timed_forward, timed_backward
    try:
        for _ in range(STEPS):
            step()
    finally:
        conv.Conv.forward, conv.Conv.backward = forward, backward
    return times


def ganglion_op_totals(workload):
    """(step seconds, {op name: [forward seconds, backward seconds, calls]} per step) over ``STEPS`` steps: every
    outermost ``Function.apply`` and every node's backward, by the op's class."""
    import ganglion
    from ganglion.autograd.function import Function

    totals = collections.defaultdict(lambda: [0.0, 0.0, 0])
    apply, run_backward = Function.__dict__["apply"], Function.run_backward
    depth = [0]

    def timed_apply(cls, *args, **kwargs):
        depth[0] += 1
        start = time.perf_counter()
        try:
            return apply.__func__(cls, *args, **kwargs)
        finally:
            depth[0] -= 1
            if depth[0] == 0:
                totals[cls.__name__][0] += time.perf_counter() - start
                totals[cls.__name__][2] += 1

    def timed_backward(self, grads):
        start = time.perf_counter()
        result = run_backward(self, grads)
        totals[type(self).__name__][1] += time.perf_counter() - start
        return result

    step = _training(ganglion, workload)
    for _ in range(WARM_UP):
        step()
    Function.apply, Function.run_backward = classmethod(timed_apply), timed_backward
    try:
        start = time.perf_counter()
        for _ in range(STEPS):
            step()
        elapsed = time.perf_counter() - start
    finally:
        Function.apply, Function.run_backward = apply, run_backward
    return elapsed / STEPS, {name: [f / STEPS, b / STEPS, calls / STEPS] for name, (f, b, calls) in totals.items()}


def _print_op_totals(workload, threads):
    step, totals = ganglion_op_totals(workload)
    print(f"ganglion, {workload}, {threads} threads: ms per step by op (calls per step); step {step * 1e3:.1f} ms")
    for name, (forward, backward, calls) in sorted(totals.items(), key=lambda item: -sum(item[1][:2])):
        print(f"  {name:<24} ({calls:>3.0f})  forward {forward * 1e3:6.2f}  backward {backward * 1e3:6.2f}")
    inside = sum(f + b for f, b, _ in totals.values())
    print(f"  outside ops (the engine's walk, zero_grad, the optimizer): {(step - inside) * 1e3:.1f} ms")


def pytorch_times(workload):
    """The same from PyTorch's profiler."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    step = _training(torch, workload)
    for _ in range(WARM_UP):
        step()
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        for _ in range(STEPS):
            step()
    times = collections.defaultdict(lambda: collections.defaultdict(list))
    strides = {}  # (x shape, w shape) -> the forward's stride, which the backward's shapes do not say
    for event in prof.events():
        if event.name == "aten::mkldnn_convolution":
            x_shape, w_shape = event.input_shapes[:2]
            concrete = getattr(event, "concrete_inputs", None) or []  # (input, weight, bias, padding, stride, ...)
            stride = concrete[4][0] if len(concrete) > 4 and concrete[4] else None
            key = (tuple(x_shape), tuple(w_shape))
            strides.setdefault(key, stride)
            times[key]["forward"].append(event.cpu_time_total * 1e-6)
        elif event.name == "aten::convolution_backward":
            _, x_shape, w_shape = event.input_shapes[:3]
            times[(tuple(x_shape), tuple(w_shape))]["backward"].append(event.cpu_time_total * 1e-6)
    return {_layer(x, w, strides.get((x, w)) or "?"): phases for (x, w), phases in times.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("framework", choices=("ganglion", "pytorch"))
    parser.add_argument("workload", choices=("ResNet", "LeNet"))
    parser.add_argument("threads", type=int)
    parser.add_argument("--ops", action="store_true", help="ganglion only: every op's time a step, by kind")
    args = parser.parse_args(argv)
    if args.framework == "ganglion":
        import ganglion as framework
    else:
        import torch as framework
    framework.set_num_threads(args.threads)
    if args.ops:
        if args.framework != "ganglion":
            parser.error("--ops times ganglion's ops only (PyTorch's: its profiler)")
        _print_op_totals(args.workload, args.threads)
        return
    times = (ganglion_times if args.framework == "ganglion" else pytorch_times)(args.workload)
    print(f"{args.framework}, {args.workload}, {args.threads} threads: median ms per call (calls per step)")
    totals = collections.Counter()
    for layer, phases in sorted(times.items(), key=lambda item: -sum(map(sum, item[1].values()))):
        cells = []
        for phase in ("forward", "backward"):
            calls = phases.get(phase, [])
            totals[phase] += sum(calls) / STEPS
            cells.append(f"{statistics.median(calls) * 1e3:6.2f} ({len(calls) // STEPS})" if calls else "     -    ")
        print(f"  {layer:<32} forward {cells[0]}   backward {cells[1]}")
    print(f"  per step: forward {totals['forward'] * 1e3:.1f} ms, backward {totals['backward'] * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
