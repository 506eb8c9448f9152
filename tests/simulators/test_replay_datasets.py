"""Loading .npz and CSV data sets into feature matrices, and the errors for bad files."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from annoplan.simulators import datasets
from annoplan.simulators.datasets import load_dataset
from annoplan.simulators.errors import SimulatorInputError

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
    assert isinstance(error.value, SimulatorInputError)
    assert error.value.field == field


def test_npz_with_nan_features_and_single_class(tmp_path: Path) -> None:
    path = tmp_path / "nan.npz"
    X = np.ones((10, 2), np.float32)
    X[4, 1] = np.nan
    np.savez(path, X=X, y=np.arange(10) % 2, feature_names=np.array(["a", "b"]))
    with pytest.raises(SimulatorInputError, match="'b'"):
        load_dataset(path)
    path = tmp_path / "one.npz"
    np.savez(path, X=np.ones((10, 2), np.float32), y=np.zeros(10, np.int32))
    with pytest.raises(SimulatorInputError, match="single class"):
        load_dataset(path)
    path = tmp_path / "nolabels.npz"
    np.savez(path, X=np.ones((10, 2), np.float32))
    with pytest.raises(SimulatorInputError) as error:
        load_dataset(path)
    assert error.value.field == "label"


# --- hostile and odd files: a clear error, in bounded memory ------------------------------------------------


def test_a_directory_is_named_as_such(tmp_path: Path) -> None:
    folder = tmp_path / "items.npz"
    folder.mkdir()
    with pytest.raises(SimulatorInputError, match="is a directory") as error:
        load_dataset(folder)
    assert error.value.field == "data"


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"X,y\n1,0\n2,1\n", "not an .npz archive"),
        (b"", "not an .npz archive"),
        (b"PK\x03\x04 truncated", "cannot read"),
    ],
    ids=["text", "empty", "broken zip"],
)
def test_a_file_named_npz_that_is_not_an_archive_says_what_is_expected(
    tmp_path: Path, content: bytes, words: str
) -> None:
    path = tmp_path / "items.npz"
    path.write_bytes(content)
    with pytest.raises(SimulatorInputError, match=words) as error:
        load_dataset(path)
    assert error.value.field == "data"
    assert "pickle" not in error.value.message


def test_a_single_npy_array_named_npz_says_so(tmp_path: Path) -> None:
    path = tmp_path / "items.npz"
    with path.open("wb") as handle:
        np.save(handle, np.ones((4, 2)))
    with pytest.raises(SimulatorInputError, match=r"single \.npy array"):
        load_dataset(path)


def test_an_npz_with_an_object_array_is_refused_without_pickle_advice(tmp_path: Path) -> None:
    path = tmp_path / "items.npz"
    text = np.array(["a b", "c d", None, "e"] * 5, dtype=object)
    np.savez(path, X=np.ones((20, 1)), y=np.arange(20) % 2, text=text)
    with pytest.raises(SimulatorInputError, match="objects") as error:
        load_dataset(path)
    assert error.value.field == "text"
    assert "allow_pickle" not in error.value.message


def test_an_npz_whose_array_header_claims_more_than_it_holds_is_refused_before_allocating(
    tmp_path: Path,
) -> None:
    """A 500-byte archive whose X claims 10^6 x 10^5 floats (745 GiB)."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (10**6, 10**5)}
    )
    labels = io.BytesIO()
    np.save(labels, np.arange(10) % 2)
    path = tmp_path / "items.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("X.npy", header.getvalue())
        archive.writestr("y.npy", labels.getvalue())
    assert path.stat().st_size < 1_000
    with pytest.raises(SimulatorInputError, match="damaged") as error:
        load_dataset(path)
    assert error.value.field == "X"


def junk_csv(path: Path, n_rows: int, n_distinct: int) -> Path:
    """A CSV with a numeric column, a column of ``n_distinct`` junk strings and two classes."""
    rng = np.random.default_rng(0)
    junk = [f"j{code:07d}" for code in rng.integers(0, n_distinct, n_rows)]
    junk[:n_distinct] = [f"j{code:07d}" for code in range(n_distinct)]
    rows = [f"{rng.normal():.3f},{word},{i % 2}" for i, word in enumerate(junk)]
    path.write_text("score,ticket,label\n" + "\n".join(rows) + "\n")
    return path


def test_a_csv_column_with_too_many_categories_is_refused_naming_it(tmp_path: Path) -> None:
    path = junk_csv(tmp_path / "items.csv", n_rows=3_000, n_distinct=3_000)
    with pytest.raises(SimulatorInputError, match="'ticket'") as error:
        load_dataset(path)
    assert error.value.field == "X"
    assert "3,000 distinct values" in error.value.message


def test_an_npz_categorical_column_with_too_many_codes_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "items.npz"
    X = np.column_stack([np.arange(3_000.0), np.ones(3_000)])
    np.savez(
        path,
        X=X,
        y=np.arange(3_000) % 2,
        categorical=np.array([True, False]),
        feature_names=np.array(["zip_code", "bias"]),
    )
    with pytest.raises(SimulatorInputError, match="'zip_code'"):
        load_dataset(path)


def test_wide_one_hot_features_are_sparse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = junk_csv(tmp_path / "items.csv", n_rows=600, n_distinct=300)
    dense, y, _ = load_dataset(path)
    assert isinstance(dense, np.ndarray) and dense.shape == (600, 1 + 300)
    monkeypatch.setattr(datasets, "MAX_DENSE_CELLS", 10_000)
    sparse, y_again, _ = load_dataset(path)
    assert sp.issparse(sparse) and sparse.format == "csr"
    assert sparse.nnz <= 2 * 600  # the numeric column and one category an item
    np.testing.assert_array_equal(sparse.toarray(), dense)
    np.testing.assert_array_equal(y, y_again)


def test_too_many_classes_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_text("a,label\n" + "".join(f"{i},c{i}\n" for i in range(1_500)))
    with pytest.raises(SimulatorInputError, match="1,500 classes") as error:
        load_dataset(path)
    assert error.value.field == "label"
