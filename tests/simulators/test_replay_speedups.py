"""The replay's shortcuts at large pools decide exactly as the plain computations they replace.

* The finite-values check of the features sums them first and checks each value only when the sum is not
  finite; integer labels are encoded by counting them.
* Strategies whose scores come from each item's probabilities alone score the whole pool's probabilities
  and keep the candidates' scores instead of copying the candidates' probability rows.
* The pool is read from the data set's own rows (no copy) where that gives the same predictions, and the
  replay takes the whole-pool path of those strategies.
* ``top_k`` finds the cut by partitioning the scores' values, and ranks the whole pool's scores where items
  remain (``where``) without gathering them: the positions, their order and the random draws are those of
  one ``argpartition`` over the candidates' scores.
* The replay keeps the remaining items as a mask over the rows the pool is predicted in, round after round,
  and draws random items as positions among the candidates (no index of the pool built while it is whole).
* ``top_k`` of many scores looks for the cut among the scores above a bar a sample of them places; pool items
  are found from their rows among the evaluation rows; the training items are merged round after round;
  labels of two neighbouring integers are encoded without counting them; the native libraries' thread pools
  are listed once, not on every replay; the pool's labels are read item by item, not gathered up front.
"""

from __future__ import annotations

import json
import sys
import types
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
import threadpoolctl
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

from annoplan.simulators import _common, query_strategies, replay
from annoplan.simulators._common import can_share_rows, split_eval_pool
from annoplan.simulators._validation import all_finite, check_features, check_features_labels, encode_labels
from annoplan.simulators.costs import RateCard
from annoplan.simulators.errors import SimulatorInputError
from annoplan.simulators.query_strategies import (
    QUERY_STRATEGIES,
    QueryContext,
    QueryStrategy,
    least_confidence_scores,
    make_strategy,
    row_best,
    row_max,
    top_k,
)
from annoplan.simulators.replay import ReplayResult, replay_pool

PROBA_ONLY = [name for name, cls in QUERY_STRATEGIES.items() if cls.proba_only]


def random_proba(n_rows: int, n_classes: int, seed: int) -> np.ndarray:
    """Rows of class probabilities, with exact ties and saturated rows mixed in."""
    rng = np.random.default_rng(seed)
    proba = rng.dirichlet(np.ones(n_classes), size=n_rows)
    proba[::7] = 1.0 / n_classes  # all classes tied
    proba[3::11] = np.eye(n_classes)[rng.integers(0, n_classes, proba[3::11].shape[0])]  # certain
    return proba


def item_outcomes(result: ReplayResult) -> list[np.ndarray]:
    """What a replay decided for each item."""
    items = result.items
    return [items.pool_rows, items.route, items.round_index, items.confidence, items.label_correct]


def assert_same_outcome(a: ReplayResult, b: ReplayResult, ignore: tuple[str, ...] = ()) -> None:
    """The two replays decided the same: totals, history and each item's outcome."""
    dict_a, dict_b = a.to_dict(), b.to_dict()
    for key in ignore:
        dict_a.pop(key), dict_b.pop(key)
    assert json.dumps(dict_a, sort_keys=True) == json.dumps(dict_b, sort_keys=True)
    for left, right in zip(item_outcomes(a), item_outcomes(b), strict=True):
        assert left.dtype == right.dtype
        np.testing.assert_array_equal(left, right)


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
        st.tuples(st.integers(0, 5999), st.sampled_from([np.nan, np.inf, -np.inf, 1e308, -1e308])), max_size=4
    ),
    shape=st.sampled_from([(600,), (200, 3), (1, 600), (600, 1), (6000,), (2000, 3), (3, 2000), (1500, 4)]),
    layout=st.sampled_from(["C", "F", "strided"]),
)
@settings(max_examples=150, deadline=None)
def test_all_finite_is_the_elementwise_check(
    specials: list[tuple[int, float]], shape: tuple[int, ...], layout: str
) -> None:
    size = int(np.prod(shape))
    data = np.random.default_rng(len(specials)).normal(size=size)
    for position, value in specials:
        data[position % size] = value
    data = data.reshape(shape)
    if layout == "C":  # summed as rows of SUM_ROW_WIDTH values when large
        values = data
    elif layout == "F":
        values = np.asfortranarray(data)
    else:
        values = np.empty(2 * size)[::2].reshape(shape)  # every other value of a larger array
        values[...] = data
        assert not values.flags.c_contiguous
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
    assert not np.shares_memory(encoded, y)  # a new array, as np.unique's


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
    assert not np.shares_memory(encoded, y)  # a new array, as np.unique's
    assert encoded.dtype == np.intp


