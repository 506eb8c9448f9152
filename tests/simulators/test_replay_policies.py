"""Policies of the pool replay: cost accounting, routing rules, stopping, determinism, inputs."""

from __future__ import annotations

import itertools
import json
from dataclasses import replace
from typing import Any, ClassVar

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB

from annoplan.simulators.costs import RateCard
from annoplan.simulators.errors import SimulatorInputError
from annoplan.simulators.montecarlo import LABELING_STRATEGIES
from annoplan.simulators.query_strategies import QUERY_STRATEGIES
from annoplan.simulators.replay import (
    POLICIES,
    REPLAY_POLICIES,
    ROUTES,
    ReplayPolicy,
    ReplayResult,
    replay_pool,
)

Data = tuple[np.ndarray, np.ndarray]
AUTO_ROUTES = (ROUTES.index("auto_accepted"), ROUTES.index("audited"))


def expected_cost(
    costs: RateCard,
    *,
    fresh_labels: int,
    reviews: int,
    corrections: int,
    audits: int,
    auto_accepted: int,
    rounds: int,
) -> float:
    touched = fresh_labels + reviews + corrections + auto_accepted
    return (
        costs.label * fresh_labels
        + costs.review * reviews
        + costs.correction * corrections
        + costs.audit * audits
        + costs.platform_fee * touched
        + costs.round_overhead * rounds
    )


