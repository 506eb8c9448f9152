"""Acceptance sampling of auto-accepted lots: the bound's validity and exactness, audit sizes, the spending
rule, and the whole policy's promise under a model that drifts between rounds."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from scipy.stats import beta, binom, hypergeom

from annoplan.simulators.acceptance import (
    _binomial_mass,
    acceptance_number,
    audit_sample_size,
    expected_wrong_in_sample,
    lot_allowance,
    lot_delta,
    lot_passes,
    planning_rate,
    sampling_plan,
    wrong_left_bound,
    wrong_upper_bound,
)
from annoplan.simulators.errors import SimulatorInputError

N_DRAWS = 20_000


def clopper_pearson_count(
    n_wrong: np.ndarray, sample_size: int | np.ndarray, lot_size: Any, delta: float
) -> Any:
    """The binomial alternative: the lot size times the Clopper-Pearson bound of the rate, rounded up."""
    some_right = n_wrong < sample_size
    rate = beta.isf(delta, n_wrong + 1.0, np.where(some_right, sample_size - n_wrong, 1.0))
    return np.minimum(np.ceil(np.where(some_right, rate, 1.0) * lot_size), lot_size)


def binomial_margin(share: float, n_trials: int) -> float:
    """Three binomial standard errors of a share estimated from ``n_trials`` draws."""
    return 3.0 * math.sqrt(share * (1.0 - share) / n_trials)


# ---- the bound ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lot_size", "true_wrong", "sample_size"),
    [
        (5, 0, 2),
        (5, 5, 2),
        (8, 3, 3),
        (20, 1, 5),
        (50, 10, 10),
        (200, 0, 20),
        (200, 200, 30),
        (1000, 30, 100),
        (1000, 5, 300),
        (3000, 600, 150),
    ],
)
def test_bound_is_below_the_truth_at_most_delta_of_the_time(
    lot_size: int, true_wrong: int, sample_size: int
) -> None:
    delta = 0.1
    rng = np.random.default_rng(lot_size * 7919 + true_wrong * 31 + sample_size)
    n_wrong = rng.hypergeometric(true_wrong, lot_size - true_wrong, sample_size, size=N_DRAWS)
    bound = wrong_upper_bound(n_wrong, sample_size, lot_size, delta)
    assert bound.shape == (N_DRAWS,)
    miss = float(np.mean(bound < true_wrong))
    assert miss <= delta + binomial_margin(delta, N_DRAWS)
    # tighter than the binomial bound on the same samples: never above it, below it on average
    binomial = clopper_pearson_count(n_wrong, sample_size, lot_size, delta)
    assert np.all(bound <= binomial)
    if 0 < true_wrong < lot_size:
        assert bound.mean() < binomial.mean()


def test_bound_is_the_largest_plausible_count_on_every_small_lot() -> None:
    """Exhaustive on lots of 1..18 items: the definition, checked with scipy's distribution function."""
    cases = [
        (k, n, m, d)
        for m in range(1, 19)
        for n in range(m + 1)
        for k in range(n + 1)
        for d in (0.01, 0.1, 0.5)
    ]
    k, n, m, d = (np.array(column) for column in zip(*cases, strict=True))
    bound = wrong_upper_bound(k, n, m, d)
    most = m - (n - k)
    assert np.all((k <= bound) & (bound <= most))
    tie = 1e-8  # the bound counts a probability within a relative 1e-9 of delta as above it
    assert np.all(hypergeom.cdf(k, m, bound, n) > d * (1 - tie))
    below_most = bound < most
    next_cdf = hypergeom.cdf(k[below_most], m[below_most], bound[below_most] + 1, n[below_most])
    assert np.all(next_cdf <= d[below_most] * (1 + tie))


