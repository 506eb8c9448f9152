"""Monte Carlo simulation of labeling strategies, vectorised over draws.

Each draw is one possible reality: a learning curve (the error of a model trained on n random labels), and for
hybrid routing the coverage and risk at the confidence threshold as the model learns. A strategy runs round
by round with fixed settings (batch size, threshold, a cap on human labels); every quantity is an array with
one entry per draw, and the only Python loop is over rounds. The planner draws the inputs, searches the
settings and summarises the outcomes; this module knows nothing of requests or schemas.

Strategies (SPEC 2):

- ``manual``: humans label random items from scratch.
- ``prelabel``: random items; from the second round on the current model pre-labels them, and humans review
  (right) or correct (wrong) them at the model's average error.
- ``active_learning``: humans label the items the model is least sure of; the model learns as random labeling
  would with ``efficiency`` times the labels. For a labeled dataset, human work stops at the cap and the model
  labels the rest (MCAL).
- ``hybrid``: each round the items at or above the threshold are auto-accepted (a random ``audit_rate`` share
  audited, wrong audited items fixed), a random validation sample re-certifies the threshold, and the
  ``batch_size`` least confident of the rest go to humans as pre-labels. Routed items are the hard ones: their
  error is that of the items below the threshold, from a mass balance of the calibration forecast.

Goals: a target model error (stop when the model reaches it, or at the cap: the goal is met if it was
reached), or a labeled dataset (run until every pool item is labeled: the goal is met if the share of the pool
left wrong is at most ``max_label_error``).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from simulators.costs import RateCard
from simulators.draws import CurveDraws

Array = npt.NDArray[np.float64]

STRATEGIES = ("manual", "prelabel", "active_learning", "hybrid")
#: rounds after which a simulation stops whatever its state (a plan with more rounds is not a plan)
MAX_ROUNDS = 2000


class Routing(Protocol):
    """At the confidence threshold, per draw: coverage (share of items at or above it) and risk (error
    among them) of a model trained on n labels."""

    def per_draw(self, n_labels: Array) -> tuple[Array, Array]:
        """Each draw at its own size: ``n_labels`` (n_draws,) -> (coverage, risk), shares (n_draws,)."""
        ...


@dataclass(frozen=True)
class Settings:
    """Fixed settings of one simulated strategy."""

    batch_size: int
    stop_at_labels: float = np.inf  #: cap on human labels (a budget, or MCAL's switch to machine labels)
    labels_per_day: float = 1000.0  #: human items handled per day
    turnaround_days: float = 1.0  #: days each round adds (retraining, hand-over)
    validation_size: int = 0  #: hybrid: random items labeled each round to re-certify the threshold
    confidence_threshold: float | None = None  #: hybrid: the threshold ``routing`` was drawn at (a record)


@dataclass
class Ledger:
    """Cumulative work and state per draw (all arrays of shape (n_draws,))."""

    n_draws: int
    pool_size: int
    fields: tuple[str, ...] = (
        "n_train",
        "fresh_labels",
        "reviews",
        "corrections",
        "audits",
        "auto_accepted",
        "label_errors",
        "rounds",
        "human_items",
        "random_items",
    )
    values: dict[str, Array] = field(default_factory=dict)
    remaining: Array = field(init=False)
    done: npt.NDArray[np.bool_] = field(init=False)
    history: list[dict[str, Array]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.values = {name: np.zeros(self.n_draws) for name in self.fields}
        self.remaining = np.full(self.n_draws, float(self.pool_size))
        self.done = np.zeros(self.n_draws, dtype=bool)

    def __getitem__(self, name: str) -> Array:
        return self.values[name]

    def add(self, name: str, amount: Array | float, active: npt.NDArray[np.bool_]) -> None:
        # a new array, not in place: the history keeps every round's values (amounts are finite)
        self.values[name] = self.values[name] + amount * active

    def take(self, amount: Array, active: npt.NDArray[np.bool_]) -> None:
        self.remaining = self.remaining - amount * active

    def human(
        self, fresh: Array, prelabeled: Array | None, error: Array | None, active: npt.NDArray[np.bool_]
    ) -> None:
        """Humans label ``fresh`` items from scratch and check ``prelabeled`` ones (None: none) at pre-label
        ``error``."""
        self.add("fresh_labels", fresh, active)
        checked = fresh
        if prelabeled is not None and error is not None:
            self.add("reviews", prelabeled * (1.0 - error), active)
            self.add("corrections", prelabeled * error, active)
            checked = fresh + prelabeled
        self.add("human_items", checked, active)
        self.add("n_train", checked, active)
        self.take(checked, active)

    def fork(self) -> Ledger:
        """An independent copy to run on (the arrays are never changed in place, so they are shared)."""
        twin = copy.copy(self)
        twin.values, twin.done, twin.history = dict(self.values), self.done.copy(), list(self.history)
        return twin

    def end_round(self, active: npt.NDArray[np.bool_]) -> None:
        self.add("rounds", 1.0, active)
        self.history.append({"remaining": self.remaining} | self.values)


def cost_of(v: dict[str, Array], costs: RateCard) -> Array:
    """What the cumulative work in ``v`` (ledger fields) costs, per draw."""
    return costs.total(
        fresh_labels=v["fresh_labels"],
        reviews=v["reviews"],
        corrections=v["corrections"],
        audits=v["audits"],
        auto_accepted=v["auto_accepted"],
        rounds=v["rounds"],
    )


@dataclass(frozen=True)
class Outcome:
    """What one strategy with fixed settings delivers, per draw (arrays of shape (n_draws,)).

    Counts are items; ``cost`` is in the rate card's currency; ``days`` calendar days; ``final_error`` the
    model's error when human work ends; ``label_error`` the share of the pool left wrong (labeled dataset).
    ``history`` holds the cumulative quantities after each round, for the median path's schedule; ``costs``
    the rate card the cost was computed with.
    """

    strategy: str
    settings: Settings
    cost: Array
    human_labels: Array
    fresh_labels: Array
    reviews: Array
    corrections: Array
    auto_accepted: Array
    audits: Array
    rounds: Array
    days: Array
    final_error: Array
    label_error: Array
    goal_met: npt.NDArray[np.bool_]
    history: tuple[dict[str, Array], ...] = field(repr=False)
    costs: RateCard = field(repr=False)


def simulate_strategy(
    strategy: str,
    curve: CurveDraws,
    costs: RateCard,
    pool_size: int,
    settings: Settings,
    *,
    target_error: float | None = None,
    max_label_error: float | None = None,
    efficiency: Array | None = None,
    routing: Routing | None = None,
    labels_before: float = 0.0,
) -> Outcome:
    """Simulate one strategy with fixed settings over every draw.

    Parameters
    ----------
    strategy : {"manual", "prelabel", "active_learning", "hybrid"}
    curve : CurveDraws
        Error of a model trained on n random labels, per draw.
    costs : RateCard
        Unit prices (currency units per item; per round for ``round_overhead``).
    pool_size : int
        Items to label (labeled dataset) or available for labeling (model metric).
    settings : Settings
    target_error : float, optional
        Model-metric goal: the error the model must reach. Exactly one of ``target_error`` and
        ``max_label_error`` is given.
    max_label_error : float, optional
        Labeled-dataset goal: the largest share of the pool left wrong.
    efficiency : array (n_draws,), optional
        ``active_learning`` and ``hybrid``: learning with n uncertainty-chosen labels equals random learning
        with ``efficiency * n`` (default 1).
    routing : Routing, optional
        ``hybrid``: coverage and risk at the threshold as the model learns (required for hybrid).
    labels_before : float, default 0
        Random labels the model already has (a pilot the team keeps): it trains on them plus every item
        humans check, so the first round already has a model. They are neither in the pool nor costed.

    Returns
    -------
    Outcome
    """
    return simulate_stops(
        strategy,
        curve,
        costs,
        pool_size,
        settings,
        [settings.stop_at_labels],
        target_error=target_error,
        max_label_error=max_label_error,
        efficiency=efficiency,
        routing=routing,
        labels_before=labels_before,
    )[0]


def simulate_stops(
    strategy: str,
    curve: CurveDraws,
    costs: RateCard,
    pool_size: int,
    settings: Settings,
    stops: Sequence[float],
    *,
    target_error: float | None = None,
    max_label_error: float | None = None,
    efficiency: Array | None = None,
    routing: Routing | None = None,
    labels_before: float = 0.0,
) -> list[Outcome]:
    """:func:`simulate_strategy` at several caps on human labels at once: one outcome per entry of ``stops``
    (in its order), each as if simulated with ``settings.stop_at_labels`` set to it.

    The runs share their rounds until a draw could reach the cap; there each cap's run forks off the shared
    one, so a search over stop points costs about one simulation to the largest cap. Arguments as for
    :func:`simulate_strategy` (whose ``settings.stop_at_labels`` is ignored here).
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy: unknown {strategy!r}; expected one of {', '.join(STRATEGIES)}")
    if (target_error is None) == (max_label_error is None):
        raise ValueError("give exactly one goal: target_error or max_label_error")
    if strategy == "hybrid" and routing is None:
        raise ValueError("routing: hybrid needs the coverage and risk at its threshold")
    n_draws = curve.error.shape[0]
    learns_faster = strategy in ("active_learning", "hybrid") and efficiency is not None
    run = _Simulation(
        strategy=strategy,
        curve=curve,
        costs=costs,
        pool_size=pool_size,
        settings=settings,
        target_error=target_error,
        max_label_error=max_label_error,
        efficiency=np.asarray(efficiency, dtype=float) if learns_faster else np.ones(n_draws),
        routing=routing,
        labels_before=float(labels_before),
    )
    ledger = Ledger(n_draws, pool_size)
    ledger.values["n_train"] = np.full(n_draws, float(labels_before))
    outcomes: dict[float, Outcome] = {}
    pending = sorted(set(float(stop) for stop in stops))
    per_round = float(settings.batch_size + settings.validation_size)
    while pending and len(ledger.history) < MAX_ROUNDS:
        while pending and bool(np.any(ledger["human_items"] + per_round >= pending[0])):
            cap = pending.pop(0)
            outcomes[cap] = run.finish(ledger.fork(), cap)
        if pending and not run.step(ledger, pending[-1]):
            break
    for cap in pending:
        outcomes[cap] = run.finish(ledger, cap)
    return [outcomes[float(stop)] for stop in stops]


