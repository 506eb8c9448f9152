"""Backtest of correction-only quotes: quote from a random pilot, then replay the work for real.

Usage::

    python benchmarks/quote_backtest.py DATA_DIR [--seeds 3] [--jobs 1] [--draws 2000]

``DATA_DIR`` holds datasets as ``.npz`` (the format :func:`simulators.datasets.load_dataset` reads). For each
dataset and seed:

1. The rows are shuffled and split: the first ``min(PILOT_ITEMS, n / 3)`` rows are the client's pilot data,
   the rest is the pool the quote is for. :func:`simulators.pilot.simulate_pilot` runs random pilot rounds
   (100, 200, 400, 800 labels, scaled down to half of the pilot's pool) on the pilot rows, with calibration
   samples on its held-out items, as ``annoplan replay --emit-pilot`` does.
2. :func:`planner.quotes.make_quote` quotes the pool (its size is what the replay labels: the rest minus the
   replay's held-out evaluation set) with max_label_error 0.05, delta 0.05, margin 0.2, risk level 0.9 and the
   vendor cost card :data:`VENDOR_COSTS`.
3. :func:`simulators.replay.replay_pool` runs the quote's policy object on the rest (``replay_settings``, as
   ``annoplan replay --quote`` does; logistic regression, the vendor's rate card: a label from scratch costed
   like a correction, as the quote assumes), starting from the policy's ``start_labels`` random items of the
   pilot data (the pilot's labels, kept by default), and the quote meets reality:

   - real cost: the replay's cost on the vendor's card; real revenue: the quoted price per correction x the
     replay's corrections + the price per audit x its audits; real margin = revenue / cost - 1;
   - break-even: the price per correction at which the replay's revenue would have been exactly cost x
     (1 + margin); the ratio quoted / break-even is >= 1 exactly when the real margin reaches the quoted one;
   - label error: the share of the replayed pool left wrong, against the goal;
   - where the quote also offers a ``two_part_price`` (a price per routed item plus a price per correction),
     the same replay billed at it: its real margin, its break-even price per correction (with the quoted
     price per routed item) and which of the two prices earned more on this replay.

Summary, per dataset and over all replays of a quoted price: the share whose real margin reaches the quoted
margin (goal >= 90% at risk level 0.9), the median ratio of the quoted price to the break-even price (goal
<= 1.3) and the share whose label error is within the goal (goal >= 90%); the same margin figures for the
two-part prices offered (the same goals: they are quoted at the same risk level); quotes that said "not
possible" are counted apart. The replay runs the policy the quote prices: with the request's
``max_label_error`` and ``delta``, each round's lot of auto-accepted items is acceptance-sampled (audited,
and delivered only if the audit bounds its wrong labels within the goal's budget; else only its audited items
are delivered and the threshold rises). BLAS threads are pinned to 1.
"""

from __future__ import annotations

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import shlex  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.progress import track  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from annoplan.api.replay_plan import replay_settings  # noqa: E402
from annoplan.planner.quotes import break_even_prices, make_quote, revenue, vendor_rate_card  # noqa: E402
from annoplan.planner.schemas.quotes import VendorCosts  # noqa: E402
from annoplan.simulators.datasets import load_dataset  # noqa: E402
from annoplan.simulators.pilot import simulate_pilot  # noqa: E402
from annoplan.simulators.replay import default_n_eval, replay_pool  # noqa: E402
from annoplan.simulators.sweep import BACKENDS, map_tasks  # noqa: E402

#: rows of a dataset given to the pilot (at most a third of the dataset)
PILOT_ITEMS = 2000
MAX_LABEL_ERROR = 0.05
#: the request's delta: the goal is kept with probability 1 - DELTA (the lot audits of the replay use it too)
DELTA = 0.05
MARGIN = 0.2
RISK_LEVEL = 0.9
#: a typical vendor's own costs, USD: ~10 s to confirm a right pre-label, ~40 s to fix a wrong one at
#: ~$36/h, audits like reviews, 5% of auto-accepted items audited, $20 per round to retrain and hand over
VENDOR_COSTS = {"review": 0.10, "correction": 0.40, "audit": 0.10, "audit_rate": 0.05, "round_overhead": 20.0}
#: goals of the summary
GOAL_MARGIN_SHARE = 0.9
GOAL_PRICE_RATIO = 1.3
GOAL_ERROR_SHARE = 0.95


