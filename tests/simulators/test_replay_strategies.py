"""Contract suite over the query strategy registry: every registered strategy is checked here."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

from annoplan.simulators.errors import SimulatorInputError
from annoplan.simulators.query_strategies import (
    QUERY_STRATEGIES,
    ExpectedErrorReduction,
    QueryContext,
    QueryStrategy,
    bald_scores,
    entropy_scores,
    least_confidence_scores,
    make_strategy,
    margin_scores,
    row_best,
    top_k,
)

MODEL_STRATEGIES = [name for name, cls in QUERY_STRATEGIES.items() if cls.uses_model]
N_NEAR = 20


def boundary_context() -> QueryContext:
    """A 1-D problem with a learned boundary near 0: 20 candidates near it, 80 far from it.

    Features are ``[x, 1]`` so that cosine similarity (density) is defined and favours no side.
    """
    rng = np.random.default_rng(42)
    x_train = np.concatenate([rng.normal(-1.5, 1.0, 40), rng.normal(1.5, 1.0, 40)])
    y_train = np.repeat([0, 1], 40)
    x_near = np.linspace(-0.3, 0.3, N_NEAR)
    x_far = np.concatenate([np.linspace(-6.0, -4.0, 40), np.linspace(4.0, 6.0, 40)])
    x_pool = np.concatenate([x_train, x_near, x_far])
    X_pool = np.column_stack([x_pool, np.ones_like(x_pool)])
    train = np.arange(x_train.size)
    candidates = np.arange(x_train.size, x_pool.size)
    model = LogisticRegression().fit(X_pool[train], y_train)
    return QueryContext(
        candidates=candidates,
        X_pool=X_pool,
        proba=model.predict_proba(X_pool[candidates]),
        train_indices=train,
        y_train=y_train,
        n_classes=2,
    )


def prepared(name: str, context: QueryContext) -> QueryStrategy:
    return make_strategy(name).prepare(context.X_pool)


@pytest.fixture(scope="module")
def context() -> QueryContext:
    return boundary_context()


def test_registry_holds_every_strategy_of_the_spec() -> None:
    assert {"random", "least_confidence", "margin", "entropy", "qbc", "density"} <= set(QUERY_STRATEGIES)
    for name, cls in QUERY_STRATEGIES.items():
        assert cls.name == name
        assert issubclass(cls, QueryStrategy)


@pytest.mark.parametrize("name", list(QUERY_STRATEGIES))
def test_returns_batch_size_distinct_candidates(name: str, context: QueryContext) -> None:
    selected = prepared(name, context).select(context, 7, np.random.default_rng(0))
    assert selected.shape == (7,)
    assert np.unique(selected).size == 7
    assert np.isin(selected, context.candidates).all()


@pytest.mark.parametrize("name", list(QUERY_STRATEGIES))
def test_deterministic_under_a_seed(name: str, context: QueryContext) -> None:
    first = prepared(name, context).select(context, 10, np.random.default_rng(3))
    second = prepared(name, context).select(context, 10, np.random.default_rng(3))
    np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("name", list(QUERY_STRATEGIES))
def test_batch_larger_than_candidates_returns_them_all(name: str, context: QueryContext) -> None:
    few = QueryContext(
        candidates=context.candidates[:5],
        X_pool=context.X_pool,
        proba=None if context.proba is None else context.proba[:5],
        train_indices=context.train_indices,
        y_train=context.y_train,
        n_classes=2,
    )
    selected = prepared(name, few).select(few, 50, np.random.default_rng(0))
    assert sorted(selected.tolist()) == sorted(few.candidates.tolist())


@pytest.mark.parametrize("name", MODEL_STRATEGIES)
def test_picks_items_at_the_decision_boundary(name: str, context: QueryContext) -> None:
    near = context.candidates[:N_NEAR]
    selected = prepared(name, context).select(context, 5, np.random.default_rng(0))
    assert np.isin(selected, near).all(), f"{name} selected far, certain items: {selected}"


@pytest.mark.parametrize("name", [n for n, c in QUERY_STRATEGIES.items() if c.uses_proba])
def test_needs_the_models_probabilities(name: str, context: QueryContext) -> None:
    blind = QueryContext(candidates=context.candidates, X_pool=context.X_pool, proba=None)
    with pytest.raises(SimulatorInputError, match="proba"):
        prepared(name, blind).select(blind, 3, np.random.default_rng(0))


def test_random_sampling_ignores_uncertainty_and_covers_the_candidates(
    context: QueryContext,
) -> None:
    strategy = make_strategy("random")
    rng = np.random.default_rng(0)
    picked = np.concatenate([strategy.select(context, 10, rng) for _ in range(100)])
    assert np.unique(picked).size == context.candidates.size
    near_share = np.isin(picked, context.candidates[:N_NEAR]).mean()
    assert 0.1 < near_share < 0.3  # 20 of 100 candidates are near the boundary


PROBA = np.array(
    [
        [0.90, 0.05, 0.05],  # confident
        [0.40, 0.35, 0.25],
        [0.50, 0.495, 0.005],  # smallest margin
        [0.34, 0.33, 0.33],  # least confident, highest entropy
    ]
)


@pytest.mark.parametrize(("name", "first"), [("least_confidence", 3), ("margin", 2), ("entropy", 3)])
def test_uncertainty_strategies_rank_by_their_measure(name: str, first: int) -> None:
    context = QueryContext(candidates=np.arange(4) + 100, X_pool=np.ones((104, 2)), proba=PROBA)
    selected = make_strategy(name).select(context, 1, np.random.default_rng(0))
    assert selected.tolist() == [100 + first]
    ranked = make_strategy(name).select(context, 3, np.random.default_rng(0))
    assert 100 not in ranked  # the confident item comes last


@given(
    n_classes=st.integers(1, 40),
    values=st.lists(st.sampled_from([0.0, 0.25, 0.5, 1.0]), min_size=40 * 6, max_size=40 * 6),
)
def test_row_best_is_max_and_argmax_ties_included(n_classes: int, values: list[float]) -> None:
    """The column-by-column maximum is exactly ``max`` and ``argmax`` (first column on ties), on few
    classes and on many (where it falls back to them)."""
    proba = np.array(values[: 6 * n_classes]).reshape(6, n_classes)
    top, column = row_best(proba)
    np.testing.assert_array_equal(top, proba.max(axis=1))
    np.testing.assert_array_equal(column, proba.argmax(axis=1))


def test_uncertainty_scores_have_their_textbook_values() -> None:
    np.testing.assert_allclose(least_confidence_scores(PROBA), [0.10, 0.60, 0.50, 0.66])
    np.testing.assert_allclose(margin_scores(PROBA), [0.15, 0.95, 0.995, 0.99])
    np.testing.assert_allclose(
        entropy_scores(np.array([[0.5, 0.5], [1.0, 0.0]])), [np.log(2.0), 0.0], atol=1e-12
    )


def test_density_prefers_the_typical_item_at_equal_uncertainty() -> None:
    X_pool = np.array([[1.0, 0.0], [0.9, 0.1], [1.0, 0.05], [0.0, 1.0]])
    proba = np.full((2, 2), 0.5)
    context = QueryContext(candidates=np.array([0, 3]), X_pool=X_pool, proba=proba)
    strategy = make_strategy("density").prepare(X_pool)
    assert strategy.select(context, 1, np.random.default_rng(0)).tolist() == [0]


def test_unknown_strategy_is_named() -> None:
    with pytest.raises(SimulatorInputError) as error:
        make_strategy("coin_flip")
    assert error.value.field == "strategy"


@settings(max_examples=60, deadline=None)
@given(
    scores=st.lists(st.sampled_from([0.0, 0.25, 0.5, 1.0]), min_size=1, max_size=40),
    data=st.data(),
)
def test_top_k_returns_the_k_best_even_with_ties(scores: list[float], data: st.DataObject) -> None:
    values = np.array(scores)
    k = data.draw(st.integers(1, values.size))
    top = top_k(values, k, np.random.default_rng(0))
    assert np.unique(top).size == k
    rest = np.setdiff1d(np.arange(values.size), top)
    if rest.size:
        assert values[top].min() >= values[rest].max()
    assert (np.diff(values[top]) <= 0).all()


def test_registry_holds_the_strategies_the_field_names() -> None:
    assert {"eer", "bald", "cluster_margin", "cluster_margin_balanced"} <= set(QUERY_STRATEGIES)


def test_bald_is_the_members_disagreement_not_their_shared_doubt() -> None:
    members = np.array(
        [
            [[1.0, 0.0], [0.5, 0.5], [0.9, 0.1]],
            [[0.0, 1.0], [0.5, 0.5], [0.9, 0.1]],
        ]
    )
    np.testing.assert_allclose(bald_scores(members), [np.log(2.0), 0.0, 0.0], atol=1e-12)


def two_groups_of_doubt() -> QueryContext:
    """Features ``[x, z, 1]``; the model reads x only. Four items sit just below its boundary (predicted
    class 0) at z = 5, four a little further above it (class 1) at z = -5, and 40 far from it."""
    rng = np.random.default_rng(7)
    x_train = np.concatenate([rng.normal(-1.5, 1.0, 40), rng.normal(1.5, 1.0, 40)])
    train_rows = np.column_stack([x_train, rng.normal(0.0, 1.0, 80), np.ones(80)])
    y_train = np.repeat([0, 1], 40)
    model = LogisticRegression().fit(train_rows[:, :1], y_train)
    boundary = -model.intercept_[0] / model.coef_[0, 0]
    below = np.column_stack([np.full(4, boundary - 0.02), 5.0 + rng.normal(0, 0.01, 4), np.ones(4)])
    above = np.column_stack([np.full(4, boundary + 0.03), -5.0 + rng.normal(0, 0.01, 4), np.ones(4)])
    far = np.column_stack([np.linspace(4.0, 6.0, 40), np.zeros(40), np.ones(40)])
    X_pool = np.vstack([train_rows, below, above, far])
    candidates = np.arange(80, X_pool.shape[0])
    return QueryContext(
        candidates=candidates,
        X_pool=X_pool,
        proba=model.predict_proba(X_pool[candidates][:, :1]),
        train_indices=np.arange(80),
        y_train=y_train,
        n_classes=2,
    )


def test_cluster_margin_spreads_a_batch_where_margin_takes_near_duplicates() -> None:
    context = two_groups_of_doubt()
    on, beside = context.candidates[:4], context.candidates[4:8]
    assert context.proba is not None
    assert context.proba[:8].argmax(axis=1).tolist() == [0] * 4 + [1] * 4
    by_margin = make_strategy("margin").select(context, 2, np.random.default_rng(0))
    assert np.isin(by_margin, on).all()
    by_cluster = make_strategy("cluster_margin").select(context, 2, np.random.default_rng(0))
    assert np.isin(by_cluster, on).sum() == 1
    assert np.isin(by_cluster, beside).sum() == 1


def test_cluster_margin_balanced_asks_for_the_rare_class_first() -> None:
    context = two_groups_of_doubt()
    rare = replace(context, y_train=np.r_[np.zeros(75, dtype=np.intp), np.ones(5, dtype=np.intp)])
    picked = make_strategy("cluster_margin_balanced").select(rare, 2, np.random.default_rng(0))
    assert rare.proba is not None
    predicted = rare.proba[np.searchsorted(rare.candidates, picked)].argmax(axis=1)
    assert predicted.tolist() == sorted(predicted.tolist(), reverse=True)  # class 1 (5 labels) first
    assert predicted[0] == 1
    common = replace(context, y_train=np.r_[np.zeros(5, dtype=np.intp), np.ones(75, dtype=np.intp)])
    first = make_strategy("cluster_margin_balanced").select(common, 2, np.random.default_rng(0))
    assert set(first.tolist()) == set(picked.tolist())  # the same batch, in another order
    assert common.proba is not None
    assert common.proba[np.searchsorted(common.candidates, first)].argmax(axis=1)[0] == 0


def test_expected_error_reduction_scores_only_its_subsample() -> None:
    context = boundary_context()
    strategy = make_strategy("eer")
    assert isinstance(strategy, ExpectedErrorReduction)
    scores = strategy.score(context, np.random.default_rng(0))
    assert np.isfinite(scores).sum() == strategy.n_candidates
    # a batch larger than the subsample widens it, so that every chosen item was scored
    assert ExpectedErrorReduction(n_candidates=4).select(context, 6, np.random.default_rng(0)).size == 6
