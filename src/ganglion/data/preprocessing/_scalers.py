"""Feature scaling with scikit-learn's names and results: ``StandardScaler`` and ``MinMaxScaler``.

Statistics are kept in float64 and can be accumulated batch by batch (``partial_fit``, Chan et al.'s pairwise
update for the variance). NaNs are ignored when fitting and kept when transforming. Output has the input's
floating dtype (float32 stays float32, anything else becomes float64); a Tensor in gives a Tensor out.
"""

import numpy as np

from ._arrays import as_2d_float, like_input


class NotFittedError(ValueError, AttributeError):
    """Raised when ``transform`` is called before ``fit``."""


class _Scaler:
    def _check_fitted(self):
        if not hasattr(self, "n_features_in_"):
            raise NotFittedError(f"This {type(self).__name__} instance is not fitted yet; call fit(X) first")

    def _input(self, X, fitting=False):
        owner = type(self).__name__
        array = as_2d_float(owner, X)
        if not fitting or hasattr(self, "n_features_in_"):
            self._check_fitted()
            if array.shape[1] != self.n_features_in_:
                raise ValueError(f"{owner}: X has {array.shape[1]} features, but {owner} is expecting "
                                 f"{self.n_features_in_} features as input")
        if np.isinf(array).any():
            raise ValueError(f"{owner}: X contains infinity")
        return array

    def _reset(self):
        for name in list(vars(self)):
            if name.endswith("_") and not name.startswith("_"):
                delattr(self, name)

    def fit(self, X, y=None):
        """Compute the statistics of ``X`` (n_samples, n_features), forgetting earlier ones."""
        self._reset()
        return self.partial_fit(X, y)

    def fit_transform(self, X, y=None):
        return self.fit(X, y).transform(X)


def _handle_zeros(scale, constant):
    """Features with no spread are left unscaled (scale 1), as scikit-learn does."""
    scale = scale.copy()
    scale[constant | (scale == 0)] = 1.0
    return scale


class StandardScaler(_Scaler):
    """z = (x - mean_) / scale_ per feature, scale_ = sqrt(var_) (population variance); features with zero
    variance get scale 1. X: (n_samples, n_features) -> same shape."""

    def __init__(self, *, copy=True, with_mean=True, with_std=True):
        self.copy, self.with_mean, self.with_std = copy, with_mean, with_std

    def partial_fit(self, X, y=None):
        """Update mean_, var_ and scale_ with one more batch of rows."""
        x = self._input(X, fitting=True).astype(np.float64)
        if not hasattr(self, "n_features_in_"):
            self.n_features_in_ = x.shape[1]
        count_b = np.sum(~np.isnan(x), axis=0).astype(np.int64)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_b = np.where(count_b > 0, np.nansum(x, axis=0) / np.maximum(count_b, 1), 0.0)
            m2_b = np.nansum((x - mean_b) ** 2, axis=0)
        if hasattr(self, "_count"):
            count_a, mean_a, m2_a = self._count, self._mean, self._m2
            total = count_a + count_b
            safe = np.maximum(total, 1)
            delta = mean_b - mean_a
            mean = mean_a + delta * count_b / safe
            m2 = m2_a + m2_b + delta ** 2 * count_a * count_b / safe
        else:
            total, mean, m2 = count_b, mean_b, m2_b
        self._count, self._mean, self._m2 = total, mean, m2
        self.n_samples_seen_ = int(total[0]) if np.all(total == total[0]) else total
        self.mean_ = mean if (self.with_mean or self.with_std) else None
        if self.with_std:
            self.var_ = m2 / np.maximum(total, 1)
            eps = np.finfo(np.float64).eps
            constant = self.var_ <= total * eps * self.var_ + (total * mean * eps) ** 2
            self.scale_ = _handle_zeros(np.sqrt(self.var_), constant)
        else:
            self.var_ = self.scale_ = None
        return self

    def transform(self, X, copy=None):
        """(X - mean_) / scale_."""
        x = self._input(X)
        out = x.astype(np.float64)
        if self.with_mean:
            out = out - self.mean_
        if self.with_std:
            out = out / self.scale_
        return like_input(out.astype(x.dtype, copy=False), X)

    def inverse_transform(self, X, copy=None):
        """X * scale_ + mean_."""
        x = self._input(X)
        out = x.astype(np.float64)
        if self.with_std:
            out = out * self.scale_
        if self.with_mean:
            out = out + self.mean_
        return like_input(out.astype(x.dtype, copy=False), X)


class MinMaxScaler(_Scaler):
    """x' = x * scale_ + min_, mapping each feature's [data_min_, data_max_] onto ``feature_range``
    (scale_ = (hi - lo) / (data_max_ - data_min_), a zero range counting as 1). ``clip`` keeps unseen values in
    range. X: (n_samples, n_features) -> same shape."""

    def __init__(self, feature_range=(0, 1), *, copy=True, clip=False):
        if not (isinstance(feature_range, (tuple, list)) and len(feature_range) == 2):
            raise ValueError(f"MinMaxScaler: feature_range must be a (min, max) pair, got {feature_range!r}")
        if feature_range[0] >= feature_range[1]:
            raise ValueError(f"MinMaxScaler: the minimum of feature_range must be smaller than its maximum, got "
                             f"{tuple(feature_range)}")
        self.feature_range, self.copy, self.clip = tuple(feature_range), copy, clip

    def partial_fit(self, X, y=None):
        """Update data_min_, data_max_, scale_ and min_ with one more batch of rows."""
        x = self._input(X, fitting=True).astype(np.float64)
        with np.errstate(invalid="ignore"), _quiet_all_nan():
            data_min, data_max = np.nanmin(x, axis=0), np.nanmax(x, axis=0)
        if hasattr(self, "n_features_in_"):
            data_min = np.fmin(self.data_min_, data_min)
            data_max = np.fmax(self.data_max_, data_max)
            self.n_samples_seen_ += x.shape[0]
        else:
            self.n_features_in_, self.n_samples_seen_ = x.shape[1], x.shape[0]
        lo, hi = self.feature_range
        self.data_min_, self.data_max_ = data_min, data_max
        self.data_range_ = data_max - data_min
        self.scale_ = (hi - lo) / _handle_zeros(self.data_range_, np.zeros(x.shape[1], dtype=bool))
        self.min_ = lo - data_min * self.scale_
        return self

    def transform(self, X):
        """X * scale_ + min_ (clipped to feature_range with ``clip``)."""
        x = self._input(X)
        out = x.astype(np.float64) * self.scale_ + self.min_
        if self.clip:
            out = np.clip(out, *self.feature_range)
        return like_input(out.astype(x.dtype, copy=False), X)

    def inverse_transform(self, X):
        """(X - min_) / scale_."""
        x = self._input(X)
        out = (x.astype(np.float64) - self.min_) / self.scale_
        return like_input(out.astype(x.dtype, copy=False), X)


class _quiet_all_nan:
    """Silence NumPy's 'All-NaN slice' warning: an all-NaN feature simply has NaN statistics."""

    def __enter__(self):
        import warnings

        self._catch = warnings.catch_warnings()
        self._catch.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        return self._catch.__exit__(*exc)