# -- whole-pool scoring ---------------------------------------------------------------------------------


def test_the_probability_only_strategies_are_the_uncertainty_measures() -> None:
    assert set(PROBA_ONLY) == {"least_confidence", "margin", "entropy"}
    for name, cls in QUERY_STRATEGIES.items():  # the replay skips select: none of them may override it
        if cls.proba_only:
            assert cls.select is QueryStrategy.select and cls.score is QueryStrategy.score, name
            assert cls.select_scored is QueryStrategy.select_scored, name


@pytest.mark.parametrize("name", PROBA_ONLY)
@pytest.mark.parametrize("n_classes", [2, 3, 7, 8, 9, 33, 40])
@pytest.mark.parametrize("n_pool", [5, 64, 3001])
def test_scoring_the_whole_pool_gives_each_candidate_its_own_score(
    name: str, n_classes: int, n_pool: int
) -> None:
    strategy = make_strategy(name)
    proba = random_proba(n_pool, n_classes, seed=n_pool + n_classes)
    rng = np.random.default_rng(n_classes)
    for size in (1, n_pool // 2, n_pool - 1):
        candidates = np.sort(rng.choice(n_pool, size=max(size, 1), replace=False))
        whole = strategy.proba_scores(proba)[candidates]
        np.testing.assert_array_equal(whole, strategy.proba_scores(proba[candidates]))


@pytest.mark.parametrize("name", PROBA_ONLY)
@pytest.mark.parametrize("n_classes", [2, 3, 40])
def test_the_whole_pool_path_selects_as_select(name: str, n_classes: int) -> None:
    strategy = make_strategy(name)
    n_pool = 2000
    proba = random_proba(n_pool, n_classes, seed=n_classes)
    candidates = np.sort(np.random.default_rng(1).choice(n_pool, size=1500, replace=False))
    for batch_size in (1, 37, 400, 1500, 1600):
        context = QueryContext(candidates=candidates, X_pool=None, proba=proba[candidates])
        expected = strategy.select(context, batch_size, np.random.default_rng(batch_size))
        scores = strategy.proba_scores(proba)[candidates]
        chosen = strategy.select_scored(candidates, scores, batch_size, np.random.default_rng(batch_size))
        np.testing.assert_array_equal(chosen, expected)


@given(
    n_classes=st.integers(1, 40),
    values=st.lists(st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.9, 1.0]), min_size=40, max_size=400),
)
@settings(max_examples=60, deadline=None)
def test_row_max_is_row_bests_maximum(n_classes: int, values: list[float]) -> None:
    n_rows = len(values) // n_classes
    proba = np.asarray(values[: n_rows * n_classes]).reshape(n_rows, n_classes)
    np.testing.assert_array_equal(row_max(proba), row_best(proba)[0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_classes", [1, 2, 5, 40])
def test_least_confidence_is_one_minus_row_bests_maximum(dtype: type, n_classes: int) -> None:
    proba: np.ndarray = random_proba(500, n_classes, seed=n_classes).astype(dtype)
    before = proba.copy()
    scores = least_confidence_scores(proba)
    assert scores.dtype == np.float64
    np.testing.assert_array_equal(scores, np.asarray(1.0 - row_best(proba)[0], dtype=np.float64))
    np.testing.assert_array_equal(proba, before)  # scored in a new array


# -- the pool read from the data set's rows ---------------------------------------------------------


def test_a_shared_split_reads_the_pool_from_the_data_sets_rows() -> None:
    X = np.random.default_rng(0).normal(size=(5000, 4))
    y = np.arange(5000) % 2
    split = split_eval_pool(X, y, 20, np.random.default_rng(1), share=True)
    assert split.shared and split.X is X
    assert "X_pool" not in vars(split)  # no copy made
    items = np.array([0, 17, 4979])
    np.testing.assert_array_equal(split.features(items), X[split.pool_rows[items]])
    np.testing.assert_array_equal(split.X_pool[items], X[split.pool_rows[items]])  # copied when asked


def test_the_split_holds_out_a_random_sample_and_keeps_the_rest_in_order() -> None:
    X, y = np.zeros((300, 2)), np.arange(300) % 3
    split = split_eval_pool(X, y, 40, np.random.default_rng(5), share=True)
    held_out = np.random.default_rng(5).choice(300, size=40, replace=False)
    pool = np.setdiff1d(np.arange(300), held_out)  # increasing
    np.testing.assert_array_equal(split.pool_rows, pool)
    np.testing.assert_array_equal(split.y_eval, y[held_out])
    assert "y_pool" not in vars(split)  # the pool's labels are gathered when asked for
    items = np.array([0, 5, 259, 3])
    np.testing.assert_array_equal(split.labels(items), y[pool][items])
    np.testing.assert_array_equal(split.y_pool, y[pool])
    assert split.n_pool == split.y_pool.size == 260


@pytest.mark.parametrize("policy", ["random", "active_learning", "prelabel"])
def test_the_pool_labels_are_read_item_by_item(policy: str, monkeypatch: pytest.MonkeyPatch) -> None:
    X, y = tied_data(3000)
    monkeypatch.setattr(_common.Split, "y_pool", property(lambda split: pytest.fail("y_pool was gathered")))
    result = replay_pool(X, y, policy=policy, batch_size=200, max_labels=600, n_eval=20, random_state=0)
    assert result.human_labels == 600


@pytest.mark.parametrize(
    ("X", "n_eval", "expected"),
    [
        (np.zeros((1000, 3)), 10, True),
        (np.zeros((1000, 3)), 11, False),  # the evaluation rows would cost more than a copy
        (np.asfortranarray(np.zeros((1000, 3))), 10, False),  # a copy is C-ordered: other numbers
        (np.zeros((1000, 6))[:, ::2], 10, False),
        (sp.csr_matrix(np.eye(1000)), 10, True),
        (sp.csc_matrix(np.eye(1000)), 10, False),
    ],
)
def test_rows_are_shared_only_where_predictions_are_the_copys(X: Any, n_eval: int, expected: bool) -> None:
    assert can_share_rows(X, n_eval) is expected


class ProbaSpy(LogisticRegression):
    """Logistic regression that records the arrays it is asked to predict."""

    seen: list[Any] = []  # noqa: RUF012

    def predict_proba(self, X: Any) -> Any:
        ProbaSpy.seen.append(X)
        return super().predict_proba(X)


@pytest.mark.parametrize("policy", ["random", "active_learning", "prelabel", "hybrid"])
def test_a_large_pool_is_never_copied(policy: str, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(3000, 5))
    y = (X[:, 0] + 0.3 * rng.normal(size=3000) > 0).astype(int)
    monkeypatch.setattr(_common.Split, "X_pool", property(lambda split: pytest.fail("the pool was copied")))
    ProbaSpy.seen = []
    result = replay_pool(
        X, y, policy=policy, batch_size=200, max_labels=600, n_eval=30, estimator=ProbaSpy(), random_state=0
    )
    assert result.human_labels == 600
    if policy in ("active_learning", "hybrid"):  # the pool is predicted in the caller's own array
        assert any(np.shares_memory(seen, X) for seen in ProbaSpy.seen)


def _all_policies() -> list[dict[str, Any]]:
    settings_list: list[dict[str, Any]] = [
        {"policy": "random"},
        {"policy": "prelabel"},
        {"policy": "hybrid", "confidence_threshold": 0.9},
        {"policy": "hybrid", "confidence_threshold": 0.9, "max_label_error": 0.05},
    ]
    settings_list += [{"policy": "active_learning", "strategy": name} for name in QUERY_STRATEGIES]
    return settings_list


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("policy", _all_policies(), ids=lambda s: "-".join(map(str, s.values())))
def test_a_shared_pool_decides_as_a_copied_one(
    classification_data: tuple[np.ndarray, np.ndarray],
    monkeypatch: pytest.MonkeyPatch,
    policy: dict[str, Any],
    sparse: bool,
) -> None:
    X, y = classification_data
    features = sp.csr_matrix(X) if sparse else X
    settings_ = dict(policy, batch_size=60, max_labels=240, n_eval=12, random_state=4)
    shared = replay_pool(features, y, **settings_)
    monkeypatch.setattr(_common, "MAX_SHARED_EVAL_SHARE", 0.0)  # never share: copy the pool
    copied = replay_pool(features, y, **settings_)
    assert_same_outcome(shared, copied)


def row_path(name: str) -> QueryStrategy:
    """The strategy ``name``, made to take the general path (context with the candidates' rows)."""
    cls = QUERY_STRATEGIES[name]
    return type(f"RowPath{cls.__name__}", (cls,), {"name": "", "proba_only": False})()


@pytest.mark.parametrize("name", PROBA_ONLY)
@pytest.mark.parametrize("n_eval", [None, 12])
def test_an_active_learning_replay_decides_as_on_the_row_path(
    classification_data: tuple[np.ndarray, np.ndarray], name: str, n_eval: int | None
) -> None:
    X, y = classification_data
    settings_: dict[str, Any] = dict(
        policy="active_learning", batch_size=50, max_labels=400, n_eval=n_eval, random_state=2
    )
    fast = replay_pool(X, y, strategy=name, **settings_)
    general = replay_pool(X, y, strategy=row_path(name), **settings_)
    assert fast.strategy == name
    assert_same_outcome(fast, general, ignore=("strategy",))
    assert QUERY_STRATEGIES[name].proba_only  # the registry is untouched


# -- the top k ------------------------------------------------------------------------------------------


def argpartition_top_k(scores: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """The top k as one ``argpartition`` over the scores ranks them (ties at the cut broken at random)."""
    top = np.argpartition(-scores, k - 1)[:k]
    cut = scores[top].min()
    n_tied = int(np.count_nonzero(scores == cut))
    kept = top[scores[top] > cut]
    if n_tied > top.size - kept.size:
        tied = np.flatnonzero(scores == cut)
        top = np.concatenate([kept, rng.choice(tied, size=k - kept.size, replace=False)])
    return top[np.argsort(-scores[top], kind="stable")]


SCORE_VALUES = [0.0, -0.0, 0.1, 0.25, 0.5, 0.5000000000000001, 1.0, np.inf, -np.inf]


@given(
    values=st.lists(st.sampled_from(SCORE_VALUES) | st.floats(0, 1), min_size=1, max_size=300),
    data=st.data(),
)
@settings(max_examples=300, deadline=None)
def test_top_k_ranks_as_one_argpartition(values: list[float], data: st.DataObject) -> None:
    scores = np.asarray(values)
    where = np.asarray(data.draw(st.lists(st.booleans(), min_size=scores.size, max_size=scores.size)))
    for mask in (None, where):
        candidates = np.arange(scores.size) if mask is None else np.flatnonzero(mask)
        if candidates.size == 0:
            continue
        k = data.draw(st.integers(1, candidates.size))
        expected_rng, rng = np.random.default_rng(k), np.random.default_rng(k)
        expected = candidates[argpartition_top_k(scores[candidates], k, expected_rng)]
        chosen = top_k(scores, k, rng, where=mask)
        assert chosen.dtype == np.intp
        np.testing.assert_array_equal(chosen, expected)
        assert rng.integers(2**62) == expected_rng.integers(2**62)  # the same random draws


@pytest.mark.parametrize("n_distinct", [3, 50, 10**9])
@pytest.mark.parametrize("k", [1, 37, 999, 1000])
def test_top_k_of_a_large_pool_ranks_as_one_argpartition(n_distinct: int, k: int) -> None:
    rng = np.random.default_rng(n_distinct + k)
    scores = rng.integers(0, n_distinct, size=20_000) / n_distinct  # few values: ties in and at the top
    where = rng.random(20_000) < 0.1
    candidates = np.flatnonzero(where)
    for seed in range(3):
        expected = candidates[argpartition_top_k(scores[candidates], k, np.random.default_rng(seed))]
        np.testing.assert_array_equal(top_k(scores, k, np.random.default_rng(seed), where=where), expected)
        expected = argpartition_top_k(scores, k, np.random.default_rng(seed))
        np.testing.assert_array_equal(top_k(scores, k, np.random.default_rng(seed)), expected)


def test_top_k_leaves_its_inputs_alone() -> None:
    scores = np.random.default_rng(0).random(500)
    where = scores > 0.3
    scores_before, where_before = scores.copy(), where.copy()
    top_k(scores, 20, np.random.default_rng(0), where=where)
    np.testing.assert_array_equal(scores, scores_before)
    np.testing.assert_array_equal(where, where_before)


# -- the remaining items as rows ----------------------------------------------------------------------


@pytest.mark.parametrize("n_eval", [20, 1000])  # shared rows, copied pool
def test_pool_items_and_rows_map_both_ways(n_eval: int) -> None:
    X, y = np.zeros((5000, 2)), np.arange(5000) % 2
    split = split_eval_pool(X, y, n_eval, np.random.default_rng(3), share=True)
    assert split.shared is (n_eval == 20)
    items = np.sort(np.random.default_rng(4).choice(split.y_pool.size, size=300, replace=False))
    np.testing.assert_array_equal(split.items_at(split.rows(items)), items)
    rows = np.random.default_rng(5).permutation(split.rows(items))  # in any order, as top_k gives them
    if split.shared:
        np.testing.assert_array_equal(split.items_at(rows), np.searchsorted(split.pool_rows, rows))
    else:
        np.testing.assert_array_equal(split.items_at(rows), rows)
    mask = split.pool_mask()
    assert mask.shape == (split.X_rows.shape[0],)
    np.testing.assert_array_equal(np.flatnonzero(mask), split.rows(np.arange(split.y_pool.size)))


def tied_data(n_items: int = 900, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Features of few distinct values: many items share their probabilities, so scores tie."""
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 3, size=(n_items, 3)).astype(float)
    y = (X[:, 0] + X[:, 1] + rng.integers(0, 2, n_items)) % 3
    return X, y


@pytest.mark.parametrize("n_eval", [8, None])  # shared rows, copied pool
@pytest.mark.parametrize("policy", _all_policies(), ids=lambda s: "-".join(map(str, s.values())))
def test_the_remaining_rows_follow_the_remaining_items(
    monkeypatch: pytest.MonkeyPatch, policy: dict[str, Any], n_eval: int | None
) -> None:
    rounds = []
    end_round = replay._Replay.end_round

    def checked_end_round(state: Any) -> Any:
        expected = np.zeros_like(state.remaining_rows)
        expected[state.split.rows(np.flatnonzero(state.remaining))] = True
        np.testing.assert_array_equal(state.remaining_rows, expected)
        rounds.append(state.n_remaining)
        return end_round(state)

    monkeypatch.setattr(replay._Replay, "end_round", checked_end_round)
    X, y = tied_data()
    policy = {**policy, "strategy": "margin"} if policy["policy"] == "active_learning" else policy
    result = replay_pool(X, y, **policy, batch_size=100, n_eval=n_eval, random_state=1)
    assert rounds and rounds[-1] == result.unlabeled


@pytest.mark.parametrize("name", PROBA_ONLY)
@pytest.mark.parametrize("n_eval", [8, None])  # shared rows, copied pool
@pytest.mark.parametrize("batch_size", [1, 45, 300])
def test_ranking_the_whole_pool_decides_as_on_the_row_path_with_ties(
    name: str, n_eval: int | None, batch_size: int
) -> None:
    X, y = tied_data()
    settings_: dict[str, Any] = dict(
        policy="active_learning", batch_size=batch_size, n_eval=n_eval, random_state=5
    )
    settings_["max_labels"] = 20 if batch_size == 1 else None
    fast = replay_pool(X, y, strategy=name, **settings_)
    general = replay_pool(X, y, strategy=row_path(name), **settings_)
    assert_same_outcome(fast, general, ignore=("strategy",))


@pytest.mark.parametrize("n_taken", [0, 1, 2500])
@pytest.mark.parametrize("n_items", [1, 60, 2000])
def test_random_items_are_the_choice_among_the_candidates(n_taken: int, n_items: int) -> None:
    X, y = np.zeros((5000, 2)), np.arange(5000) % 2
    split = split_eval_pool(X, y, 20, np.random.default_rng(0), share=True)
    state = replay._Replay(split, 2, None, RateCard(), 0, np.random.default_rng(n_items))
    state.label_fresh(np.random.default_rng(1).choice(split.y_pool.size, size=n_taken, replace=False))
    expected_rng = np.random.default_rng(n_items)
    expected = expected_rng.choice(state.candidates(), size=n_items, replace=False)
    chosen = state.random_items(n_items)
    np.testing.assert_array_equal(chosen, expected)
    assert chosen.dtype == expected.dtype
    assert state.rng.integers(2**62) == expected_rng.integers(2**62)


# -- the top k among the scores above a sampled bar ----------------------------------------------------------


def large_scores(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` scores: spread, tied, ordered by position, infinite, or high only where sampled."""
    if kind == "spread":
        return rng.random(n)
    if kind == "few_values":
        return rng.integers(0, 5, size=n) / 4.0
    if kind == "increasing":  # the highest at the end: an evenly spaced sample still sees them
        return np.sort(rng.random(n))
    if kind == "with_inf":
        scores = rng.random(n)
        scores[rng.choice(n, size=40, replace=False)] = np.inf
        scores[rng.choice(n, size=40, replace=False)] = -np.inf
        return scores
    if kind == "constant":
        return np.full(n, 0.25)
    scores = rng.random(n) * 0.5  # "sampled_high": the sample sees only the high scores and misjudges
    step = max(1, n // query_strategies.CUT_SAMPLE_SIZE)
    scores[::step] = 0.5 + rng.random(scores[::step].size) * 0.5
    return scores


@pytest.mark.parametrize(
    "kind", ["spread", "few_values", "increasing", "with_inf", "constant", "sampled_high"]
)
@pytest.mark.parametrize("density", [None, 0.99, 0.6, 0.2])
@pytest.mark.parametrize("k", [1, 37, 2000])
def test_the_sampled_bar_ranks_as_one_argpartition(kind: str, density: float | None, k: int) -> None:
    n = 60_000
    rng = np.random.default_rng(k)
    scores = large_scores(kind, n, rng)
    where = None if density is None else rng.random(n) < density
    candidates = np.arange(n) if where is None else np.flatnonzero(where)
    scores_before = scores.copy()
    for seed in range(2):
        expected_rng, chosen_rng = np.random.default_rng(seed), np.random.default_rng(seed)
        expected = candidates[argpartition_top_k(scores[candidates], k, expected_rng)]
        chosen = top_k(scores, k, chosen_rng, where=where)
        assert chosen.dtype == np.intp
        np.testing.assert_array_equal(chosen, expected)
        assert chosen_rng.integers(2**62) == expected_rng.integers(2**62)  # the same random draws
    np.testing.assert_array_equal(scores, scores_before)


def test_the_sampled_bar_is_used_where_it_can_tell_and_only_there() -> None:
    rng = np.random.default_rng(0)
    spread = large_scores("spread", 60_000, rng)
    found = query_strategies._cut_above_sample(spread, 500, None)
    assert found is not None
    cut, at_or_above = found
    assert cut == np.sort(spread)[-500]
    np.testing.assert_array_equal(at_or_above, np.flatnonzero(spread >= cut))
    misjudged = large_scores("sampled_high", 60_000, rng)
    assert query_strategies._cut_above_sample(misjudged, 2000, None) is None  # too few reach the bar
    assert query_strategies._cut_above_sample(spread[:10_000], 5, None) is None  # too few scores
    assert query_strategies._cut_above_sample(spread, 7600, None) is None  # k too large a share


@pytest.mark.parametrize("name", PROBA_ONLY)
@pytest.mark.parametrize("n_eval", [20, None])  # shared rows, copied pool
def test_a_large_pool_decides_as_without_the_sampled_bar(
    name: str, n_eval: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    X, y = tied_data(40_000, seed=3)
    settings_: dict[str, Any] = dict(
        policy="active_learning",
        strategy=name,
        batch_size=700,
        max_labels=2800,
        n_eval=n_eval,
        random_state=6,
    )
    sampled = replay_pool(X, y, **settings_)
    monkeypatch.setattr(query_strategies, "SAMPLED_CUT_MIN_SCORES", 10**18)  # always partition all scores
    partitioned = replay_pool(X, y, **settings_)
    assert_same_outcome(sampled, partitioned)


@pytest.mark.parametrize("n_eval", [8, None])  # shared rows, copied pool
@pytest.mark.parametrize("policy", _all_policies(), ids=lambda s: "-".join(map(str, s.values())))
def test_the_training_items_are_the_checked_ones(
    monkeypatch: pytest.MonkeyPatch, policy: dict[str, Any], n_eval: int | None
) -> None:
    rounds = []
    end_round = replay._Replay.end_round

    def checked_end_round(state: Any) -> Any:
        items = state.checked_items()
        assert items.dtype == np.intp
        np.testing.assert_array_equal(items, np.flatnonzero(state.checked))
        rounds.append(items.size)
        return end_round(state)

    monkeypatch.setattr(replay._Replay, "end_round", checked_end_round)
    X, y = tied_data()
    policy = {**policy, "strategy": "margin"} if policy["policy"] == "active_learning" else policy
    replay_pool(X, y, **policy, batch_size=30, n_eval=n_eval, random_state=2)
    assert len(rounds) > 3 and rounds[-1] > X.shape[0] // 8  # merged, then read off the mask


# -- the thread pools, listed once ------------------------------------------------------------------------


class ThreadSpy(LogisticRegression):
    """Logistic regression that records the threads of the native libraries while it fits."""

    threads: list[int] = []  # noqa: RUF012

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> ThreadSpy:
        ThreadSpy.threads += [pool["num_threads"] for pool in threadpoolctl.threadpool_info()]
        return super().fit(X, y, sample_weight=sample_weight)


def test_every_replay_runs_the_native_libraries_on_one_thread(
    classification_data: tuple[np.ndarray, np.ndarray],
) -> None:
    X, y = classification_data
    with threadpoolctl.threadpool_limits(limits=2):
        for _ in range(2):  # the second replay reuses the libraries listed by the first
            ThreadSpy.threads = []
            replay_pool(X, y, estimator=ThreadSpy(), batch_size=100, max_labels=300, random_state=0)
            assert ThreadSpy.threads and set(ThreadSpy.threads) == {1}
        assert {pool["num_threads"] for pool in threadpoolctl.threadpool_info()} == {2}  # restored


def test_the_thread_pools_are_listed_again_after_an_import(monkeypatch: pytest.MonkeyPatch) -> None:
    listed = replay._thread_pools()
    assert replay._thread_pools() is listed
    monkeypatch.setitem(sys.modules, "annoplan_imported_since", types.ModuleType("annoplan_imported_since"))
    assert replay._thread_pools() is not listed
