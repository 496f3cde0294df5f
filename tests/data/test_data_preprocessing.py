"""Preprocessing against scikit-learn (a test-only dependency) on the same inputs: identical split indices for the
same random_state, the same folds, scaled values and encodings; and the argument errors."""

import numpy as np
import pytest

import ganglion
from ganglion.data import preprocessing as P

model_selection = pytest.importorskip("sklearn.model_selection")
sk_pre = pytest.importorskip("sklearn.preprocessing")


@pytest.fixture
def data(rng):
    X = rng.standard_normal((57, 4))
    y = rng.choice([0, 1, 2], size=57, p=[0.5, 0.3, 0.2])
    return X, y


SPLITS = [
    dict(test_size=0.2, random_state=3),
    dict(test_size=10, random_state=1),
    dict(train_size=0.5, random_state=7),
    dict(train_size=20, test_size=15, random_state=2),
    dict(test_size=0.33, train_size=0.4, random_state=0),
    dict(random_state=11),
    dict(shuffle=False, test_size=0.25),
    dict(test_size=0.3, stratify="y", random_state=5),
    dict(test_size=0.33, train_size=0.4, stratify="y", random_state=0),
    dict(test_size=7, stratify="y", random_state=9),
]


@pytest.mark.parametrize("kwargs", SPLITS, ids=[str(k) for k in SPLITS])
def test_train_test_split_matches_scikit_learn(data, kwargs):
    X, y = data
    kwargs = {k: (y if v == "y" else v) for k, v in kwargs.items()}
    ours, theirs = P.train_test_split(X, y, **kwargs), model_selection.train_test_split(X, y, **kwargs)
    assert len(ours) == len(theirs) == 4
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a, b)


def test_train_test_split_keeps_the_kind_of_each_input(data):
    X, y = data
    Xt = ganglion.from_numpy(X)
    X_train, X_test, l_train, l_test, t_train, t_test = P.train_test_split(X, list(y), Xt, random_state=0)
    assert isinstance(l_train, list) and isinstance(t_train, ganglion.Tensor) and isinstance(X_train, np.ndarray)
    np.testing.assert_array_equal(t_test.numpy(), X_test)
    assert l_test == [int(v) for v in y[[np.flatnonzero((X == row).all(1))[0] for row in X_test]]]


def test_train_test_split_stratify_keeps_proportions(data):
    X, y = data
    _, _, y_train, y_test = P.train_test_split(X, y, test_size=0.3, stratify=y, random_state=1)
    for c in (0, 1, 2):
        assert abs(np.mean(y_test == c) - np.mean(y == c)) < 0.08


def test_train_test_split_without_random_state_follows_manual_seed(data):
    X, _ = data
    ganglion.manual_seed(5)
    a = P.train_test_split(X)[1]
    ganglion.manual_seed(5)
    np.testing.assert_array_equal(P.train_test_split(X)[1], a)


@pytest.mark.parametrize("kwargs,match", [
    (dict(test_size=1.5), r"test_size=1.5 must be in \(0, 1\)"),
    (dict(test_size=0.0), r"test_size=0.0 must be in \(0, 1\)"),
    (dict(test_size=-0.1), r"must be in \(0, 1\)"),
    (dict(test_size=57), "test_size=57 must be between 1 and 56"),
    (dict(train_size=0), "train_size=0 must be between 1 and 56"),
    (dict(test_size=0.6, train_size=0.6), "test_size \\+ train_size = 1.2 is more than 1"),
    (dict(test_size=40, train_size=30), "70 test samples|40 test samples is more than"),
    (dict(test_size="half"), "test_size must be a float in"),
    (dict(shuffle=False, stratify=[0] * 57), "stratify needs shuffle=True"),
    (dict(stratify=[0] * 56 + [1]), "least populated class in stratify has only 1 member"),
    (dict(random_state="seed"), "random_state must be None, an int"),
])
def test_train_test_split_errors(data, kwargs, match):
    with pytest.raises(ValueError, match=match):
        P.train_test_split(data[0], **kwargs)


def test_train_test_split_inconsistent_lengths(data):
    with pytest.raises(ValueError, match=r"inconsistent numbers of samples: \[57, 56\]"):
        P.train_test_split(data[0], data[1][:-1])


