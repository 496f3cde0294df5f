"""Properties over random shapes: gradients of broadcast inputs are reduced back to each input's shape, and shape ops
that undo each other give back the input and pass the gradient through unchanged."""

import numpy as np
import torch
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes

import ganglion as G

PROPERTY = settings(max_examples=30, deadline=None)  # modest: the whole op suite stays fast


def _values(seed, shape):
    return np.asarray(np.random.default_rng(seed).standard_normal(shape), dtype=np.float32)


def _reduce_to(grad, shape):
    """Sum a broadcast-shaped array down to ``shape``, written out independently of the engine's helper."""
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


@PROPERTY
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, min_side=1, max_side=3),
       seed=st.integers(0, 2**16))
def test_broadcast_gradient_is_reduced_to_input_shape(shapes, seed):
    """d sum(a * b) / da = b broadcast to the result and summed back to a's shape (and likewise for b)."""
    (shape_a, shape_b), out_shape = shapes.input_shapes, shapes.result_shape
    a_np, b_np = _values(seed, shape_a), _values(seed + 1, shape_b)
    a, b = G.tensor(a_np, requires_grad=True), G.tensor(b_np, requires_grad=True)
    (a * b).sum().backward()

    expected_a = _reduce_to(np.broadcast_to(b_np, out_shape), shape_a)
    expected_b = _reduce_to(np.broadcast_to(a_np, out_shape), shape_b)
    assert a.grad.shape == shape_a and b.grad.shape == shape_b
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float32
    np.testing.assert_allclose(a.grad.array, expected_a, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(b.grad.array, expected_b, rtol=1e-5, atol=1e-5)

    ta, tb = torch.tensor(a_np, requires_grad=True), torch.tensor(b_np, requires_grad=True)
    (ta * tb).sum().backward()
    np.testing.assert_allclose(a.grad.array, ta.grad.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(b.grad.array, tb.grad.numpy(), rtol=1e-5, atol=1e-5)


@PROPERTY
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=1, max_side=3),
       seed=st.integers(0, 2**16))
def test_broadcast_gradients_of_add_sub_div_match_torch(shapes, seed):
    """The same reduction holds for every broadcasting binary op, with a non-uniform upstream gradient."""
    shape_a, shape_b = shapes.input_shapes
    a_np, b_np = _values(seed, shape_a), np.abs(_values(seed + 1, shape_b)) + 0.5
    upstream = _values(seed + 2, shapes.result_shape)
    a, b = G.tensor(a_np, requires_grad=True), G.tensor(b_np, requires_grad=True)
    ta, tb = torch.tensor(a_np, requires_grad=True), torch.tensor(b_np, requires_grad=True)
    ((a + b) * (a - b) / b).backward(G.tensor(upstream))
    ((ta + tb) * (ta - tb) / tb).backward(torch.from_numpy(upstream))
    np.testing.assert_allclose(a.grad.array, ta.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(b.grad.array, tb.grad.numpy(), rtol=1e-4, atol=1e-5)


@st.composite
def shape_and_refactoring(draw):
    """A shape and another shape with the same number of elements (its sizes regrouped in random order)."""
    shape = draw(array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=4))
    factors = [f for s in shape for f in _prime_factors(s)]
    factors = draw(st.permutations(factors))
    cuts = sorted(draw(st.lists(st.integers(0, len(factors)), max_size=3)))
    bounds = [0] + cuts + [len(factors)]
    new_shape = tuple(int(np.prod(factors[lo:hi], dtype=np.int64)) for lo, hi in zip(bounds, bounds[1:]))
    return shape, new_shape


def _prime_factors(n):
    out, p = [], 2
    while n > 1:
        while n % p == 0:
            out.append(p)
            n //= p
        p += 1
    return out


def _check_identity(x_np, make, upstream_seed):
    """``make(x)`` must return x's values, and the gradient of sum(y * g) must be g itself."""
    x = G.tensor(x_np, requires_grad=True)
    y = make(x)
    assert y.shape == x_np.shape
    np.testing.assert_array_equal(y.array, x_np)
    g = _values(upstream_seed, x_np.shape)
    y.backward(G.tensor(g))
    np.testing.assert_array_equal(x.grad.array, g)


@PROPERTY
@given(shapes=shape_and_refactoring(), seed=st.integers(0, 2**16))
def test_reshape_round_trip(shapes, seed):
    shape, new_shape = shapes
    x_np = _values(seed, shape)

    def there_and_back(x):
        y = x.reshape(new_shape)
        assert y.shape == new_shape
        np.testing.assert_array_equal(y.array, x_np.reshape(new_shape))
        return y.view(shape)

    _check_identity(x_np, there_and_back, seed + 1)


@PROPERTY
@given(shape=array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4), data=st.data())
def test_permute_round_trip(shape, data):
    dims = data.draw(st.permutations(range(len(shape))))
    inverse = tuple(int(i) for i in np.argsort(dims))
    x_np = _values(len(shape), shape)

    def there_and_back(x):
        y = x.permute(*dims)
        np.testing.assert_array_equal(y.array, np.transpose(x_np, dims))
        return y.permute(inverse)

    _check_identity(x_np, there_and_back, 1)


@PROPERTY
@given(shape=array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4), data=st.data())
def test_transpose_round_trip(shape, data):
    n = len(shape)
    d0 = data.draw(st.integers(-n, n - 1))
    d1 = data.draw(st.integers(-n, n - 1))
    x_np = _values(n, shape)

    def there_and_back(x):
        y = x.transpose(d0, d1)
        np.testing.assert_array_equal(y.array, np.swapaxes(x_np, d0, d1))
        return y.transpose(d1, d0)

    _check_identity(x_np, there_and_back, 2)


@PROPERTY
@given(shape=array_shapes(min_dims=2, max_dims=4, min_side=1, max_side=4), seed=st.integers(0, 2**16))
def test_T_twice_and_mT_twice_are_identity(shape, seed):
    x_np = _values(seed, shape)
    _check_identity(x_np, lambda x: x.T.T, seed + 1)
    _check_identity(x_np, lambda x: x.mT.mT, seed + 2)


@PROPERTY
@given(shape=array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4), data=st.data())
def test_unsqueeze_squeeze_and_flatten_round_trips(shape, data):
    n = len(shape)
    dim = data.draw(st.integers(-n - 1, n))
    x_np = _values(n, shape)
    _check_identity(x_np, lambda x: x.unsqueeze(dim).squeeze(dim), 3)
    _check_identity(x_np, lambda x: x.flatten().reshape(shape), 4)
