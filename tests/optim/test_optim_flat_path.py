"""The flat-buffer fast path: the same rule applied to a whole group at once, to per-parameter slices
(``foreach=False``, parameters stepping at different times, large parameters) gives bit-for-bit the same result;
per-parameter scalar state (NAdam's mu_product) and eager state (Adagrad) as PyTorch keeps them; the live
``optimizer.state`` view."""

import numpy as np
import pytest
import torch

import ganglion as g
from ganglion import nn, optim
from optim_table import OPTIMIZER_PAIRS

ROWS = [
    ("sgd", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("adam", dict(lr=0.01, amsgrad=True, weight_decay=0.01)),
    ("adamw", dict(lr=0.01)),
    ("adagrad", dict(lr=0.05, lr_decay=0.01)),
    ("rmsprop", dict(lr=0.002, momentum=0.5, centered=True)),
    ("adadelta", dict(weight_decay=0.01)),
    ("adamax", dict(lr=0.01)),
    ("nadam", dict(lr=0.003)),
    ("radam", dict(lr=0.01, decoupled_weight_decay=True, weight_decay=0.1)),
    ("lion", dict(lr=1e-3, weight_decay=0.1)),
]
IDS = [r[0] for r in ROWS]


def _train(pair, opt, steps, use_branch=lambda step: True):
    for step in range(steps):
        opt.zero_grad()
        pair.loss_ours(use_branch=use_branch(step)).backward()
        opt.step()
    return pair.params_ours()


@pytest.mark.parametrize("name,kwargs", ROWS, ids=IDS)
def test_per_parameter_path_is_bit_identical_to_the_flat_path(name, kwargs, make_pair):
    cls = OPTIMIZER_PAIRS[name][0]
    flat, sliced = make_pair(np.float32), make_pair(np.float32)
    a = _train(flat, cls(flat.ours.parameters(), **kwargs), 30)
    b = _train(sliced, cls(sliced.ours.parameters(), foreach=False, **kwargs), 30)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


@pytest.mark.parametrize("name,kwargs", ROWS, ids=IDS)
def test_parameters_that_skip_steps_follow_torch(name, kwargs, make_pair, params_close, optimizer_pair):
    """A branch used every third step: its grad is None in between, so its step count and state lag behind the
    others' and the group is updated slice by slice on most steps (with scalars such as mu_product per parameter)."""
    pair = make_pair(np.float64, branch=True)
    ours, theirs = optimizer_pair(name, kwargs, pair)
    for step in range(45):
        use = step % 3 == 0
        for opt, loss in ((ours, pair.loss_ours), (theirs, pair.loss_theirs)):
            opt.zero_grad()
            loss(use_branch=use).backward()
            opt.step()
    params_close(pair.params_ours(), pair.params_theirs(), np.float64)
    sd, sd_t = ours.state_dict()["state"], theirs.state_dict()["state"]
    assert list(sd) == list(sd_t)
    for index, entry in sd_t.items():
        for key, value in entry.items():
            np.testing.assert_allclose(np.asarray(sd[index][key].numpy(), dtype=np.float64),
                                       value.numpy().astype(np.float64), rtol=1e-9, atol=1e-12, err_msg=key)


@pytest.mark.parametrize("name,kwargs", [ROWS[1], ROWS[7]], ids=["adam", "nadam"])
def test_large_parameters_are_updated_slice_by_slice_and_still_match_torch(name, kwargs, optimizer_pair):
    rng = np.random.default_rng(0)
    values = [rng.standard_normal(s).astype(np.float32) for s in [(400, 300), (90_000,), (5,)]]
    ours = [nn.Parameter(g.from_numpy(v.copy())) for v in values]
    theirs = [torch.nn.Parameter(torch.from_numpy(v.copy())) for v in values]
    ours_cls, theirs_cls = OPTIMIZER_PAIRS[name]
    opt, opt_t = ours_cls(ours, **kwargs), theirs_cls(theirs, **kwargs)
    for step in range(5):
        grads = [rng.standard_normal(v.shape).astype(np.float32) for v in values]
        for p, gr in zip(ours, grads):
            p.grad = g.from_numpy(gr.copy())
        for p, gr in zip(theirs, grads):
            p.grad = torch.from_numpy(gr.copy())
        opt.step()
        opt_t.step()
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-5, atol=1e-6)
    (bucket,) = opt._buckets[0]
    assert "grad" not in bucket._scratch  # the gradients were never gathered into one array


