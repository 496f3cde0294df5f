"""The compiled optimizer loops (``ganglion.kernels.optim``) against the NumPy rules they restate: the same
parameters and state, to the bit, over many steps, for every option they cover (AMSGrad, maximize, L2 and decoupled
weight decay, momentum, dampening, Nesterov), on the flat path (many small tensors) and the per-parameter path (large
ones), in float32 and float64; ``GANGLION_COMPILED=0`` switches them off."""

import numpy as np
import pytest

import ganglion as g
from ganglion import kernels, nn, optim
from ganglion.kernels import optim as compiled_rules

pytestmark = pytest.mark.skipif(not kernels.available(), reason="numba is not installed (or GANGLION_COMPILED=0)")

CASES = [
    (optim.Adam, dict(lr=1e-2)),
    (optim.Adam, dict(lr=1e-2, amsgrad=True, maximize=True, weight_decay=0.1)),
    (optim.Adam, dict(lr=1e-2, betas=(0.3, 0.9), eps=1e-3, amsgrad=True)),  # 1 - beta1 >= 0.5: lerp from the end
    (optim.Adam, dict(lr=1e-2, weight_decay=0.05, decoupled_weight_decay=True, maximize=True)),
    (optim.Adam, dict(lr=1e-2, eps=0.0)),  # 0 / 0 where a gradient is 0 on the first step: NaN, as NumPy, no error
    (optim.AdamW, dict(lr=1e-2, weight_decay=0.1)),
    (optim.AdamW, dict(lr=1e-2, weight_decay=0.0, amsgrad=True)),
    (optim.SGD, dict(lr=1e-2)),
    (optim.SGD, dict(lr=1e-2, weight_decay=0.01, maximize=True)),
    (optim.SGD, dict(lr=1e-2, momentum=0.9)),
    (optim.SGD, dict(lr=1e-2, momentum=0.9, nesterov=True, weight_decay=0.01)),
    (optim.SGD, dict(lr=1e-2, momentum=0.8, dampening=0.3, maximize=True)),
]
IDS = [f"{cls.__name__}-" + "-".join(f"{k}={v}" for k, v in kw.items()) for cls, kw in CASES]

SMALL = [(16, 16), (16,), (7, 3), (5,)]  # the flat path: one update over the group, on one thread
LARGE = [(400, 400), (140_000,)]  # one update over both gradients where they lie, shared over the threads in chunks


def _trajectory(cls, kwargs, shapes, dtype, compiled, monkeypatch, steps=20, skip_first_every=0):
    """Parameters and state after ``steps`` steps from fixed random gradients (some with huge or zero values);
    ``skip_first_every`` n: the first parameter has no gradient on every n-th step (its step count falls behind)."""
    monkeypatch.setenv("GANGLION_COMPILED", "1" if compiled else "0")
    rng = np.random.default_rng(0)
    params = [nn.Parameter(g.from_numpy(rng.standard_normal(s).astype(dtype))) for s in shapes]
    opt = cls(params, **kwargs)
    for step in range(steps):
        for p in params:
            grad = rng.standard_normal(p.shape).astype(dtype) * (1e3 if step % 7 == 3 else 1.0)
            grad.reshape(-1)[::11] = 0.0
            p.grad = g.from_numpy(grad)
        if skip_first_every and step % skip_first_every == 1:
            params[0].grad = None
        opt.step()
    state = opt.state_dict()["state"]
    return ([p.detach().numpy().copy() for p in params],
            [{k: v.numpy().copy() for k, v in entry.items()} for _, entry in sorted(state.items())])


@pytest.mark.parametrize("shapes", [SMALL, LARGE], ids=["flat", "per-parameter"])
@pytest.mark.parametrize("cls,kwargs", CASES, ids=IDS)
def test_compiled_step_is_bit_identical_to_the_numpy_rule(cls, kwargs, shapes, monkeypatch):
    assert (max(np.prod(s) for s in shapes) < compiled_rules.GRAIN) == (shapes is SMALL)
    calls = []
    kernel = compiled_rules.adam_ if issubclass(cls, optim.Adam) else compiled_rules.sgd_
    monkeypatch.setattr(compiled_rules, kernel.__name__, lambda *args: calls.append(1) or kernel(*args))
    fast_params, fast_state = _trajectory(cls, kwargs, shapes, np.float32, True, monkeypatch)
    assert calls, "the compiled loop did not run"
    calls.clear()
    ref_params, ref_state = _trajectory(cls, kwargs, shapes, np.float32, False, monkeypatch)
    assert not calls, "GANGLION_COMPILED=0 still ran the compiled loop"
    for fast, ref in zip(fast_params, ref_params):
        assert not np.allclose(fast, 0)
        np.testing.assert_array_equal(fast, ref)
    assert len(fast_state) == len(ref_state)
    for fast, ref in zip(fast_state, ref_state):
        assert fast.keys() == ref.keys()
        for name in fast:
            np.testing.assert_array_equal(fast[name], ref[name], err_msg=name)