@dataclass(frozen=True)
class Backtest:
    """One dataset and seed: the quote and, when it priced the work, what the replay revealed."""

    dataset: str
    seed: int
    pool_size: int
    pilot_labels: int
    status: str
    reason: str
    threshold: float | None
    batch_size: int | None
    price_per_correction: float | None
    price_per_audit: float | None
    price_cap: float | None
    quoted_corrections: tuple[float, float, float] | None
    corrections: int | None = None
    reviews: int | None = None
    audits: int | None = None
    rounds: int | None = None
    cost: float | None = None
    revenue: float | None = None
    #: the price per correction at which the replay's bill is exactly its cost x (1 + margin)
    break_even: float | None = None
    label_error: float | None = None
    #: the quote's two-part price (per routed item, per correction) when it offers one
    two_part: tuple[float, float] | None = None
    #: the replay billed at the two-part price; its break-even price per correction (per routed item fixed)
    two_part_revenue: float | None = None
    two_part_break_even: float | None = None
    seconds: float = 0.0

    @property
    def replayed(self) -> bool:
        return self.cost is not None

    def margin_of(self, revenue: float | None) -> float:
        """The real margin of the replay billed ``revenue``."""
        assert self.cost is not None and revenue is not None
        return revenue / self.cost - 1.0 if self.cost > 0 else float("inf")

    @property
    def real_margin(self) -> float:
        return self.margin_of(self.revenue)

    @property
    def price_ratio(self) -> float:
        assert self.price_per_correction is not None and self.break_even is not None
        return ratio_to_break_even(self.price_per_correction, self.break_even)

    @property
    def margin_reached(self) -> bool:
        return self.real_margin >= MARGIN - 1e-12

    @property
    def two_part_margin(self) -> float:
        return self.margin_of(self.two_part_revenue)

    @property
    def two_part_margin_reached(self) -> bool:
        return self.two_part_margin >= MARGIN - 1e-12

    @property
    def two_part_price_ratio(self) -> float:
        assert self.two_part is not None and self.two_part_break_even is not None
        return ratio_to_break_even(self.two_part[1], self.two_part_break_even)

    @property
    def error_met(self) -> bool:
        assert self.label_error is not None
        return self.label_error <= MAX_LABEL_ERROR


def ratio_to_break_even(price: float, break_even: float) -> float:
    """The quoted price per correction over the replay's break-even one (inf where the other prices alone
    covered the cost and margin: any price per correction was enough)."""
    return price / break_even if break_even > 0 else float("inf")