def run(data: Data, **settings: object) -> ReplayResult:
    X, y = data
    options: dict[str, object] = {"batch_size": 40, "n_eval": 300, "random_state": 0}
    options.update(settings)
    return replay_pool(X, y, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize("policy", POLICIES)
def test_cost_is_the_rate_card_applied_to_the_counts(
    policy: str, classification_data: Data, rate_card: RateCard
) -> None:
    result = run(classification_data, policy=policy, costs=rate_card, max_labels=400)
    assert result.cost == pytest.approx(
        expected_cost(
            rate_card,
            fresh_labels=result.fresh_labels,
            reviews=result.reviews,
            corrections=result.corrections,
            audits=result.audits,
            auto_accepted=result.auto_accepted,
            rounds=result.rounds,
        )
    )
    assert result.human_labels == result.fresh_labels + result.reviews + result.corrections
    for record in result.history:
        assert record.cost == pytest.approx(
            expected_cost(
                rate_card,
                fresh_labels=record.fresh_labels,
                reviews=record.reviews,
                corrections=record.corrections,
                audits=record.audits,
                auto_accepted=record.auto_accepted,
                rounds=record.round_index,
            )
        )


def test_every_policy_is_registered_with_the_plan_strategy_it_runs() -> None:
    assert POLICIES == ("random", "active_learning", "prelabel", "hybrid")  # SPEC: annoplan replay --policy
    assert {cls.plan_strategy for cls in REPLAY_POLICIES.values()} == set(LABELING_STRATEGIES)
    for name, cls in REPLAY_POLICIES.items():
        assert issubclass(cls, ReplayPolicy) and cls.name == name


@pytest.mark.parametrize(
    "price", ["label", "review", "correction", "audit", "platform_fee", "round_overhead"]
)
@pytest.mark.parametrize("policy", POLICIES)
def test_a_dearer_unit_price_never_lowers_the_cost_and_leaves_the_work_alone(
    policy: str, price: str, classification_data: Data, rate_card: RateCard
) -> None:
    cheap = run(classification_data, policy=policy, costs=rate_card, max_labels=200, max_label_error=None)
    dearer = replace(rate_card, **{price: getattr(rate_card, price) * 2 + 0.1})
    dear = run(classification_data, policy=policy, costs=dearer, max_labels=200, max_label_error=None)
    assert dear.volumes() == cheap.volumes()
    assert dear.cost >= cheap.cost
    assert dear.cost - cheap.cost == pytest.approx(dearer.total(cheap) - rate_card.total(cheap))


@pytest.mark.parametrize("policy", POLICIES)
def test_history_is_cumulative_and_ends_at_the_totals(policy: str, classification_data: Data) -> None:
    result = run(classification_data, policy=policy, max_labels=300)
    assert [record.round_index for record in result.history] == list(range(1, result.rounds + 1))
    for field in ("human_labels", "reviews", "corrections", "auto_accepted", "audits", "cost"):
        values = [getattr(record, field) for record in result.history]
        assert values == sorted(values), field
        assert values[-1] == getattr(result, field)
    last = result.history[-1]
    assert last.remaining == result.unlabeled
    assert last.metric == result.final_metric
    assert result.final_metric is not None and 0.5 < result.final_metric <= 1.0


def test_labeling_policies_stop_at_max_labels_with_a_short_last_batch(
    classification_data: Data,
) -> None:
    result = run(classification_data, policy="active_learning", batch_size=40, max_labels=130)
    assert result.human_labels == 130
    assert result.rounds == 4  # 40 + 40 + 40 + 10
    assert result.unlabeled == result.pool_size - 130
    assert result.label_error == 0.0


def test_labeling_policies_exhaust_the_pool_without_max_labels(classification_data: Data) -> None:
    result = run(classification_data, policy="random", batch_size=200)
    assert result.human_labels == result.pool_size == 900
    assert result.unlabeled == 0
    assert result.rounds == 5  # ceil(900 / 200)


def test_prelabel_reviews_right_and_corrects_wrong_prelabels(classification_data: Data) -> None:
    result = run(classification_data, policy="prelabel", batch_size=50, max_labels=500)
    assert result.fresh_labels == 50  # the first round has no model
    assert result.reviews + result.corrections == 450
    assert result.auto_accepted == 0 and result.audits == 0
    routes = result.items.route
    assert np.count_nonzero(routes == ROUTES.index("correction")) == result.corrections
    # corrections happen at about the model's error rate on random items
    error_rate = result.corrections / (result.reviews + result.corrections)
    first_model = result.history[1].metric
    assert result.final_metric is not None and first_model is not None
    assert 0.5 * (1 - result.final_metric) < error_rate < 2.0 * (1 - first_model)


def test_hybrid_empties_the_pool(classification_data: Data, rate_card: RateCard) -> None:
    result = run(classification_data, policy="hybrid", confidence_threshold=0.9, costs=rate_card)
    assert result.unlabeled == 0
    assert result.history[-1].remaining == 0
    assert result.human_labels + result.auto_accepted == result.pool_size
    assert (result.items.route > 0).all()
    assert result.auto_accepted > 0 and result.reviews > 0 and result.corrections > 0


def test_hybrid_auto_accepts_only_confident_items(classification_data: Data) -> None:
    threshold = 0.8
    result = run(classification_data, policy="hybrid", confidence_threshold=threshold)
    auto = np.isin(result.items.route, AUTO_ROUTES)
    assert auto.sum() == result.auto_accepted > 0
    assert (result.items.confidence[auto] >= threshold).all()
    routed = np.isin(result.items.route, (ROUTES.index("review"), ROUTES.index("correction")))
    assert (result.items.confidence[routed] < threshold).all()


def test_hybrid_without_a_goal_rejects_no_lot(classification_data: Data) -> None:
    result = run(classification_data, policy="hybrid", confidence_threshold=0.7, batch_size=20)
    assert result.max_label_error is None and result.delta is None
    assert result.lots_rejected == 0
    assert {r.confidence_threshold for r in result.history} == {0.7}  # no audit raises it
    payload = result.to_dict()
    assert payload["max_label_error"] is None and payload["lots_rejected"] == 0


@pytest.mark.parametrize("goal", [0.02, 0.05])
def test_hybrid_with_a_goal_rejected_lots_deliver_only_their_audits_and_raise_the_threshold(
    classification_data: Data, goal: float
) -> None:
    result = run(
        classification_data, policy="hybrid", confidence_threshold=0.7, batch_size=20, max_label_error=goal
    )
    assert (result.max_label_error, result.delta) == (goal, 0.05)
    assert result.lots > result.lots_rejected > 0
    thresholds = [0.7]
    for r in result.history:
        assert r.confidence_threshold is not None  # every hybrid round records the threshold in force
        thresholds.append(r.confidence_threshold)
    assert all(b >= a for a, b in itertools.pairwise(thresholds))  # it never comes back down
    # each rejected lot raises the threshold (just above a wrong label at or above it), nothing else does
    assert sum(b > a for a, b in itertools.pairwise(thresholds)) == result.lots_rejected
    items = result.items
    audited = items.route == ROUTES.index("audited")
    unaudited = items.route == ROUTES.index("auto_accepted")
    for index in range(1, result.rounds + 1):
        this_round = items.round_index == index
        before, after = thresholds[index - 1], thresholds[index]
        # the lot is the items at or above the threshold in force when the round starts
        assert np.all(items.confidence[this_round & (audited | unaudited)] >= before)
        if after > before:
            # rejected: only the audited items are delivered; the threshold sits just above a wrong one
            assert not np.any(this_round & unaudited)
            assert np.any(np.nextafter(items.confidence[this_round & audited], np.inf) == after)
    assert result.unlabeled == 0
    assert result.label_error <= goal


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("threshold", [0.5, 0.8, 0.95])
def test_hybrid_with_a_goal_delivers_the_pool_within_it(
    classification_data: Data, threshold: float, seed: int
) -> None:
    goal, audit_rate = 0.03, 0.1
    result = run(
        classification_data,
        policy="hybrid",
        confidence_threshold=threshold,
        max_label_error=goal,
        delta=0.1,
        costs=RateCard(audit_rate=audit_rate),
        random_state=seed,
    )
    assert result.unlabeled == 0
    assert result.human_labels + result.auto_accepted == result.pool_size
    assert result.lots > 0
    # every lot audits at least the rate card's share of itself
    assert result.audits >= audit_rate * result.auto_accepted
    assert result.label_error <= goal
    assert result.history[-1].label_errors <= goal * result.pool_size


class DriftingOverconfident(ClassifierMixin, BaseEstimator):
    """A deliberately bad model for the guarantee's validity test: overconfident and drifting.

    Reads the columns of :func:`drifting_items`. It predicts the nearest class centroid of columns 0-1 (right
    on the well-separated blobs), *except* on the drifting items (column 3 below ``drift_per_label`` x the
    labels it was trained on, up to ``max_drift``), which it gives the next class: the more labels arrive,
    the more items it gets wrong. It "knows" the items whose column 2 is below ``known_per_label`` x its
    labels and is sure of each of them, right or wrong (confidence 0.99 to 0.9999 from column 4); the
    others get confidence 0.4, below any permissive threshold.
    """

    def __init__(
        self, known_per_label: float = 2.5e-4, drift_per_label: float = 4e-4, max_drift: float = 0.25
    ) -> None:
        self.known_per_label = known_per_label
        self.drift_per_label = drift_per_label
        self.max_drift = max_drift

    def fit(self, X: np.ndarray, y: np.ndarray) -> DriftingOverconfident:
        X = np.asarray(X)
        self.classes_ = np.unique(y)
        self.centroids_ = np.array([X[y == label, :2].mean(axis=0) for label in self.classes_])
        self.n_train_ = int(np.size(y))
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X)
        n_classes = self.classes_.size
        nearest = ((X[:, None, :2] - self.centroids_[None]) ** 2).sum(axis=2).argmin(axis=1)
        drift = min(self.max_drift, self.drift_per_label * self.n_train_)
        predicted = np.where(X[:, 3] < drift, (nearest + 1) % n_classes, nearest)
        known = X[:, 2] < self.known_per_label * self.n_train_
        confidence = np.where(known, 0.99 + 0.0099 * X[:, 4], 0.4)
        proba = np.repeat(((1.0 - confidence) / (n_classes - 1))[:, None], n_classes, axis=1)
        proba[np.arange(X.shape[0]), predicted] = confidence
        return proba