def test_bound_matches_the_definition_on_large_lots() -> None:
    rng = np.random.default_rng(11)
    lot_size = rng.integers(1_000, 200_000, 300)
    sample_size = (lot_size * rng.uniform(0.001, 0.3, 300)).astype(np.int64)
    true_wrong = rng.binomial(lot_size, rng.uniform(0.0, 0.4, 300))
    n_wrong = rng.hypergeometric(true_wrong, lot_size - true_wrong, sample_size)
    delta = 10.0 ** rng.uniform(-9, -1, 300)
    bound = wrong_upper_bound(n_wrong, sample_size, lot_size, delta)
    most = lot_size - (sample_size - n_wrong)
    assert np.all(hypergeom.cdf(n_wrong, lot_size, bound, sample_size) > delta * (1 - 1e-8))
    below_most = bound < most
    args = (n_wrong[below_most], lot_size[below_most], bound[below_most] + 1, sample_size[below_most])
    assert np.all(hypergeom.cdf(*args) <= delta[below_most] * (1 + 1e-8))


def test_bound_is_no_looser_than_clopper_pearson_and_mostly_tighter() -> None:
    delta = 0.05
    tighter = []
    for lot_size in (10, 50, 200, 1000, 5000):
        for sample_size in np.unique(np.linspace(1, lot_size, 12).astype(int)):
            n_wrong = np.arange(sample_size + 1)
            bound = wrong_upper_bound(n_wrong, sample_size, lot_size, delta)
            binomial = clopper_pearson_count(n_wrong, sample_size, lot_size, delta)
            assert np.all(bound <= binomial)
            tighter.append(np.mean(bound < binomial))
    assert np.mean(tighter) > 0.8


def test_whole_lot_seen_gives_the_count_seen() -> None:
    n_wrong = np.arange(0, 41)
    assert np.array_equal(wrong_upper_bound(n_wrong, 40, 40, 1e-6), n_wrong)
    assert np.array_equal(wrong_left_bound(n_wrong, 40, 40, 1e-6), np.zeros(41))


def test_empty_sample_gives_the_whole_lot() -> None:
    lot_size = np.array([0, 1, 7, 1000])
    assert np.array_equal(wrong_upper_bound(0, 0, lot_size, 0.2), lot_size)


def test_all_wrong_sample_leaves_every_unseen_item_possibly_wrong() -> None:
    sample_size = np.array([1, 5, 30])
    assert np.array_equal(wrong_upper_bound(sample_size, sample_size, 100, 0.05), [100, 100, 100])
    assert np.array_equal(wrong_left_bound(sample_size, sample_size, 100, 0.05), 100 - sample_size)


def test_clean_sample_bound_follows_the_closed_form() -> None:
    """With no wrong item seen, P(X = 0 | D) = C(m - D, n) / C(m, n): the bound is the last D above delta."""
    lot_size, sample_size, delta = 500, 60, 0.05
    bound = int(wrong_upper_bound(0, sample_size, lot_size, delta))
    no_wrong = [
        math.comb(lot_size - d, sample_size) / math.comb(lot_size, sample_size) for d in (bound, bound + 1)
    ]
    assert no_wrong[0] > delta >= no_wrong[1]


def test_scalars_give_zero_dimensional_arrays() -> None:
    for result in (
        wrong_upper_bound(2, 50, 400, 0.05),
        wrong_left_bound(2, 50, 400, 0.05),
        lot_passes(2, 50, 400, 30, 0.05),
        audit_sample_size(400, 10, 0.01, 0.05),
        lot_allowance(20, 100, 400),
        lot_delta(3, 0.05),
    ):
        assert isinstance(result, np.ndarray)
        assert result.shape == ()