@dataclass(frozen=True)
class _Simulation:
    """One strategy's rounds: what stays fixed while the ledger moves."""

    strategy: str
    curve: CurveDraws
    costs: RateCard
    pool_size: int
    settings: Settings
    target_error: float | None
    max_label_error: float | None
    efficiency: Array
    routing: Routing | None
    labels_before: float

    def effective_labels(self, ledger: Ledger) -> Array:
        """Random labels worth the training set: the pilot's count once, the chosen ones ``eff`` times."""
        n_train = ledger["n_train"]
        return np.maximum(self.labels_before + (n_train - self.labels_before) * self.efficiency, 1.0)

    def model_error(self, ledger: Ledger) -> Array:
        return self.curve.at(self.effective_labels(ledger))

    def step(self, ledger: Ledger, cap: float) -> bool:
        """Run one round with at most ``cap`` human labels in all; False (and nothing done) when no draw is
        still working."""
        human_so_far = ledger["human_items"]
        has_model = ledger["n_train"] > 0
        n_effective = self.effective_labels(ledger)
        # the model's error this round (1 before there is a model); labeling a dataset by hand needs none
        error = np.ones(0)
        if self.max_label_error is None or self.strategy in ("prelabel", "hybrid"):
            error = np.where(has_model, self.curve.at(n_effective), 1.0)
        if self.max_label_error is not None:
            active = (ledger.remaining > 0) & ~ledger.done
        else:
            ledger.done |= has_model & (error <= float(self.target_error or 0.0))
            active = ~ledger.done & (ledger.remaining > 0) & (human_so_far < cap)
        if not active.any():
            return False
        if self.strategy == "hybrid" and self.routing is not None:
            _hybrid_round(
                ledger, self.routing, self.costs, self.settings, error, has_model, active, n_effective
            )
        else:
            room = np.maximum(np.minimum(cap - human_so_far, ledger.remaining), 0.0)
            n_batch = np.minimum(float(self.settings.batch_size), room)
            if self.strategy == "prelabel":
                ledger.human(
                    np.where(has_model, 0.0, n_batch), np.where(has_model, n_batch, 0.0), error, active
                )
            else:
                ledger.human(n_batch, None, None, active)
            if self.max_label_error is not None and self.strategy == "active_learning":
                # MCAL: at the cap the model labels the rest, at its error on the (easier) remaining items
                switch = active & (ledger["human_items"] >= cap) & (ledger.remaining > 0)
                rest = np.where(switch, ledger.remaining, 0.0)
                ledger.add("auto_accepted", rest, switch)
                ledger.add("label_errors", rest * self.model_error(ledger), switch)
                ledger.take(rest, switch)
        ledger.end_round(active)
        return True

    def finish(self, ledger: Ledger, cap: float) -> Outcome:
        """Run ``ledger`` to its end with at most ``cap`` human labels, and sum up."""
        while len(ledger.history) < MAX_ROUNDS and self.step(ledger, cap):
            pass
        n_draws = ledger.n_draws
        final_error = self.model_error(ledger)
        if self.max_label_error is not None:
            label_error = ledger["label_errors"] / self.pool_size
            goal_met = (ledger.remaining <= 0) & (label_error <= self.max_label_error)
        else:
            label_error = np.zeros(n_draws)
            goal_met = final_error <= float(self.target_error or 0.0)
        v = ledger.values
        settings = replace(self.settings, stop_at_labels=cap)
        days = v["human_items"] / settings.labels_per_day + v["rounds"] * settings.turnaround_days
        return Outcome(
            strategy=self.strategy,
            settings=settings,
            cost=cost_of(ledger.values, self.costs),
            human_labels=v["human_items"],
            fresh_labels=v["fresh_labels"],
            reviews=v["reviews"],
            corrections=v["corrections"],
            auto_accepted=v["auto_accepted"],
            audits=v["audits"],
            rounds=v["rounds"],
            days=days,
            final_error=final_error,
            label_error=label_error,
            goal_met=np.asarray(goal_met),
            history=tuple(ledger.history),
            costs=self.costs,
        )


