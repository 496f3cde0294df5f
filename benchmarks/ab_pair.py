"""Does a change to one of ganglion's settings make a workload faster? Measured in one process: the setting's two
values alternate call by call (A B B A A B ...), so that the machine's slow spells land on both, and the same
alternation of A against A estimates the noise of the comparison itself.

    python benchmarks/ab_pair.py ResNet ganglion.kernels.normalization.SHORT_ROWS 1 128
    python benchmarks/ab_pair.py LeNet threads 1 2 --calls 40

The setting is a module attribute (``package.module.NAME``, set to each value in turn; values are Python literals)
or ``threads`` (``ganglion.set_num_threads``), or ``blas_threads`` (BLAS's own thread count alone, through
threadpoolctl). Workloads: LeNet (one step), ResNet (one step), MNIST (20 steps), LSTM (2 batches of 50 steps).
On the 2-vCPU VM of issue 14, A against A read 0.95-1.05: a difference inside that range is not one.
"""

import argparse
import ast
import importlib
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def _workload(name):
    """A zero-argument callable doing ganglion's side of workload ``name`` once."""
    if name == "MNIST":
        import mlp_workloads

        return mlp_workloads.make_pair((784, 128, 64, 10), 2048, 64, 20)[0]()
    if name == "LSTM":
        import rnn_workloads

        return rnn_workloads.make_pair(n_batches=2)[0]()
    import cnn_workloads

    makers = {"LeNet": cnn_workloads.make_pair, "ResNet": cnn_workloads.make_resnet_pair}
    if name not in makers:
        raise ValueError(f"ab_pair: unknown workload {name!r}; expected one of LeNet, ResNet, MNIST, LSTM")
    return makers[name](steps=1)[0]()


def _setter(setting):
    """A function setting ``setting`` (``threads`` or ``module.NAME``) to a value."""
    import ganglion

    if setting == "threads":
        return ganglion.set_num_threads
    if setting == "blas_threads":
        from threadpoolctl import threadpool_limits

        return lambda value: threadpool_limits(limits=value, user_api="blas")
    module_name, _, attribute = setting.rpartition(".")
    module = importlib.import_module(module_name)
    if not hasattr(module, attribute):
        raise ValueError(f"ab_pair: {module_name} has no attribute {attribute!r}")
    return lambda value: setattr(module, attribute, value)


def alternate(run, set_value, values, calls):
    """The median time of ``run`` under each of the two ``values``, set before each call, in the order A B B A..."""
    for value in values:  # warm-up: first-call costs under both
        set_value(value)
        run()
    times = ([], [])
    for i in range(calls):
        for which in ((0, 1) if i % 2 == 0 else (1, 0)):
            set_value(values[which])
            start = time.perf_counter()
            run()
            times[which].append(time.perf_counter() - start)
    return statistics.median(times[0]), statistics.median(times[1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload")
    parser.add_argument("setting", help="threads, blas_threads, or module.ATTRIBUTE")
    parser.add_argument("a", help="value A (a Python literal)")
    parser.add_argument("b", help="value B (a Python literal)")
    parser.add_argument("--calls", type=int, default=60, help="calls under each value")
    args = parser.parse_args(argv)
    values = (ast.literal_eval(args.a), ast.literal_eval(args.b))
    set_value = _setter(args.setting)
    run = _workload(args.workload)
    a_time, b_time = alternate(run, set_value, values, args.calls)
    a1, a2 = alternate(run, set_value, (values[0], values[0]), args.calls)
    print(f"{args.workload}, {args.setting}: A={args.a} {a_time * 1e3:.1f} ms, B={args.b} {b_time * 1e3:.1f} ms, "
          f"B/A {b_time / a_time:.3f}; A against A {a2 / a1:.3f} (the noise)")


if __name__ == "__main__":
    main()
