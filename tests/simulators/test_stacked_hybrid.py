"""Stacked hybrid runs (``simulate_settings``): the very numbers of each setting simulated alone.

``simulate_settings`` runs the hybrid settings of a search together, one round of arrays of settings x draws
for all of them, and drops the rows that stop working. Every outcome, and every round of its history, must
equal what :func:`simulate_stops` gives the setting alone (bit for bit: a plan's response must not move),
with and without sampling noise, for both goals, for routings that stack themselves (the planner's
:class:`SelectionDraws`) and for any other, however the settings are split into stacks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pytest

from annoplan.planner.thresholds import fit_selection_curves
from annoplan.planner.thresholds.forecast import SelectionDraws, SelectionRows
from annoplan.simulators import montecarlo
from annoplan.simulators.costs import RateCard
from annoplan.simulators.draws import CurveDraws
from annoplan.simulators.montecarlo import (
    Outcome,
    Routing,
    RunSettings,
    Setting,
    simulate_settings,
    simulate_stops,
    stack_routings,
)
from annoplan.simulators.volumes import VOLUME_FIELDS

GRID = np.geomspace(1.0, 1e7, 300)
COSTS = RateCard(
    label=1.0, review=0.25, correction=0.9, audit=0.3, audit_rate=0.05, platform_fee=0.02, round_overhead=40.0
)
N_DRAWS = 150
POOL = 30_000
#: what an outcome holds per draw, besides its history
PER_DRAW = ("cost", "human_labels", "days", "final_error", "label_error", "goal_met", *VOLUME_FIELDS)
GOALS: list[dict[str, float]] = [{"max_label_error": 0.03}, {"target_error": 0.05}]


def power_curves(seed: int = 0) -> CurveDraws:
    """Errors falling like floor + 0.6 * n**-b, with draws of the exponent and the floor."""
    rng = np.random.default_rng(seed)
    b = rng.normal(0.4, 0.08, (N_DRAWS, 1))
    floor = rng.uniform(0.01, 0.05, (N_DRAWS, 1))
    return CurveDraws(GRID, np.clip(floor + 0.6 * GRID**-b, 0.0, 1.0))


@dataclass(frozen=True)
class TabulatedRouting:
    """Coverage and risk tabulated per draw on the curve's grid, errors concentrated below the threshold as
    a power of ``q``: a :class:`Routing` that does not stack itself."""

    coverage: CurveDraws
    risk: CurveDraws
    power: float
    predicted_ratio: float

    def per_draw(self, n_labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.coverage.at(n_labels), self.risk.at(n_labels)

    def error_concentration(self, q: np.ndarray) -> np.ndarray:
        return np.asarray(np.clip(q, 0.0, 1.0) ** self.power)


def tabulated_routings(curve: CurveDraws) -> list[Routing]:
    """Three thresholds: the stricter, the less covered and the fewer wrong."""
    routings: list[Routing] = []
    for share, risk, power, ratio in ((0.9, 0.02, 0.5, 1.0), (0.7, 0.012, 0.6, 1.4), (0.45, 0.006, 0.8, 2.0)):
        coverage = np.clip(share * (1.0 - 4.0 * curve.error), 0.0, 0.95)
        risk_table = np.clip(risk * (1.0 + 10.0 * curve.error), 0.0, 1.0)
        routings.append(
            TabulatedRouting(CurveDraws(GRID, coverage), CurveDraws(GRID, risk_table), power, ratio)
        )
    return routings


def selection_routings(seed: int = 4) -> list[Routing]:
    """The planner's routings: coverage and risk curves fitted to calibration samples at four thresholds."""
    rng = np.random.default_rng(seed)
    samples = []
    for n_labels, sharpness in ((100, 2.0), (200, 3.0), (400, 4.5)):
        confidence = 0.5 + 0.5 * rng.beta(sharpness, 1.0, 400)
        samples.append((n_labels, confidence, rng.random(400) < confidence))
    return [
        fit_selection_curves(samples, threshold).draws(N_DRAWS, rng) for threshold in (0.7, 0.8, 0.9, 0.95)
    ]