@pytest.mark.parametrize("foreach", [None, False])
@pytest.mark.parametrize("cls,kwargs", [CASES[1], CASES[10]], ids=[IDS[1], IDS[10]])
def test_compiled_step_per_parameter_is_bit_identical(cls, kwargs, foreach, monkeypatch):
    """Parameters at different step counts (one misses some gradients), or foreach=False: the compiled loop runs
    once per parameter, on that parameter's slice and gradient alone, to the NumPy rule's bits."""
    calls = []
    kernel = compiled_rules.adam_ if issubclass(cls, optim.Adam) else compiled_rules.sgd_
    monkeypatch.setattr(compiled_rules, kernel.__name__, lambda p, grads, *args: calls.append(len(grads)) or
                        kernel(p, grads, *args))
    kwargs = dict(kwargs, foreach=foreach)
    fast, fast_state = _trajectory(cls, kwargs, LARGE, np.float32, True, monkeypatch, skip_first_every=3)
    # foreach=None: one call over both until the first parameter misses a gradient (step 1), then one per parameter
    assert calls == ([] if foreach is False else [2]) + [1] * (len(calls) - (foreach is not False)) and len(calls) > 20
    ref, ref_state = _trajectory(cls, kwargs, LARGE, np.float32, False, monkeypatch, skip_first_every=3)
    for a, b in zip(fast + [e[k] for e in fast_state for k in sorted(e)],
                    ref + [e[k] for e in ref_state for k in sorted(e)]):
        np.testing.assert_array_equal(a, b)


def test_large_parameters_step_in_one_call_without_copying_gradients(monkeypatch):
    """Alike large parameters: one compiled call for the bucket, given each parameter's own gradient array."""
    monkeypatch.setenv("GANGLION_COMPILED", "1")
    seen = []
    kernel = compiled_rules.adam_
    monkeypatch.setattr(compiled_rules, "adam_", lambda p, grads, *args: seen.append(list(grads)) or
                        kernel(p, grads, *args))
    params = [nn.Parameter(g.zeros(*s)) for s in LARGE]
    for p in params:
        p.grad = g.ones(*p.shape)
    optim.Adam(params, lr=0.1).step()
    assert len(seen) == 1
    assert [np.shares_memory(piece, p.grad.numpy()) for piece, p in zip(seen[0], params)] == [True, True]
    for p in params:
        np.testing.assert_allclose(p.detach().numpy(), -0.1, rtol=1e-6)


@pytest.mark.parametrize("cls,kwargs", [CASES[1], CASES[10]], ids=[IDS[1], IDS[10]])
def test_compiled_step_in_float64(cls, kwargs, monkeypatch):
    fast, _ = _trajectory(cls, kwargs, SMALL, np.float64, True, monkeypatch, steps=10)
    ref, _ = _trajectory(cls, kwargs, SMALL, np.float64, False, monkeypatch, steps=10)
    for a, b in zip(fast, ref):
        np.testing.assert_array_equal(a, b)


def test_float16_parameters_take_the_numpy_rule(monkeypatch):
    calls = []
    kernel = compiled_rules.adam_
    monkeypatch.setattr(compiled_rules, "adam_", lambda *args: calls.append(1) or kernel(*args))
    p = nn.Parameter(g.from_numpy(np.ones(8, dtype=np.float16)))
    p.grad = g.from_numpy(np.full(8, 0.5, dtype=np.float16))
    optim.Adam([p], lr=0.1).step()
    assert not calls
    assert p.detach().numpy().dtype == np.float16 and float(p.detach().numpy()[0]) < 1.0


def test_compiled_step_allocates_no_scratch_and_nothing_per_step(monkeypatch):
    """The loop needs none of the NumPy rule's flat scratch arrays: the first step makes the flat parameter array and
    the three state arrays of AMSGrad Adam (4 x the parameters' bytes, where the NumPy rule adds two scratch arrays),
    and later steps allocate nothing that outlives them, nor any temporary of the parameters' size."""
    import tracemalloc

    monkeypatch.setenv("GANGLION_COMPILED", "1")
    # numba's import and the kernels' loading happen here, not in the measured steps (they did when this test ran
    # first in its process: 37 MB in the first step, or a 466 KB peak in a later one)
    warm_up = [nn.Parameter(g.zeros(300, 300)) for _ in range(2)]
    for p in warm_up:
        p.grad = g.ones(300, 300)
    warm_up_opt = optim.Adam(warm_up, lr=1e-3, amsgrad=True)
    for _ in range(2):
        warm_up_opt.step()
    params = [nn.Parameter(g.zeros(300, 300)) for _ in range(2)]
    nbytes = sum(p.detach().numpy().nbytes for p in params)
    for p in params:
        p.grad = g.ones(300, 300)
    opt = optim.Adam(params, lr=1e-3, amsgrad=True)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        opt.step()
        first = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(5):
            opt.step()
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert 3.9 * nbytes < first < 4.5 * nbytes
    assert current - before < 0.05 * nbytes and peak - before < 0.05 * nbytes
    assert float(params[0].detach().numpy()[0, 0]) < 0
