"""Version counters: changing in place a tensor that a graph saved makes backward raise, as in PyTorch.

Every case is one program run twice, on ganglion and on torch (``lib`` is the module): both must raise PyTorch's
"modified by an inplace operation" error with the same versions, or both must give the same gradients.
"""

import re

import numpy as np
import pytest
import torch

import ganglion as g

# torch saves conditionally (e.g. ``w * x`` keeps only x when only w requires grad) and a few ganglion ops save other
# arrays than torch's (Div keeps its output, Pow(x, 2) too); the cases below are the programs where both save the
# tensor that is changed, or both do not.


def _np(t):
    return t.detach().numpy().copy()


def _mul_input_no_grad(lib):  # issue 11 with an input that does not require grad
    w = lib.tensor([1.0, 2.0], requires_grad=True)
    x = lib.tensor([3.0, 4.0])
    y = (w * x).sum()
    x.add_(1.0)
    y.backward()
    return [w.grad]


def _issue_11(lib):
    w = lib.tensor([1.0, 2.0], requires_grad=True)
    x = lib.tensor([3.0, 4.0], requires_grad=True)
    y = (w * x).sum()
    with lib.no_grad():
        w.sub_(10.0)
    y.backward()
    return [x.grad, w.grad]


def _add_saves_nothing(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    c = lib.tensor([5.0, 6.0])
    y = x + 1 + c
    with lib.no_grad():
        x.add_(1.0)
    c.mul_(3.0)
    y.sum().backward()
    return [x.grad]


def _exp_output(lib):
    x = lib.tensor([0.5, -1.0], requires_grad=True)
    y = x.exp()
    with lib.no_grad():
        y.add_(1.0)
    y.sum().backward()
    return [x.grad]


def _exp_input(lib):  # exp saves its output only: changing the input afterwards is fine
    x = lib.tensor([0.5, -1.0], requires_grad=True)
    y = x.exp()
    with lib.no_grad():
        x.mul_(3.0)
    y.sum().backward()
    return [x.grad]


def _sigmoid_output(lib):
    x = lib.tensor([0.5, -1.0], requires_grad=True)
    y = x.sigmoid()
    with lib.no_grad():
        y.mul_(2.0)
    (y * 1).sum().backward()
    return [x.grad]


def _sigmoid_input(lib):
    x = lib.tensor([0.5, -1.0], requires_grad=True)
    y = x.sigmoid()
    with lib.no_grad():
        x.zero_()
    y.sum().backward()
    return [x.grad]


def _tanh_output(lib):
    x = lib.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)
    y = x.tanh()
    with lib.no_grad():
        y[0, 1] = 3.0
    y.sum().backward()
    return [x.grad]


def _tanh_input(lib):
    x = lib.tensor([0.5, -1.0], requires_grad=True)
    y = x.tanh()
    with lib.no_grad():
        x.fill_(7.0)
    y.sum().backward()
    return [x.grad]


def _relu_output(lib):
    x = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
    y = x.relu()
    with lib.no_grad():
        y.clamp_(0.0, 1.0)
    y.sum().backward()
    return [x.grad]


def _mul_nonleaf_input(lib):  # the changed tensor is itself an output: "which is output 0 of Mul"
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    y = h * h
    with lib.no_grad():
        h.add_(1.0)
    y.sum().backward()
    return [x.grad]


def _linear_input_setitem(lib):  # the input of a Linear layer is saved for the weight's gradient
    x = lib.ones(4, 2)
    w = lib.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
    b = lib.tensor([0.5, -0.5, 1.0], requires_grad=True)
    y = lib.nn.functional.linear(x, w, b)
    x[0] = 5.0
    y.sum().backward()
    return [w.grad, b.grad]


def _linear_weight(lib):  # the weight is saved for the input's gradient
    x = lib.tensor([[1.0, 2.0]], requires_grad=True)
    w = lib.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
    y = lib.nn.functional.linear(x, w)
    with lib.no_grad():
        w.add_(1.0)
    y.sum().backward()
    return [x.grad, w.grad]


def _linear_bias(lib):  # the bias is not saved
    x = lib.tensor([[1.0, 2.0]], requires_grad=True)
    w = lib.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
    b = lib.tensor([0.5, -0.5, 1.0], requires_grad=True)
    y = lib.nn.functional.linear(x, w, b)
    with lib.no_grad():
        b.mul_(10.0)
    y.sum().backward()
    return [x.grad, w.grad, b.grad]