def drifting_items(n_items: int = 5300) -> Data:
    """Three well-separated blobs (columns 0-1) and three uniform columns the drifting model reads."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, n_items)
    centers = np.array([[0.0, 0.0], [8.0, 0.0], [0.0, 8.0]])
    X = np.column_stack([centers[y] + rng.normal(size=(n_items, 2)), rng.random((n_items, 3))])
    return X, y


def test_hybrid_goal_holds_with_probability_1_minus_delta_when_the_model_drifts() -> None:
    """The guarantee's validity: over many seeded replays with a miscalibrated model that drifts between
    rounds, the realised label error exceeds the goal in at most ``delta`` of runs (plus sampling error);
    random audits alone (no goal) exceed it in most runs."""
    goal, delta, runs = 0.05, 0.1, 200
    data = drifting_items()  # a pool of 5,000 items and 300 held out

    def share_over_goal(max_label_error: float | None) -> float:
        errors = [
            run(
                data,
                policy="hybrid",
                estimator=DriftingOverconfident(),
                confidence_threshold=0.5,
                batch_size=200,
                max_label_error=max_label_error,
                delta=delta,
                random_state=seed,
            ).label_error
            for seed in range(runs)
        ]
        return float(np.mean(np.array(errors) > goal))

    standard_error = np.sqrt(delta * (1 - delta) / runs)
    assert share_over_goal(goal) <= delta + 3 * standard_error
    # the same model without the lot audits' guarantee: the drift makes the goal fail far more often
    assert share_over_goal(None) > 0.5


def test_hybrid_label_error_is_the_share_of_the_pool_left_wrong(classification_data: Data) -> None:
    result = run(classification_data, policy="hybrid", confidence_threshold=0.7)
    wrong = ~result.items.label_correct
    assert result.label_error == pytest.approx(wrong.mean())
    assert result.label_error > 0
    assert result.history[-1].label_errors == wrong.sum()
    human = np.isin(result.items.route, (1, 2, 3))
    audited = result.items.route == ROUTES.index("audited")
    assert result.items.label_correct[human | audited].all()


def test_hybrid_threshold_zero_accepts_everything_after_the_bootstrap(
    classification_data: Data,
) -> None:
    result = run(classification_data, policy="hybrid", confidence_threshold=0.0, batch_size=40)
    assert result.rounds == 2
    assert result.human_labels == result.fresh_labels == 40
    assert result.auto_accepted == result.pool_size - 40


def test_hybrid_threshold_one_accepts_only_fully_certain_items(separable_data: Data) -> None:
    strict = run(
        separable_data,
        policy="hybrid",
        confidence_threshold=1.0,
        batch_size=200,
        estimator=LogisticRegression(C=1e6, max_iter=5000),
    )
    lax = run(
        separable_data,
        policy="hybrid",
        confidence_threshold=0.9,
        batch_size=200,
        estimator=LogisticRegression(C=1e6, max_iter=5000),
    )
    auto = np.isin(strict.items.route, AUTO_ROUTES)
    assert (strict.items.confidence[auto] == 1.0).all()
    assert strict.human_labels > lax.human_labels
    assert strict.label_error <= lax.label_error
    assert strict.unlabeled == 0


def test_hybrid_audits_fix_what_they_find(classification_data: Data) -> None:
    full = run(
        classification_data,
        policy="hybrid",
        confidence_threshold=0.6,
        costs=RateCard(audit_rate=1.0),
    )
    assert full.audits == full.auto_accepted > 0
    assert full.label_error == 0.0
    none = run(
        classification_data,
        policy="hybrid",
        confidence_threshold=0.6,
        costs=RateCard(audit_rate=0.0),
    )
    assert none.audits == 0
    assert none.label_error > 0


def test_hybrid_audit_share_matches_the_audit_rate(classification_data: Data) -> None:
    result = run(
        classification_data,
        policy="hybrid",
        confidence_threshold=0.5,
        costs=RateCard(audit_rate=0.3),
    )
    assert result.audits == pytest.approx(0.3 * result.auto_accepted, rel=0.25)


def test_hybrid_stop_point_machine_labels_the_rest(classification_data: Data) -> None:
    result = run(classification_data, policy="hybrid", confidence_threshold=0.99, max_labels=150)
    assert result.human_labels == 150
    assert result.unlabeled == 0
    assert result.auto_accepted == result.pool_size - 150
    last = result.history[-1]
    assert last.human_labels == result.history[-2].human_labels  # the last round is all machine


def test_active_learning_beats_random_on_a_separable_problem(separable_data: Data) -> None:
    gains = []
    for seed in range(3):
        common = {
            "batch_size": 10,
            "max_labels": 80,
            "n_eval": 500,
            "random_state": seed,
            "estimator": LogisticRegression(C=100.0, max_iter=1000),
        }
        active = run(separable_data, policy="active_learning", **common)
        passive = run(separable_data, policy="random", **common)
        assert active.human_labels == passive.human_labels == 80
        assert active.final_metric is not None and passive.final_metric is not None
        gains.append(active.final_metric - passive.final_metric)
    assert min(gains) >= 0.0
    assert np.mean(gains) > 0.005


@pytest.mark.parametrize("strategy", list(QUERY_STRATEGIES))
def test_active_learning_runs_every_registered_strategy(
    strategy: str, classification_data: Data, rate_card: RateCard
) -> None:
    result = run(
        classification_data,
        policy="active_learning",
        strategy=strategy,
        max_labels=200,
        costs=rate_card,
    )
    assert result.strategy == strategy
    assert result.human_labels == result.fresh_labels == 200
    assert result.cost == pytest.approx(200 * (1.0 + 0.05) + 7.0 * 5)


def test_strategies_choose_different_items(classification_data: Data) -> None:
    chosen = {
        name: set(
            np.flatnonzero(
                run(classification_data, policy="active_learning", strategy=name, max_labels=200).items.route
            ).tolist()
        )
        for name in ("random", "least_confidence", "margin", "entropy")
    }
    assert chosen["least_confidence"] != chosen["random"]
    assert chosen["margin"] != chosen["entropy"]


@pytest.mark.parametrize("policy", POLICIES)
def test_deterministic_under_a_seed(policy: str, classification_data: Data) -> None:
    first = run(classification_data, policy=policy, max_labels=200, random_state=7)
    second = run(classification_data, policy=policy, max_labels=200, random_state=7)
    assert first.to_dict() == second.to_dict()
    other = run(classification_data, policy=policy, max_labels=200, random_state=8)
    assert other.to_dict() != first.to_dict()


class CountingLogisticRegression(LogisticRegression):
    """Logistic regression that records the solver's iterations of every fit."""

    iterations: ClassVar[list[int]] = []

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> CountingLogisticRegression:
        super().fit(X, y, sample_weight=sample_weight)
        CountingLogisticRegression.iterations.append(int(np.max(self.n_iter_)))
        return self