def test_arguments_broadcast_like_numpy() -> None:
    n_wrong = np.array([[0], [1], [3]])
    sample_size = np.array([[10, 20, 40, 80]])
    delta = np.array([0.01, 0.05, 0.1, 0.2])
    bound = wrong_upper_bound(n_wrong, sample_size, 300, delta)
    assert bound.shape == (3, 4)
    for i, j in np.ndindex(3, 4):
        assert bound[i, j] == wrong_upper_bound(int(n_wrong[i, 0]), int(sample_size[0, j]), 300, delta[j])
    left = wrong_left_bound(n_wrong, sample_size, 300, delta)
    assert np.array_equal(left, bound - n_wrong)
    passes = lot_passes(n_wrong, sample_size, 300, np.array([[5.0], [40.0], [300.0]]), delta)
    assert passes.shape == (3, 4)
    assert np.array_equal(passes, left <= np.array([[5.0], [40.0], [300.0]]))


def test_lot_passes_when_the_bound_left_fits_the_allowance() -> None:
    left = int(wrong_left_bound(1, 100, 1000, 0.05))
    assert lot_passes(1, 100, 1000, left, 0.05)
    assert lot_passes(1, 100, 1000, left + 0.5, 0.05)
    assert not lot_passes(1, 100, 1000, left - 0.5, 0.05)
    assert not lot_passes(1, 100, 1000, left - 1, 0.05)


CallSpec = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any], str]

INVALID_CALLS: list[CallSpec] = [
    (wrong_upper_bound, (-1, 5, 10, 0.1), {}, "n_wrong"),
    (wrong_upper_bound, (6, 5, 10, 0.1), {}, "n_wrong"),
    (wrong_upper_bound, (1.5, 5, 10, 0.1), {}, "n_wrong"),
    (wrong_upper_bound, (True, 5, 10, 0.1), {}, "n_wrong"),
    (wrong_upper_bound, ("one", 5, 10, 0.1), {}, "n_wrong"),
    (wrong_upper_bound, (1, 11, 10, 0.1), {}, "sample_size"),
    (wrong_upper_bound, (1, 5, np.nan, 0.1), {}, "lot_size"),
    (wrong_upper_bound, (1, 5, 2.0**60, 0.1), {}, "lot_size"),
    (wrong_upper_bound, (1, 5, 10, 0.0), {}, "delta"),
    (wrong_upper_bound, (1, 5, 10, 1.0), {}, "delta"),
    (wrong_upper_bound, (1, 5, 10, np.nan), {}, "delta"),
    (wrong_upper_bound, (np.zeros(3), np.ones(4), 10, 0.1), {}, "sample_size"),
    (wrong_left_bound, (1, 5, 10, -0.1), {}, "delta"),
    (lot_passes, (1, 5, 10, -1, 0.1), {}, "allowed_wrong"),
    (lot_passes, (1, 5, 10, np.inf, 0.1), {}, "allowed_wrong"),
    (lot_passes, (1, 5, 10, np.ones(3), np.full(4, 0.1)), {}, "allowed_wrong"),
    (lot_delta, (0, 0.1), {}, "lot_number"),
    (lot_delta, (2.5, 0.1), {}, "lot_number"),
    (lot_delta, (1, 1.5), {}, "delta"),
    (audit_sample_size, (-3, 1, 0.1, 0.1), {}, "lot_size"),
    (audit_sample_size, (10, -1, 0.1, 0.1), {}, "allowed_wrong"),
    (audit_sample_size, (10, 1, 1.5, 0.1), {}, "expected_rate"),
    (audit_sample_size, (10, 1, -0.1, 0.1), {}, "expected_rate"),
    (audit_sample_size, (10, 1, 0.1, 2.0), {}, "delta"),
    (audit_sample_size, (10, 1, 0.1, 0.1), {"min_size": -1}, "min_size"),
    (expected_wrong_in_sample, (-1, 0.1), {}, "sample_size"),
    (lot_allowance, (-1, 3, 5), {}, "budget_left"),
    (lot_allowance, (np.nan, 3, 5), {}, "budget_left"),
    (lot_allowance, (4, 6, 5), {}, "undelivered"),
    (lot_allowance, (4, -6, 5), {}, "lot_size"),
]