@pytest.mark.parametrize("name,kwargs", [ROWS[1], ROWS[4], ROWS[7], ROWS[0]], ids=["adam", "rmsprop", "nadam", "sgd"])
def test_long_arrays_cut_into_chunks_give_the_same_bits(name, kwargs, monkeypatch):
    """A parameter of 600k numbers is updated in cache-sized chunks: the same result, scalars included (NAdam's
    mu_product is computed in every chunk and must still be advanced once per step)."""
    from ganglion.optim import _state as base

    rng = np.random.default_rng(0)
    start = rng.standard_normal((1000, 600)).astype(np.float32)
    grads = [rng.standard_normal((1000, 600)).astype(np.float32) for _ in range(4)]
    assert len(base.chunks(0, start.size)) > 1  # the first run below does use chunks
    results = []
    for chunk in (base._CHUNK, 1 << 40):
        monkeypatch.setattr(base, "_CHUNK", chunk)
        p = nn.Parameter(g.from_numpy(start.copy()))
        opt = OPTIMIZER_PAIRS[name][0]([p], **kwargs)
        for gr in grads:
            p.grad = g.from_numpy(gr)
            opt.step()
        results.append((p.detach().numpy().copy(), opt.state_dict()["state"][0]))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    for key, value in results[0][1].items():
        np.testing.assert_array_equal(value.numpy(), results[1][1][key].numpy(), err_msg=key)


def test_nadam_keeps_mu_product_as_a_float32_scalar_like_torch(make_pair):
    pair = make_pair(np.float64)
    ours, theirs = optim.NAdam(pair.ours.parameters(), lr=0.003), torch.optim.NAdam(pair.theirs.parameters(),
                                                                                     lr=0.003)
    for _ in range(8):
        for opt, loss in ((ours, pair.loss_ours), (theirs, pair.loss_theirs)):
            opt.zero_grad()
            loss().backward()
            opt.step()
    mine, reference = ours.state_dict()["state"][0], theirs.state_dict()["state"][0]
    assert list(mine) == list(reference) == ["step", "mu_product", "exp_avg", "exp_avg_sq"]
    assert mine["mu_product"].shape == () and mine["mu_product"].dtype == np.float32
    assert float(mine["mu_product"]) == reference["mu_product"].item()  # exactly: rounded the same way


def test_adagrad_has_state_before_its_first_step_like_torch():
    p, tp = nn.Parameter(g.ones(2, 3)), torch.nn.Parameter(torch.ones(2, 3))
    ours = optim.Adagrad([p], initial_accumulator_value=0.25)
    theirs = torch.optim.Adagrad([tp], initial_accumulator_value=0.25)
    entry, entry_t = ours.state_dict()["state"][0], theirs.state_dict()["state"][0]
    assert list(entry) == list(entry_t) == ["step", "sum"]
    assert float(entry["step"]) == 0.0
    np.testing.assert_array_equal(entry["sum"].numpy(), entry_t["sum"].numpy())
    late = nn.Parameter(g.ones(4))
    ours.add_param_group({"params": [late]})  # added later: no state until it steps (as in PyTorch)
    assert 1 not in ours.state_dict()["state"]


def test_state_property_gives_live_views_of_each_parameters_state():
    p, q = nn.Parameter(g.ones(2, 2)), nn.Parameter(g.ones(3))
    opt = optim.SGD([p, q], lr=0.1, momentum=0.9)
    assert opt.state == {}
    p.grad, q.grad = g.ones(2, 2), g.full((3,), 2.0)
    opt.step()
    state = opt.state
    assert set(state) == {p, q}
    np.testing.assert_array_equal(state[q]["momentum_buffer"].numpy(), [2.0, 2.0, 2.0])
    assert state[p]["momentum_buffer"].shape == (2, 2)
    state[q]["momentum_buffer"].array[...] = 0  # a live view: writing to it changes what the next step uses
    opt.step()
    np.testing.assert_array_equal(opt.state[q]["momentum_buffer"].numpy(), [2.0, 2.0, 2.0])


def test_a_changed_momentum_starts_the_buffer_at_the_gradient_like_torch():
    """Momentum switched on after some steps (as CyclicLR can do): PyTorch starts the buffer at that gradient."""
    p, tp = nn.Parameter(g.ones(3)), torch.nn.Parameter(torch.ones(3))
    ours, theirs = optim.SGD([p], lr=0.1), torch.optim.SGD([tp], lr=0.1)
    for step in range(6):
        if step == 3:
            ours.param_groups[0]["momentum"] = theirs.param_groups[0]["momentum"] = 0.9
        p.grad, tp.grad = g.full((3,), float(step + 1)), torch.full((3,), float(step + 1))
        ours.step()
        theirs.step()
    np.testing.assert_allclose(p.detach().numpy(), tp.detach().numpy(), rtol=1e-6)


def test_centered_rmsprop_stays_finite_where_rounding_makes_the_variance_negative():
    """With a constant gradient v - a^2 tends to 0 and rounding takes it below; PyTorch's sqrt then gives nan."""
    rng = np.random.default_rng(1)
    grad = rng.standard_normal(13600).astype(np.float32)
    p = nn.Parameter(g.zeros(13600))
    p.grad = g.from_numpy(grad)
    opt = optim.RMSprop([p], lr=1e-3, centered=True, momentum=0.9)
    for _ in range(1300):
        opt.step()
    assert np.isfinite(p.detach().numpy()).all()
    # the direction is still right: every coordinate moved against its gradient
    assert (np.sign(p.detach().numpy()) == -np.sign(grad)).all()