def test_a_warm_start_refits_from_the_last_model_in_fewer_iterations(classification_data: Data) -> None:
    runs: dict[bool, tuple[ReplayResult, list[int]]] = {}
    for start in (False, True):
        CountingLogisticRegression.iterations = []
        result = run(
            classification_data,
            policy="active_learning",
            batch_size=40,
            max_labels=400,
            estimator=CountingLogisticRegression(max_iter=1000),
            warm_start=start,
        )
        runs[start] = (result, list(CountingLogisticRegression.iterations))
    (cold, cold_iterations), (warm, warm_iterations) = runs[False], runs[True]
    assert len(warm_iterations) == len(cold_iterations) == cold.rounds
    assert warm_iterations[0] == cold_iterations[0]  # the first fit has nothing to start from
    assert sum(warm_iterations[1:]) < sum(cold_iterations[1:])
    assert warm.human_labels == cold.human_labels == 400
    assert (
        cold.to_dict()
        == run(
            classification_data,
            policy="active_learning",
            batch_size=40,
            max_labels=400,
            estimator=CountingLogisticRegression(max_iter=1000),
        ).to_dict()
    )


def test_a_warm_start_needs_an_estimator_that_has_one(classification_data: Data) -> None:
    with pytest.raises(SimulatorInputError) as info:
        run(classification_data, estimator=GaussianNB(), warm_start=True)
    assert info.value.field == "warm_start"
    with pytest.raises(SimulatorInputError) as info:
        run(classification_data, warm_start="yes")
    assert info.value.field == "warm_start"