@pytest.mark.parametrize(("function", "args", "kwargs", "field"), INVALID_CALLS)
def test_invalid_inputs_raise_naming_the_field(
    function: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], field: str
) -> None:
    with pytest.raises(SimulatorInputError) as caught:
        function(*args, **kwargs)
    assert caught.value.field == field


# ---- audit sizes ----------------------------------------------------------------------------------------


def audit_grid() -> tuple[np.ndarray, ...]:
    """Lots of 1..3,000 items, allowances from none to a fifth of the lot, rates 0..0.3, levels 1e-6..0.2."""
    rng = np.random.default_rng(5)
    size = 600
    lot_size = rng.integers(1, 3000, size)
    allowed = np.floor(lot_size * rng.uniform(0.0, 0.2, size))
    rate = np.where(rng.random(size) < 0.2, 0.0, rng.uniform(0.0, 0.3, size))
    delta = 10.0 ** rng.uniform(-6, np.log10(0.2), size)
    min_size = np.where(rng.random(size) < 0.3, rng.integers(0, 400, size), 0)
    return lot_size, allowed, rate, delta, min_size


def test_audit_size_passes_at_its_own_expected_count() -> None:
    lot_size, allowed, rate, delta, min_size = audit_grid()
    n = audit_sample_size(lot_size, allowed, rate, delta, min_size)
    lowest = np.minimum(min_size, lot_size)
    assert np.all((lowest <= n) & (n <= lot_size))
    n_wrong = expected_wrong_in_sample(n, rate)
    assert np.all(lot_passes(n_wrong, n, lot_size, allowed, delta))
    # a local minimum: one item fewer fails, unless the answer is the smallest size allowed
    above = n > lowest
    fewer = n[above] - 1
    fewer_wrong = expected_wrong_in_sample(fewer, rate[above])
    assert not np.any(lot_passes(fewer_wrong, fewer, lot_size[above], allowed[above], delta[above]))


def test_audit_size_vectorised_equals_scalar_calls() -> None:
    lot_size, allowed, rate, delta, min_size = (column[:40] for column in audit_grid())
    together = audit_sample_size(lot_size, allowed, rate, delta, min_size)
    one_by_one = [
        int(audit_sample_size(int(m), float(a), float(r), float(d), int(s)))
        for m, a, r, d, s in zip(lot_size, allowed, rate, delta, min_size, strict=True)
    ]
    assert together.tolist() == one_by_one