def _matmul_left(lib):
    a = lib.tensor([[1.0, 2.0], [3.0, 4.0]])
    b = lib.tensor([[0.5, 1.0], [1.5, 2.0]], requires_grad=True)
    y = a @ b
    a.div_(2.0)
    y.sum().backward()
    return [b.grad]


def _matmul_right(lib):
    a = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    b = lib.tensor([[0.5, 1.0], [1.5, 2.0]], requires_grad=True)
    y = a @ b
    with lib.no_grad():
        b.copy_(lib.ones(2, 2))
    y.sum().backward()
    return [a.grad, b.grad]


def _pow_base(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x ** 2
    with lib.no_grad():
        x.add_(1.0)
    y.sum().backward()
    return [x.grad]


def _pow_exponent(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    e = lib.tensor([2.0, 3.0])
    y = x ** e
    e.add_(1.0)
    y.sum().backward()
    return [x.grad]


def _div_divisor(lib):
    a = lib.tensor([1.0, 2.0], requires_grad=True)
    b = lib.tensor([2.0, 4.0])
    y = a / b
    b.mul_(2.0)
    y.sum().backward()
    return [a.grad]


def _basic_slice_view(lib):  # a view and its base share one counter
    w = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x = lib.tensor([3.0, 4.0, 5.0])
    y = (w * x).sum()
    v = x[0:1]
    v.mul_(2.0)
    y.backward()
    return [w.grad]


def _view_of_saved_output(lib):
    x = lib.tensor([0.5, -1.0, 2.0, 0.0], requires_grad=True)
    y = x.exp()
    with lib.no_grad():
        y.view(2, 2)[1].add_(1.0)
    y.sum().backward()
    return [x.grad]


def _transpose_view(lib):
    w = lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    x = lib.tensor([[3.0, 4.0, 5.0], [6.0, 7.0, 8.0]])
    y = (w * x).sum()
    x.transpose(0, 1).unsqueeze(0).sub_(1.0)
    y.backward()
    return [w.grad]


def _saved_base_through_view(lib):  # the node saved the view; the base is changed
    w = lib.tensor([1.0, 2.0], requires_grad=True)
    x = lib.tensor([[3.0, 4.0], [5.0, 6.0]])
    y = (w * x[1]).sum()
    x.mul_(2.0)
    y.backward()
    return [w.grad]


def _reshape_copy_is_not_a_view(lib):
    w = lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    x = lib.tensor([[3.0, 4.0, 5.0], [6.0, 7.0, 8.0]])
    y = (w * x).sum()
    x.transpose(0, 1).reshape(6).add_(1.0)
    y.backward()
    return [w.grad]


def _advanced_index_is_a_copy(lib):
    w = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x = lib.tensor([3.0, 4.0, 5.0])
    y = (w * x).sum()
    x[[0, 2]].add_(1.0)
    y.backward()
    return [w.grad]


def _detach_shares(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    x.detach().add_(1.0)
    y.sum().backward()
    return [x.grad]


def _data_does_not_share(lib):  # `.data` hides the change from autograd (gradients see the new values)
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    x.data.add_(1.0)
    y.sum().backward()
    return [x.grad]


def _retain_graph_then_change(lib):
    x = lib.tensor([0.5, -1.0], requires_grad=True)
    y = x.exp()
    s = y.sum()
    s.backward(retain_graph=True)
    with lib.no_grad():
        y.mul_(2.0)
    s.backward()
    return [x.grad]


def _ctx_function(lib, change):
    class Exp(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(x, y)
            return y

        @staticmethod
        def backward(ctx, grad):
            x, y = ctx.saved_tensors
            return grad * y

    x = lib.tensor([0.5, -1.0], requires_grad=True)
    h = x * 1.0
    y = Exp.apply(h)
    with lib.no_grad():
        if change == "output":
            y.add_(1.0)
        elif change == "input":
            h.add_(1.0)
    (y * 1).sum().backward()
    return [x.grad]


CASES = {
    "mul_input_no_grad": (_mul_input_no_grad, True),
    "issue_11": (_issue_11, True),
    "add_saves_nothing": (_add_saves_nothing, False),
    "exp_output": (_exp_output, True),
    "exp_input": (_exp_input, False),
    "sigmoid_output": (_sigmoid_output, True),
    "sigmoid_input": (_sigmoid_input, False),
    "tanh_output": (_tanh_output, True),
    "tanh_input": (_tanh_input, False),
    "relu_output": (_relu_output, True),
    "mul_nonleaf_input": (_mul_nonleaf_input, True),
    "linear_input_setitem": (_linear_input_setitem, True),
    "linear_weight": (_linear_weight, True),
    "linear_bias": (_linear_bias, False),
    "matmul_left": (_matmul_left, True),
    "matmul_right": (_matmul_right, True),
    "pow_base": (_pow_base, True),
    "pow_exponent": (_pow_exponent, True),
    "div_divisor": (_div_divisor, True),
    "basic_slice_view": (_basic_slice_view, True),
    "view_of_saved_output": (_view_of_saved_output, True),
    "transpose_view": (_transpose_view, True),
    "saved_base_through_view": (_saved_base_through_view, True),
    "reshape_copy_is_not_a_view": (_reshape_copy_is_not_a_view, False),
    "advanced_index_is_a_copy": (_advanced_index_is_a_copy, False),
    "detach_shares": (_detach_shares, True),
    "data_does_not_share": (_data_does_not_share, False),
    "retain_graph_then_change": (_retain_graph_then_change, True),
    "ctx_function_output": (lambda lib: _ctx_function(lib, "output"), True),
    "ctx_function_input": (lambda lib: _ctx_function(lib, "input"), True),
    "ctx_function_unchanged": (lambda lib: _ctx_function(lib, None), False),
}

# "[type [shape]], which is output k of Name, is at version v; expected version e instead"
_MESSAGE = re.compile(
    r"^one of the variables needed for gradient computation has been modified by an inplace operation: "
    r"\[\S+ \[([\d, ]*)\]\](, which is output \d+ of \w+,)? is at version (\d+); expected version (\d+) instead\. Hint: "
)
# torch saves Linear's weight transposed (a view "output 0 of AsStrided"): only the versions can be compared there
_VERSIONS_ONLY = {"linear_weight"}


def _run(program, lib):
    try:
        return "returned", [_np(t) for t in program(lib)]
    except RuntimeError as e:
        return "raised", str(e)


@pytest.mark.parametrize("name", list(CASES))
def test_same_outcome_as_torch(name):
    program, raises = CASES[name]
    ours, theirs = _run(program, g), _run(program, torch)
    assert theirs[0] == ("raised" if raises else "returned"), theirs  # the table itself is right about torch
    assert ours[0] == theirs[0], ours[1]
    if ours[0] == "returned":
        for a, b in zip(ours[1], theirs[1]):
            np.testing.assert_allclose(a, b, rtol=1e-6)
        return
    ours_parts, theirs_parts = _MESSAGE.match(ours[1]), _MESSAGE.match(theirs[1])
    assert ours_parts is not None, ours[1]
    assert theirs_parts is not None, theirs[1]
    if name in _VERSIONS_ONLY:
        assert ours_parts.groups()[2:] == theirs_parts.groups()[2:]
    else:  # node names as torch's up to case (ganglion's ReLU is torch's Relu)
        assert [str(p).lower() for p in ours_parts.groups()] == [str(p).lower() for p in theirs_parts.groups()]


def test_message_is_torchs_with_ganglions_type_name():
    ours, theirs = _run(_exp_output, g)[1], _run(_exp_output, torch)[1]
    assert ours.split(" Hint: ")[0] == theirs.split(" Hint: ")[0].replace("torch.FloatTensor", "ganglion.float32")
    assert ours.startswith(
        "one of the variables needed for gradient computation has been modified by an inplace operation: "
        "[ganglion.float32 [2]], which is output 0 of Exp, is at version 1; expected version 0 instead. Hint: "
    )


def test_several_changes_report_the_count():
    def program(lib):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        x = lib.tensor([1.0, 1.0])
        x.add_(1.0)  # before the graph: expected version 1
        y = (w * x).sum()
        x.mul_(2.0)
        x[0] = 4.0
        x.zero_()
        y.backward()

    with pytest.raises(RuntimeError) as theirs:
        program(torch)
    with pytest.raises(RuntimeError, match=r"is at version 4; expected version 1 instead") as ours:
        program(g)
    assert _MESSAGE.match(str(ours.value)).groups() == _MESSAGE.match(str(theirs.value)).groups()


# --------------------------------------------------------------------------------------- _version, every method
INPLACE = {
    "add_": lambda t, lib: t.add_(1.0),
    "add_ alpha": lambda t, lib: t.add_(lib.ones(3), alpha=2),
    "sub_": lambda t, lib: t.sub_(1.0),
    "sub_ alpha": lambda t, lib: t.sub_(lib.ones(3), alpha=2),
    "mul_": lambda t, lib: t.mul_(2.0),
    "div_": lambda t, lib: t.div_(2.0),
    "clamp_": lambda t, lib: t.clamp_(0.0, 1.0),
    "copy_": lambda t, lib: t.copy_(lib.ones(3)),
    "fill_": lambda t, lib: t.fill_(2.0),
    "zero_": lambda t, lib: t.zero_(),
    "uniform_": lambda t, lib: t.uniform_(),
    "normal_": lambda t, lib: t.normal_(),
    "setitem int": lambda t, lib: t.__setitem__(0, 5.0),
    "setitem slice": lambda t, lib: t.__setitem__(slice(0, 2), lib.ones(2)),
    "setitem mask": lambda t, lib: t.__setitem__(t > 0.5, 0.0),
    "setitem list": lambda t, lib: t.__setitem__([0, 2], 1.0),
    "iadd": lambda t, lib: t.__iadd__(1.0),
    "isub": lambda t, lib: t.__isub__(1.0),
    "imul": lambda t, lib: t.__imul__(2.0),
    "itruediv": lambda t, lib: t.__itruediv__(2.0),
}


def _versions_after(change, lib):
    """Versions of a tensor, a view and a detached alias after ``change`` on the tensor, then on a view of it."""
    base = lib.tensor([0.25, 0.5, 0.75])
    view = base[1:]
    detached = base.detach()
    versions = [base._version]
    change(base, lib)
    versions += [base._version, view._version, detached._version]
    change(base.unsqueeze(0)[0], lib)
    versions += [base._version, view._version, detached._version]
    return versions


@pytest.mark.parametrize("name", list(INPLACE))
def test_every_inplace_method_bumps_the_shared_version_as_torch(name):
    assert _versions_after(INPLACE[name], g) == _versions_after(INPLACE[name], torch)


def test_version_sequence_matches_torch():
    def sequence(lib):
        x = lib.zeros(2, 3)
        seen = [x._version]
        x.add_(1.0)
        seen.append(x._version)
        v = x.view(3, 2)
        t = x.transpose(0, 1)
        row = x[1]
        d = x.detach()
        data = x.data
        seen += [v._version, t._version, row._version, d._version, data._version]
        v.mul_(2.0)
        t[0, 0] = 3.0
        row.zero_()
        d.fill_(1.0)
        seen += [x._version, v._version, t._version, row._version, d._version]
        data.add_(1.0)  # .data has a counter of its own
        seen += [x._version, data._version]
        fresh = x.reshape(6)  # a view again (x is contiguous)
        fresh.sub_(1.0)
        copied = x.transpose(0, 1).reshape(6)  # a copy: a fresh counter
        copied.add_(1.0)
        seen += [x._version, fresh._version, copied._version, x.clone()._version, (x + 1)._version]
        x.requires_grad_()
        seen.append(x._version)
        return seen

    assert sequence(g) == sequence(torch)


def test_a_failed_inplace_op_does_not_bump():
    x = g.zeros(3)
    with pytest.raises(ValueError, match="add_"):
        x.add_(g.ones(4))
    assert x._version == 0
    t = torch.zeros(3)
    with pytest.raises(RuntimeError):
        t.add_(torch.ones(4))
    assert t._version == 0


# ------------------------------------------------------------------------------ leaves, grad mode, training loops
@pytest.mark.parametrize("name", [n for n in INPLACE if not n.startswith("setitem mask")])
def test_a_leaf_that_requires_grad_cannot_change_in_place_while_recording(name):
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place operation"):
        INPLACE[name](torch.zeros(3, requires_grad=True), torch)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place operation"):
        INPLACE[name](g.zeros(3, requires_grad=True), g)


@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
def test_a_training_loop_never_trips_the_check(optimizer):
    """forward, backward, step, zero_grad, repeat: the optimizer's updates are not seen as changes of saved tensors
    (a new graph saves the new versions), and the losses follow torch's."""
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    ours = g.nn.Sequential(g.nn.Linear(3, 4), g.nn.Tanh(), g.nn.Linear(4, 2))
    with g.no_grad():
        for p, q in zip(ours.parameters(), theirs.parameters()):
            p.copy_(g.tensor(q.detach().numpy()))
    kwargs = {"lr": 0.1, "momentum": 0.9} if optimizer == "SGD" else {"lr": 0.01}
    opt_ours = getattr(g.optim, optimizer)(ours.parameters(), **kwargs)
    opt_theirs = getattr(torch.optim, optimizer)(theirs.parameters(), **kwargs)
    rng = np.random.default_rng(0)
    x, target = rng.normal(size=(5, 3)).astype(np.float32), rng.normal(size=(5, 2)).astype(np.float32)
    losses = []
    for lib, model, opt in ((g, ours, opt_ours), (torch, theirs, opt_theirs)):
        run = []
        for _ in range(4):
            opt.zero_grad()
            loss = ((model(lib.tensor(x)) - lib.tensor(target)) ** 2).mean()
            loss.backward()
            opt.step()
            run.append(loss.item())
        losses.append(run)
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-5)


# --------------------------------------------------------------- writes outside the Tensor methods count too
def _raises_like_torch(program):
    """Run ``program(lib)`` on ganglion and torch: both must raise the in-place error."""
    for lib in (g, torch):
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            program(lib)


def test_load_state_dict_after_the_forward_pass_is_an_inplace_change():
    def program(lib):
        lin = lib.nn.Linear(2, 1)
        x = lib.ones(1, 2, requires_grad=True)
        y = lin(x).sum()
        lin.load_state_dict({"weight": lib.full((1, 2), 5.0), "bias": lib.zeros(1)})
        y.backward()

    _raises_like_torch(program)


def test_inplace_dropout_of_a_saved_tensor_is_an_inplace_change():
    def program(lib):
        w = lib.ones(3, requires_grad=True)
        x = lib.full((3,), 2.0)
        y = (w * x).sum()
        lib.nn.functional.dropout(x, 0.5, inplace=True)
        y.backward()

    _raises_like_torch(program)


def test_init_functions_count_as_inplace_changes():
    for lib in (g, torch):
        t = lib.empty(3, 4)
        lib.nn.init.normal_(t)
        lib.nn.init.zeros_(t)
        assert t._version == 2


def test_one_element_index_is_a_view_like_torch():
    """x[0] of a 1-D tensor is a 0-d view: an in-place change reaches x and shares its version."""
    for lib in (g, torch):
        x = lib.tensor([1.0, 2.0, 3.0])
        x[0].add_(1)
        assert x.tolist() == [2.0, 2.0, 3.0] and x._version == 1
        m = lib.zeros(2, 2)
        m[1, 1].fill_(5)
        assert m.tolist() == [[0.0, 0.0], [0.0, 5.0]]


# ------------------------------------------------------------------------ += and -= written over a recorded tensor
def _sum_in_place_then_use(lib):
    """x -> h = 2x; h += c (broadcast); h -= y (both require grad); the alias sees the change; h used twice."""
    x = lib.tensor([[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]], requires_grad=True)
    y = lib.tensor([[0.25, 0.5, -0.75], [1.0, -1.5, 2.0]], requires_grad=True)
    h = x * 2.0
    alias = h
    h += lib.tensor([1.0, 0.0, -1.0])
    h -= y
    assert alias is h and h._version == 2
    (h * h + h).sum().backward()
    return [_np(h), x.grad, y.grad]


def _block_with_sum_in_place(lib):
    """torchvision's BasicBlock ending: out = bn(conv(x)); out += identity; out = relu(out), in place all along."""
    rng = np.random.default_rng(5)
    conv = lib.nn.Conv2d(3, 3, 3, padding=1, bias=False)
    bn = lib.nn.BatchNorm2d(3)
    with lib.no_grad():
        conv.weight.copy_(lib.tensor(rng.standard_normal((3, 3, 3, 3)).astype(np.float32)))
    x = lib.tensor(rng.standard_normal((2, 3, 5, 5)).astype(np.float32), requires_grad=True)
    identity = x
    out = bn(conv(x))
    out += identity
    out = lib.nn.ReLU(inplace=True)(out)
    (out * out).sum().backward()
    return [_np(out), x.grad, conv.weight.grad, bn.weight.grad]


@pytest.mark.parametrize("program", [_sum_in_place_then_use, _block_with_sum_in_place])
def test_sums_written_in_place_give_torch_gradients(program):
    for mine, theirs in zip(program(g), program(torch)):
        np.testing.assert_allclose(_np(mine) if isinstance(mine, g.Tensor) else mine,
                                   _np(theirs) if isinstance(theirs, torch.Tensor) else theirs, rtol=1e-5, atol=1e-5)


def test_sums_that_cannot_be_written_in_place_record_a_new_node():
    """x += x, a tensor an op has used, and a view: the name is rebound to a new node (what it held is unchanged),
    and the gradients are still right."""
    x = g.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1.0
    held = h
    h += h
    assert h is not held and held.tolist() == [1.0, 2.0] and h.tolist() == [2.0, 4.0]
    v = (x * 1.0).reshape(2, 1)
    held = v
    v += 1.0
    assert v is not held and held.tolist() == [[1.0], [2.0]]
    (h.sum() + v.sum()).backward()
    assert x.grad.tolist() == [3.0, 3.0]
    with pytest.raises(RuntimeError, match="leaf Variable"):
        x += 1.0