def test_a_generator_can_be_passed_as_random_state(classification_data: Data) -> None:
    from_seed = run(classification_data, policy="hybrid", random_state=5)
    from_generator = run(classification_data, policy="hybrid", random_state=np.random.default_rng(5))
    assert from_seed.to_dict() == from_generator.to_dict()


@pytest.mark.parametrize("policy", POLICIES)
def test_sparse_features_work(policy: str, classification_data: Data) -> None:
    X, y = classification_data
    X_sparse = sp.csr_matrix(np.where(np.abs(X) > 1.0, X, 0.0))
    result = run((X_sparse, y), policy=policy, strategy="density", max_labels=300)
    dense = run((X_sparse.toarray(), y), policy=policy, strategy="density", max_labels=300)
    assert result.rounds == dense.rounds
    assert result.human_labels == dense.human_labels
    assert result.final_metric == pytest.approx(dense.final_metric, abs=0.03)


def test_sparse_features_work_with_the_committee(classification_data: Data) -> None:
    X, y = classification_data
    result = run((sp.csr_matrix(X), y), policy="active_learning", strategy="qbc", max_labels=120)
    assert result.human_labels == 120
    assert result.final_metric is not None and result.final_metric > 0.5


def test_any_classifier_with_predict_proba(classification_data: Data) -> None:
    result = run(classification_data, policy="hybrid", estimator=GaussianNB())
    assert result.unlabeled == 0
    assert result.final_metric is not None and result.final_metric > 0.5


