"""``ganglion.keras.ops`` against Keras 3's own ``keras.ops`` (torch backend): the same NumPy inputs must give the same
values and the same result dtype. Adding a function is adding a row."""

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

import ganglion  # noqa: E402
from ganglion.keras import ops  # noqa: E402

rng = np.random.default_rng(0)
F = rng.standard_normal((3, 4)).astype("float32")          # any real
P = rng.uniform(0.1, 2.0, (3, 4)).astype("float32")        # positive
G = rng.standard_normal((3, 4)).astype("float32")
I = rng.integers(-5, 6, (3, 4)).astype("int32")
J = rng.integers(1, 4, (3, 4)).astype("int32")
B = I > 0
H = F.astype("float16")
V = rng.standard_normal(4).astype("float32")
M = rng.standard_normal((4, 2)).astype("float32")
T3 = rng.standard_normal((2, 3, 4)).astype("float32")
LABELS = np.array([0, 2, 1], dtype="int32")
ONEHOT = np.eye(4, dtype="float32")[[0, 3, 1]]
PROBS = (P / P.sum(-1, keepdims=True)).astype("float32")
TARGET01 = (rng.uniform(size=(3, 4)) > 0.5).astype("float32")
IDX = np.array([[0, 3], [1, 1], [2, 0]], dtype="int32")

