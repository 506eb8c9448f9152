"""Loading a labeled data set into a feature matrix for replay.

Two formats: ``.npz`` with arrays ``X`` (float, items x columns), ``y`` (int labels), optional
``class_names``, ``categorical`` (bool per column) and ``text`` (one string per item); and CSV with
a header and a ``label`` column. Features are fitted without the labels: text becomes TF-IDF of word
1-2 grams (sublinear tf, min_df=2, sparse CSR), categorical columns are one-hot encoded, the other
columns are standardised.

Bounds, so that a small hostile file cannot ask for terabytes: a categorical column (a CSV column that is
not all numbers, or an ``.npz`` column flagged in ``categorical``) may hold at most
:data:`MAX_CATEGORIES` distinct values, else loading fails naming the column (an id column is no feature:
drop it; free text belongs in the ``text`` array of an ``.npz``, which becomes TF-IDF); labels may hold at
most :data:`MAX_CLASSES` classes; features are sparse CSR whenever dense ones would exceed
:data:`MAX_DENSE_CELLS` cells; and every array of an ``.npz`` must hold the bytes its header declares.
"""

from __future__ import annotations

import csv
import math
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import StandardScaler

from annoplan.simulators.errors import SimulatorInputError

__all__ = ["LABEL_COLUMN", "build_features", "load_dataset"]

LABEL_COLUMN = "label"
"""Name of the label column of a CSV data set."""

SUPPORTED_SUFFIXES = (".npz", ".csv")
NPZ_FORMAT = "a zip of .npy arrays as numpy.savez writes it: X, y, optional text"

MAX_CATEGORIES = 1_000
"""Most distinct values of one categorical column (each becomes a one-hot feature column)."""

MAX_CLASSES = 1_000
"""Most distinct labels (the replay's models predict a probability per class and item)."""

MAX_DENSE_CELLS = 20_000_000
"""Largest dense feature matrix built (items x columns, 160 MB of float64); past it features are CSR."""


def load_dataset(path: str | Path) -> tuple[Any, npt.NDArray[np.intp], list[str]]:
    """Load a labeled data set and build its feature matrix.

    Parameters
    ----------
    path : str or pathlib.Path
        A ``.npz`` file (arrays ``X``, ``y``, optional ``class_names``, ``categorical``, ``text``)
        or a ``.csv`` file with a header and a ``label`` column (other columns: numeric features, or
        categories when not numeric).

    Returns
    -------
    X : numpy.ndarray of float64 or scipy.sparse.csr_matrix, shape (n_items, n_features)
        Features; sparse CSR when text is present.
    y : numpy.ndarray of intp, shape (n_items,)
        Labels as indices into ``class_names``.
    class_names : list of str
        Name of each class.

    Raises
    ------
    SimulatorInputError
        A ``ValueError`` naming the problem: missing file, unsupported extension, a file that is not
        in its format, missing label column, a single class or more than :data:`MAX_CLASSES`, a
        categorical column of more than :data:`MAX_CATEGORIES` values, NaN or infinite features.
    """
    path = Path(path)
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise SimulatorInputError(
            "data",
            f"unsupported file type {path.suffix or '(none)'!r} of {path.name}; "
            f"expected one of {', '.join(SUPPORTED_SUFFIXES)}",
        )
    if path.is_dir():
        raise SimulatorInputError("data", f"{path} is a directory, not a file")
    if not path.is_file():
        raise SimulatorInputError("data", f"file not found: {path}")
    if path.suffix.lower() == ".npz":
        return _load_npz(path)
    return _load_csv(path)