def search(routings: Sequence[Routing], stops: Sequence[float], sizes: Sequence[int]) -> list[Setting]:
    """Thresholds x batch sizes, in the planner's order (threshold by threshold), each with ``stops``."""
    return [
        (RunSettings(batch_size=size, confidence_threshold=0.5 + i / 10), routing, list(stops))
        for i, routing in enumerate(routings)
        for size in sizes
    ]


def alone(setting: Setting, curve: CurveDraws, goal: dict[str, float], seed: int | None) -> list[Outcome]:
    """The setting simulated by itself, as a plan simulated it before stacking."""
    settings, routing, stops = setting
    return simulate_stops(
        "hybrid",
        curve,
        COSTS,
        POOL,
        settings,
        stops,
        routing=routing,
        efficiency=np.linspace(0.8, 2.5, N_DRAWS),
        labels_before=300,
        noise=None if seed is None else np.random.default_rng(seed),
        **goal,
    )


def stacked(
    space: Sequence[Setting],
    curve: CurveDraws,
    goal: dict[str, float],
    seed: int | None,
    max_rows: int,
) -> list[Outcome]:
    noise: Callable[[], np.random.Generator] | None = None
    if seed is not None:

        def noise() -> np.random.Generator:
            return np.random.default_rng(seed)

    return list(
        simulate_settings(
            "hybrid",
            curve,
            COSTS,
            POOL,
            space,
            efficiency=np.linspace(0.8, 2.5, N_DRAWS),
            labels_before=300,
            target_error=goal.get("target_error"),
            max_label_error=goal.get("max_label_error"),
            noise=noise,
            max_rows=max_rows,
        )
    )


def assert_same(got: Outcome, want: Outcome, *, history: bool) -> None:
    assert got.settings == want.settings
    for name in PER_DRAW:
        assert np.array_equal(getattr(got, name), getattr(want, name)), name
    if history:
        rounds, expected = got.history(), want.history()
        assert rounds.keys() == expected.keys()
        for name, values in expected.items():
            assert np.array_equal(rounds[name], values), name


@pytest.mark.parametrize("goal", GOALS, ids=["dataset", "metric"])
@pytest.mark.parametrize("seed", [None, 3], ids=["no-noise", "noise"])
@pytest.mark.parametrize("kind", ["tabulated", "selection"])
@pytest.mark.parametrize("max_rows", [N_DRAWS, 4 * N_DRAWS, 100 * N_DRAWS], ids=["1", "4", "all"])
def test_a_stacked_run_gives_each_setting_its_own_outcome(
    goal: dict[str, float], seed: int | None, kind: str, max_rows: int
) -> None:
    """Stacks of one, of four settings (splitting a threshold's batch sizes) and of all of them give every
    setting, in order, the outcome and the rounds it has alone."""
    curve = power_curves()
    routings = tabulated_routings(curve) if kind == "tabulated" else selection_routings()
    space = search(routings, [np.inf], [250, 1_000, 5_000])
    outcomes = stacked(space, curve, goal, seed, max_rows)
    assert len(outcomes) == len(space)
    for i, (outcome, setting) in enumerate(zip(outcomes, space, strict=True)):
        (want,) = alone(setting, curve, goal, seed)
        assert_same(outcome, want, history=i % 4 == 0)


@pytest.mark.parametrize("goal", GOALS, ids=["dataset", "metric"])
@pytest.mark.parametrize("seed", [None, 8], ids=["no-noise", "noise"])
def test_a_single_cap_stacks_and_several_caps_fork_as_alone(goal: dict[str, float], seed: int | None) -> None:
    """One finite cap stops every stacked setting there; several caps (runs that fork and share their
    generator) are simulated one setting at a time: either way each setting gets its outcomes of
    ``simulate_stops``, one per cap, in the order of its caps."""
    curve = power_curves(seed=1)
    routings = selection_routings(seed=5)[:2]
    for stops in ([6_000.0], [6_000.0, 6_000.0], [12_000.0, 3_000.0, np.inf]):
        space = search(routings, stops, [500, 2_000])
        outcomes = stacked(space, curve, goal, seed, 100 * N_DRAWS)
        expected = [o for setting in space for o in alone(setting, curve, goal, seed)]
        assert len(outcomes) == len(expected)
        for got, want in zip(outcomes, expected, strict=True):
            assert_same(got, want, history=False)
        assert_same(outcomes[-1], expected[-1], history=True)