def test_bootstrap_continues_until_two_classes_are_labeled() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 3))
    y = np.zeros(600, dtype=int)
    y[:12] = 1
    X[:12] += 3.0
    result = replay_pool(
        X, y, policy="hybrid", batch_size=5, n_eval=100, confidence_threshold=0.9, random_state=0
    )
    no_model = [record for record in result.history if record.metric is None]
    assert no_model, "expected rounds before any minority item was drawn"
    assert all(record.fresh_labels == 5 * record.round_index for record in no_model)
    assert all(record.auto_accepted == 0 for record in no_model)
    assert result.unlabeled == 0


def test_calibration_sample_is_recorded_each_round(classification_data: Data) -> None:
    result = run(classification_data, policy="active_learning", max_labels=200, calibration_size=150)
    for record in result.history:
        assert len(record.calibration_confidence) == len(record.calibration_correct) == 150
        confidence = np.array(record.calibration_confidence)
        assert ((confidence >= 1 / 3 - 1e-9) & (confidence <= 1.0)).all()
        assert record.n_eval == 300
    last = result.history[-1]
    assert np.mean(last.calibration_correct) == pytest.approx(last.metric, abs=0.12)
    # a more confident prediction is more often right
    confidence = np.array(last.calibration_confidence)
    correct = np.array(last.calibration_correct)
    assert (
        correct[confidence >= np.median(confidence)].mean()
        > correct[confidence < np.median(confidence)].mean()
    )


