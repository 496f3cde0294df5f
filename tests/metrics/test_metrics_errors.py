"""Bad input is refused at the door with a ValueError that names the argument and the numbers (or, where
scikit-learn only warns, a warning that does)."""

import numpy as np
import pytest

import ganglion.metrics as gm

PROBS = [[0.2, 0.8], [0.6, 0.4], [0.5, 0.5]]

# (name, call, pattern the message must match)
ERRORS = [
    ("lengths", lambda: gm.accuracy_score([0, 1, 1], [0, 1]), r"y_true has 3, y_pred has 2"),
    ("lengths confusion", lambda: gm.confusion_matrix([0, 1], [0, 1, 0, 1]), r"y_true has 2, y_pred has 4"),
    ("lengths roc", lambda: gm.roc_curve([0, 1, 1], [0.1, 0.2]), r"y_true has 3, y_score has 2"),
    ("lengths mse", lambda: gm.mean_squared_error([1.0, 2.0], [1.0]), r"y_true has 2, y_pred has 1"),
    ("lengths log loss", lambda: gm.log_loss([0, 1], PROBS), r"y_true has 2, y_proba has 3"),
    ("weights length", lambda: gm.accuracy_score([0, 1], [0, 1], sample_weight=[1.0]), r"sample_weight has 1"),
    ("empty", lambda: gm.accuracy_score([], []), r"y_true is empty"),
    ("empty report", lambda: gm.classification_report([], []), r"y_true is empty"),
    ("empty mae", lambda: gm.mean_absolute_error([], []), r"y_true .* non-empty, got shape \(0,\)"),
    ("continuous labels", lambda: gm.confusion_matrix([0.5, 1.0], [0, 1]), r"y_true must hold class labels.*0\.5"),
    ("2-D labels", lambda: gm.accuracy_score(np.zeros((3, 2)), np.zeros((3, 2))), r"y_true must be 1-D.*\(3, 2\)"),
    ("strings and numbers", lambda: gm.accuracy_score(["a", "b"], [0, 1]), r"mix strings and numbers"),
    ("single class auc", lambda: gm.roc_auc_score([1, 1, 1], [0.2, 0.3, 0.4]), r"single class \[1\] in 3 samples"),
    ("single class ovr", lambda: gm.roc_auc_score([0, 0, 2], np.full((3, 3), 1 / 3), multi_class="ovr",
                                                  labels=[0, 1, 2]), r"y_true == 1.*0 positive of 3"),
    ("ovr not asked", lambda: gm.roc_auc_score([0, 1, 2], np.full((3, 3), 1 / 3)), r"3 classes.*multi_class='ovr'"),
    ("ovr not probabilities", lambda: gm.roc_auc_score([0, 1, 2], np.ones((3, 3)), multi_class="ovr"),
     r"row 0 sums to 3"),
    ("ovr columns", lambda: gm.roc_auc_score([0, 1, 2], np.full((3, 4), 0.25), multi_class="ovr"),
     r"4 columns but there are 3 classes"),
    ("roc pos_label", lambda: gm.roc_curve(["a", "b"], [0.1, 0.9]), r"\['a', 'b'\].*pos_label"),
    ("log loss above 1", lambda: gm.log_loss([0, 1], [[0.5, 1.5], [0.5, 0.5]]), r"from 0\.5 to 1\.5"),
    ("log loss single class", lambda: gm.log_loss([1, 1], [0.3, 0.9]), r"single class \[1\]"),
    ("log loss columns", lambda: gm.log_loss([0, 1, 2], PROBS), r"2 columns but there are 3 classes"),
    ("binary average on 3 classes", lambda: gm.precision_recall_fscore_support([0, 1, 2], [0, 1, 2],
                                                                              average="binary"), r"hold 3"),
    ("unknown average", lambda: gm.precision_recall_fscore_support([0, 1], [0, 1], average="mean"),
     r"average must be one of .*'mean'"),
    ("zero_division", lambda: gm.precision_recall_fscore_support([0, 1], [0, 1], zero_division=2),
     r"zero_division must be .* got 2"),
    ("normalize", lambda: gm.confusion_matrix([0, 1], [0, 1], normalize="rows"), r"normalize .*'rows'"),
    ("labels not in y_true", lambda: gm.confusion_matrix([0, 1], [0, 1], labels=[5, 6]), r"\[5, 6\].*\[0, 1\]"),
    ("target names", lambda: gm.classification_report([0, 1, 2], [0, 1, 2], target_names=["a", "b"]),
     r"2 names but there are 3 classes"),
    ("top k", lambda: gm.top_k_accuracy_score([0, 1], PROBS[:2], k=0), r"k must be an int >= 1, got 0"),
    ("auc not monotonic", lambda: gm.auc([0.0, 1.0, 0.5], [0.0, 1.0, 1.0]), r"monotonic"),
    ("multioutput", lambda: gm.mean_squared_error([[1.0, 2.0]], [[1.0, 2.0]], multioutput=[1.0]),
     r"1 weights for 2 outputs"),
]


@pytest.mark.parametrize("name,call,pattern", ERRORS, ids=[case[0] for case in ERRORS])
def test_bad_input_is_refused_with_its_numbers(name, call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()


def test_log_loss_of_unnormalised_rows_warns_with_the_row_and_uses_them_as_given():
    with pytest.warns(UserWarning, match=r"row 1 sums to 0\.4"):
        value = gm.log_loss([1, 0], [[0.2, 0.8], [0.2, 0.2]])
    assert value == pytest.approx(-(np.log(0.8) + np.log(0.2)) / 2)


def test_ill_defined_precision_warns_and_zero_division_sets_the_value():
    with pytest.warns(gm.UndefinedMetricWarning, match="precision is ill-defined for 1 label"):
        precision, *_ = gm.precision_recall_fscore_support([0, 1], [0, 0], zero_division="warn")
    assert precision.tolist() == [0.5, 0.0]
    precision, *_ = gm.precision_recall_fscore_support([0, 1], [0, 0], zero_division=1)
    assert precision.tolist() == [0.5, 1.0]


def test_importing_metrics_pulls_in_neither_scikit_learn_nor_matplotlib():
    import subprocess
    import sys
    code = ("import sys, ganglion.metrics; bad = [m for m in ('sklearn', 'matplotlib') if m in sys.modules]; "
            "sys.exit(repr(bad) if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
