"""What a program's two runs must satisfy: bounds that each run meets alone, and agreement between the two.

A check is called with the results of one run (``per_run``) or of both (``between``, reference first) and returns a
list of failures, each a sentence naming the key, the values and the limit.
"""

from dataclasses import dataclass

import numpy as np


def _values(results, key):
    if key not in results:
        raise KeyError(f"the program's main() returned no {key!r} (it returned {sorted(results)})")
    return np.asarray(results[key], dtype=float)


@dataclass(frozen=True)
class AtLeast:
    """results[key] >= bound in each run (every element, for a list)."""

    key: str
    bound: float

    def per_run(self, results):
        value = _values(results, self.key)
        return [] if np.all(value >= self.bound) else [f"{self.key} = {results[self.key]} is below {self.bound}"]


@dataclass(frozen=True)
class AtMost:
    """results[key] <= bound in each run (every element, for a list)."""

    key: str
    bound: float

    def per_run(self, results):
        value = _values(results, self.key)
        return [] if np.all(value <= self.bound) else [f"{self.key} = {results[self.key]} is above {self.bound}"]


@dataclass(frozen=True)
class Equals:
    """results[key] == value in each run (flags, counts)."""

    key: str
    value: object

    def per_run(self, results):
        got = results.get(self.key, "<missing>")
        return [] if got == self.value else [f"{self.key} = {got!r}, expected {self.value!r}"]


@dataclass(frozen=True)
class Below:
    """results[smaller] < results[larger] in each run (a loss that went down)."""

    smaller: str
    larger: str

    def per_run(self, results):
        small, large = _values(results, self.smaller), _values(results, self.larger)
        return [] if small < large else [f"{self.smaller} = {small} is not below {self.larger} = {large}"]


@dataclass(frozen=True)
class Agree:
    """|results[a] - results[b]| <= tolerance in each run (two ways of measuring one thing)."""

    a: str
    b: str
    tolerance: float

    def per_run(self, results):
        gap = float(np.max(np.abs(_values(results, self.a) - _values(results, self.b))))
        return [] if gap <= self.tolerance else [f"{self.a} and {self.b} differ by {gap} > {self.tolerance}"]


@dataclass(frozen=True)
class Near:
    """|reference[key] - ganglion[key]| <= atol + rtol |reference[key]| (element by element for a list)."""

    key: str
    atol: float
    rtol: float = 0.0

    def between(self, reference, ganglion):
        ref, got = _values(reference, self.key), _values(ganglion, self.key)
        if ref.shape != got.shape:
            return [f"{self.key}: reference has shape {ref.shape}, ganglion {got.shape}"]
        gap = np.abs(ref - got) - self.rtol * np.abs(ref)
        if np.all(gap <= self.atol):
            return []
        return [f"{self.key}: reference {reference[self.key]} vs ganglion {ganglion[self.key]} "
                f"(differ by up to {float(np.max(np.abs(ref - got)))}; allowed {self.atol} + {self.rtol} * |ref|)"]


@dataclass(frozen=True)
class Same:
    """reference[key] == ganglion[key] exactly (names, counts, shapes)."""

    key: str

    def between(self, reference, ganglion):
        ref, got = reference.get(self.key, "<missing>"), ganglion.get(self.key, "<missing>")
        return [] if ref == got else [f"{self.key}: reference {ref!r} vs ganglion {got!r}"]


def failures(checks, reference, ganglion):
    """Every failed check, each prefixed with the run it failed in."""
    found = []
    for check in checks:
        if hasattr(check, "per_run"):
            found += [f"as written (reference): {f}" for f in check.per_run(reference)]
            found += [f"on ganglion: {f}" for f in check.per_run(ganglion)]
        else:
            found += [f"reference vs ganglion: {f}" for f in check.between(reference, ganglion)]
    return found