@pytest.mark.parametrize("cls", ["KFold", "StratifiedKFold"])
@pytest.mark.parametrize("kwargs", [dict(n_splits=5), dict(n_splits=3), dict(n_splits=4, shuffle=True, random_state=2),
                                    dict(n_splits=2, shuffle=True, random_state=0)])
def test_folds_match_scikit_learn(data, cls, kwargs):
    X, y = data
    ours = list(getattr(P, cls)(**kwargs).split(X, y))
    theirs = list(getattr(model_selection, cls)(**kwargs).split(X, y))
    assert len(ours) == len(theirs) == kwargs["n_splits"] == getattr(P, cls)(**kwargs).get_n_splits()
    for (train, test), (train2, test2) in zip(ours, theirs):
        np.testing.assert_array_equal(train, train2)
        np.testing.assert_array_equal(test, test2)
    assert sorted(np.concatenate([t for _, t in ours]).tolist()) == list(range(57))


def test_stratified_kfold_with_string_labels_matches(rng):
    y = rng.choice(["cat", "dog", "emu"], size=30)
    X = np.zeros((30, 1))
    for (a, b), (c, d) in zip(P.StratifiedKFold(3).split(X, y), model_selection.StratifiedKFold(3).split(X, y)):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)


@pytest.mark.parametrize("make,call,match", [
    (lambda: P.KFold(1), None, "n_splits must be an integer of at least 2"),
    (lambda: P.KFold(3, random_state=1), None, "random_state has no effect without shuffle=True"),
    (lambda: P.KFold(10), lambda k: list(k.split(np.zeros((5, 1)))), "n_splits=10 greater than the number of samples"),
    (lambda: P.StratifiedKFold(3), lambda k: list(k.split(np.zeros((4, 1)), [0, 0, 1, 1])),
     "cannot be greater than the number of members in each class"),
    (lambda: P.StratifiedKFold(2), lambda k: list(k.split(np.zeros((4, 1)), [0.5, 1.5, 0.5, 1.5])),
     "continuous"),
])
def test_fold_errors(make, call, match):
    with pytest.raises(ValueError, match=match):
        call(make()) if call else make()


# -------------------------------------------------------------------------------------------------------- scalers
SCALERS = [
    ("StandardScaler", {}),
    ("StandardScaler", {"with_mean": False}),
    ("StandardScaler", {"with_std": False}),
    ("MinMaxScaler", {}),
    ("MinMaxScaler", {"feature_range": (-2, 3)}),
    ("MinMaxScaler", {"feature_range": (0, 1), "clip": True}),
]


@pytest.mark.parametrize("name,kwargs", SCALERS, ids=[f"{n}-{k}" for n, k in SCALERS])
def test_scalers_match_scikit_learn(rng, name, kwargs):
    X = rng.standard_normal((40, 5)) * [1, 10, 0.1, 100, 1] + [0, 5, -3, 1000, 2]
    X[:, 4] = 7.0  # a constant feature: scale 1, as scikit-learn
    X_new = rng.standard_normal((6, 5)) * 20
    ours, theirs = getattr(P, name)(**kwargs).fit(X), getattr(sk_pre, name)(**kwargs).fit(X)
    np.testing.assert_allclose(ours.transform(X), theirs.transform(X), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours.transform(X_new), theirs.transform(X_new), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours.inverse_transform(ours.transform(X_new)),
                               theirs.inverse_transform(theirs.transform(X_new)), rtol=1e-10)
    for attr in ("mean_", "var_", "scale_", "data_min_", "data_max_", "data_range_", "min_"):
        if hasattr(theirs, attr) and getattr(theirs, attr) is not None:
            np.testing.assert_allclose(getattr(ours, attr), getattr(theirs, attr), rtol=1e-12)
    assert ours.n_features_in_ == 5 and ours.n_samples_seen_ == theirs.n_samples_seen_ == 40


@pytest.mark.parametrize("name", ["StandardScaler", "MinMaxScaler"])
def test_partial_fit_over_batches_equals_one_fit(rng, name):
    X = rng.standard_normal((90, 3)) * 5 + 2
    batched = getattr(P, name)()
    for part in np.array_split(X, 4):
        batched.partial_fit(part)
    whole = getattr(sk_pre, name)().fit(X)
    np.testing.assert_allclose(batched.transform(X), whole.transform(X), rtol=1e-10, atol=1e-12)
    assert batched.n_samples_seen_ == 90


