"""Monte Carlo simulation of labeling strategies, vectorised over draws.

Each draw is one possible reality: a learning curve (the error of a model trained on n random labels), and for
hybrid routing the coverage and risk at the confidence threshold as the model learns. A strategy runs round
by round with fixed settings (batch size, threshold, a cap on human labels); every quantity is an array with
one entry per draw. Hybrid routing loops over rounds (what humans get depends on what the draw's model
accepted); the other strategies give every working draw the same batch, so all their rounds are computed at
once, as arrays of draws by rounds. The planner draws the inputs, searches the settings and summarises the
outcomes; this module knows nothing of requests or schemas.

Strategies (SPEC 2):

- ``manual``: humans label random items from scratch.
- ``prelabel``: random items; from the second round on the current model pre-labels them, and humans review
  (right) or correct (wrong) them at the model's average error.
- ``active_learning``: humans label the items the model is least sure of; the model learns as random labeling
  would with ``efficiency`` times the labels. For a labeled dataset, human work stops at the cap and the model
  labels the rest (MCAL).
- ``hybrid``: each round the items at or above the threshold form a lot to auto-accept. For a labeled dataset
  the lot is acceptance-sampled as the policy does (:mod:`simulators.acceptance`): an audit sample sized for
  the lot's share of the error budget at the draw's risk (at least an ``audit_rate`` share), its wrong items
  drawn (binomial), and the lot delivered when the bound on the wrong items left fits; a rejected lot
  delivers its audited items only, and the rest of it is audited again with the next round's lot (the policy
  also raises its threshold a little; the forecast keeps it). Then the
  ``batch_size`` least confident of the rest go to humans as pre-labels. Routed items are the hard ones: their
  error is that of the items below the threshold, from a mass balance of the calibration forecast; they teach
  the model at ``efficiency``, and grow the confident set at half a random label's worth.

Goals: a target model error (stop when the model reaches it, or at the cap: the goal is met if it was
reached), or a labeled dataset (run until every pool item is labeled: the goal is met if the share of the pool
left wrong is at most ``max_label_error``).
"""

from __future__ import annotations

import copy
import functools
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import ClassVar, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt
from scipy import special

from annoplan.simulators.acceptance import error_budget, planning_rate_unchecked
from annoplan.simulators.costs import RateCard
from annoplan.simulators.draws import CurveDraws
from annoplan.simulators.volumes import VOLUME_FIELDS, Volumes

Array = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]

#: rounds after which a simulation stops whatever its state (a plan with more rounds is not a plan)
MAX_ROUNDS = 2000
#: draws x rounds handled at once when all rounds are computed together (their temporaries stay small)
BLOCK_LOOKUPS = 2**20
#: the round a draw reaches a metric goal in when it never does (past any simulation)
NEVER = MAX_ROUNDS + 1
#: hybrid: what a routed label is worth to the confident set (coverage and risk at the threshold), against a
#: random label's 1. Routed items are the least confident: they sharpen the model's boundary but leave it
#: less sure elsewhere, so the share it auto-accepts grows more slowly than random labels would make it grow
#: (replays: a pool's coverage stalled at 40% while 2,000 routed labels came in). The plan backtest's cost
#: error falls from 10.6% to 6.2% at 0.5 (0.25 and 0: the label-error bar fails; 0.75: 7.3%).
ROUTED_SELECTION_WEIGHT = 0.5


class Routing(Protocol):
    """At the confidence threshold, per draw: coverage (share of items at or above it) and risk (error
    among them) of a model trained on n labels."""

    def per_draw(self, n_labels: Array) -> tuple[Array, Array]:
        """Each draw at its own size: ``n_labels`` (n_draws,) -> (coverage, risk), shares (n_draws,)."""
        ...

    def error_concentration(self, q: Array) -> Array:
        """Share of the errors below the threshold held by its least confident share ``q`` of items
        (``q`` itself when errors spread evenly)."""
        ...

    @property
    def predicted_ratio(self) -> float:
        """The model's predicted error among auto-accepted items, mean(1 - confidence), over their real
        error: the policy sizes a lot's audit from the predicted error (and the last audit's finding)."""
        ...


class RoutingRows(Protocol):
    """The routing of the rows of a stacked hybrid run (:func:`simulate_settings`): row i is draw ``draw[i]``
    of the setting ``setting[i]``, with that setting's :class:`Routing`. The methods are those of a
    :class:`Routing`, row by row, with the very numbers each setting's routing gives its draw."""

    def per_draw(self, n_labels: Array) -> tuple[Array, Array]:
        """Each row at its own size: ``n_labels`` (n_rows,) -> (coverage, risk), shares (n_rows,)."""
        ...

    def error_concentration(self, q: Array) -> Array:
        """Each row's :meth:`Routing.error_concentration` at its own ``q`` (n_rows,)."""
        ...

    @property
    def predicted_ratio(self) -> Array:
        """Each row's :attr:`Routing.predicted_ratio` (n_rows,)."""
        ...

    def keep(self, rows: IntArray) -> RoutingRows:
        """The routing of the rows ``rows`` (indices, ascending) only."""
        ...


@runtime_checkable
class StackableRouting(Protocol):
    """A :class:`Routing` that stacks its kind's rows itself (faster than asking each setting's routing in
    turn, as :func:`stack_routings` does otherwise)."""

    def stack_rows(
        self, routings: Sequence[Routing], setting: IntArray, draw: IntArray
    ) -> RoutingRows | None:
        """The rows (``setting[i]``, ``draw[i]``) of ``routings``; None when they are not all of its kind."""
        ...


def stack_routings(
    routings: Sequence[Routing], setting: IntArray, draw: IntArray, n_draws: int
) -> RoutingRows:
    """The routing of stacked rows: row i is draw ``draw[i]`` of ``routings[setting[i]]`` (rows ordered by
    setting). Routings that stack themselves (:class:`StackableRouting`) do; others are asked in turn."""
    first = routings[0]
    if isinstance(first, StackableRouting):
        rows = first.stack_rows(routings, setting, draw)
        if rows is not None:
            return rows
    return _EachRouting(tuple(routings), setting, draw, n_draws)


@dataclass(frozen=True)
class _EachRouting:
    """:class:`RoutingRows` of any routings: each setting's routing is asked at all its draws (the rows' own
    values in place, 1 elsewhere) and keeps the rows' answers. Exact for routings that answer each draw
    from its own value only, as :class:`Routing` says they do."""

    routings: tuple[Routing, ...]
    setting: IntArray
    draw: IntArray
    n_draws: int

    @property
    def predicted_ratio(self) -> Array:
        return np.array([float(r.predicted_ratio) for r in self.routings])[self.setting]

    def _spread(self, values: Array, rows: BoolArray) -> Array:
        full = np.ones(self.n_draws)
        full[self.draw[rows]] = values[rows]
        return full

    def per_draw(self, n_labels: Array) -> tuple[Array, Array]:
        coverage, risk = np.empty(n_labels.shape), np.empty(n_labels.shape)
        for s in np.unique(self.setting):
            rows = self.setting == s
            every = self.routings[s].per_draw(self._spread(n_labels, rows))
            coverage[rows], risk[rows] = every[0][self.draw[rows]], every[1][self.draw[rows]]
        return coverage, risk

    def error_concentration(self, q: Array) -> Array:
        out = np.empty(q.shape)
        for s in np.unique(self.setting):
            rows = self.setting == s
            out[rows] = self.routings[s].error_concentration(self._spread(q, rows))[self.draw[rows]]
        return out

    def keep(self, rows: IntArray) -> _EachRouting:
        return replace(self, setting=self.setting[rows], draw=self.draw[rows])