@pytest.fixture
def few_rounds(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """A round limit of 12 (the lots' confidence levels are tabulated up to the limit: the table is made
    again for it, and after it)."""
    montecarlo._lot_levels.cache_clear()
    monkeypatch.setattr(montecarlo, "MAX_ROUNDS", 12)
    yield 12
    montecarlo._lot_levels.cache_clear()


@pytest.mark.parametrize("goal", GOALS, ids=["dataset", "metric"])
def test_the_round_limit_ends_stacked_settings_as_it_ends_one(
    few_rounds: int, goal: dict[str, float]
) -> None:
    """Small batches and little auto-accepted run out of rounds before the pool runs out: stacked
    settings end at the limit, with the rounds they have alone."""
    curve = power_curves(seed=2)
    space = search(tabulated_routings(curve)[2:], [np.inf], [200, 400, 20_000])
    outcomes = stacked(space, curve, goal, 1, 100 * N_DRAWS)
    assert outcomes[0].rounds.max() == few_rounds and outcomes[-1].rounds.max() < few_rounds
    for outcome, setting in zip(outcomes, space, strict=True):
        (want,) = alone(setting, curve, goal, 1)
        assert_same(outcome, want, history=True)


@pytest.mark.parametrize("strategy", ["manual", "prelabel", "active_learning"])
def test_other_strategies_are_simulated_one_setting_at_a_time(strategy: str) -> None:
    curve = power_curves(seed=3)
    space: list[Setting] = [
        (RunSettings(batch_size=size), None, [2_000.0, 9_000.0, np.inf]) for size in (400, 3_000)
    ]
    outcomes = list(simulate_settings(strategy, curve, COSTS, POOL, space, target_error=0.05))
    expected = [
        o
        for settings, _, stops in space
        for o in simulate_stops(strategy, curve, COSTS, POOL, settings, stops, target_error=0.05)
    ]
    for got, want in zip(outcomes, expected, strict=True):
        assert_same(got, want, history=True)


def test_selection_rows_answer_as_each_settings_draws() -> None:
    """The planner's routings stack themselves: each row gets what its setting's draws give its draw."""
    routings = selection_routings()
    rng = np.random.default_rng(9)
    setting = np.sort(rng.integers(0, len(routings), 500)).astype(np.intp)
    draw = rng.integers(0, N_DRAWS, 500).astype(np.intp)
    rows = stack_routings(routings, setting, draw, N_DRAWS)
    assert isinstance(rows, SelectionRows)
    n_labels = rng.uniform(0.5, 1e5, 500)
    q = rng.uniform(-0.1, 1.1, 500)
    coverage, risk = rows.per_draw(n_labels)
    concentration = rows.error_concentration(q)
    for s, routing in enumerate(routings):
        assert isinstance(routing, SelectionDraws)
        mine = setting == s
        full = np.ones(N_DRAWS)
        full[draw[mine]] = n_labels[mine]  # a draw asked twice: the test keeps the later row
        last = {d: i for i, d in zip(np.flatnonzero(mine), draw[mine], strict=True)}
        want_coverage, want_risk = routing.per_draw(full)
        for d, i in last.items():
            assert coverage[i] == want_coverage[d] and risk[i] == want_risk[d]
        assert np.array_equal(concentration[mine], routing.error_concentration(q[mine]))
        assert np.all(rows.predicted_ratio[mine] == routing.predicted_ratio)
    kept = np.flatnonzero(rng.random(500) < 0.3)
    assert np.array_equal(rows.keep(kept).per_draw(n_labels[kept])[0], coverage[kept])
