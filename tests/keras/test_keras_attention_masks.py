"""MultiHeadAttention's masks against Keras 3 (torch backend): query/value/key padding masks, attention_mask,
use_causal_mask, masks from Embedding(mask_zero=True) in a functional model, and masks of the wrong shape."""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from keras.src import backend as keras_backend  # noqa: E402

import ganglion.keras as gk  # noqa: E402

B, T, S = 2, 5, 6


def _numpy(x):
    return x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)


def _masks(rng):
    """Padding masks with padded tails; the second query and value sequences are fully padded beyond 2 steps."""
    query_mask = np.ones((B, T), bool)
    query_mask[0, 3:] = False
    value_mask = np.ones((B, S), bool)
    value_mask[1, 2:] = False
    key_mask = rng.random((B, S)) > 0.3
    key_mask[:, 0] = True
    attention_mask = rng.random((B, T, S)) > 0.4
    dead_row = attention_mask.copy()
    dead_row[0, 1] = False  # a query that may attend to nothing
    return {"query_mask": query_mask, "value_mask": value_mask, "key_mask": key_mask,
            "attention_mask": attention_mask, "dead_row": dead_row}


# case: (masks given to the call, use_causal_mask)
CASES = {
    "query_mask": (("query_mask",), False),
    "value_mask": (("value_mask",), False),
    "key_mask": (("key_mask",), False),
    "query_and_value": (("query_mask", "value_mask"), False),
    "all_padding_and_attention_mask": (("query_mask", "value_mask", "key_mask", "attention_mask"), False),
    "value_mask_causal": (("value_mask",), True),
    "query_mask_causal_attention_mask": (("query_mask", "attention_mask"), True),
    "attention_mask_dead_row": (("dead_row",), False),
    "attention_mask_float_2d_broadcast": (("float_2d",), False),
    "causal_only": ((), True),
}


def _pair(rng, **options):
    theirs, mine = keras.layers.MultiHeadAttention(**options), gk.layers.MultiHeadAttention(**options)
    query = rng.normal(size=(B, T, 6)).astype("float32")
    value = rng.normal(size=(B, S, 8)).astype("float32")
    key = rng.normal(size=(B, S, 4)).astype("float32")
    theirs(query, value, key=key)
    mine(query, value, key=key)
    mine.set_weights([_numpy(w) for w in theirs.get_weights()])
    return theirs, mine, query, value, key


@pytest.mark.parametrize("scores", [False, True], ids=["fused", "scores"])
@pytest.mark.parametrize("case", CASES)
def test_masks_match_keras(case, scores):
    names, causal = CASES[case]
    rng = np.random.default_rng(0)
    theirs, mine, query, value, key = _pair(rng, num_heads=2, key_dim=3)
    masks = _masks(rng)
    call = {"key": key, "use_causal_mask": causal, "return_attention_scores": scores}
    for name in names:
        if name == "dead_row":
            call["attention_mask"] = masks["dead_row"]
        elif name == "float_2d":
            call["attention_mask"] = (rng.random((T, S)) > 0.5).astype("float32")  # cast to bool, broadcast
        elif name != "query_mask":
            call[name] = masks[name]
    query_keras = torch.tensor(query)
    if "query_mask" in names:  # Keras reads the query's mask from the tensor; ganglion takes query_mask=
        keras_backend.set_keras_mask(query_keras, torch.tensor(masks["query_mask"]))
    ref = theirs(query_keras, value, **call)
    out = mine(query, value, query_mask=masks["query_mask"] if "query_mask" in names else None, **call)
    if scores:
        (out, weights), (ref, ref_weights) = out, ref
        np.testing.assert_allclose(_numpy(weights), _numpy(ref_weights), atol=1e-5)
    np.testing.assert_allclose(_numpy(out), _numpy(ref), atol=1e-5)
    assert not np.allclose(_numpy(out), _numpy(theirs(query, value, key=key)), atol=1e-3)  # the masks mattered


def _cross_attention(k):
    q_in, v_in = k.Input((T,), dtype="int32"), k.Input((S,), dtype="int32")
    q = k.layers.Embedding(9, 6, mask_zero=True, name="embed_q")(q_in)
    v = k.layers.Embedding(9, 6, mask_zero=True, name="embed_v")(v_in)
    cross, scores = k.layers.MultiHeadAttention(num_heads=2, key_dim=3, name="attention")(
        q, v, return_attention_scores=True)
    return k.Model([q_in, v_in], [cross, scores, k.layers.GlobalAveragePooling1D(name="pool")(cross)])


def _causal_self_attention(k):
    # one input only: Keras' call deletes the mask of the tensors it reads, so a second use would see none
    q_in = k.Input((T,), dtype="int32")
    x = k.layers.Embedding(9, 6, mask_zero=True, name="embed_q")(q_in)
    attended = k.layers.MultiHeadAttention(num_heads=2, key_dim=3, name="attention")(x, x, use_causal_mask=True)
    return k.Model(q_in, [attended, k.layers.GlobalAveragePooling1D(name="pool")(attended)])


FUNCTIONAL = {"cross_attention_with_scores": (_cross_attention, 2),
              "causal_self_attention": (_causal_self_attention, 1)}


@pytest.mark.parametrize("case", FUNCTIONAL)
def test_embedding_masks_flow_through_a_functional_model(case):
    """Embedding(mask_zero=True) masks the query and value; the output carries the query's mask to the pooling."""
    build, n_inputs = FUNCTIONAL[case]
    rng = np.random.default_rng(3)
    ids_q = rng.integers(1, 9, (3, T))
    ids_v = rng.integers(1, 9, (3, S))
    ids_q[0, 3:] = 0
    ids_q[2, 1:] = 0
    ids_v[1, 2:] = 0
    ids_v[2, 4:] = 0
    inputs = [ids_q, ids_v][:n_inputs]
    theirs, mine = build(keras), build(gk)
    for layer in theirs.layers:
        if layer.get_weights():
            mine.get_layer(layer.name).set_weights([_numpy(w) for w in layer.get_weights()])
    refs, outs = theirs(inputs), mine(inputs)
    for out, ref in zip(outs, refs):
        np.testing.assert_allclose(_numpy(out), _numpy(ref), atol=1e-5)
    unmasked = gk.layers.GlobalAveragePooling1D()(outs[0])
    assert not np.allclose(_numpy(unmasked), _numpy(outs[-1]), atol=1e-3)  # the pooling saw the query's mask


BAD_MASKS = {
    "query_mask": (dict(query_mask=np.ones((B, T + 1), bool)), r"query_mask.*\(2, 5\).*\(2, 6\)"),
    "value_mask": (dict(value_mask=np.ones((B, T), bool)), r"value_mask.*\(2, 6\).*\(2, 5\)"),
    "key_mask": (dict(key_mask=np.ones((B,), bool)), r"key_mask.*\(2, 6\).*\(2,\)"),
    "attention_mask": (dict(attention_mask=np.ones((B, S, T), bool)),
                       r"attention_mask of shape \(2, 6, 5\).*\(2, 2, 5, 6\)"),
}


@pytest.mark.parametrize("case", BAD_MASKS)
def test_mask_of_the_wrong_shape_names_the_argument_and_both_shapes(case):
    kwargs, message = BAD_MASKS[case]
    rng = np.random.default_rng(4)
    layer = gk.layers.MultiHeadAttention(num_heads=2, key_dim=3)
    query = rng.normal(size=(B, T, 6)).astype("float32")
    value = rng.normal(size=(B, S, 8)).astype("float32")
    with pytest.raises(ValueError, match=message):
        layer(query, value, key=value, **kwargs)