def test_to_dict_is_plain_json(classification_data: Data, rate_card: RateCard) -> None:
    result = run(classification_data, policy="hybrid", costs=rate_card)
    payload = json.loads(json.dumps(result.to_dict()))
    for key in (
        "cost",
        "human_labels",
        "reviews",
        "corrections",
        "auto_accepted",
        "audits",
        "rounds",
        "label_error",
        "history",
    ):
        assert key in payload
    assert payload["costs"] == rate_card.to_dict()
    assert len(payload["history"]) == result.rounds
    first = payload["history"][0]
    assert {"round", "human_labels", "metric", "n_eval", "cost", "calibration"} <= set(first)
    assert isinstance(first["calibration"]["correct"][0], bool)


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"policy": "manual"}, "policy"),
        ({"strategy": "coin_flip"}, "strategy"),
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 2.5}, "batch_size"),
        ({"confidence_threshold": 1.5}, "confidence_threshold"),
        ({"confidence_threshold": float("nan")}, "confidence_threshold"),
        ({"max_labels": 0}, "max_labels"),
        ({"n_eval": 1200}, "n_eval"),
        ({"random_state": -1}, "random_state"),
        ({"estimator": object()}, "estimator"),
        ({"calibration_size": -1}, "calibration_size"),
        ({"max_label_error": 0.0}, "max_label_error"),
        ({"max_label_error": 1.5}, "max_label_error"),
        ({"max_label_error": "x"}, "max_label_error"),
        ({"max_label_error": True}, "max_label_error"),
        ({"max_label_error": 0.05, "delta": 0.0}, "delta"),
        ({"max_label_error": 0.05, "delta": float("nan")}, "delta"),
    ],
)
def test_bad_settings_name_the_parameter(
    settings: dict[str, object], field: str, classification_data: Data
) -> None:
    with pytest.raises(SimulatorInputError) as error:
        run(classification_data, **settings)
    assert error.value.field == field
    assert isinstance(error.value, ValueError)


def test_bad_data_is_named(classification_data: Data) -> None:
    X, y = classification_data
    X_nan = X.copy()
    X_nan[3, 2] = np.nan
    with pytest.raises(SimulatorInputError, match="NaN") as error:
        replay_pool(X_nan, y)
    assert error.value.field == "X"
    with pytest.raises(SimulatorInputError, match="two classes") as error:
        replay_pool(X, np.zeros_like(y))
    assert error.value.field == "y"
    with pytest.raises(SimulatorInputError) as error:
        replay_pool(X, y[:-1])
    assert error.value.field == "y"


def test_labels_before_the_replay_give_the_first_round_a_model(classification_data: Data) -> None:
    X, y = classification_data
    before = (X[:150], y[:150])
    cold = run((X[150:], y[150:]), policy="hybrid", confidence_threshold=0.9, batch_size=50)
    warm = run((X[150:], y[150:]), policy="hybrid", confidence_threshold=0.9, batch_size=50, labeled=before)
    assert cold.fresh_labels == 50 and warm.fresh_labels == 0
    assert warm.history[0].auto_accepted > 0
    assert warm.pool_size == cold.pool_size
    # every model also trained on the items labeled before
    assert warm.history[0].n_train == 150 + warm.history[0].human_labels + warm.history[0].audits


@pytest.mark.parametrize(
    ("labeled", "message"),
    [
        ("pilot", "pair"),
        ((np.zeros((3, 2)), np.array([0, 1, 0])), "feature columns"),
        ((np.zeros((3, 8)), np.array([0, 1])), "one label per row"),
        ((np.zeros((2, 8)), np.array([0, 99])), "labels the pool does not"),
    ],
    ids=["not a pair", "other features", "lengths", "unknown class"],
)
def test_bad_labels_before_name_the_parameter(
    labeled: object, message: str, classification_data: Data
) -> None:
    with pytest.raises(SimulatorInputError) as info:
        run(classification_data, policy="hybrid", labeled=labeled)
    assert info.value.field == "labeled" and message in str(info.value)


@pytest.mark.parametrize("strategy", ["qbc", "bald", "eer"])
def test_strategies_that_train_their_own_models_learn_from_the_labels_before_the_replay_too(
    strategy: str, classification_data: Data
) -> None:
    """A pilot's items train the replay's model from the first round: the committee and the refitted models of
    qbc, bald and eer see them too (they trained on the pool's checked items alone, and failed with none)."""
    X, y = classification_data
    result = run(
        (X[150:], y[150:]),
        policy="active_learning",
        strategy=strategy,
        batch_size=20,
        max_labels=40,
        labeled=(X[:150], y[:150]),
    )
    assert result.fresh_labels == 40 and result.history[0].n_train == 150 + 20
