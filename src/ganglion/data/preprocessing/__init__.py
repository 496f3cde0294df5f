"""``ganglion.data.preprocessing``: scikit-learn's names and results for splitting, scaling and encoding data.

    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, stratify=y, random_state=0)
    scaler = StandardScaler().fit(X_train)
"""

from ._encoding import LabelEncoder, one_hot, to_categorical
from ._scalers import MinMaxScaler, NotFittedError, StandardScaler
from ._split import KFold, StratifiedKFold, check_random_state, train_test_split

__all__ = [
    "KFold", "LabelEncoder", "MinMaxScaler", "NotFittedError", "StandardScaler", "StratifiedKFold",
    "check_random_state", "one_hot", "to_categorical", "train_test_split",
]