def _load_npz(path: Path) -> tuple[Any, npt.NDArray[np.intp], list[str]]:
    _check_npz(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise SimulatorInputError("data", f"cannot read {path.name} as .npz: {exc}") from None
    if "y" not in arrays:
        raise SimulatorInputError("label", f"{path.name} has no array 'y' of labels")
    y_raw = np.asarray(arrays["y"]).ravel()
    n_items = y_raw.size
    text = arrays.get("text")
    X = arrays.get("X")
    if X is None:
        X = np.zeros((n_items, 0))
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[0] != n_items:
        raise SimulatorInputError("X", f"must have shape ({n_items}, n_columns), got {X.shape}")
    if text is not None and np.asarray(text).shape != (n_items,):
        raise SimulatorInputError("text", f"must hold one string per item ({n_items})")
    categorical = arrays.get("categorical")
    if categorical is None:
        categorical = np.zeros(X.shape[1], dtype=bool)
    categorical = np.asarray(categorical, dtype=bool)
    if categorical.shape != (X.shape[1],):
        raise SimulatorInputError("categorical", f"must hold one flag per column of X ({X.shape[1]})")
    feature_names = arrays.get("feature_names")
    names = (
        [str(name) for name in feature_names]
        if feature_names is not None and len(feature_names) == X.shape[1]
        else [f"column {index}" for index in range(X.shape[1])]
    )
    classes, y = _encode_labels(y_raw)
    class_names = arrays.get("class_names")
    if class_names is not None and np.issubdtype(y_raw.dtype, np.integer):
        known = [str(name) for name in class_names]
        if classes.min() >= 0 and classes.max() < len(known):
            return (
                build_features(X, categorical, names, text),
                y,
                [known[int(code)] for code in classes],
            )
    return build_features(X, categorical, names, text), y, [str(value) for value in classes]


def _check_npz(path: Path) -> None:
    """Check that ``path`` is an ``.npz`` archive whose arrays hold what their headers declare, before
    numpy allocates what a header declares (a 500-byte file can declare terabytes) or unpickles anything."""
    with path.open("rb") as handle:
        magic = handle.read(6)
    if magic == b"\x93NUMPY":
        raise SimulatorInputError(
            "data", f"cannot read {path.name}: it is a single .npy array, not an .npz archive ({NPZ_FORMAT})"
        )
    if not magic.startswith(b"PK"):
        raise SimulatorInputError(
            "data", f"cannot read {path.name}: it is not an .npz archive ({NPZ_FORMAT})"
        )
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if info.filename.endswith(".npy"):
                    with archive.open(info) as member:
                        _check_npy_header(member, info, path.name)
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise SimulatorInputError("data", f"cannot read {path.name} as .npz: {exc}") from None


def _check_npy_header(member: Any, info: zipfile.ZipInfo, file_name: str) -> None:
    name = info.filename.removesuffix(".npy")
    try:
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(member)
        else:
            shape, _, dtype = np.lib.format.read_array_header_2_0(member)
    except ValueError as exc:
        raise SimulatorInputError(name, f"{file_name} holds a damaged array: {exc}") from None
    if dtype.hasobject:
        raise SimulatorInputError(
            name,
            f"{file_name} holds an array of Python objects, which is not read (loading it could run "
            "code); save strings as a str array, e.g. numpy.array(texts, dtype=str)",
        )
    declared = math.prod(shape) * dtype.itemsize
    if declared > info.file_size:
        raise SimulatorInputError(
            name,
            f"{file_name} is damaged: the array declares shape {shape} ({declared:,} bytes) but holds "
            f"{info.file_size:,} bytes",
        )


def _load_csv(path: Path) -> tuple[Any, npt.NDArray[np.intp], list[str]]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise SimulatorInputError("data", f"cannot read {path.name} as CSV: {exc}") from None
    if not rows:
        raise SimulatorInputError("data", f"{path.name} is empty")
    header = [name.strip() for name in rows[0]]
    numbered = [(line, row) for line, row in enumerate(rows[1:], start=2) if any(map(str.strip, row))]
    body = [row for _, row in numbered]
    if LABEL_COLUMN not in header:
        raise SimulatorInputError(
            "label", f"{path.name} has no {LABEL_COLUMN!r} column (columns: {', '.join(header)})"
        )
    if not body:
        raise SimulatorInputError("data", f"{path.name} has no data rows")
    ragged = next((line for line, row in numbered if len(row) != len(header)), None)
    if ragged is not None:
        raise SimulatorInputError(
            "data",
            f"{path.name} line {ragged} does not have the header's {len(header)} fields",
        )
    cells = np.array(body, dtype=object)
    label_index = header.index(LABEL_COLUMN)
    classes, y = _encode_labels(np.array([cell.strip() for cell in cells[:, label_index]]))
    names = [name for index, name in enumerate(header) if index != label_index]
    columns = [cells[:, index] for index in range(len(header)) if index != label_index]
    if not columns:
        raise SimulatorInputError("data", f"{path.name} has no feature columns besides {LABEL_COLUMN!r}")
    numeric: list[npt.NDArray[np.float64]] = []
    numeric_names: list[str] = []
    categories: list[npt.NDArray[Any]] = []
    category_names: list[str] = []
    for name, column in zip(names, columns, strict=True):
        values = _as_float(column)
        if values is None:
            categories.append(np.array([str(cell).strip() for cell in column]))
            category_names.append(name)
        else:
            numeric.append(values)
            numeric_names.append(name)
    X_numeric = np.column_stack(numeric) if numeric else np.zeros((y.size, 0))
    _check_finite(X_numeric, numeric_names)
    blocks: list[Any] = []
    if numeric:
        blocks.append(StandardScaler().fit_transform(X_numeric))
    if categories:
        blocks.append(_one_hot(categories, category_names))
    return _stack(blocks, sparse=False), y, [str(value) for value in classes]


def build_features(
    X: npt.NDArray[Any],
    categorical: npt.NDArray[np.bool_],
    feature_names: list[str],
    text: npt.NDArray[Any] | None = None,
) -> Any:
    """Turn raw columns (and text) into a model-ready feature matrix, without looking at labels.

    Parameters
    ----------
    X : numpy.ndarray, shape (n_items, n_columns)
        Raw numeric columns; categorical ones hold category codes.
    categorical : numpy.ndarray of bool, shape (n_columns,)
        True where a column is a category code (one-hot encoded); the others are standardised.
    feature_names : list of str
        Column names, for error messages.
    text : numpy.ndarray of str, shape (n_items,), optional
        Raw text per item: TF-IDF of word 1-2 grams (sublinear tf, min_df=2).

    Returns
    -------
    numpy.ndarray of float64 or scipy.sparse.csr_matrix
        Sparse CSR when text is present, dense otherwise.
    """
    X = np.asarray(X, dtype=np.float64)
    _check_finite(X, feature_names)
    blocks: list[Any] = []
    if text is not None:
        vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)
        try:
            blocks.append(vectorizer.fit_transform([str(item) for item in text]))
        except ValueError as exc:
            raise SimulatorInputError("text", f"no usable vocabulary: {exc}") from None
    numeric = X[:, ~categorical]
    if numeric.shape[1]:
        blocks.append(StandardScaler().fit_transform(numeric))
    if categorical.any():
        columns = [X[:, index] for index in np.flatnonzero(categorical)]
        blocks.append(_one_hot(columns, [feature_names[i] for i in np.flatnonzero(categorical)]))
    if not blocks:
        raise SimulatorInputError("X", "the data set has neither feature columns nor text")
    return _stack(blocks, sparse=text is not None)