# (name, args, kwargs): called as ops.<name>(*args, **kwargs) and keras.ops.<name>(*args, **kwargs)
CASES = [
    ("convert_to_tensor", (F,), {}), ("convert_to_tensor", (1.5,), {}), ("convert_to_tensor", ([1, 2],), {}),
    ("convert_to_tensor", (I,), {"dtype": "float32"}),
    ("cast", (F, "int32"), {}), ("cast", (I, "float16"), {}),
    ("reshape", (F, (2, -1)), {}), ("transpose", (T3,), {}), ("transpose", (T3, (1, 0, 2)), {}),
    ("expand_dims", (F, 1), {}), ("expand_dims", (F, -1), {}), ("squeeze", (F[:1],), {}), ("squeeze", (F[:, :1], 1), {}),
    ("concatenate", ([F, G],), {"axis": 1}), ("concatenate", ([F, I],), {}), ("stack", ([F, G],), {"axis": -1}),
    ("matmul", (F, M), {}), ("matmul", (T3, M), {}), ("matmul", (I, I.T), {}), ("dot", (F, V), {}), ("dot", (V, V), {}),
    ("dot", (F, M), {}), ("dot", (T3, M), {}),
    ("add", (F, G), {}), ("add", (I, 1.5), {}), ("add", (H, 1.5), {}), ("add", (I, 2), {}), ("add", (I, F), {}),
    ("add", (B, I), {}), ("add", (H, F), {}), ("subtract", (F, V), {}), ("multiply", (I, J), {}),
    ("divide", (F, P), {}), ("divide", (I, J), {}), ("negative", (I,), {}), ("negative", (F,), {}),
    ("square", (F,), {}), ("square", (I,), {}), ("sqrt", (P,), {}), ("sqrt", (J,), {}), ("exp", (F,), {}),
    ("log", (P,), {}), ("log", (J,), {}), ("abs", (I,), {}), ("abs", (F,), {}), ("sign", (F,), {}),
    ("power", (P, F), {}), ("power", (I, 2), {}), ("power", (F, 2.0), {}), ("maximum", (F, G), {}),
    ("maximum", (I, 0), {}), ("minimum", (F, 0.0), {}), ("clip", (F, -0.5, 0.5), {}), ("clip", (I, -2, 2), {}),
    ("where", (B, F, G), {}), ("where", (B, I, 0.5), {}),
    ("sum", (F,), {}), ("sum", (F,), {"axis": 1}), ("sum", (I,), {"axis": 0, "keepdims": True}), ("sum", (B,), {}),
    ("mean", (F,), {"axis": -1}), ("mean", (I,), {}), ("mean", (T3,), {"axis": (0, 2)}), ("max", (F,), {}),
    ("max", (I,), {"axis": 1}), ("min", (F,), {"axis": 0, "keepdims": True}), ("argmax", (F,), {}),
    ("argmax", (F,), {"axis": -1}), ("argmin", (I,), {"axis": 0}), ("std", (F,), {"axis": 1}), ("var", (F,), {}),
    ("var", (I,), {"axis": 0}), ("prod", (F,), {"axis": 1}), ("prod", (J,), {}), ("cumsum", (F,), {"axis": 1}),
    ("cumsum", (I,), {}), ("all", (B,), {"axis": 1}), ("any", (B,), {}), ("all", (I,), {}),
    ("equal", (I, J), {}), ("not_equal", (I, 1), {}), ("greater", (F, G), {}), ("greater_equal", (F, 0.0), {}),
    ("less", (I, J), {}), ("less_equal", (F, G), {}), ("logical_and", (B, I), {}), ("logical_or", (B, F), {}),
    ("logical_not", (B,), {}),
    ("zeros", ((2, 3),), {}), ("ones", (3,), {"dtype": "int32"}), ("zeros_like", (I,), {}), ("ones_like", (F,), {}),
    ("full", ((2, 2), 7), {}), ("full", ((2,), 0.5), {}), ("arange", (5,), {}), ("arange", (1, 2, 0.25), {}),
    ("linspace", (0, 1, 5), {}), ("eye", (3,), {}), ("eye", (3, 4), {"k": 1}),
    ("tile", (F, (2, 1)), {}), ("repeat", (F, 2), {"axis": 0}), ("repeat", (I, 2), {}),
    ("take", (F, [0, 2]), {"axis": 1}), ("take", (F, np.array([[1, -1]])), {"axis": 0}), ("take", (F, 5), {}),
    ("take_along_axis", (F, IDX), {"axis": 1}),
    ("sort", (F,), {}), ("sort", (F,), {"axis": 0}), ("argsort", (F,), {"axis": -1}), ("argsort", (I,), {"axis": 0}),
    ("einsum", ("ij,jk->ik", F, M), {}), ("einsum", ("bij->bj", T3), {}), ("tril", (F,), {}), ("triu", (F, 1), {}),
    ("isnan", (np.array([1.0, np.nan], "float32"),), {}), ("isfinite", (np.array([np.inf, 1.0], "float32"),), {}),
    ("floor", (F,), {}), ("ceil", (I,), {}), ("round", (F * 3,), {}), ("log1p", (P,), {}), ("expm1", (F,), {}),
    ("tanh", (F,), {}), ("sin", (F,), {}), ("cos", (I,), {}),
    # nn
    ("relu", (F,), {}), ("sigmoid", (F,), {}), ("softmax", (F,), {}), ("softmax", (F,), {"axis": 0}),
    ("log_softmax", (F,), {}), ("gelu", (F,), {}), ("gelu", (F,), {"approximate": False}), ("silu", (F,), {}),
    ("swish", (F,), {}), ("leaky_relu", (F,), {}), ("elu", (F,), {}), ("softplus", (F,), {}), ("relu", (I,), {}),
    ("one_hot", (LABELS, 4), {}), ("one_hot", (np.array([1, 0, 2]), 3), {"axis": 0}),
    ("categorical_crossentropy", (ONEHOT, PROBS), {}), ("categorical_crossentropy", (ONEHOT, F), {"from_logits": True}),
    ("sparse_categorical_crossentropy", (LABELS, PROBS), {}),
    ("sparse_categorical_crossentropy", (LABELS, F), {"from_logits": True}),
    ("binary_crossentropy", (TARGET01, PROBS), {}), ("binary_crossentropy", (TARGET01, F), {"from_logits": True}),
    ("moments", (T3, [0, 1]), {}), ("moments", (F, [1]), {"keepdims": True}), ("normalize", (F,), {}),
    ("normalize", (F,), {"axis": 0, "order": 1}),
    # core and math
    ("stop_gradient", (F,), {}), ("slice", (F, (1, 0), (2, 3)), {}), ("unstack", (F,), {"axis": 1}),
    ("scatter", (np.array([[0, 1], [2, 3], [0, 1]]), np.array([1.0, 2.0, 3.0], "float32"), (3, 4)), {}),
    ("logsumexp", (F,), {"axis": 1}), ("top_k", (F, 2), {}), ("rsqrt", (P,), {}),
]


def _keras_arg(value):
    """Arrays become Keras tensors of the same dtype (some Keras ops refuse NumPy arrays); the rest as given."""
    return keras.ops.convert_to_tensor(value) if isinstance(value, np.ndarray) else value


def _flat(result):
    return list(result) if isinstance(result, (list, tuple)) else [result]


