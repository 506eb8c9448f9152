"""The strategy Monte Carlo: accounting identities, known answers on deterministic curves, vectorisation."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import TypedDict

import numpy as np
import pytest

from annoplan.simulators.acceptance import PASS_Z, planning_rate
from annoplan.simulators.costs import RateCard
from annoplan.simulators.draws import CurveDraws
from annoplan.simulators.montecarlo import (
    AUDIT_SIZE_STEPS,
    LABELING_STRATEGIES,
    ROUTED_SELECTION_WEIGHT,
    Outcome,
    RunSettings,
    _LotBound,
    crossing_risk,
    median_path,
    simulate_stops,
    simulate_strategy,
)


class Goal(TypedDict, total=False):
    """The goal keywords of simulate_strategy and simulate_stops (a test gives exactly one)."""

    target_error: float
    max_label_error: float


GRID = np.geomspace(1.0, 1e7, 400)
COSTS = RateCard(
    label=1.0, review=0.25, correction=0.9, audit=0.3, audit_rate=0.1, platform_fee=0.02, round_overhead=40.0
)


def power_curves(n_draws: int = 200, seed: int = 0) -> CurveDraws:
    """Errors falling like floor + 0.6 * n**-b, with draws of the exponent and the floor."""
    rng = np.random.default_rng(seed)
    b = rng.normal(0.4, 0.05, (n_draws, 1))
    floor = rng.uniform(0.02, 0.05, (n_draws, 1))
    return CurveDraws(GRID, np.clip(floor + 0.6 * GRID**-b, 0.0, 1.0))


@dataclass(frozen=True)
class RoutingDraws:
    """Coverage and risk at a threshold tabulated on a grid of label counts (n_draws, len(n_grid)),
    interpolated like the curve: a :class:`simulators.montecarlo.Routing` for tests."""

    n_grid: np.ndarray
    coverage: np.ndarray
    risk: np.ndarray

    def per_draw(self, n_labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        coverage = CurveDraws(self.n_grid, self.coverage).at(n_labels)
        return coverage, CurveDraws(self.n_grid, self.risk).at(n_labels)

    def error_concentration(self, q: np.ndarray) -> np.ndarray:
        return np.asarray(q)  # errors spread evenly below the threshold

    predicted_ratio = 1.0  # the model's predicted error is its real error


def routing_for(curve: CurveDraws, risk: float = 0.02) -> RoutingDraws:
    """Coverage that grows as the error falls, a constant risk among the accepted items."""
    coverage = np.clip(1.0 - 4.0 * curve.error, 0.0, 0.95)
    return RoutingDraws(curve.n_grid, coverage, np.full_like(coverage, risk))


def constant_curve(error: float, n_draws: int = 3) -> CurveDraws:
    return CurveDraws(GRID, np.full((n_draws, len(GRID)), error))


def expected_cost(outcome: object, costs: RateCard) -> np.ndarray:
    o = outcome
    touched = o.fresh_labels + o.reviews + o.corrections + o.auto_accepted  # type: ignore[attr-defined]
    return (
        costs.label * o.fresh_labels  # type: ignore[attr-defined]
        + costs.review * o.reviews  # type: ignore[attr-defined]
        + costs.correction * o.corrections  # type: ignore[attr-defined]
        + costs.audit * o.audits  # type: ignore[attr-defined]
        + costs.platform_fee * touched
        + costs.round_overhead * o.rounds  # type: ignore[attr-defined]
    )


@pytest.mark.parametrize("strategy", LABELING_STRATEGIES)
@pytest.mark.parametrize(
    "goal", [{"target_error": 0.06}, {"max_label_error": 0.05}], ids=["metric", "dataset"]
)
def test_cost_is_the_rate_card_times_the_work(strategy: str, goal: Goal) -> None:
    curve = power_curves()
    outcome = simulate_strategy(
        strategy,
        curve,
        COSTS,
        20_000,
        RunSettings(batch_size=500, stop_at_labels=8_000),
        efficiency=np.full(200, 1.5),
        routing=routing_for(curve),
        **goal,
    )
    assert np.allclose(outcome.cost, expected_cost(outcome, COSTS))
    assert np.allclose(outcome.human_labels, outcome.fresh_labels + outcome.reviews + outcome.corrections)
    assert np.all(outcome.cost > 0) and np.all(outcome.days > 0)


def test_manual_labels_the_whole_pool_for_a_labeled_dataset() -> None:
    outcome = simulate_strategy(
        "manual", constant_curve(0.1), COSTS, 10_250, RunSettings(batch_size=1000), max_label_error=0.01
    )
    assert np.all(outcome.human_labels == 10_250)
    assert np.all(outcome.rounds == math.ceil(10_250 / 1000))
    assert np.all(outcome.label_error == 0) and outcome.goal_met.all()


def test_prelabel_corrects_at_the_model_error_after_the_first_round() -> None:
    outcome = simulate_strategy(
        "prelabel", constant_curve(0.2), COSTS, 5_000, RunSettings(batch_size=1000), max_label_error=0.01
    )
    assert np.allclose(outcome.fresh_labels, 1000)  # the first round has no model
    assert np.allclose(outcome.corrections, 0.2 * 4000)
    assert np.allclose(outcome.reviews, 0.8 * 4000)


def test_a_metric_goal_stops_at_the_first_round_that_reaches_it() -> None:
    error = np.where(GRID < 2500, 0.2, 0.05)  # reached once 2,500 labels are in
    curve = CurveDraws(GRID, np.tile(error, (2, 1)))
    outcome = simulate_strategy(
        "manual", curve, COSTS, 100_000, RunSettings(batch_size=1000), target_error=0.1
    )
    assert np.all(outcome.human_labels == 3000) and outcome.goal_met.all()


def test_a_metric_goal_missed_before_the_cap_is_not_met() -> None:
    outcome = simulate_strategy(
        "manual",
        constant_curve(0.2),
        COSTS,
        100_000,
        RunSettings(batch_size=1000, stop_at_labels=5000),
        target_error=0.1,
    )
    assert np.all(outcome.human_labels == 5000) and not outcome.goal_met.any()


def test_active_learning_needs_fewer_labels_than_random_for_the_same_metric() -> None:
    curve = power_curves()
    settings = RunSettings(batch_size=200)
    manual = simulate_strategy("manual", curve, COSTS, 10**6, settings, target_error=0.07)
    active = simulate_strategy(
        "active_learning", curve, COSTS, 10**6, settings, target_error=0.07, efficiency=np.full(200, 2.0)
    )
    assert np.all(active.human_labels <= manual.human_labels)
    assert np.median(active.human_labels) < np.median(manual.human_labels)


def test_hybrid_empties_the_pool_and_routes_the_hard_items() -> None:
    curve = power_curves()
    outcome = simulate_strategy(
        "hybrid",
        curve,
        COSTS,
        30_000,
        RunSettings(batch_size=1000),
        routing=routing_for(curve),
        max_label_error=0.05,
    )
    assert np.allclose(outcome.human_labels + outcome.auto_accepted, 30_000)
    assert np.all(outcome.auto_accepted > 0)
    # wrong labels left are auto-accepted unaudited items at the 2% risk: never more than that share
    assert np.all(outcome.label_error <= 0.02 * outcome.auto_accepted / 30_000 + 1e-12)


def test_routed_items_carry_the_errors_the_accepted_ones_do_not() -> None:
    """Error 0.10 overall, half the items at or above the threshold with 2% error: the other half has 18%."""
    curve = constant_curve(0.10)
    routing = RoutingDraws(GRID, np.full_like(curve.error, 0.5), np.full_like(curve.error, 0.02))
    outcome = simulate_strategy(
        "hybrid", curve, COSTS, 40_000, RunSettings(batch_size=1000), routing=routing, max_label_error=0.05
    )
    pre_labeled = outcome.reviews + outcome.corrections
    assert np.allclose(outcome.corrections / pre_labeled, (0.10 - 0.5 * 0.02) / 0.5)


def test_items_humans_took_at_random_are_not_auto_accepted_again() -> None:
    """Coverage 60% throughout: the confident items are 60% of what the random first batch left, never 60%
    of the whole pool."""
    curve = constant_curve(0.10)
    routing = RoutingDraws(GRID, np.full_like(curve.error, 0.6), np.full_like(curve.error, 0.0))
    outcome = simulate_strategy(
        "hybrid",
        curve,
        COSTS,
        10_000,
        RunSettings(batch_size=1000),
        routing=routing,
        max_label_error=0.05,
    )
    # round 1 labels 1,000 at random; round 2 accepts 60% of what is left (its audited items included);
    # with coverage flat, nothing more becomes confident later
    accepted = 0.6 * 9_000
    assert np.allclose(outcome.auto_accepted, accepted)
    assert np.allclose(outcome.human_labels, 10_000 - accepted)


def test_a_kept_pilot_gives_the_first_round_a_model() -> None:
    curve = power_curves()
    routing = routing_for(curve)
    settings = RunSettings(batch_size=500)
    cold = simulate_strategy("hybrid", curve, COSTS, 20_000, settings, routing=routing, max_label_error=0.05)
    warm = simulate_strategy(
        "hybrid", curve, COSTS, 20_000, settings, routing=routing, max_label_error=0.05, labels_before=800
    )
    assert np.all(cold.fresh_labels == 500) and np.all(warm.fresh_labels == 0)
    assert np.all(warm.cost <= cold.cost)
    manual_cold = simulate_strategy(
        "manual", curve, COSTS, 50_000, RunSettings(batch_size=200), target_error=0.1
    )
    manual_warm = simulate_strategy(
        "manual", curve, COSTS, 50_000, RunSettings(batch_size=200), target_error=0.1, labels_before=800
    )
    # the pilot's 800 labels count towards the target, never against the pool or the bill
    assert np.all(manual_warm.human_labels <= np.maximum(manual_cold.human_labels - 800, 0) + 200)


def test_draws_are_simulated_independently() -> None:
    """Simulating draws together equals simulating each alone: the vectorisation mixes nothing."""
    curve = power_curves(n_draws=6)
    routing = routing_for(curve)
    settings = RunSettings(batch_size=700)
    together = simulate_strategy(
        "hybrid", curve, COSTS, 12_000, settings, routing=routing, max_label_error=0.05
    )
    for i in range(6):
        alone = simulate_strategy(
            "hybrid",
            CurveDraws(GRID, curve.error[i : i + 1]),
            COSTS,
            12_000,
            settings,
            routing=RoutingDraws(GRID, routing.coverage[i : i + 1], routing.risk[i : i + 1]),
            max_label_error=0.05,
        )
        assert alone.cost[0] == pytest.approx(together.cost[i])
        assert alone.rounds[0] == together.rounds[i]


@pytest.mark.parametrize(
    ("strategy", "goal"),
    [
        ("active_learning", {"max_label_error": 0.05}),
        ("active_learning", {"target_error": 0.05}),
        ("prelabel", {"target_error": 0.05}),
        ("manual", {"max_label_error": 0.05}),
    ],
)
def test_several_stop_points_at_once_equal_one_simulation_each(strategy: str, goal: Goal) -> None:
    """The shared rounds before a cap forks off change nothing: every stop point's outcome is the one a
    simulation with that cap gives, in the order asked."""
    curve = power_curves(n_draws=40, seed=3)
    efficiency = np.random.default_rng(3).lognormal(0.2, 0.5, 40)
    settings = RunSettings(batch_size=300)
    stops = [2_500.0, 90.0, math.inf, 600.0, 7_000.0, 600.0]
    together = simulate_stops(strategy, curve, COSTS, 9_000, settings, stops, efficiency=efficiency, **goal)
    assert [o.settings.stop_at_labels for o in together] == stops
    for stop, outcome in zip(stops, together, strict=True):
        alone = simulate_strategy(
            strategy,
            curve,
            COSTS,
            9_000,
            RunSettings(batch_size=300, stop_at_labels=stop),
            efficiency=efficiency,
            **goal,
        )
        for name in ("cost", "human_labels", "auto_accepted", "rounds", "final_error", "label_error"):
            assert np.array_equal(getattr(outcome, name), getattr(alone, name)), (stop, name)
        assert np.array_equal(outcome.goal_met, alone.goal_met)
        assert len(outcome.history()["rounds"]) == len(alone.history()["rounds"])
        assert median_path(outcome) == median_path(alone)


@pytest.mark.parametrize(
    "price", ["label", "review", "correction", "audit", "platform_fee", "round_overhead"]
)
def test_a_higher_unit_price_never_lowers_the_cost(price: str) -> None:
    curve = power_curves()
    routing = routing_for(curve)
    settings = RunSettings(batch_size=800)
    base = simulate_strategy("hybrid", curve, COSTS, 20_000, settings, routing=routing, max_label_error=0.05)
    dearer = RateCard(**{**COSTS.__dict__, price: getattr(COSTS, price) * 1.5 + 0.1})
    more = simulate_strategy("hybrid", curve, dearer, 20_000, settings, routing=routing, max_label_error=0.05)
    assert np.all(more.cost >= base.cost - 1e-9)


def test_the_median_path_is_cumulative() -> None:
    curve = power_curves()
    outcome = simulate_strategy(
        "prelabel", curve, COSTS, 8_000, RunSettings(batch_size=1000), max_label_error=0.05
    )
    path = median_path(outcome)
    assert len(path) == int(np.ceil(np.median(outcome.rounds)))
    steps = itertools.pairwise(path)
    assert all(b["cost"] >= a["cost"] and b["remaining"] <= a["remaining"] for a, b in steps)
    assert path[-1]["remaining"] == 0


@pytest.mark.parametrize("goal", [{"max_label_error": 0.05}, {"target_error": 0.06}])
@pytest.mark.parametrize("strategy", ["prelabel", "hybrid"])
def test_the_history_comes_in_blocks_that_add_up_to_the_whole(strategy: str, goal: Goal) -> None:
    """Consumers read the history a block of rounds at a time (a plan's rounds x draws never sit in memory
    at once); the blocks are exactly the whole history, cumulative sums included, and end at the totals."""
    curve = power_curves(n_draws=50)
    outcome = simulate_strategy(
        strategy, curve, COSTS, 9_000, RunSettings(batch_size=500), routing=routing_for(curve), **goal
    )
    whole = outcome.history()
    for step in (1, 3, 7):
        blocks = list(outcome.history_blocks(step))
        assert all(len(block["corrections"]) <= step for block in blocks)
        for name, value in whole.items():
            np.testing.assert_array_equal(np.concatenate([block[name] for block in blocks]), value)
    last = np.broadcast_to(whole["corrections"], (len(whole["corrections"]), 50))[-1]
    np.testing.assert_allclose(last, outcome.corrections, rtol=1e-12)  # a running sum against a pairwise one


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"strategy": "magic", "max_label_error": 0.05}, "strategy"),
        ({"strategy": "manual"}, "exactly one goal"),
        ({"strategy": "manual", "max_label_error": 0.05, "target_error": 0.1}, "exactly one goal"),
        ({"strategy": "hybrid", "max_label_error": 0.05}, "routing"),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict[str, object], match: str) -> None:
    strategy = str(kwargs.pop("strategy"))
    with pytest.raises(ValueError, match=match):
        simulate_strategy(strategy, constant_curve(0.1), COSTS, 1000, RunSettings(batch_size=100), **kwargs)  # type: ignore[arg-type]


def reference_run(
    strategy: str, error_at: object, pool: int, batch: int, cap: float, labels_before: float, **goal: float
) -> dict[str, float]:
    """One draw, round by round in plain Python: the rules of manual labeling, pre-labeling and active
    learning as the module docstring states them (``error_at(n_effective)`` is the draw's curve)."""
    efficiency = goal.pop("efficiency", 1.0)
    target, max_label_error = goal.get("target_error"), goal.get("max_label_error")
    human = fresh = reviews = corrections = accepted = wrong = rounds = 0.0
    remaining = float(pool)

    def error(n_human: float) -> float:
        return float(error_at(max(labels_before + n_human * efficiency, 1.0)))  # type: ignore[operator]

    while remaining > 0 and human < cap:
        has_model = labels_before + human > 0
        if target is not None and has_model and error(human) <= target:
            break
        n = min(batch, cap - human, remaining)
        if strategy == "prelabel" and has_model:
            reviews += n * (1 - error(human))
            corrections += n * error(human)
        else:
            fresh += n
        human, remaining, rounds = human + n, remaining - n, rounds + 1
        if strategy == "active_learning" and max_label_error is not None and human >= cap:
            accepted, wrong, remaining = remaining, remaining * error(human), 0.0
    return {
        "human_labels": human,
        "fresh_labels": fresh,
        "reviews": reviews,
        "corrections": corrections,
        "auto_accepted": accepted,
        "label_error": wrong / pool if max_label_error is not None else 0.0,
        "rounds": rounds,
        "final_error": error(human),
    }


@pytest.mark.parametrize("strategy", ["manual", "prelabel", "active_learning"])
@pytest.mark.parametrize(
    "goal", [{"target_error": 0.07}, {"max_label_error": 0.05}], ids=["metric", "dataset"]
)
@pytest.mark.parametrize("labels_before", [0.0, 250.0])
def test_all_rounds_at_once_equal_a_round_by_round_run(
    strategy: str, goal: Goal, labels_before: float
) -> None:
    """Manual labeling, pre-labeling and active learning are computed without a loop over rounds; each draw
    gets what a plain round-by-round run of the same rules gives, and so does its history."""
    curve = power_curves(n_draws=8, seed=5)
    efficiency = np.random.default_rng(5).lognormal(0.3, 0.4, 8)
    stops = [math.inf, 1_900.0, 333.0]
    outcomes = simulate_stops(
        strategy,
        curve,
        COSTS,
        6_000,
        RunSettings(batch_size=400),
        stops,
        efficiency=efficiency,
        labels_before=labels_before,
        **goal,
    )
    for stop, outcome in zip(stops, outcomes, strict=True):
        for d in range(8):
            draw = CurveDraws(GRID, curve.error[d : d + 1])
            eff = float(efficiency[d]) if strategy == "active_learning" else 1.0
            expected = reference_run(
                strategy,
                lambda n, draw=draw: draw.at(np.array([n]))[0],
                6_000,
                400,
                stop,
                labels_before,
                efficiency=eff,
                **goal,
            )
            for name, value in expected.items():
                assert getattr(outcome, name)[d] == pytest.approx(value, rel=1e-9, abs=1e-9), (stop, d, name)
        history = outcome.history()
        shape = (int(outcome.rounds.max(initial=0)), 8)
        assert all(np.broadcast_shapes(value.shape, shape) == shape for value in history.values())
        if history["rounds"].size:
            assert np.allclose(history["human_items"][-1], outcome.human_labels)
            assert np.allclose(history["corrections"][-1], outcome.corrections)
            assert np.all(np.diff(history["human_items"], axis=0) >= 0)


def test_a_cap_on_labeling_a_dataset_by_hand_ends_the_run_short_of_the_goal() -> None:
    outcome = simulate_strategy(
        "manual",
        constant_curve(0.1),
        COSTS,
        10_000,
        RunSettings(batch_size=1_000, stop_at_labels=2_500),
        max_label_error=0.05,
    )
    assert np.all(outcome.human_labels == 2_500) and np.all(outcome.rounds == 3)
    assert not outcome.goal_met.any()


@dataclass(frozen=True)
class ConcentratedRouting(RoutingDraws):
    """Routing whose least confident tenth of the items below the threshold holds half their errors."""

    def error_concentration(self, q: np.ndarray) -> np.ndarray:
        return np.interp(q, [0.0, 0.1, 1.0], [0.0, 0.5, 1.0])


def test_humans_get_the_least_confident_items_first() -> None:
    """With errors concentrated among the least confident items, the first routed batches hold more of them
    than an even spread gives; over the whole pool the routed items hold the same errors either way."""
    curve = constant_curve(0.10)
    flat = np.full_like(curve.error, 0.5)
    even = RoutingDraws(GRID, flat, np.full_like(curve.error, 0.02))
    concentrated = ConcentratedRouting(GRID, flat, np.full_like(curve.error, 0.02))
    settings = RunSettings(batch_size=1_000)
    runs = [
        simulate_strategy("hybrid", curve, COSTS, 40_000, settings, routing=r, max_label_error=0.05)
        for r in (even, concentrated)
    ]
    first_batch = [run.history()["corrections"][1] for run in runs]  # round 2: the first routed batch
    assert np.all(first_batch[1] > 2 * first_batch[0])
    assert np.allclose(runs[1].corrections, runs[0].corrections, rtol=1e-6)


def test_items_taken_at_random_teach_the_model_as_random_labels() -> None:
    """A hybrid run whose one round labels the whole pool at random ends with the model random labels give,
    whatever active learning's efficiency on routed items."""
    curve = power_curves(n_draws=5)
    settings = RunSettings(batch_size=3_000)
    ends = [
        simulate_strategy(
            "hybrid",
            curve,
            COSTS,
            3_000,
            settings,
            routing=routing_for(curve),
            max_label_error=0.05,
            efficiency=np.full(5, efficiency),
        ).final_error
        for efficiency in (1.0, 4.0)
    ]
    assert np.array_equal(ends[0], ends[1])
    assert np.allclose(ends[0], curve.at(np.full(5, 3_000.0)))


def test_sampling_noise_scatters_the_corrections_around_their_expectation() -> None:
    """With a noise generator, a round's humans find a binomial number of wrong items: seeded, centred on
    what the noiseless simulation expects, and scattered as a binomial count is."""
    curve = constant_curve(0.2, n_draws=4_000)
    routing = RoutingDraws(GRID, np.full_like(curve.error, 0.3), np.full_like(curve.error, 0.02))
    settings = RunSettings(batch_size=500)

    def run(noise: np.random.Generator | None) -> np.ndarray:
        outcome = simulate_strategy(
            "hybrid", curve, COSTS, 4_000, settings, routing=routing, max_label_error=0.05, noise=noise
        )
        return outcome.corrections

    expected = run(None)
    assert np.ptp(expected) == 0  # identical draws: no spread without noise
    noisy = run(np.random.default_rng(7))
    assert np.array_equal(noisy, run(np.random.default_rng(7)))
    routed = float(expected[0])
    assert abs(noisy.mean() - routed) < 4 * np.sqrt(routed) / np.sqrt(noisy.size)
    assert 0.5 * np.sqrt(routed) < noisy.std() < 1.5 * np.sqrt(routed)


@dataclass
class RecordingRouting:
    """Nothing is confident (coverage 0); records the labels each round asks coverage and risk at."""

    asked: list[np.ndarray]

    def per_draw(self, n_labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.asked.append(np.array(n_labels, dtype=float))
        return np.zeros(len(n_labels)), np.zeros(len(n_labels))

    def error_concentration(self, q: np.ndarray) -> np.ndarray:
        return np.asarray(q)

    predicted_ratio = 1.0


def test_routed_labels_grow_the_confident_set_at_their_weight() -> None:
    """Coverage and risk follow the random labels (the pilot's) at face value and the routed
    ones at ROUTED_SELECTION_WEIGHT, whatever active learning's efficiency (the model's error uses it)."""
    curve = power_curves(n_draws=3)
    routing = RecordingRouting([])
    outcome = simulate_strategy(
        "hybrid",
        curve,
        COSTS,
        5_000,
        RunSettings(batch_size=1_000),
        routing=routing,
        max_label_error=0.05,
        efficiency=np.full(3, 3.0),
        labels_before=800,
    )
    weight = ROUTED_SELECTION_WEIGHT
    assert 0 < weight < 1
    # round k starts with 800 pilot labels and k routed batches of 1,000
    for k, asked in enumerate(routing.asked[:4]):
        assert np.allclose(asked, 800 + weight * 1_000 * k)
    # the model's error uses the efficiency: the last round's model learned from 3x its routed labels
    assert np.allclose(outcome.final_error, curve.at(np.full(3, 800 + 3.0 * 5_000)))


def test_lots_are_audited_as_the_policy_does() -> None:
    """Coverage 60% from the first model on. At 1% risk against a 5% goal the lot passes: it is delivered
    whole, audited at least at the audit rate, and the wrong labels it leaves stay within the goal. At 8%
    risk, above the goal, only a large audit (the finite lot: the unaudited part must hold few enough) can
    bound the lot within its share of the budget."""
    curve = constant_curve(0.10, n_draws=400)

    def run(risk: float, noise: np.random.Generator | None = None) -> Outcome:
        routing = RoutingDraws(GRID, np.full_like(curve.error, 0.6), np.full_like(curve.error, risk))
        return simulate_strategy(
            "hybrid",
            curve,
            COSTS,
            10_000,
            RunSettings(batch_size=1000),
            routing=routing,
            max_label_error=0.05,
            noise=noise,
        )

    safe, risky = run(0.01), run(0.08)
    assert np.allclose(safe.auto_accepted, 0.6 * 9_000)
    assert np.all(safe.audits >= COSTS.audit_rate * safe.auto_accepted)
    assert np.all(safe.audits < 0.2 * safe.auto_accepted)
    assert np.all(risky.audits > 0.3 * risky.auto_accepted)
    assert np.all(safe.label_error <= 0.05) and np.all(risky.label_error <= 0.05)
    assert np.all(risky.cost > safe.cost)
    # with sampling noise an audit finds more or fewer wrong labels than expected: a lot that fails is
    # audited again with the next round's, so audits scatter, and the goal still holds
    noisy = run(0.03, np.random.default_rng(3))
    assert np.ptp(noisy.audits) > 0
    assert np.all(noisy.label_error <= 0.05)


def test_a_lot_of_items_crossing_the_threshold_carries_the_confident_sets_new_errors() -> None:
    """Half the pool confident at 2% error, then 60% at 3%: the first lot is at 2%; the second (10% of the
    pool) holds the 0.8% of the pool's errors the confident set gained, 8%; a lot never below the average."""
    first = crossing_risk(np.array([500.0]), np.array([0.02]), np.array([500.0]), np.array([0.0]))
    assert np.allclose(first, 0.02)
    second = crossing_risk(np.array([600.0]), np.array([0.03]), np.array([100.0]), np.array([10.0]))
    assert np.allclose(second, 0.08)
    improved = crossing_risk(np.array([600.0]), np.array([0.01]), np.array([100.0]), np.array([10.0]))
    assert np.allclose(improved, 0.01)
    assert np.all(crossing_risk(np.array([10.0]), np.array([0.5]), np.array([1.0]), np.array([0.0])) <= 1.0)


def test_an_underconfident_model_is_audited_for_the_error_it_predicts() -> None:
    """The policy sizes a lot's audit for the model's own predicted error (mean 1 - confidence): a model
    that predicts three times its real error gets larger audits, and more of its lots pass."""
    curve = constant_curve(0.10, n_draws=200)

    def run(ratio: float) -> Outcome:
        kind = type("Predicting", (RoutingDraws,), {"predicted_ratio": ratio})
        routing = kind(GRID, np.full_like(curve.error, 0.6), np.full_like(curve.error, 0.01))
        return simulate_strategy(
            "hybrid",
            curve,
            COSTS,
            10_000,
            RunSettings(batch_size=1000),
            routing=routing,
            max_label_error=0.05,
        )

    calibrated, underconfident = run(1.0), run(3.0)
    assert np.all(underconfident.audits > 1.2 * calibrated.audits)
    assert np.all(underconfident.label_error <= 0.05)


def test_the_audit_size_is_the_plain_fixed_point() -> None:
    """The lot audit's size is the fixed point its docstring states, step by step: each step's sample
    bounds the wrong labels it leaves (at the headroom of the step before) within the allowance, the
    last two steps averaged: the very numbers of the plain iteration written out below."""
    rng = np.random.default_rng(12)
    n = 20_000
    lot = np.floor(10 ** rng.uniform(0.0, 6.0, n))
    lot[:50] = 0.0
    lots = rng.integers(1, 40, n).astype(np.intp)
    expected = np.clip(rng.exponential(0.03, n), 0.0, 1.0)
    allowance = np.floor(rng.uniform(0.0, 0.05, n) * lot)
    bound = _LotBound(lot, lots, 0.05)

    m = np.maximum(lot, 1.0)
    share, rate, sizes = np.zeros(n), expected, []
    for _ in range(AUDIT_SIZE_STEPS):
        spread = m * bound.z * np.sqrt(rate * (1.0 - rate) * (1.0 - share))
        clean = m * bound.log_level * (1.0 - share / 2.0)
        room = allowance - m * rate * (1.0 - share)
        root = (np.sqrt(spread**2 + 4.0 * clean * np.maximum(room, 0.0)) - spread) / (2.0 * clean)
        sizes.append(np.where(room > 0, np.minimum(1.0 / np.maximum(root, 1e-12) ** 2, m), m))
        share = sizes[-1] / m
        rate = np.minimum(
            expected
            + PASS_Z * np.sqrt(expected * (1 - expected) / np.maximum(sizes[-1], 1.0))
            + 1.0 / np.maximum(sizes[-1], 1.0),
            1.0,
        )
    plain = np.minimum(np.ceil((sizes[-1] + sizes[-2]) / 2.0), lot)
    assert np.array_equal(bound.audit_size(expected, allowance), plain)
    assert np.array_equal(rate, planning_rate(expected, sizes[-1]))  # the headroom is planning_rate's