def _one_hot(columns: list[npt.NDArray[Any]], names: list[str]) -> sp.csr_matrix:
    """One-hot encoding of categorical columns, sparse: one column per distinct value (sorted), column
    after column; a column of more than :data:`MAX_CATEGORIES` distinct values raises naming it."""
    blocks = []
    for name, column in zip(names, columns, strict=True):
        values, codes = np.unique(column, return_inverse=True)
        if values.size > MAX_CATEGORIES:
            raise SimulatorInputError(
                "X",
                f"categorical column {name!r} has {values.size:,} distinct values, more than the "
                f"{MAX_CATEGORIES:,} one-hot encoded per column; drop it if it is an id, or give free text "
                "as the 'text' array of an .npz (TF-IDF features)",
            )
        n_items = column.shape[0]
        ones = np.ones(n_items)
        blocks.append(
            sp.csr_matrix((ones, (np.arange(n_items), codes.ravel())), shape=(n_items, values.size))
        )
    return sp.hstack(blocks, format="csr", dtype=np.float64)


def _stack(blocks: list[Any], sparse: bool) -> Any:
    """Feature blocks side by side: CSR when ``sparse`` or when dense would exceed
    :data:`MAX_DENSE_CELLS` cells, else a dense float64 array."""
    n_items = blocks[0].shape[0]
    n_columns = sum(block.shape[1] for block in blocks)
    if sparse or n_items * n_columns > MAX_DENSE_CELLS:
        return sp.hstack(blocks, format="csr", dtype=np.float64)
    return np.hstack([block.toarray() if sp.issparse(block) else block for block in blocks]).astype(
        np.float64
    )


def _encode_labels(values: npt.NDArray[Any]) -> tuple[npt.NDArray[Any], npt.NDArray[np.intp]]:
    """Sorted distinct labels and each item's index into them; at least two classes."""
    if values.size == 0:
        raise SimulatorInputError("label", "the data set has no rows")
    classes, codes = np.unique(values, return_inverse=True)
    if classes.size > MAX_CLASSES:
        raise SimulatorInputError(
            "label",
            f"the data set has {classes.size:,} classes, more than the {MAX_CLASSES:,} a replay takes "
            "(is the label column really the label?)",
        )
    if classes.size < 2:
        raise SimulatorInputError(
            "label", f"the data set has a single class ({classes[0]!s}); at least two are needed"
        )
    return classes, codes.astype(np.intp)


def _as_float(column: npt.NDArray[Any]) -> npt.NDArray[np.float64] | None:
    """The column as floats, or None when some cell is not a number (a categorical column).

    Empty cells and ``nan``/``inf`` parse as non-finite floats and are rejected later, by name.
    """
    try:
        return np.array([float(cell) if str(cell).strip() else np.nan for cell in column])
    except ValueError:
        return None


def _check_finite(X: npt.NDArray[np.float64], feature_names: list[str]) -> None:
    finite = np.isfinite(X)
    if finite.all():
        return
    bad_columns = np.flatnonzero(~finite.all(axis=0))
    shown = ", ".join(repr(feature_names[index]) for index in bad_columns[:3])
    more = f" and {bad_columns.size - 3} more" if bad_columns.size > 3 else ""
    raise SimulatorInputError(
        "X", f"feature column {shown}{more} has NaN or infinite values; impute or drop them first"
    )
