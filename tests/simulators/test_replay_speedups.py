"""The replay's shortcuts at large pools decide exactly as the plain computations they replace.

* The finite-values check of the features sums them first and checks each value only when the sum is not
  finite; integer labels are encoded by counting them.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from annoplan.simulators._validation import all_finite, check_features, check_features_labels, encode_labels
from annoplan.simulators.errors import SimulatorInputError

# -- the finite-values check ----------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("where", [0, 123_457, -1])
def test_one_non_finite_value_in_a_large_matrix_is_caught(bad: float, where: int) -> None:
    X = np.random.default_rng(0).normal(size=(50_000, 20))
    X.reshape(-1)[where] = bad
    with pytest.raises(SimulatorInputError, match="1 NaN or infinite") as error:
        check_features_labels(X, np.arange(50_000) % 2)
    assert error.value.field == "X"
    with pytest.raises(SimulatorInputError) as error:
        check_features(sp.csr_matrix(X), "labeled")
    assert error.value.field == "labeled"


def test_values_whose_sum_overflows_are_finite() -> None:
    X = np.full((1000, 3), 1e308)
    X[::2, 1] = -1e308
    assert all_finite(X)
    assert check_features(X) is not None
    X[5, 2] = np.inf
    X[6, 2] = -np.inf  # the sums of this column: inf - inf
    assert not all_finite(X)


@given(
    specials=st.lists(
        st.tuples(st.integers(0, 599), st.sampled_from([np.nan, np.inf, -np.inf, 1e308, -1e308])), max_size=4
    ),
    shape=st.sampled_from([(600,), (200, 3), (1, 600), (600, 1)]),
)
@settings(max_examples=80, deadline=None)
def test_all_finite_is_the_elementwise_check(
    specials: list[tuple[int, float]], shape: tuple[int, ...]
) -> None:
    values = np.random.default_rng(len(specials)).normal(size=600)
    for position, value in specials:
        values[position] = value
    values = values.reshape(shape)
    assert all_finite(values) == bool(np.all(np.isfinite(values)))


# -- the labels' encoding -----------------------------------------------------------------------------------


@given(
    dtype=st.sampled_from(["int8", "uint8", "int16", "int32", "int64", "uint64"]),
    spread=st.sampled_from([0, 1, 2, 50, 10**6]),
    n=st.integers(1, 300),
    data=st.data(),
)
@settings(max_examples=120, deadline=None)
def test_integer_labels_are_encoded_as_np_unique_does(
    dtype: str, spread: int, n: int, data: st.DataObject
) -> None:
    info = np.iinfo(dtype)
    low = data.draw(st.integers(int(info.min), int(info.max)))
    offsets = np.random.default_rng(n).integers(0, min(spread, int(info.max) - low) + 1, size=n)
    y = np.array([low + int(offset) for offset in offsets], dtype=dtype)
    classes, encoded = encode_labels(y)
    expected_classes, expected = np.unique(y, return_inverse=True)
    assert classes.dtype == expected_classes.dtype and encoded.dtype == np.intp
    np.testing.assert_array_equal(classes, expected_classes)
    np.testing.assert_array_equal(encoded, expected)


@pytest.mark.parametrize(
    "y",
    [
        np.array(["b", "a", "b"]),
        np.array([2.5, 1.0, 2.5]),
        np.array([True, False, True]),
        np.array([0, 2**40, 0]),
    ],
)
def test_other_labels_are_encoded_by_np_unique(y: np.ndarray) -> None:
    classes, encoded = encode_labels(y)
    expected_classes, expected = np.unique(y, return_inverse=True)
    np.testing.assert_array_equal(classes, expected_classes)
    np.testing.assert_array_equal(encoded, expected)
    assert encoded.dtype == np.intp
