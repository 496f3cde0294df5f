"""Regression errors: mean_squared_error and mean_absolute_error (scikit-learn's values and ``multioutput``)."""

import numpy as np

from ._inputs import check_lengths, sample_weights, to_numpy

MULTIOUTPUT = ("uniform_average", "raw_values")


def _per_output_mean(name, errors_of, y_true, y_pred, sample_weight, multioutput):
    y_true, y_pred = to_numpy("y_true", y_true, np.float64), to_numpy("y_pred", y_pred, np.float64)
    for arg, y in (("y_true", y_true), ("y_pred", y_pred)):
        if y.ndim not in (1, 2) or y.shape[0] == 0:
            raise ValueError(f"{name}: {arg} must be (n_samples,) or (n_samples, n_outputs) and non-empty, got "
                             f"shape {y.shape}")
    check_lengths(y_true=y_true, y_pred=y_pred)
    y_true, y_pred = y_true.reshape(len(y_true), -1), y_pred.reshape(len(y_pred), -1)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{name}: y_true and y_pred must have the same number of outputs, got {y_true.shape} and "
                         f"{y_pred.shape}")
    weights = sample_weights(sample_weight, len(y_true))
    per_output = np.average(errors_of(y_true - y_pred), axis=0, weights=weights)
    if isinstance(multioutput, str):
        if multioutput not in MULTIOUTPUT:
            raise ValueError(f"{name}: multioutput must be one of {MULTIOUTPUT} or an array of output weights, got "
                             f"{multioutput!r}")
        return per_output if multioutput == "raw_values" else float(per_output.mean())
    output_weights = to_numpy("multioutput", multioutput, np.float64).ravel()
    if output_weights.shape != per_output.shape:
        raise ValueError(f"{name}: multioutput has {output_weights.size} weights for {per_output.size} outputs")
    return float(np.average(per_output, weights=output_weights))


def mean_squared_error(y_true, y_pred, sample_weight=None, multioutput="uniform_average"):
    """mean((y_true - y_pred)^2) over samples (weighted), then over outputs. y: (n,) or (n, outputs) -> float, or
    (outputs,) with ``multioutput="raw_values"``."""
    return _per_output_mean("mean_squared_error", np.square, y_true, y_pred, sample_weight, multioutput)


def mean_absolute_error(y_true, y_pred, sample_weight=None, multioutput="uniform_average"):
    """mean(|y_true - y_pred|) over samples (weighted), then over outputs; shapes as ``mean_squared_error``."""
    return _per_output_mean("mean_absolute_error", np.abs, y_true, y_pred, sample_weight, multioutput)