class _RoundRouting(Protocol):
    """What a hybrid round asks of its routing: a :class:`Routing` (one setting's draws) or
    :class:`RoutingRows` (stacked rows)."""

    def per_draw(self, n_labels: Array) -> tuple[Array, Array]: ...

    def error_concentration(self, q: Array) -> Array: ...

    @property
    def predicted_ratio(self) -> float | Array: ...


@dataclass(frozen=True)
class _DrawNoise:
    """The sampling noise of stacked rows: each call draws one value per draw from ``generator``, as each
    setting's own generator would, and gives row i the value of its draw ``draw[i]`` (settings running in
    lockstep from the same seed draw the same values)."""

    generator: np.random.Generator
    draw: IntArray
    n_draws: int

    def standard_normal(self, shape: tuple[int, ...]) -> Array:
        assert shape == self.draw.shape
        return self.generator.standard_normal(self.n_draws).take(self.draw)


#: the sampling noise of a hybrid round: a generator (one value per draw), or one per stacked row
_Noise = np.random.Generator | _DrawNoise


@dataclass(frozen=True)
class RunSettings:
    """Fixed settings of one simulated strategy."""

    batch_size: int
    stop_at_labels: float = np.inf  #: cap on human labels (a budget, or MCAL's switch to machine labels)
    labels_per_day: float = 1000.0  #: human items handled per day
    turnaround_days: float = 1.0  #: days each round adds (retraining, hand-over)
    delta: float = 0.05  #: hybrid with a labeled-dataset goal: the probability the lot audits may miss it
    confidence_threshold: float | None = None  #: hybrid: the threshold ``routing`` was drawn at (a record)


#: the quantities a :class:`Ledger` adds up per draw
LEDGER_FIELDS: tuple[str, ...] = (
    *VOLUME_FIELDS,
    "n_train",
    "label_errors",
    "human_items",
    "random_items",
    "lots",
    "bound_spent",
    "lot_errors",
)


