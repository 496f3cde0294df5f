"""Does glibc's habit of returning large freed blocks to the OS (and faulting them back in) cost us time?

Runs the MNIST-shaped MLP workload in child processes: once with glibc's defaults, once with the malloc thresholds
raised (``GLIBC_TUNABLES`` mmap/trim thresholds, the environment form of ``mallopt``), and reports time and minor
page faults for ganglion and PyTorch in each setting.

    python benchmarks/allocator.py
"""

import os
import subprocess
import sys

CHILD = r"""
import resource, sys, time
sys.path.insert(0, {bench!r})
import mlp_workloads
make_g, make_t = mlp_workloads.make_pair((784, 128, 64, 10), 2048, 64, 300)
for name, make in (("ganglion", make_g), ("pytorch", make_t)):
    run = make(); run()
    best = None
    for _ in range(3):
        f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        t0 = time.perf_counter(); run(); dt = time.perf_counter() - t0
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0
        best = min(best or (dt, faults), (dt, faults))
    print(f"{{name}} {{best[0]:.3f}} {{best[1]}}")
"""

SETTINGS = {
    "glibc defaults": {},
    "thresholds raised (64 MiB)": {"GLIBC_TUNABLES": "glibc.malloc.mmap_threshold=67108864:glibc.malloc.trim_threshold=134217728"},
}


def main():
    bench = os.path.dirname(os.path.abspath(__file__))
    print(f"{'setting':<30} {'framework':<10} {'time (s)':>9} {'minor faults':>13}")
    for label, extra in SETTINGS.items():
        env = {**os.environ, **extra}
        out = subprocess.run([sys.executable, "-c", CHILD.format(bench=bench)], env=env, capture_output=True,
                             text=True, check=True).stdout
        for line in out.strip().splitlines():
            name, seconds, faults = line.split()
            print(f"{label:<30} {name:<10} {float(seconds):>9.3f} {int(faults):>13}")


if __name__ == "__main__":
    main()