def test_audit_size_is_near_the_smallest_passing_size() -> None:
    """Against a scan of every size: exact with no expected error, within 3 / rate items otherwise."""
    for lot_size, delta in ((60, 0.1), (400, 0.01), (1500, 0.05)):
        sizes = np.arange(lot_size + 1)
        for rate in (0.0, 0.01, 0.05, 0.2):
            allowed = np.arange(0, lot_size // 5 + 1, max(1, lot_size // 50))
            n_wrong = expected_wrong_in_sample(sizes, rate)
            passing = lot_passes(n_wrong[None, :], sizes[None, :], lot_size, allowed[:, None], delta)
            smallest = np.argmax(passing, axis=1)
            n = audit_sample_size(lot_size, allowed, rate, delta)
            if rate == 0.0:
                assert np.array_equal(n, smallest)
            else:
                assert np.all((smallest <= n) & (n <= smallest + 3 / rate))


def test_zero_allowance_and_zero_rate_audits_all_but_a_delta_share() -> None:
    """k = 0 passes with nothing allowed only if one wrong item would be caught: (m - n) / m <= delta.

    The levels avoid exact ties (``(m - n) / m == delta``), which the bound resolves on the safe side.
    """
    for lot_size, delta in ((997, 0.05), (50, 0.11), (3001, 0.001), (10, 0.25)):
        n = int(audit_sample_size(lot_size, 0, 0.0, delta))
        smallest = min(s for s in range(lot_size + 1) if lot_size - s <= delta * lot_size)
        assert n == smallest
        assert n >= lot_size * (1 - delta)


def test_zero_allowance_with_expected_errors_audits_the_whole_lot() -> None:
    """With k >= 1 expected and nothing allowed, every one of k + 1 wrong items must be in the sample."""
    lot_size = np.array([20, 100, 1000, 5000])
    n = audit_sample_size(lot_size, 0, 0.1, 0.05)
    assert np.array_equal(n, lot_size)


def test_larger_allowance_never_needs_a_larger_sample_beyond_rounding() -> None:
    lot_size, delta = 2000, 0.01
    allowed = np.arange(0, 400)
    assert np.all(np.diff(audit_sample_size(lot_size, allowed, 0.0, delta)) <= 0)  # exact without rounding
    for rate in (0.002, 0.02, 0.1):
        n = audit_sample_size(lot_size, allowed, rate, delta)
        smallest_so_far = np.minimum.accumulate(n)
        assert np.all(n <= smallest_so_far + math.ceil(1 / rate))
        assert n[-1] < n[0]


def test_min_size_is_kept_and_clipped_to_the_lot() -> None:
    assert int(audit_sample_size(1000, 1000, 0.0, 0.1)) == 0  # allowing the whole lot needs no audit
    assert int(audit_sample_size(1000, 999, 0.0, 0.1)) > 0
    assert int(audit_sample_size(1000, 1000, 0.0, 0.1, min_size=30)) == 30
    assert int(audit_sample_size(20, 1000, 0.0, 0.1, min_size=30)) == 20
    assert int(audit_sample_size(0, 0, 0.5, 0.1, min_size=30)) == 0


def test_expected_wrong_in_sample_rounds_up_but_not_on_float_noise() -> None:
    assert int(expected_wrong_in_sample(30, 0.1)) == 3  # 0.1 * 30 is 3.0000000000000004 in floats
    assert int(expected_wrong_in_sample(31, 0.1)) == 4
    assert int(expected_wrong_in_sample(1, 1e-9)) == 1
    assert int(expected_wrong_in_sample(0, 0.5)) == 0
    assert expected_wrong_in_sample(np.arange(5), 1.0).tolist() == [0, 1, 2, 3, 4]


# ---- spending -------------------------------------------------------------------------------------------


def test_lot_delta_sums_below_delta_and_decreases() -> None:
    delta = 0.05
    levels = lot_delta(np.arange(1, 1_000_001), delta)
    assert levels[0] == pytest.approx(6 * delta / math.pi**2)
    assert np.all(np.diff(levels) < 0)
    assert np.all(np.cumsum(levels) < delta)
    assert np.cumsum(levels)[-1] == pytest.approx(delta, rel=1e-5)


def test_lot_allowance_is_the_proportional_share_rounded_down() -> None:
    assert int(lot_allowance(28, 3, 7)) == 12
    assert int(lot_allowance(10, 100, 1000)) == 1
    assert int(lot_allowance(10, 50, 1000)) == 0
    assert int(lot_allowance(10, 1000, 1000)) == 10  # the last lot may use what is left
    assert int(lot_allowance(5, 0, 0)) == 0  # nothing left to deliver
    assert lot_allowance(np.array([30, 60]), 100, np.array([300, 600])).tolist() == [10, 10]


def test_lots_using_their_whole_allowance_never_overspend() -> None:
    rng = np.random.default_rng(2)
    pool, budget = 5_000, 123
    for _ in range(200):
        budget_left, undelivered = float(budget), pool
        while undelivered:
            humans = int(rng.integers(0, min(undelivered, 200) + 1))
            undelivered -= humans
            lot = int(rng.integers(0, min(undelivered, 600) + 1))
            allowance = int(lot_allowance(budget_left, lot, undelivered))
            assert 0 <= allowance <= budget_left
            budget_left -= allowance
            undelivered -= lot
        assert budget_left >= 0


# ---- the whole policy -----------------------------------------------------------------------------------


def simulate_promise(audit: bool, n_runs: int = 2_000, seed: int = 0) -> tuple[float, float]:
    """Share of runs whose delivered pool holds more than eps wrong labels, and share of lots accepted.

    Each of 10 rounds, humans label 20..79 items (no error) and a lot of 100..299 model labels is formed
    whose true error rate drifts upward, with jumps (a model that changes between rounds: some lots much
    worse than earlier ones). Audits are planned at a third of the true rate (a wrong guess); a lot that
    fails its audit goes to humans. Without audits every lot is delivered as it is.
    """
    eps, delta, n_rounds = 0.05, 0.1, 10
    rng = np.random.default_rng(seed)
    humans = rng.integers(20, 80, (n_runs, n_rounds))
    lots = rng.integers(100, 300, (n_runs, n_rounds))
    pool = int(humans.sum(axis=1).max() + lots.sum(axis=1).max())  # the rest of the pool: humans
    budget_left = np.full(n_runs, math.floor(eps * pool), dtype=np.float64)
    undelivered = np.full(n_runs, pool)
    wrong_delivered = np.zeros(n_runs, dtype=np.int64)
    rate = rng.uniform(0.005, 0.03, n_runs)
    accepted = 0
    for round_index in range(n_rounds):
        if round_index:
            jump = np.where(rng.random(n_runs) < 0.15, 4.0, 1.0)
            rate = np.minimum(0.5, rate * np.exp(rng.normal(0.2, 0.4, n_runs)) * jump)
        undelivered -= humans[:, round_index]
        lot_size = lots[:, round_index]
        true_wrong = rng.binomial(lot_size, rate)
        if audit:
            allowance = lot_allowance(budget_left, lot_size, undelivered)
            level = lot_delta(round_index + 1, delta)
            sample_size = audit_sample_size(lot_size, allowance, rate / 3, level)
            n_wrong = rng.hypergeometric(true_wrong, lot_size - true_wrong, sample_size)
            passes = lot_passes(n_wrong, sample_size, lot_size, allowance, level)
            wrong_delivered += np.where(passes, true_wrong - n_wrong, 0)
            budget_left -= np.where(passes, wrong_left_bound(n_wrong, sample_size, lot_size, level), 0)
            accepted += int(passes.sum())
        else:
            wrong_delivered += true_wrong
            accepted += n_runs
        undelivered -= lot_size
    assert np.all(budget_left >= 0)
    return float(np.mean(wrong_delivered > eps * pool)), accepted / (n_runs * n_rounds)


def test_audited_lots_keep_the_promise_when_the_model_drifts() -> None:
    delta, n_runs = 0.1, 2_000
    broken, accepted = simulate_promise(audit=True, n_runs=n_runs)
    assert broken <= delta + binomial_margin(delta, n_runs)
    assert accepted > 0.15  # not by refusing everything


def test_the_same_lots_without_audits_break_the_promise() -> None:
    broken, accepted = simulate_promise(audit=False)
    assert accepted == 1.0
    assert broken > 0.5


def test_acceptance_number_is_the_largest_passing_count_and_passing_is_monotone() -> None:
    rng = np.random.default_rng(7)
    for _ in range(400):
        m = int(rng.integers(1, 3000))
        n = int(rng.integers(0, m + 1))
        allowance = int(rng.integers(0, max(1, m // 10)))
        level = float(rng.uniform(1e-4, 0.2))
        c = int(acceptance_number(n, m, allowance, level))
        counts = np.arange(n + 1)
        passes = lot_passes(counts, n, m, allowance, level)
        assert c == (counts[passes].max() if passes.any() else -1)
        assert passes[: c + 1].all() and not passes[c + 1 :].any()


def test_sampling_plan_is_the_two_step_audit_size_and_its_acceptance_number() -> None:
    plan = sampling_plan(3, 5000, 20000, 400, 0.02, 0.05, 0.05)
    level = float(lot_delta(3, 0.05))
    allowance = int(lot_allowance(400, 5000, 20000))
    first = audit_sample_size(5000, allowance, 0.02, level, min_size=250)
    n = int(audit_sample_size(5000, allowance, planning_rate(0.02, first), level, 250))
    assert (plan.level, plan.allowance, plan.sample_size) == (level, allowance, n)
    assert n >= 250
    assert plan.acceptance_number == int(acceptance_number(n, 5000, allowance, level))
    # a sample at the expected rate passes: the plan's headroom
    assert math.ceil(0.02 * n) <= plan.acceptance_number


def test_searches_that_look_ahead_give_the_plain_bisections_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """A search of a few elements tests the midpoints of several steps at once: its answers are those of a
    plain bisection (one midpoint per step), scalar and vectorised, across lot sizes and rates."""
    rng = np.random.default_rng(8)
    cases = []
    for _ in range(40):
        m = int(rng.choice([3, 40, 700, 9_000, 120_000]) * rng.uniform(0.3, 1.0)) + 1
        undelivered = m + int(rng.integers(0, 3 * m))
        budget = int(rng.integers(0, undelivered // 10 + 1))
        rate = float(rng.choice([0.0, rng.uniform(0.0, 0.1), rng.uniform(0.0, 1.0)]))
        n = int(rng.integers(0, m + 1))
        k = int(rng.integers(0, n + 1)) if rng.random() < 0.3 else int(rng.binomial(n, min(rate, 1.0)))
        cases.append(
            (int(rng.integers(1, 30)), m, undelivered, budget, rate, float(rng.uniform(0.01, 0.2)), k, n)
        )
    lots = rng.integers(1, 5_000, 7)
    sampled = (lots * rng.uniform(0.0, 1.0, 7)).astype(int)
    vectors = (
        lots,
        sampled,
        (sampled * rng.uniform(0.0, 0.2, 7)).astype(int),
        rng.uniform(0, 50, 7),
        rng.uniform(0, 0.2, 7),
    )

    def answers() -> list[Any]:
        out: list[Any] = []
        for j, m_, left, budget, rate, delta, k, n_ in cases:
            plan = sampling_plan(j, m_, left, budget, rate, delta, 0.05)
            out += [plan.sample_size, plan.acceptance_number, int(wrong_left_bound(k, n_, m_, delta / j))]
        lots, sampled, wrong, allowance, rates = vectors
        out += [
            audit_sample_size(lots, allowance, rates, 0.01, 3).tolist(),
            acceptance_number(sampled, lots, allowance, 0.01).tolist(),
            wrong_upper_bound(wrong, sampled, lots, 0.01).tolist(),
        ]
        return out

    ahead = answers()
    monkeypatch.setattr("annoplan.simulators.acceptance._LOOKAHEAD_TESTS", 1)
    assert ahead == answers()


def test_the_binomial_mass_is_scipys() -> None:
    """The hypergeometric masses come from binomial masses taken without ``binom.pmf``'s argument handling:
    the same numbers, in the support and out of it (0 outside, NaN for a parameter out of its range)."""
    rng = np.random.default_rng(5)
    n = np.floor(10 ** rng.uniform(0.0, 7.0, 50_000))
    k = np.floor(rng.uniform(0.0, 1.0, n.size) * (n + 1.0))
    p = rng.uniform(0.0, 1.0, n.size)
    p[:100], p[100:200] = 0.0, 1.0
    assert np.array_equal(_binomial_mass(k, n, p), binom.pmf(k, n, p))
    odd = [
        (3.0, 2.0, 0.5),
        (-1.0, 5.0, 0.5),
        (1.5, 5.0, 0.5),
        (2.0, 5.0, 1.5),
        (math.nan, 5.0, 0.5),
        (2, 5.5, 0.5),
    ]
    for args in odd:
        arrays = [np.array([value], dtype=float) for value in args]
        assert np.array_equal(_binomial_mass(*arrays), binom.pmf(*arrays), equal_nan=True), args