def _hybrid_round(
    ledger: Ledger,
    routing: Routing,
    costs: RateCard,
    settings: Settings,
    error: Array,
    has_model: npt.NDArray[np.bool_],
    active: npt.NDArray[np.bool_],
    n_effective: Array,
) -> None:
    """One round of the hybrid policy (before the first model: a random batch labeled from scratch).

    With a model: a random validation sample of the remaining items is checked by humans first (it
    re-certifies the threshold), then the confident items are auto-accepted, then the least confident of the
    rest go to humans as pre-labels.
    """
    n_draws = ledger.n_draws
    pool = float(ledger.pool_size)
    coverage, risk = routing.per_draw(n_effective)
    coverage = np.where(has_model, coverage, 0.0)
    validation = np.where(has_model, np.minimum(float(settings.validation_size), ledger.remaining), 0.0)
    ledger.human(np.zeros(n_draws), validation, error, active)
    ledger.add("random_items", validation, active)
    # the confident set grows with the model; what it already took is gone from the pool, and so is its
    # share of the items humans took at random (the first batch, the validation samples)
    confident = coverage * (pool - ledger["random_items"])
    accept = np.clip(confident - ledger["auto_accepted"], 0.0, ledger.remaining)
    audited = accept * costs.audit_rate
    ledger.add("auto_accepted", accept, active)
    ledger.add("audits", audited, active)
    ledger.add("label_errors", (accept - audited) * risk, active)
    ledger.add("n_train", audited, active)
    ledger.take(accept, active)
    # the items below the threshold carry the rest of the model's errors (mass balance)
    below = np.clip((error - coverage * risk) / np.maximum(1.0 - coverage, 1e-9), error, 1.0)
    n_batch = np.minimum(float(settings.batch_size), ledger.remaining)
    first = np.where(has_model, 0.0, n_batch)
    ledger.human(first, np.where(has_model, n_batch, 0.0), below, active)
    ledger.add("random_items", first, active)


def median_path(
    outcome: Outcome, fields: tuple[str, ...] = ("human_items", "cost", "remaining")
) -> list[Any]:
    """Round-by-round medians over draws of the cumulative quantities (the median path's schedule), up to
    the median number of rounds (later rows would only show the draws that run longer)."""
    n_rounds = int(np.ceil(np.median(outcome.rounds)))
    records = ({"cost": cost_of(r, outcome.costs)} | r for r in outcome.history[:n_rounds])
    return [{name: float(np.median(record[name])) for name in fields} for record in records]