@pytest.mark.parametrize("name,args,kwargs", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_matches_keras_ops(name, args, kwargs):
    ours = _flat(getattr(ops, name)(*args, **kwargs))
    theirs = _flat(getattr(keras.ops, name)(*map(_keras_arg, args), **kwargs))
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert isinstance(a, ganglion.Tensor), f"{name} returned {type(a).__name__}"
        expected = keras.ops.convert_to_numpy(b)
        got = ops.convert_to_numpy(a)
        assert str(got.dtype) == str(expected.dtype), f"{name}: dtype {got.dtype}, Keras gives {expected.dtype}"
        assert got.shape == expected.shape
        tol = 2e-3 if got.dtype == np.float16 else 1e-5
        np.testing.assert_allclose(got.astype("float64"), expected.astype("float64"), rtol=tol, atol=tol)


def test_one_hot_of_an_out_of_range_label_is_all_zeros():
    np.testing.assert_array_equal(ops.convert_to_numpy(ops.one_hot([1, -1, 3], 3)), [[0, 1, 0], [0, 0, 0], [0, 0, 0]])


def test_shape_and_convert_to_numpy():
    assert ops.shape(F) == (3, 4) and ops.shape(ganglion.tensor(T3)) == (2, 3, 4)
    array = ops.convert_to_numpy(ops.add(F, 1.0))
    assert isinstance(array, np.ndarray) and np.allclose(array, F + 1)


def test_keras_variable_is_accepted_and_receives_gradients():
    w = ganglion.keras.Variable(np.ones((4, 2), "float32"))
    loss = ops.sum(ops.square(ops.matmul(F, w)))
    loss.backward()
    np.testing.assert_allclose(w.grad.numpy(), 2 * F.T @ (F @ np.ones((4, 2))), rtol=1e-5)


GRAD_CASES = [  # (name, fn of one float64 tensor)
    ("softmax", lambda x: ops.softmax(x)),
    ("gelu", lambda x: ops.gelu(x)),
    ("take_along_axis", lambda x: ops.take_along_axis(x, IDX, axis=1)),
    ("normalize", lambda x: ops.normalize(x)),
    ("where-clip", lambda x: ops.where(x > 0, ops.clip(x, -0.5, 0.5), ops.square(x))),
    ("logsumexp", lambda x: ops.logsumexp(x, axis=1)),
    ("categorical_crossentropy", lambda x: ops.categorical_crossentropy(ONEHOT, x, from_logits=True)),
    ("mean-std", lambda x: ops.mean(x, axis=0) * ops.std(x, axis=0)),
]


@pytest.mark.parametrize("name,fn", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_gradients_through_engine(name, fn):
    x = ganglion.tensor(F.astype("float64"), dtype="float64", requires_grad=True)
    assert ganglion.autograd.gradcheck(fn, (x,))


def test_stop_gradient_blocks_the_gradient():
    x = ganglion.tensor(F, requires_grad=True)
    ops.sum(ops.multiply(x, ops.stop_gradient(x))).backward()
    np.testing.assert_allclose(x.grad.numpy(), F)


def test_control_flow():
    assert ops.fori_loop(0, 4, lambda i, v: v + i, 10) == 16
    assert ops.cond(ops.convert_to_tensor(True), lambda: 1, lambda: 2) == 1
    assert ops.while_loop(lambda i: i < 5, lambda i: i + 2, 0) == 6


@pytest.mark.parametrize("call,error,match", [
    (lambda: ops.add("a", F), TypeError, "add"),                                   # numpy-style, elementwise
    (lambda: ops.matmul(F, F), ValueError, "matmul"),                              # numpy-style, shapes
    (lambda: ops.squeeze(F, 0), ValueError, "squeeze"),
    (lambda: ops.take(F, np.array([0.5]), axis=0), TypeError, "take"),
    (lambda: ops.zeros((2, -1)), ValueError, "zeros"),
    (lambda: ops.cast(F, "complex7"), TypeError, "cast"),
    (lambda: ops.one_hot(F, 3), TypeError, "one_hot"),                             # nn
    (lambda: ops.binary_crossentropy(F[:, :2], F), ValueError, "binary_crossentropy"),
    (lambda: ops.normalize(F, order=0), ValueError, "normalize"),
    (lambda: ops.slice(F, (0,), (1, 1)), ValueError, "slice"),                     # core
    (lambda: ops.top_k(F, 9), ValueError, "top_k"),                                # math
])
def test_bad_input_names_the_function(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize("name", ["floor", "ceil", "round", "expm1"])
def test_engine_ops_keep_the_graph(name):
    """Through the engine's ops, as Keras' torch backend: expm1 has gradient e^x, the rounding family gradient 0."""
    x = ganglion.tensor(F, requires_grad=True)
    getattr(ops, name)(x).sum().backward()
    expected = np.exp(F) if name == "expm1" else np.zeros_like(F)
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-6)


def test_round_of_integers_keeps_the_dtype_and_honours_decimals():
    got = ops.round(np.array([1234, -1250, 7], "int32"), decimals=-2)
    expected = keras.ops.round(keras.ops.convert_to_tensor(np.array([1234, -1250, 7], "int32")), decimals=-2)
    assert str(got.dtype) == "int32"
    np.testing.assert_array_equal(ops.convert_to_numpy(got), keras.ops.convert_to_numpy(expected))
