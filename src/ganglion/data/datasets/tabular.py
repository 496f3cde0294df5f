"""Tables from CSV files: ``load_csv`` gives (X, y) arrays, ``CSVDataset`` serves the rows one by one.

Feature columns must hold numbers (an empty cell is NaN). The target column may hold numbers (kept as int64 when
all are whole numbers) or names, which are numbered in sorted order (``classes``, ``class_to_idx``).
"""

import csv
import numbers
import os

import numpy as np

from ..dataset import Dataset


def _is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


def _column_index(path, names, column, what):
    if isinstance(column, numbers.Integral) and not isinstance(column, bool):
        if not -len(names) <= column < len(names):
            raise ValueError(f"{path}: {what} {column} is out of range for a table of {len(names)} columns")
        return column % len(names)
    if column in names:
        return names.index(column)
    raise ValueError(f"{path}: unknown {what} {column!r}; the columns are {names}")


def _read_table(path, delimiter, header):
    with open(path, newline="", encoding="utf-8") as f:
        rows = [row for row in csv.reader(f, delimiter=delimiter) if row and any(cell.strip() for cell in row)]
    if not rows:
        raise ValueError(f"{path}: the file holds no rows")
    if header == "infer":  # a header: some column holds a number below it but not in it
        if len(rows) > 1:
            header = any(not _is_number(a) and _is_number(b) for a, b in zip(rows[0], rows[1]))
        else:
            header = not any(_is_number(cell) for cell in rows[0])
    elif not isinstance(header, bool):
        raise ValueError(f"load_csv: header must be True, False or 'infer', got {header!r}")
    if header:
        names, rows, first_line = [c.strip() for c in rows[0]], rows[1:], 2
    else:
        names, first_line = [str(i) for i in range(len(rows[0]))], 1
    for i, row in enumerate(rows):
        if len(row) != len(names):
            raise ValueError(f"{path}, row {first_line + i}: expected {len(names)} fields, found {len(row)}")
    if not rows:
        raise ValueError(f"{path}: the file holds a header but no data rows")
    return names, rows, first_line


def load_csv(path, target_column=-1, feature_columns=None, delimiter=",", header="infer", dtype=np.float32,
             return_X_y=True):
    """Read a CSV table: X (n_rows, n_features) of ``dtype`` and y (n_rows,), or X alone with
    ``target_column=None``. ``header``: True, False or "infer" (a first row that is not all numbers).
    Returns (X, y) with ``return_X_y``, else a dict with data, target, feature_names, target_name, classes."""
    path = os.fspath(path)
    names, rows, first_line = _read_table(path, delimiter, header)
    target = None if target_column is None else _column_index(path, names, target_column, "target_column")
    if feature_columns is None:
        features = [i for i in range(len(names)) if i != target]
    else:
        features = [_column_index(path, names, c, "feature column") for c in feature_columns]
    X = np.empty((len(rows), len(features)), dtype=np.float64)
    for r, row in enumerate(rows):
        for k, c in enumerate(features):
            cell = row[c].strip()
            try:
                X[r, k] = float(cell) if cell else np.nan
            except ValueError:
                raise ValueError(f"{path}, row {first_line + r}, column {names[c]!r}: cannot read {cell!r} as a "
                                 "number (feature columns must be numeric)") from None
    result = {"data": X.astype(dtype), "feature_names": [names[c] for c in features], "target": None,
              "target_name": None, "classes": None}
    if target is not None:
        cells = [row[target].strip() for row in rows]
        if all(_is_number(c) for c in cells):
            values = np.array([float(c) for c in cells])
            y = values.astype(np.int64) if np.all(np.mod(values, 1) == 0) else values.astype(dtype)
        else:
            classes = sorted(set(cells))
            index = {c: i for i, c in enumerate(classes)}
            y = np.array([index[c] for c in cells], dtype=np.int64)
            result["classes"] = classes
        result.update(target=y, target_name=names[target])
    if return_X_y:
        return result["data"] if target is None else (result["data"], result["target"])
    return result


class CSVDataset(Dataset):
    """Rows of a CSV file as samples ``(features, target)`` (features a float array (n_features,)), or
    ``features`` alone with ``target_column=None``. ``data``, ``targets``, ``feature_names`` and (for named
    targets) ``classes`` describe the table."""

    def __init__(self, path, target_column=-1, feature_columns=None, delimiter=",", header="infer",
                 dtype=np.float32, transform=None, target_transform=None):
        table = load_csv(path, target_column, feature_columns, delimiter, header, dtype, return_X_y=False)
        self.path = os.fspath(path)
        self.data, self.targets = table["data"], table["target"]
        self.feature_names, self.target_name, self.classes = (
            table["feature_names"], table["target_name"], table["classes"])
        self.transform, self.target_transform = transform, target_transform

    @property
    def class_to_idx(self):
        return None if self.classes is None else {c: i for i, c in enumerate(self.classes)}

    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        x = self.data[index]
        if self.transform is not None:
            x = self.transform(x)
        if self.targets is None:
            return x
        y = self.targets[index]
        y = y.item() if hasattr(y, "item") else y
        if self.target_transform is not None:
            y = self.target_transform(y)
        return x, y
