"""Loading .npz and CSV data sets into feature matrices, and the errors for bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from simulators._validation import ReplayInputError
from simulators.datasets import load_dataset

TEXTS = [
    "free prize call now",
    "call me when you are home",
    "win a free prize now",
    "are you home tonight",
    "free entry win cash now",
    "see you at home tonight",
] * 5


def write_tabular_npz(path: Path, n_items: int = 60) -> None:
    rng = np.random.default_rng(0)
    X = np.column_stack(
        [rng.normal(50.0, 10.0, n_items), rng.integers(0, 4, n_items), rng.normal(size=n_items)]
    ).astype(np.float32)
    np.savez(
        path,
        X=X,
        y=(np.arange(n_items) % 2).astype(np.int32),
        class_names=np.array(["no", "yes"]),
        feature_names=np.array(["age", "colour", "score"]),
        categorical=np.array([False, True, False]),
    )


def test_tabular_npz_one_hot_and_standardised(tmp_path: Path) -> None:
    path = tmp_path / "tabular.npz"
    write_tabular_npz(path)
    X, y, class_names = load_dataset(path)
    assert class_names == ["no", "yes"]
    assert X.shape == (60, 2 + 4)  # two numeric columns, four colours
    np.testing.assert_allclose(X[:, :2].mean(axis=0), 0.0, atol=1e-9)
    np.testing.assert_allclose(X[:, :2].std(axis=0), 1.0, atol=1e-6)
    np.testing.assert_array_equal(X[:, 2:].sum(axis=1), 1.0)
    assert y.tolist() == [0, 1] * 30


def test_text_npz_becomes_sparse_tfidf(tmp_path: Path) -> None:
    path = tmp_path / "text.npz"
    labels = np.array([1, 0, 1, 0, 1, 0] * 5, dtype=np.int32)
    np.savez(path, X=np.zeros((30, 0), np.float32), y=labels, text=np.array(TEXTS))
    X, y, class_names = load_dataset(path)
    assert y.tolist() == labels.tolist()
    assert sp.issparse(X) and X.format == "csr"
    assert X.shape[0] == 30 and X.shape[1] > 10  # words and word pairs seen at least twice
    np.testing.assert_allclose(sp.linalg.norm(X, axis=1), 1.0)
    assert class_names == ["0", "1"]


def test_csv_with_numeric_and_categorical_columns(tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    rows = ["height,colour,label"] + [
        f"{150 + i},{'red' if i % 3 else 'blue'},{'cat' if i % 2 else 'dog'}" for i in range(40)
    ]
    path.write_text("\n".join(rows) + "\n")
    X, y, class_names = load_dataset(path)
    assert class_names == ["cat", "dog"]
    assert X.shape == (40, 1 + 2)
    assert y[:2].tolist() == [1, 0]


@pytest.mark.parametrize(
    ("name", "content", "field", "words"),
    [
        ("missing.npz", None, "data", "not found"),
        ("items.parquet", b"", "data", "unsupported"),
        ("nolabel.csv", b"a,b\n1,2\n3,4\n", "label", "label"),
        ("oneclass.csv", b"a,label\n1,x\n2,x\n3,x\n", "label", "single class"),
        ("nan.csv", b"a,b,label\n1,2,x\n3,,y\n4,5,x\n", "X", "'b'"),
        ("inf.csv", b"a,label\n1,x\ninf,y\n", "X", "'a'"),
        ("broken.npz", b"not an archive", "data", "cannot read"),
    ],
)
def test_bad_files_raise_a_value_error_naming_the_problem(
    tmp_path: Path, name: str, content: bytes | None, field: str, words: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ValueError, match=words) as error:
        load_dataset(path)
    assert isinstance(error.value, ReplayInputError)
    assert error.value.field == field


def test_npz_with_nan_features_and_single_class(tmp_path: Path) -> None:
    path = tmp_path / "nan.npz"
    X = np.ones((10, 2), np.float32)
    X[4, 1] = np.nan
    np.savez(path, X=X, y=np.arange(10) % 2, feature_names=np.array(["a", "b"]))
    with pytest.raises(ReplayInputError, match="'b'"):
        load_dataset(path)
    path = tmp_path / "one.npz"
    np.savez(path, X=np.ones((10, 2), np.float32), y=np.zeros(10, np.int32))
    with pytest.raises(ReplayInputError, match="single class"):
        load_dataset(path)
    path = tmp_path / "nolabels.npz"
    np.savez(path, X=np.ones((10, 2), np.float32))
    with pytest.raises(ReplayInputError) as error:
        load_dataset(path)
    assert error.value.field == "label"