def test_scalers_keep_float32_nan_and_tensors(rng):
    X = rng.standard_normal((10, 2)).astype(np.float32)
    X[3, 1] = np.nan
    ours, theirs = P.StandardScaler().fit(X), sk_pre.StandardScaler().fit(X)
    out = ours.transform(X)
    assert out.dtype == np.float32 and np.isnan(out[3, 1])
    np.testing.assert_allclose(out, theirs.transform(X), rtol=1e-6, equal_nan=True)
    np.testing.assert_array_equal(ours.n_samples_seen_, theirs.n_samples_seen_)
    t = P.MinMaxScaler().fit_transform(ganglion.from_numpy(np.nan_to_num(X)))
    assert isinstance(t, ganglion.Tensor) and float(t.min()) == 0.0 and float(t.max()) == 1.0


@pytest.mark.parametrize("call,error,match", [
    (lambda: P.StandardScaler().transform(np.zeros((2, 2))), P.NotFittedError, "not fitted yet"),
    (lambda: P.StandardScaler().fit(np.zeros((3, 2))).transform(np.zeros((3, 4))), ValueError,
     "X has 4 features, but StandardScaler is expecting 2 features"),
    (lambda: P.StandardScaler().fit(np.zeros(3)), ValueError, "expected a 2-d array"),
    (lambda: P.MinMaxScaler().fit(np.array([[1.0], [np.inf]])), ValueError, "infinity"),
    (lambda: P.MinMaxScaler((1, 0)), ValueError, "minimum of feature_range must be smaller"),
    (lambda: P.StandardScaler().fit(np.array([["a"]])), TypeError, "numeric data"),
])
def test_scaler_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


# ------------------------------------------------------------------------------------------------------- encoding
@pytest.mark.parametrize("labels", [["paris", "tokyo", "amsterdam", "paris"], [3, 1, 2, 3, 1], [2.5, -1.0, 2.5]])
def test_label_encoder_matches_scikit_learn(labels):
    ours, theirs = P.LabelEncoder(), sk_pre.LabelEncoder()
    np.testing.assert_array_equal(ours.fit_transform(labels), theirs.fit_transform(labels))
    np.testing.assert_array_equal(ours.classes_, theirs.classes_)
    np.testing.assert_array_equal(ours.inverse_transform([0, 1]), theirs.inverse_transform([0, 1]))


def test_label_encoder_errors():
    enc = P.LabelEncoder().fit(["a", "b"])
    with pytest.raises(ValueError, match=r"previously unseen labels: \['c'\]"):
        enc.transform(["a", "c"])
    with pytest.raises(ValueError, match=r"previously unseen labels: \[2\]"):
        enc.inverse_transform([0, 2])
    with pytest.raises(P.NotFittedError):
        P.LabelEncoder().transform(["a"])
    with pytest.raises(ValueError, match="1-d array of labels"):
        enc.transform([["a", "b"]])


def test_one_hot_and_to_categorical():
    torch = pytest.importorskip("torch")
    labels = np.array([[0, 2], [1, 0]])
    np.testing.assert_array_equal(P.one_hot(labels, 4), torch.nn.functional.one_hot(torch.tensor(labels), 4).numpy())
    t = P.one_hot(ganglion.tensor([1, 0, 3]))
    assert isinstance(t, ganglion.Tensor) and t.dtype == ganglion.int64 and t.shape == (3, 4)
    cat = P.to_categorical([[1], [0], [2]])
    assert cat.dtype == np.float32 and cat.tolist() == [[0, 1, 0], [1, 0, 0], [0, 0, 1]]
    assert P.to_categorical(np.array([[1, 2]]), num_classes=5).shape == (1, 2, 5)
    np.testing.assert_array_equal(P.to_categorical([2.0, 0.0], 3), np.eye(3, dtype=np.float32)[[2, 0]])


@pytest.mark.parametrize("call,error,match", [
    (lambda: P.one_hot([0, 3], 3), ValueError, "label 3 is out of range for num_classes=3"),
    (lambda: P.one_hot([-1, 0]), ValueError, "non-negative, got -1"),
    (lambda: P.one_hot([0.5]), TypeError, "labels must be integers"),
    (lambda: P.one_hot([]), ValueError, "cannot infer the number of classes"),
    (lambda: P.to_categorical([1], num_classes=0), ValueError, "num_classes must be a positive int"),
])
def test_encoding_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()