@dataclass
class Ledger:
    """Cumulative work and state per draw (all arrays of shape (n_draws,))."""

    n_draws: int
    pool_size: int
    fields: tuple[str, ...] = LEDGER_FIELDS
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

    def add(self, name: str, amount: Array | float, active: BoolArray | None) -> None:
        """Add ``amount`` to field ``name`` of the ``active`` draws (None: every draw)."""
        # a new array, not in place: the history keeps every round's values (amounts are finite)
        self.values[name] = self.values[name] + (amount if active is None else amount * active)

    def take(self, amount: Array, active: BoolArray | None) -> None:
        self.remaining = self.remaining - (amount if active is None else amount * active)

    def human(
        self, fresh: Array, prelabeled: Array | None, error: Array | None, active: BoolArray | None
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

    def end_round(self, active: BoolArray | None) -> None:
        self.add("rounds", 1.0, active)
        self.history.append({"remaining": self.remaining} | self.values)


@dataclass
class _RowLedger(Ledger):
    """The ledger of the live rows of a stacked hybrid run: every row works this round (``active`` is None),
    no history is kept, so amounts are added in place (the same sums as :class:`Ledger` makes)."""

    def add(self, name: str, amount: Array | float, active: BoolArray | None) -> None:
        assert active is None
        self.values[name] += amount

    def take(self, amount: Array, active: BoolArray | None) -> None:
        assert active is None
        self.remaining -= amount

    def end_round(self, active: BoolArray | None) -> None:
        self.add("rounds", 1.0, active)

    def keep(self, rows: IntArray) -> _RowLedger:
        """The ledger of the rows ``rows`` only."""
        kept = copy.copy(self)
        kept.n_draws, kept.values = rows.size, {name: value.take(rows) for name, value in self.values.items()}
        kept.remaining, kept.done = self.remaining.take(rows), self.done.take(rows)
        return kept


@dataclass(frozen=True)
class Outcome(Volumes[Array]):
    """What one strategy with fixed settings delivers, per draw (arrays of shape (n_draws,)): its volumes of
    work (:class:`simulators.volumes.Volumes`) and what they cost and deliver.

    Counts are items; ``cost`` is in the rate card's currency; ``days`` calendar days; ``final_error`` the
    model's error when human work ends; ``label_error`` the share of the pool left wrong (labeled dataset).
    ``history_blocks(step)`` gives the cumulative quantities after each round by ledger field and
    ``remaining``, ``step`` rounds at a time up to the longest draw's last round: arrays of shape (rounds,
    n_draws), or (rounds, 1) where every draw has the same, computed when asked (only the median path's
    schedule and the burn-up band need them, block by block: a plan's rounds x draws never sit in memory
    at once); :meth:`history` is all of them at once. ``costs`` is the rate card the cost was computed with.
    """

    strategy: str
    settings: RunSettings
    cost: Array
    human_labels: Array
    days: Array
    final_error: Array
    label_error: Array
    goal_met: npt.NDArray[np.bool_]
    history_blocks: Callable[[int], Iterator[dict[str, Array]]] = field(repr=False)
    costs: RateCard = field(repr=False)

    def history(self) -> dict[str, Array]:
        """Every round's cumulative quantities at once (see the class docstring)."""
        blocks = list(self.history_blocks(MAX_ROUNDS))
        return (
            {name: np.concatenate([block[name] for block in blocks]) for name in blocks[0]} if blocks else {}
        )


def simulate_strategy(
    strategy: str | LabelingStrategy,
    curve: CurveDraws,
    costs: RateCard,
    pool_size: int,
    settings: RunSettings,
    *,
    target_error: float | None = None,
    max_label_error: float | None = None,
    efficiency: Array | None = None,
    routing: Routing | None = None,
    labels_before: float = 0.0,
    noise: np.random.Generator | None = None,
) -> Outcome:
    """Simulate one strategy with fixed settings over every draw.

    Parameters
    ----------
    strategy : str or LabelingStrategy
        A key of :data:`LABELING_STRATEGIES` ("manual", "prelabel", "active_learning", "hybrid"), or one.
    curve : CurveDraws
        Error of a model trained on n random labels, per draw.
    costs : RateCard
        Unit prices (currency units per item; per round for ``round_overhead``).
    pool_size : int
        Items to label (labeled dataset) or available for labeling (model metric).
    settings : RunSettings
    target_error : float, optional
        Model-metric goal: the error the model must reach. Exactly one of ``target_error`` and
        ``max_label_error`` is given.
    max_label_error : float, optional
        Labeled-dataset goal: the largest share of the pool left wrong.
    efficiency : array (n_draws,), optional
        ``active_learning`` and ``hybrid``: learning with n uncertainty-chosen labels equals random learning
        with ``efficiency * n`` (default 1). Hybrid's random items (its first batch)
        count once.
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
        noise=noise,
    )[0]


def simulate_stops(
    strategy: str | LabelingStrategy,
    curve: CurveDraws,
    costs: RateCard,
    pool_size: int,
    settings: RunSettings,
    stops: Sequence[float],
    *,
    target_error: float | None = None,
    max_label_error: float | None = None,
    efficiency: Array | None = None,
    routing: Routing | None = None,
    labels_before: float = 0.0,
    noise: np.random.Generator | None = None,
) -> list[Outcome]:
    """:func:`simulate_strategy` at several caps on human labels at once: one outcome per entry of ``stops``
    (in its order), each as if simulated with ``settings.stop_at_labels`` set to it.

    Manual labeling, pre-labeling and active learning are computed all rounds at once (their schedule of
    human labels is known before they run: :meth:`_Simulation.scheduled`). Hybrid routing runs round by
    round; its runs share their rounds until a draw could reach the cap, where each cap's run forks off the
    shared one, so a search over stop points costs about one simulation to the largest cap. Arguments as for
    :func:`simulate_strategy` (whose ``settings.stop_at_labels`` is ignored here).
    """
    run = _simulation(
        labeling_strategy(strategy),
        curve,
        costs,
        pool_size,
        settings,
        routing,
        target_error=target_error,
        max_label_error=max_label_error,
        efficiency=efficiency,
        labels_before=labels_before,
        noise=noise,
    )
    return run.strategy.simulate(run, [float(stop) for stop in stops])


#: a setting to simulate: its settings, its routing (hybrid; else None) and its caps on human labels
Setting = tuple[RunSettings, Routing | None, Sequence[float]]
#: rows (settings x draws) one stacked hybrid run holds at most (:func:`simulate_settings`)
STACK_ROWS = 2**15


def simulate_settings(
    strategy: str | LabelingStrategy,
    curve: CurveDraws,
    costs: RateCard,
    pool_size: int,
    settings: Sequence[Setting],
    *,
    target_error: float | None = None,
    max_label_error: float | None = None,
    efficiency: Array | None = None,
    labels_before: float = 0.0,
    noise: Callable[[], np.random.Generator] | None = None,
    max_rows: int = STACK_ROWS,
) -> Iterator[Outcome]:
    """:func:`simulate_stops` of each setting of ``settings`` in turn, each with a generator of its own,
    ``noise()`` (None: no sampling noise): the outcomes of each setting's stops, setting by setting, with the
    very numbers :func:`simulate_stops` gives.

    Hybrid routing with a single cap runs consecutive settings (same cap and ``delta``, at most ``max_rows``
    draws in all) together: one round of arrays of settings x draws serves them all, and rows that stop
    working leave the arrays. Settings whose generators start alike draw alike while they all run, so the
    stacked run draws each round's noise once for every setting still running. An outcome's
    ``history_blocks`` run its setting again, alone, when first asked (only a plan's chosen settings need
    them): the stacked run keeps no rounds. Several caps fork a run whose generator the forks share
    (:meth:`HybridRouting.simulate`), which lockstep cannot reproduce: such settings, and the other
    strategies, are simulated one by one by :func:`simulate_stops`. Other arguments as for
    :func:`simulate_stops`.
    """
    process = labeling_strategy(strategy)

    def simulation(setting: Setting, generator: np.random.Generator | None) -> _Simulation:
        return _simulation(
            process,
            curve,
            costs,
            pool_size,
            setting[0],
            setting[1],
            target_error=target_error,
            max_label_error=max_label_error,
            efficiency=efficiency,
            labels_before=labels_before,
            noise=generator,
        )

    most = max(1, max_rows // curve.n_draws)
    for group in _stacks(process, settings, most):
        if not _stackable(process, group[0]):
            (alone,) = group
            run = simulation(alone, noise() if noise is not None else None)
            yield from process.simulate(run, [float(stop) for stop in alone[2]])
            continue
        runs = [simulation(setting, None) for setting in group]
        cap = float(group[0][2][0])
        for outcome, (_, _, stops) in zip(_simulate_stacked(runs, cap, noise), group, strict=True):
            yield from [outcome] * len(stops)


def _stackable(process: LabelingStrategy, setting: Setting) -> bool:
    """Whether a setting's run can join a stacked run: hybrid routing with a single cap."""
    return process.routes and len({float(stop) for stop in setting[2]}) == 1


def _stacks(process: LabelingStrategy, settings: Sequence[Setting], most: int) -> Iterator[list[Setting]]:
    """``settings`` in order, in groups to run together: consecutive stackable settings with the same cap
    and ``delta``, at most ``most`` of them; any other setting alone."""
    group: list[Setting] = []
    for entry in settings:
        stackable = _stackable(process, entry)
        if group and not (
            len(group) < most
            and stackable
            and float(entry[2][0]) == float(group[0][2][0])
            and entry[0].delta == group[0][0].delta
        ):
            yield group
            group = []
        if stackable:
            group.append(entry)
        else:
            yield [entry]
    if group:
        yield group


def _simulation(
    process: LabelingStrategy,
    curve: CurveDraws,
    costs: RateCard,
    pool_size: int,
    settings: RunSettings,
    routing: Routing | None,
    *,
    target_error: float | None,
    max_label_error: float | None,
    efficiency: Array | None,
    labels_before: float,
    noise: np.random.Generator | None,
) -> _Simulation:
    """One strategy's fixed inputs, checked (arguments as for :func:`simulate_stops`)."""
    if (target_error is None) == (max_label_error is None):
        raise ValueError("give exactly one goal: target_error or max_label_error")
    if process.routes and routing is None:
        raise ValueError(f"routing: {process.name} needs the coverage and risk at its threshold")
    n_draws = curve.error.shape[0]
    learns_faster = process.selects and efficiency is not None
    return _Simulation(
        strategy=process,
        curve=curve,
        costs=costs,
        pool_size=pool_size,
        settings=settings,
        target_error=target_error,
        max_label_error=max_label_error,
        efficiency=np.asarray(efficiency, dtype=float) if learns_faster else np.ones(n_draws),
        routing=routing,
        labels_before=float(labels_before),
        noise=noise,
    )


#: the labeling strategies the Monte Carlo simulates, by name (each :class:`LabelingStrategy` subclass with a
#: ``name`` registers itself)
LABELING_STRATEGIES: dict[str, type[LabelingStrategy]] = {}


def labeling_strategy(strategy: str | LabelingStrategy) -> LabelingStrategy:
    """The strategy named ``strategy`` (a key of :data:`LABELING_STRATEGIES`), or ``strategy`` itself."""
    if isinstance(strategy, LabelingStrategy):
        return strategy
    if strategy not in LABELING_STRATEGIES:
        names = ", ".join(LABELING_STRATEGIES)
        raise ValueError(f"strategy: unknown {strategy!r}; expected one of {names}")
    return LABELING_STRATEGIES[strategy]()


class LabelingStrategy:
    """A labeling process as the Monte Carlo simulates it (SPEC 2), over every draw at once.

    The base class is manual labeling's schedule: every draw still working gives humans the same batch each
    round, all rounds computed at once (:meth:`_Simulation.scheduled`); subclasses change what humans get
    (pre-labels), how the model learns from what it chose (``selects``), what happens at the cap
    (machine labels), or run round by round (hybrid routing). A subclass with a ``name`` registers in
    :data:`LABELING_STRATEGIES`; each is covered by the contract suite in
    ``tests/simulators/test_labeling_strategies.py``.
    """

    name: ClassVar[str]
    #: learning with n labels it chose equals random learning with ``efficiency`` x n
    selects: ClassVar[bool] = False
    #: it auto-accepts confident items, so it needs the coverage and risk at its threshold (``routing``)
    routes: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            LABELING_STRATEGIES[cls.name] = cls

    def simulate(self, run: _Simulation, caps: list[float]) -> list[Outcome]:
        """One outcome per cap on human labels in ``caps`` (in its order)."""
        return run.scheduled(caps)

    def needs_errors(self, run: _Simulation) -> bool:
        """Whether the model's error before each round must be looked up (a metric goal stops on it)."""
        return run.target_error is not None

    def errors_at(self, run: _Simulation, n_train: Array) -> Array:
        """The model's error after ``n_train`` labels (one entry per round), per draw and round."""
        return run.curve.error_at(np.maximum(n_train, 1.0))

    def prelabeled(self, batch: Array, has_model: npt.NDArray[np.bool_]) -> Array:
        """Of each round's ``batch`` of human items, those that come as model pre-labels."""
        return np.zeros_like(batch)

    def machine_labeled(self, run: _Simulation, human: float, cap: float) -> float:
        """Items the model labels when human work ends at ``human`` items under ``cap``."""
        return 0.0


class ManualLabeling(LabelingStrategy):
    """Humans label random items from scratch."""

    name = "manual"


class PreLabeling(LabelingStrategy):
    """Random items; from the first round with a model on, it pre-labels them and humans review (right) or
    correct (wrong) them at the model's average error."""

    name = "prelabel"

    def needs_errors(self, run: _Simulation) -> bool:
        return True

    def prelabeled(self, batch: Array, has_model: npt.NDArray[np.bool_]) -> Array:
        return np.where(has_model, batch, 0.0)


class ActiveLearning(LabelingStrategy):
    """Humans label the items the model is least sure of; the model learns as random labeling would with
    ``efficiency`` times the labels. For a labeled dataset human work stops at the cap and the model labels
    the rest (MCAL)."""

    name = "active_learning"
    selects = True

    def errors_at(self, run: _Simulation, n_train: Array) -> Array:
        per_draw = np.broadcast_to(n_train, (run.curve.n_draws, n_train.size))
        return run.curve.error_at(run.effective_labels(per_draw))

    def machine_labeled(self, run: _Simulation, human: float, cap: float) -> float:
        if run.max_label_error is not None and human >= cap:
            return float(run.pool_size) - human
        return 0.0


class HybridRouting(LabelingStrategy):
    """Each round the items at or above the threshold form a lot that is audited and auto-accepted, and the
    least confident of the rest go to humans as pre-labels (:func:`_hybrid_round`), round by round."""

    name = "hybrid"
    selects = True
    routes = True

    def simulate(self, run: _Simulation, caps: list[float]) -> list[Outcome]:
        """The runs of every cap share their rounds until a draw could reach the cap, where each cap's run
        forks off the shared one, so a search over stop points costs about one run to the largest cap."""
        n_draws = run.curve.n_draws
        ledger = Ledger(n_draws, run.pool_size)
        ledger.values["n_train"] = np.full(n_draws, run.labels_before)
        outcomes: dict[float, Outcome] = {}
        pending = sorted(set(caps))
        per_round = float(run.settings.batch_size)
        while pending and len(ledger.history) < MAX_ROUNDS:
            while pending and bool(np.any(ledger["human_items"] + per_round >= pending[0])):
                cap = pending.pop(0)
                outcomes[cap] = run.finish(ledger.fork(), cap)
            if pending and not run.step(ledger, pending[-1]):
                break
        for cap in pending:
            outcomes[cap] = run.finish(ledger, cap)
        return [outcomes[cap] for cap in caps]


@dataclass(frozen=True)
class _Simulation:
    """One strategy's rounds: what stays fixed while the work moves."""

    strategy: LabelingStrategy
    curve: CurveDraws
    costs: RateCard
    pool_size: int
    settings: RunSettings
    target_error: float | None
    max_label_error: float | None
    efficiency: Array
    routing: Routing | None
    labels_before: float
    noise: np.random.Generator | None

    def effective_labels(self, n_train: Array, at_random: Array | float = 0.0) -> Array:
        """Random labels worth a training set of ``n_train``: the pilot's and the ``at_random`` ones taken at
        random once, the chosen ones ``eff`` times (``n_train`` per draw, or per draw and round)."""
        efficiency = self.efficiency if n_train.ndim == 1 else self.efficiency[:, None]
        return self._worth(n_train, at_random, efficiency)

    def selection_labels(self, n_train: Array, at_random: Array) -> Array:
        """Random labels worth a confident set of ``n_train`` labels (hybrid): the pilot's and the
        ``at_random`` ones at face value, the routed ones at :data:`ROUTED_SELECTION_WEIGHT`."""
        return self._worth(n_train, at_random, ROUTED_SELECTION_WEIGHT)

    def _worth(self, n_train: Array, at_random: Array | float, weight: Array | float) -> Array:
        """The pilot's labels and ``at_random`` ones at face value, the rest of ``n_train`` at ``weight``."""
        face_value = self.labels_before + at_random
        return np.maximum(face_value + (n_train - face_value) * weight, 1.0)

    def model_error(self, n_train: Array, at_random: Array | float = 0.0) -> Array:
        """Error of each draw's model trained on its ``n_train`` labels, ``at_random`` of them random."""
        return self.curve.at(self.effective_labels(n_train, at_random))

    # -- manual labeling, pre-labeling, active learning: every round at once

    def n_rounds(self, cap: float) -> int:
        """Rounds it takes to give humans ``min(cap, pool_size)`` items (at most MAX_ROUNDS)."""
        items = min(cap, float(self.pool_size))
        return min(MAX_ROUNDS, math.ceil(items / self.settings.batch_size)) if items > 0 else 0

    def scheduled(self, caps: Sequence[float]) -> list[Outcome]:
        """Manual labeling, pre-labeling or active learning with each cap on human labels in ``caps``.

        Every draw still working takes the same batch each round, so the human labels before round k are
        known before the run: ``min(k * batch_size, cap, pool_size)``. Draws differ only in their model's
        error along the way: in when a metric goal stops them, and in what checking pre-labels costs. The
        errors before each round of the longest schedule are looked up at once; shorter ones are prefixes.
        """
        longest = max((self.n_rounds(cap) for cap in caps), default=0)
        errors = None
        reached = np.full(self.curve.n_draws, NEVER)
        if self.strategy.needs_errors(self):
            errors, reached = self.errors_before_rounds(longest)
        return [self._scheduled_outcome(cap, errors, reached) for cap in caps]

    def errors_before_rounds(self, n_rounds: int) -> tuple[Array, npt.NDArray[np.intp]]:
        """The model's error at the start of each of the first ``n_rounds`` rounds (n_draws, n_rounds), 1
        before there is a model, and per draw the first of them that starts with a metric goal reached
        (:data:`NEVER` if none, or without a metric goal). For a metric goal the errors stop once every draw
        has reached it (fewer columns): later rounds are never worked."""
        batch = float(self.settings.batch_size)
        blocks: list[Array] = []
        n_draws = self.curve.n_draws
        # without a metric goal every round is looked up: into one matrix, not blocks joined at the end
        # (which would hold the errors twice)
        errors = np.empty((n_draws, n_rounds)) if self.target_error is None else None
        start, reached = 0, np.full(n_draws, NEVER)
        while start < n_rounds and np.any(reached == NEVER):
            # blocks of at most about a million lookups (their temporaries stay small); for a metric goal,
            # usually reached early, blocks that double from 8 rounds
            size = max(1, BLOCK_LOOKUPS // n_draws)
            stop = min(n_rounds, start + (size if self.target_error is None else min(size, max(8, start))))
            n_train = self.labels_before + np.arange(start, stop, dtype=np.float64) * batch
            block = self.strategy.errors_at(self, n_train)
            block[:, n_train <= 0] = 1.0
            if errors is not None:
                errors[:, start:stop] = block
            else:
                blocks.append(block)
            if self.target_error is not None:
                met = (n_train > 0) & (block <= self.target_error)
                first = np.where(met.any(axis=1), start + met.argmax(axis=1), NEVER)
                reached = np.minimum(reached, first)
            start = stop
        if errors is not None:
            return errors, reached
        return (np.concatenate(blocks, axis=1) if blocks else np.ones((n_draws, 0))), reached

    def _scheduled_outcome(self, cap: float, errors: Array | None, reached: npt.NDArray[np.intp]) -> Outcome:
        pool = float(self.pool_size)
        n_rounds = self.n_rounds(cap)
        n_draws = self.curve.n_draws
        human = np.minimum(np.arange(n_rounds + 1) * float(self.settings.batch_size), min(cap, pool))
        batch = np.diff(human)  # items humans take in each round
        has_model = self.labels_before + human[:-1] > 0
        prelabeled = self.strategy.prelabeled(batch, has_model)
        fresh = batch - prelabeled
        # rounds each draw works: a metric goal stops it at the first round that starts with the goal reached
        stop = np.minimum(reached, n_rounds)
        corrects = errors is not None and bool(prelabeled.any())
        # fewer columns when every draw stops before the last round
        looked_up = min(n_rounds, errors.shape[1]) if errors is not None else 0

        def wrong(draws: slice, rounds: slice) -> Array:
            """Pre-labels each of ``draws`` corrects in each of ``rounds`` (pre-labeling only): the model's
            error times the round's pre-labels, in the rounds the draw works."""
            assert errors is not None
            error = errors[draws, rounds]
            columns = np.arange(looked_up)[rounds]
            if stop.min() < looked_up:
                error = np.where(columns < stop[draws, None], error, 0.0)
            return np.asarray(error * prelabeled[rounds], dtype=np.float64)

        corrections = np.zeros(n_draws)
        if corrects:  # summed over draws a block at a time (the same sums as over the whole matrix)
            rows = max(1, BLOCK_LOOKUPS // max(looked_up, 1))
            for first in range(0, n_draws, rows):
                block = slice(first, first + rows)
                corrections[block] = wrong(block, slice(0, looked_up)).sum(axis=1)
        switch = self.strategy.machine_labeled(self, float(human[-1]), cap)  # MCAL: the model labels the rest
        n_train = self.labels_before + human[stop]
        switch_errors = switch * self.model_error(n_train) if switch > 0 else 0.0

        def cumulative(per_round: Array) -> Array:
            return np.concatenate(([0.0], np.cumsum(per_round)))

        def record(after: npt.NDArray[np.intp], corrections: Array) -> dict[str, Array]:
            """The ledger when draws have worked ``after`` rounds and made ``corrections``, as arrays that
            broadcast together (what every draw shares is computed once)."""
            done = after == n_rounds
            return {
                "n_train": self.labels_before + human[after],
                "fresh_labels": cumulative(fresh)[after],
                "reviews": cumulative(prelabeled)[after] - corrections,
                "corrections": corrections,
                "audits": np.zeros(after.shape),
                "auto_accepted": np.where(done, switch, 0.0),
                "label_errors": np.where(done, switch_errors, 0.0),
                "rounds": after.astype(float),
                "human_items": human[after],
                "random_items": np.zeros(after.shape),
                "remaining": np.where(done, pool - human[-1] - switch, pool - human[after]),
            }

        def history_blocks(step: int) -> Iterator[dict[str, Array]]:
            rows = int(stop.max(initial=0))
            made = np.zeros(n_draws)  # corrections before the block: the cumulative sum goes on from them
            for first in range(0, rows, step):
                last = min(first + step, rows)
                after = np.arange(first + 1, last + 1)[:, None]
                if stop.min() < rows:
                    after = np.minimum(after, stop)
                if not corrects:
                    yield record(after, np.zeros(after.shape))
                    continue
                running = np.cumsum(np.column_stack([made, wrong(slice(None), slice(first, last))]), axis=1)
                made = running[:, -1]
                yield record(after, running[:, 1:].T)

        work = record(stop, corrections).items()
        totals = {name: np.full(n_draws, value) for name, value in work}  # each a new array, per draw
        return self.outcome(cap, totals, totals["remaining"], history_blocks)

    # -- hybrid routing: round by round

    def step(self, ledger: Ledger, cap: float) -> bool:
        """Run one hybrid round with at most ``cap`` human labels in all; False (and nothing done) when no
        draw is still working."""
        assert self.routing is not None  # simulate_stops refuses hybrid without routing
        has_model = ledger["n_train"] > 0
        # the model's error this round (1 before there is a model)
        error = np.where(has_model, self.model_error(ledger["n_train"], ledger["random_items"]), 1.0)
        active = self.working(ledger, has_model, error, cap)
        if not active.any():
            return False
        n_selection = self.selection_labels(ledger["n_train"], ledger["random_items"])
        _hybrid_round(
            ledger,
            self.routing,
            self.costs,
            float(self.settings.batch_size),
            self.settings.delta,
            error,
            has_model,
            active,
            n_selection,
            self.max_label_error,
            self.noise,
        )
        ledger.end_round(active)
        return True

    def working(self, ledger: Ledger, has_model: BoolArray, error: Array, cap: float) -> BoolArray:
        """The draws of ``ledger`` that work this round, with at most ``cap`` human labels in all (a draw
        that reaches a metric goal is marked done); once a draw stops, it never works again."""
        if self.max_label_error is not None:
            return ledger.remaining > 0
        ledger.done |= has_model & (error <= float(self.target_error or 0.0))
        return ~ledger.done & (ledger.remaining > 0) & (ledger["human_items"] < cap)

    def finish(self, ledger: Ledger, cap: float) -> Outcome:
        """Run ``ledger`` to its end with at most ``cap`` human labels, and sum up."""
        while len(ledger.history) < MAX_ROUNDS and self.step(ledger, cap):
            pass
        rows = tuple(ledger.history)
        n_draws = ledger.n_draws

        def history_blocks(step: int) -> Iterator[dict[str, Array]]:
            return _history_blocks(rows, ledger.fields, n_draws, step)

        return self.outcome(cap, ledger.values, ledger.remaining, history_blocks)

    def step_rows(self, live: _LiveRows, cap: float, noise: np.random.Generator | None) -> _LiveRows:
        """:meth:`step` on the live rows of a stacked run: the rows that stop working leave (their ends in
        ``live.ends``), the others run one hybrid round; returns the rows still working."""
        v = live.ledger
        has_model = v["n_train"] > 0
        labels = self._worth(v["n_train"], v["random_items"], live.efficiency)
        error = self.curve.at(labels, live.draw)
        if not has_model.all():
            error = np.where(has_model, error, 1.0)
        active = self.working(v, has_model, error, cap)
        if not active.all():
            live.ends.retire(live, np.flatnonzero(~active))
            rows = np.flatnonzero(active)
            live, has_model, error = live.keep(rows), has_model[rows], error[rows]
            if rows.size == 0:
                return live
        v = live.ledger
        _hybrid_round(
            v,
            live.routing,
            self.costs,
            live.batch_size,
            self.settings.delta,
            error,
            has_model,
            None,
            self.selection_labels(v["n_train"], v["random_items"]),
            self.max_label_error,
            None if noise is None else _DrawNoise(noise, live.draw, self.curve.n_draws),
        )
        v.end_round(None)
        live.ends.record(live)
        return live

    def outcome(
        self,
        cap: float,
        v: dict[str, Array],
        remaining: Array,
        history_blocks: Callable[[int], Iterator[dict[str, Array]]],
    ) -> Outcome:
        """Sum up the work ``v`` (ledger fields per draw) done with at most ``cap`` human labels."""
        final_error = self.model_error(v["n_train"], v["random_items"])
        label_error, goal_met = self.label_error_and_goal(v, remaining, final_error)
        cost = self.costs.total(Volumes.of(v))
        return self.outcome_of(cap, v, cost, final_error, label_error, goal_met, history_blocks)

    def label_error_and_goal(
        self, v: dict[str, Array], remaining: Array, final_error: Array
    ) -> tuple[Array, BoolArray]:
        """The labels' error rate and whether the goal is met, for the work ``v`` that leaves ``remaining``
        items and a model of ``final_error`` (arrays of one shape: per draw, or settings x draws)."""
        if self.max_label_error is not None:
            label_error = v["label_errors"] / self.pool_size
            return label_error, (remaining <= 0) & (label_error <= self.max_label_error)
        return np.zeros(np.shape(final_error)), final_error <= float(self.target_error or 0.0)

    def outcome_of(
        self,
        cap: float,
        v: dict[str, Array],
        cost: Array,
        final_error: Array,
        label_error: Array,
        goal_met: BoolArray,
        history_blocks: Callable[[int], Iterator[dict[str, Array]]],
    ) -> Outcome:
        """The outcome of the work ``v`` (ledger fields per draw) done with at most ``cap`` human labels, from
        its ``cost``, errors and goal (see :meth:`outcome`)."""
        settings = replace(self.settings, stop_at_labels=cap)
        days = v["human_items"] / settings.labels_per_day + v["rounds"] * settings.turnaround_days
        return Outcome(
            strategy=self.strategy.name,
            settings=settings,
            cost=cost,
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
            history_blocks=history_blocks,
            costs=self.costs,
        )


def _history_blocks(
    rows: Sequence[dict[str, Array]], fields: Sequence[str], n_draws: int, step: int
) -> Iterator[dict[str, Array]]:
    """``Outcome.history_blocks`` of a run's ``rows`` (each round's ledger ``fields`` and ``remaining``)."""
    names = [*fields, "remaining"]
    for first in range(0, len(rows), step):
        block = rows[first : first + step]
        yield {name: np.array([row[name] for row in block]).reshape(len(block), n_draws) for name in names}


@dataclass
class _StackEnds:
    """Where the settings of a stacked hybrid run end: per ledger field and ``remaining``, an array
    (n_settings, n_draws) that a row's values fill when it stops working; with ``rows``, every round's
    values of each setting that ran it (its history, as :class:`Ledger` keeps it)."""

    values: dict[str, Array]
    rows: list[list[dict[str, Array]]] | None

    @classmethod
    def start(cls, ledger: Ledger, n_settings: int, n_draws: int, record: bool) -> _StackEnds:
        """The ends of settings still at ``ledger``'s start (rows ordered by setting); ``record``: keep
        every round."""
        columns = {"remaining": ledger.remaining} | ledger.values
        values = {name: value.reshape(n_settings, n_draws).copy() for name, value in columns.items()}
        return cls(values, [[] for _ in range(n_settings)] if record else None)

    def retire(self, live: _LiveRows, rows: IntArray) -> None:
        """The ``rows`` of ``live`` (indices) stop working: their values are their ends."""
        n_draws = self.values["remaining"].shape[1]
        where = live.setting[rows] * n_draws + live.draw[rows]
        self.values["remaining"].reshape(-1)[where] = live.ledger.remaining.take(rows)
        for name, value in live.ledger.values.items():
            self.values[name].reshape(-1)[where] = value.take(rows)

    def record(self, live: _LiveRows) -> None:
        """With ``rows``: the round just run, for each setting that ran it (in new arrays: rows keep them)."""
        if self.rows is None:
            return
        where = (live.setting, live.draw)
        columns = {"remaining": live.ledger.remaining} | live.ledger.values
        for name, value in columns.items():
            self.values[name] = self.values[name].copy()
            self.values[name][where] = value
        for s in np.unique(live.setting):
            self.rows[s].append({name: value[s] for name, value in self.values.items()})


@dataclass
class _LiveRows:
    """The rows of a stacked hybrid run still working: row i is draw ``draw[i]`` of setting ``setting[i]``
    (ascending), its ledger row, batch size, active-learning efficiency and routing; ``ends`` collects the
    rows that stopped."""

    ledger: _RowLedger
    setting: IntArray
    draw: IntArray
    batch_size: Array
    efficiency: Array
    routing: RoutingRows
    ends: _StackEnds

    @classmethod
    def start(cls, runs: Sequence[_Simulation], record: bool) -> _LiveRows:
        """Every draw of every run of ``runs`` (settings differing in batch size and routing only), at the
        start."""
        first = runs[0]
        n_draws, n_runs = first.curve.n_draws, len(runs)
        setting = np.repeat(np.arange(n_runs, dtype=np.intp), n_draws)
        draw = np.tile(np.arange(n_draws, dtype=np.intp), n_runs)
        ledger = _RowLedger(setting.size, first.pool_size)
        ledger.values["n_train"] = np.full(setting.size, first.labels_before)
        routings = [run.routing for run in runs if run.routing is not None]
        assert len(routings) == n_runs  # hybrid runs have routing
        return cls(
            ledger,
            setting,
            draw,
            np.array([float(run.settings.batch_size) for run in runs]).take(setting),
            first.efficiency.take(draw),
            stack_routings(routings, setting, draw, n_draws),
            _StackEnds.start(ledger, n_runs, n_draws, record),
        )

    def keep(self, rows: IntArray) -> _LiveRows:
        """The rows ``rows`` (indices, ascending) only."""
        return _LiveRows(
            self.ledger.keep(rows),
            self.setting.take(rows),
            self.draw.take(rows),
            self.batch_size.take(rows),
            self.efficiency.take(rows),
            self.routing.keep(rows),
            self.ends,
        )


def _run_stacked(
    runs: Sequence[_Simulation], cap: float, noise: np.random.Generator | None, record: bool
) -> _StackEnds:
    """Run hybrid settings ``runs`` together to their ends with at most ``cap`` human labels each, sharing
    the generator ``noise``; ``record``: keep each setting's rounds."""
    live = _LiveRows.start(runs, record)
    for _ in range(MAX_ROUNDS):
        live = runs[0].step_rows(live, cap, noise)
        if live.setting.size == 0:
            return live.ends
    live.ends.retire(live, np.arange(live.setting.size))
    return live.ends


def _simulate_stacked(
    runs: Sequence[_Simulation], cap: float, noise: Callable[[], np.random.Generator] | None
) -> list[Outcome]:
    """The outcomes of hybrid settings ``runs`` with at most ``cap`` human labels, run together (see
    :func:`simulate_settings`); each outcome's history runs its setting again when first asked."""
    ends = _run_stacked(runs, cap, None if noise is None else noise(), record=False)
    return _stacked_outcomes(runs, cap, ends, noise)


def _stacked_outcomes(
    runs: Sequence[_Simulation],
    cap: float,
    ends: _StackEnds,
    noise: Callable[[], np.random.Generator] | None,
) -> list[Outcome]:
    """What :meth:`_Simulation.outcome` makes of each setting's end, for all the stacked settings at once:
    the model errors, goals and costs on arrays of settings x draws (the runs share their curve, rate card,
    pool, goal, efficiency and start labels), each outcome given its setting's row."""
    first = runs[0]
    v = {name: value for name, value in ends.values.items() if name != "remaining"}
    remaining = ends.values["remaining"]
    labels = first._worth(v["n_train"], v["random_items"], first.efficiency[None, :])
    n_settings, n_draws = labels.shape
    draws = np.tile(np.arange(n_draws, dtype=np.intp), n_settings)
    final_error = first.curve.at(labels.reshape(-1), draws).reshape(n_settings, n_draws)
    label_error, goal_met = first.label_error_and_goal(v, remaining, final_error)
    cost = first.costs.total(Volumes.of(v))
    return [
        run.outcome_of(
            cap,
            {name: value[i] for name, value in v.items()},
            cost[i],
            final_error[i],
            label_error[i],
            goal_met[i],
            _rerun_history(run, cap, noise),
        )
        for i, run in enumerate(runs)
    ]


def _rerun_history(
    run: _Simulation, cap: float, noise: Callable[[], np.random.Generator] | None
) -> Callable[[int], Iterator[dict[str, Array]]]:
    """``Outcome.history_blocks`` of a stacked run's setting: the setting run again alone, its rounds kept,
    when first asked (then kept with the outcome)."""

    @functools.cache
    def rows() -> tuple[dict[str, Array], ...]:
        ends = _run_stacked([run], cap, None if noise is None else noise(), record=True)
        assert ends.rows is not None
        return tuple(ends.rows[0])

    def history_blocks(step: int) -> Iterator[dict[str, Array]]:
        return _history_blocks(rows(), LEDGER_FIELDS, run.curve.n_draws, step)

    return history_blocks


def _hybrid_round(
    ledger: Ledger,
    routing: _RoundRouting,
    costs: RateCard,
    batch_size: float | Array,
    delta: float,
    error: Array,
    has_model: BoolArray,
    active: BoolArray | None,
    n_selection: Array,
    max_label_error: float | None,
    noise: _Noise | None = None,
) -> None:
    """One round of the hybrid policy (before the first model: a random batch labeled from scratch).

    With a model: the confident items not yet taken form a lot, audited and delivered as the policy does
    (:func:`_deliver_lots`), then the least confident of the rest go to humans as pre-labels. The model's
    ``error`` comes from the learning curve; coverage and risk at the threshold from ``routing`` at
    ``n_selection`` labels (see :data:`ROUTED_SELECTION_WEIGHT`). ``batch_size`` (items per round, or per
    draw) and ``delta`` are the run's settings; only the ``active`` draws work (None: every draw).
    """
    pool = float(ledger.pool_size)
    coverage, risk = routing.per_draw(n_selection)
    if not has_model.all():
        coverage = np.where(has_model, coverage, 0.0)
    # the confident set grows with the model; what it already took is gone from the pool, and so is its
    # share of the items humans took at random (the first batch)
    confident = coverage * (pool - ledger["random_items"])
    lot = np.floor(np.clip(confident - ledger["auto_accepted"], 0.0, ledger.remaining))
    lot_risk = crossing_risk(confident, risk, lot, ledger["lot_errors"])
    delivered = _deliver_lots(
        ledger, lot, lot_risk, costs, delta, active, max_label_error, noise, routing.predicted_ratio
    )
    # the errors that left the confident set: those of the items delivered (a rejected lot's unaudited items
    # stay in the pool with theirs, and form the next lot again)
    ledger.add("lot_errors", delivered * lot_risk, active)
    # the items below the threshold carry the rest of the model's errors (mass balance); humans get the least
    # confident of them, in order: the batch holds the errors of its span of the items below the threshold
    below = np.clip((error - coverage * risk) / np.maximum(1.0 - coverage, 1e-9), error, 1.0)
    n_batch = np.minimum(batch_size, ledger.remaining)
    routed = ledger["human_items"] - ledger["random_items"]
    span = np.maximum(routed + ledger.remaining, 1.0)
    lower, upper = routed / span, (routed + n_batch) / span
    errors = routing.error_concentration(upper) - routing.error_concentration(lower)
    batch_error = np.clip(below * errors / np.maximum(upper - lower, 1e-12), 0.0, 1.0)
    first = np.where(has_model, 0.0, n_batch)
    routed_now = np.where(has_model, n_batch, 0.0)
    ledger.human(first, routed_now, sampled_rate(noise, routed_now, batch_error), active)
    ledger.add("random_items", first, active)


def crossing_risk(confident: Array, risk: Array, lot: Array, lot_errors: Array) -> Array:
    """Error rate of a lot of ``lot`` items newly crossing the threshold, per draw: by mass balance, the
    errors of the ``confident`` items at the confident set's ``risk`` less the ``lot_errors`` the lots before
    carried, over the lot; at least ``risk`` (the crossing items are the least confident of the set), at
    most 1. The first lot is the whole confident set: its rate is ``risk``."""
    return np.clip((confident * risk - lot_errors) / np.maximum(lot, 1.0), risk, 1.0)


def _deliver_lots(
    ledger: Ledger,
    lot: Array,
    risk: Array,
    costs: RateCard,
    delta: float,
    active: BoolArray | None,
    max_label_error: float | None,
    noise: _Noise | None,
    predicted_ratio: float | Array = 1.0,
) -> Array:
    """Audit each draw's lot of ``lot`` items (whole numbers) at error ``risk`` and deliver it, as the
    hybrid policy does: without a label-error goal a random ``audit_rate`` share is audited and the lot
    delivered; with one, the lot is acceptance-sampled against the draw's error budget
    (:mod:`simulators.acceptance`), its audit sized for ``predicted_ratio`` times the lot's error as the
    policy sizes it from the model's own predicted error. Returns the items delivered per draw (the lot, or
    its audited items when the audit rejects it)."""
    if max_label_error is None:
        audited = lot * costs.audit_rate
        delivered, errors_left = lot, (lot - audited) * risk
    else:
        formed = lot >= 1.0
        lots = ledger["lots"] + formed
        # lot_delta and lot_allowance of simulators.acceptance, without their input checks (hot loop)
        bound = _LotBound(lot, np.minimum(lots, MAX_ROUNDS + 1).astype(np.intp), delta)
        budget = error_budget(max_label_error, ledger.pool_size) - ledger["bound_spent"]
        allowance = np.floor(np.maximum(budget, 0.0) * lot / np.maximum(ledger.remaining, 1.0))
        # the policy sizes the audit for the lot's predicted error (mean 1 - confidence), or for what the last
        # audit found (about the real error) where that is more; the first lot has no audit before it
        predicted = np.clip(risk * predicted_ratio, 0.0, 1.0)
        expected = np.where(ledger["lots"] > 0, np.maximum(predicted, risk), predicted)
        audited = np.clip(bound.audit_size(expected, allowance), np.ceil(costs.audit_rate * lot), lot)
        found = np.round(audited * sampled_rate(noise, audited, risk))
        left = np.ceil(bound.wrong_left(found / np.maximum(audited, 1.0), audited))
        passes = formed & (left <= allowance)
        delivered = np.where(passes, lot, audited)
        errors_left = np.where(passes, (lot - audited) * risk, 0.0)
        ledger.add("lots", formed.astype(float), active)
        ledger.add("bound_spent", np.where(passes, left, 0.0), active)
    ledger.add("auto_accepted", delivered, active)
    ledger.add("audits", audited, active)
    ledger.add("label_errors", errors_left, active)
    ledger.add("n_train", audited, active)
    ledger.take(delivered, active)
    return np.asarray(delivered, dtype=np.float64)


#: fixed-point steps of the forecast's audit size (the last two are averaged: the steps alternate)
AUDIT_SIZE_STEPS = 4


@functools.cache
def _lot_levels(delta: float) -> tuple[Array, Array, Array]:
    """Per lot number j (index j, 0 unused): the lot's level ``delta * 6 / (pi^2 j^2)``
    (:func:`simulators.acceptance.lot_delta`), its normal quantile and ``ln(1 / level)``."""
    level = delta * 6.0 / (math.pi**2 * np.maximum(np.arange(MAX_ROUNDS + 2), 1.0) ** 2)
    return level, np.asarray(special.ndtri(1.0 - level)), np.log(1.0 / level)


class _LotBound:
    """Approximate upper confidence bound on the wrong labels left in lots of ``lot`` items, the ``j``-th
    lots of their draws (confidence ``1 - lot_delta(j, delta)``), after auditing ``n`` of them, finding a
    share ``rate`` wrong and fixing them: the unaudited items at ``rate``, plus a normal bound on the lot's
    rate with the finite-population correction, plus the exact bound of a sample with no error,
    ``ln(1 / level) / -ln(1 - n / m)``. It stands in for :mod:`simulators.acceptance`'s exact bound and
    audit size, whose bisections per draw and round would cost a plan seconds."""

    def __init__(self, lot: Array, j: npt.NDArray[np.intp], delta: float) -> None:
        _, z, log_level = _lot_levels(delta)
        self.lot, self.z, self.log_level = lot, z.take(j), log_level.take(j)
        self.m = np.maximum(lot, 1.0)

    def wrong_left(self, rate: Array, audited: Array) -> Array:
        m = self.m
        n = np.clip(audited, 1.0, m)
        unseen = 1.0 - n / m
        spread = self.z * np.sqrt(rate * (1.0 - rate) * unseen / n)
        with np.errstate(divide="ignore"):
            clean = self.log_level / -np.log(np.maximum(unseen, 1e-300))
        return np.where(audited >= self.lot, 0.0, (m - n) * rate + m * spread + clean)

    def audit_size(self, expected: Array, allowance: Array) -> Array:
        """Items to audit so that a sample at the ``expected`` error rate, with the policy's headroom
        (:func:`simulators.acceptance.planning_rate` of the previous size), leaves at most ``allowance``
        wrong labels: :meth:`wrong_left` in the audited share ``f`` of the lot, solved for the sample size
        with ``f`` and the headroom fixed, from ``f = 0`` and no headroom (a fixed point, in closed form;
        the last two steps are averaged, as they alternate); the whole lot where no smaller sample does."""
        m = self.m
        spread_unit, clean_unit = m * self.z, m * self.log_level
        variance = expected * (1.0 - expected)
        # the first step: no share audited yet (its factors 1 - f and 1 - f / 2 are 1), no headroom
        sizes = [_sample_size(spread_unit * np.sqrt(variance), clean_unit, allowance - m * expected, m)]
        for _ in range(AUDIT_SIZE_STEPS - 1):
            rate = planning_rate_unchecked(expected, sizes[-1], variance)
            share = sizes[-1] / m
            unseen = 1.0 - share
            spread = spread_unit * np.sqrt(rate * (1.0 - rate) * unseen)
            sizes.append(
                _sample_size(spread, clean_unit * (1.0 - share / 2.0), allowance - m * rate * unseen, m)
            )
        return np.minimum(np.ceil((sizes[-1] + sizes[-2]) / 2.0), self.lot)


def _sample_size(spread: Array, clean: Array, room: Array, m: Array) -> Array:
    """The sample size ``n`` (at most ``m``) whose bound ``spread / sqrt(n) + clean / n`` (wrong labels, in
    :meth:`_LotBound.audit_size`'s terms) fits ``room``: the positive root in ``1 / sqrt(n)``; ``m`` where
    there is no room."""
    root = (np.sqrt(spread**2 + 4.0 * clean * np.maximum(room, 0.0)) - spread) / (2.0 * clean)
    return np.where(room > 0, np.minimum(1.0 / np.maximum(root, 1e-12) ** 2, m), m)


def sampled_rate(noise: _Noise | None, n_items: Array, rate: Array) -> Array:
    """The share of ``n_items`` items found wrong at error ``rate``: the rate itself without ``noise``, else
    a draw of the binomial share (its normal approximation, kept within [0, 1]: a round's count varies by
    about the square root of its expected count)."""
    if noise is None:
        return rate
    spread = np.sqrt(rate * (1.0 - rate) / np.maximum(n_items, 1.0))
    return np.clip(rate + spread * noise.standard_normal(np.shape(rate)), 0.0, 1.0)


def median_path(
    outcome: Outcome, fields: tuple[str, ...] = ("human_items", "cost", "remaining")
) -> list[dict[str, float]]:
    """Round-by-round medians over draws of the cumulative quantities (the median path's schedule), up to
    the median number of rounds (later rows would only show the draws that run longer)."""
    n_rounds = int(np.ceil(np.median(outcome.rounds)))
    step = max(1, BLOCK_LOOKUPS // outcome.cost.size)  # rounds at a time: the temporaries stay small
    path: list[dict[str, float]] = []
    for block in outcome.history_blocks(step):
        if len(path) >= n_rounds:
            break
        rows = {name: value[: n_rounds - len(path)] for name, value in block.items()}
        columns = {"cost": outcome.costs.total(Volumes.of(rows))} | rows
        medians = {name: np.median(columns[name], axis=1) for name in fields}
        path += [{name: float(medians[name][i]) for name in fields} for i in range(len(medians[fields[0]]))]
    return path