def backtest(path: Path, seed: int, draws: int) -> Backtest:
    """Quote one dataset from a random pilot, then replay the quoted settings on the rest."""
    start = time.perf_counter()
    X, y, _ = load_dataset(path)
    n_items = int(y.size)
    rng = np.random.default_rng(seed)
    order = rng.permutation(n_items)
    n_pilot = min(PILOT_ITEMS, n_items // 3)
    pilot_rows, rest = order[:n_pilot], order[n_pilot:]
    with threadpool_limits(limits=1):
        pilot = simulate_pilot(X[pilot_rows], y[pilot_rows], random_state=seed)
    pool_size = int(rest.size - default_n_eval(int(rest.size)))
    request: dict[str, Any] = {
        "name": f"{path.stem} seed {seed}",
        "pool_size": pool_size,
        "pilot": pilot.to_dict(),
        "max_label_error": MAX_LABEL_ERROR,
        "delta": DELTA,
        "vendor_costs": VENDOR_COSTS,
        "margin": MARGIN,
        "risk_level": RISK_LEVEL,
        "draws": draws,
        "seed": seed,
    }
    quote = make_quote(request)
    ppc = float(quote.price_per_correction) if quote.price_per_correction is not None else None
    ppa = float(quote.price_per_audit) if quote.price_per_audit is not None else None
    corrections_q = quote.expected_corrections
    offer = quote.two_part_price
    two_part = (
        (float(offer.price_per_routed_item), float(offer.price_per_correction)) if offer is not None else None
    )
    base = Backtest(
        dataset=path.stem,
        seed=seed,
        pool_size=pool_size,
        pilot_labels=pilot.rounds[-1].n_labels if pilot.rounds else 0,
        status=quote.status,
        reason=quote.reasons[0] if quote.status != "quoted" else "",
        threshold=quote.confidence_threshold,
        batch_size=quote.batch_size,
        price_per_correction=ppc,
        price_per_audit=ppa,
        price_cap=float(quote.price_cap) if quote.price_cap is not None else None,
        quoted_corrections=(
            (corrections_q.p10, corrections_q.p50, corrections_q.p90) if corrections_q is not None else None
        ),
        two_part=two_part,
    )
    if quote.status != "quoted" or ppc is None or ppa is None:
        return _with(base, seconds=time.perf_counter() - start)
    assert quote.policy is not None
    # the policy object the quote prices, as `annoplan replay --quote` runs it; its start labels (the pilot's,
    # kept by default) are random items of the pilot's data, which the pilot labeled
    n_start = quote.policy.start_labels
    before = (X[pilot_rows[:n_start]], y[pilot_rows[:n_start]]) if n_start else None
    result = replay_pool(
        X[rest],
        y[rest],
        **replay_settings(quote.policy),
        costs=vendor_rate_card(VendorCosts(**VENDOR_COSTS)),
        labeled=before,
        random_state=seed,
    )
    assert result.pool_size == pool_size
    if two_part is not None:
        routed, per_correction = two_part
        base = _with(
            base,
            two_part_revenue=float(revenue(result, per_correction, ppa, routed)),
            two_part_break_even=float(break_even_prices(result, result.cost, ppa, MARGIN, routed)),
        )
    return _with(
        base,
        corrections=result.corrections,
        reviews=result.reviews,
        audits=result.audits,
        rounds=result.rounds,
        cost=result.cost,
        revenue=float(revenue(result, ppc, ppa)),
        break_even=float(break_even_prices(result, result.cost, ppa, MARGIN)),
        label_error=result.label_error,
        seconds=time.perf_counter() - start,
    )


def _with(base: Backtest, **changes: Any) -> Backtest:
    return Backtest(**{**base.__dict__, **changes})


def _run(job: tuple[Path, int, int]) -> Backtest:
    return backtest(*job)


def share(flags: list[bool]) -> str:
    return f"{np.mean(flags):.0%}" if flags else "n/a"


def median(values: list[float]) -> str:
    return f"{np.median(values):.2f}" if values else "n/a"


def print_rows(results: list[Backtest]) -> None:
    print("Every quote: dataset seed pool | threshold batch | price/correction price/audit cap | quoted")
    print("corrections P10/P50/P90 | replay: corrections reviews audits rounds cost revenue margin error |")
    print("break-even, quoted/break-even [| two-part: per routed item + per correction, margin, break-even]")
    for r in results:
        head = f"{r.dataset:<20} {r.seed} {r.pool_size:>6}"
        if r.status != "quoted":
            print(f"{head} | {r.status}: {r.reason}")
            continue
        assert r.quoted_corrections is not None and r.cost is not None and r.revenue is not None
        assert r.label_error is not None and r.threshold is not None
        q = "/".join(f"{v:.0f}" for v in r.quoted_corrections)
        two_part = (
            ""
            if r.two_part is None
            else f" | {r.two_part[0]:.2f} + {r.two_part[1]:.2f} {r.two_part_margin:+.0%} "
            f"{r.two_part_break_even:.2f}"
        )
        print(
            f"{head} | t={r.threshold:.3f} b={r.batch_size} | {r.price_per_correction:.2f} "
            f"{r.price_per_audit:.2f} {r.price_cap:.2f} | {q} | {r.corrections} {r.reviews} {r.audits} "
            f"{r.rounds} {r.cost:.2f} {r.revenue:.2f} {r.real_margin:+.0%} {r.label_error:.3f} | "
            f"{r.break_even:.2f} {r.price_ratio:.2f}{two_part}"
        )


def print_summary(results: list[Backtest]) -> None:
    names = sorted({r.dataset for r in results})
    header = (
        f"{'dataset':<20} {'quoted':>7} {'margin reached':>15} {'median price/break-even':>24} "
        f"{'error within goal':>18}"
    )
    print(header)
    print("-" * len(header))
    for name in [*names, "all"]:
        rows = [r for r in results if name in ("all", r.dataset)]
        done = [r for r in rows if r.replayed]
        print(
            f"{name:<20} {len(done):>3}/{len(rows):<3} {share([r.margin_reached for r in done]):>15} "
            f"{median([r.price_ratio for r in done]):>24} {share([r.error_met for r in done]):>18}"
        )
    done = [r for r in results if r.replayed]
    print()
    print(
        f"goals: margin reached >= {GOAL_MARGIN_SHARE:.0%} of replays, median price/break-even <= "
        f"{GOAL_PRICE_RATIO}, label error within {MAX_LABEL_ERROR:.0%} in >= {GOAL_ERROR_SHARE:.0%} "
        "of replays"
    )
    if done:
        margins = [r.real_margin for r in done]
        print(
            f"real margin over quoted replays: P10 {np.quantile(margins, 0.1):+.0%}, median "
            f"{np.median(margins):+.0%}, P90 {np.quantile(margins, 0.9):+.0%} (quoted {MARGIN:+.0%})"
        )
        inside = [
            r.corrections is not None
            and r.quoted_corrections is not None
            and r.quoted_corrections[0] <= r.corrections <= r.quoted_corrections[2]
            for r in done
        ]
        print(f"replayed corrections inside the quoted P10-P90: {share(inside)}")
        print_two_part(done)
    refused = [r for r in results if not r.replayed]
    print(f"quotes refused as not possible: {len(refused)} of {len(results)}")


def print_two_part(done: list[Backtest]) -> None:
    """The replays of quotes that also offered a two-part price, billed at it."""
    offered = [r for r in done if r.two_part is not None]
    if not offered:
        print("two-part prices offered: none")
        return
    names = ", ".join(sorted({r.dataset for r in offered}))
    better = [r.two_part_margin > r.real_margin for r in offered]
    margins = [r.two_part_margin for r in offered]
    print(
        f"two-part prices offered: {len(offered)} of {len(done)} quotes ({names}); margin reached "
        f"{share([r.two_part_margin_reached for r in offered])}, median price per correction / break-even "
        f"{median([r.two_part_price_ratio for r in offered])}, real margin P10 "
        f"{np.quantile(margins, 0.1):+.0%} median {np.median(margins):+.0%}; earned more than "
        f"correction-only on {share(better)} of them"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path, help="folder of .npz datasets")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per dataset (pilot, split, replay)")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes")
    parser.add_argument(
        "--backend", choices=BACKENDS, help="where the backtests run (default: serial for 1 job, else loky)"
    )
    parser.add_argument("--scheduler", help="dask: the scheduler's address (default: a local cluster)")
    parser.add_argument("--draws", type=int, default=2000, help="Monte Carlo draws per quote")
    args = parser.parse_args(argv)
    print(f"command: python {shlex.join(sys.argv)}")
    paths = sorted(args.data_dir.glob("*.npz"))
    if not paths:
        print(f"no .npz datasets in {args.data_dir}", file=sys.stderr)
        return 2
    jobs = [(path, seed, args.draws) for path in paths for seed in range(args.seeds)]
    start = time.perf_counter()
    backend = args.backend or ("serial" if args.jobs == 1 else "loky")
    largest_first = sorted(range(len(jobs)), key=lambda i: -jobs[i][0].stat().st_size)
    runs = map_tasks(
        _run, jobs, backend=backend, n_jobs=args.jobs, scheduler=args.scheduler, order=largest_first
    )
    results = list(
        track(runs, total=len(jobs), description="quotes and replays", console=Console(stderr=True))
    )
    print(
        f"{len(paths)} datasets x {args.seeds} seeds; max_label_error {MAX_LABEL_ERROR}, margin {MARGIN}, "
        f"risk level {RISK_LEVEL}, vendor costs {VENDOR_COSTS}; {time.perf_counter() - start:.0f} s"
    )
    print()
    print_rows(results)
    print()
    print_summary(results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
