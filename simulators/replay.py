"""Pool-based replay: run a labeling policy for real on a labeled data set and count what it cost.

The data set's true labels play the humans: a fresh label or a correction yields the true label, a
review confirms a right pre-label. A random held-out evaluation set (never labeled, never selected)
measures the model after every round, and its first items serve as the calibration sample
(confidence and correctness of the current model on random held-out items).

Policies
--------
``random``
    Humans label random items (label cost each).
``active_learning``
    Humans label the items a query strategy picks (least confident by default; label cost each).
``prelabel``
    Random items; the current model pre-labels each one a human touches (review cost if right,
    correction cost if wrong). Before any model exists the items are labeled from scratch.
``hybrid``
    Each round, every remaining item whose confidence (max class probability) under the current model is
    at or above the threshold forms a *lot* to auto-accept. With a label-error goal (``max_label_error``,
    ``delta``) the lot is acceptance-sampled (:mod:`simulators.acceptance`): a simple random sample of it is
    audited (audit cost; wrong audited labels are fixed), sized by
    :func:`~simulators.acceptance.audit_sample_size` for the lot's share of the error budget left
    (:func:`~simulators.acceptance.lot_allowance`), an expected error (the lot's mean predicted error,
    1 - confidence, or the share of wrong labels the last lot's audit found where that is more) and the
    lot's confidence level (:func:`~simulators.acceptance.lot_delta`), and at least an ``audit_rate`` share
    of the lot. The lot is delivered when the exact bound on the wrong labels left in it fits its allowance
    (the bound is then spent from the budget); else only its audited items are delivered, the threshold
    rises just above the least confident wrong label the audit found, for the rest of the run, and the rest
    of the lot stays in the pool. The delivered pool then has at most ``max_label_error`` of its items wrong
    with probability at least ``1 - delta``, whatever the model does between rounds. Without a goal, a
    random ``audit_rate`` share of the lot is audited and the lot is delivered. Then the ``batch_size``
    least confident of the rest go to humans as pre-labels (review if right, correction if wrong); the
    model retrains on all human-checked items (audited ones included); until the pool is empty.

In every policy the first round(s), before a model with at least two classes exists, are random
batches labeled from scratch.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
from sklearn.base import clone
from threadpoolctl import ThreadpoolController

from annoplan.simulators._common import (
    Split,
    check_estimator,
    check_warm_start,
    confidence_of,
    default_n_eval,
    predict_confidence,
    predict_items,
    predict_proba,
    predicts_whole_pool,
    split_eval_pool,
)
from annoplan.simulators._validation import (
    check_batch_size,
    check_confidence_threshold,
    check_count,
    check_features_labels,
    check_labeled,
    check_max_labels,
    check_random_state,
    check_share,
)
from annoplan.simulators.acceptance import error_budget, sampling_plan, wrong_left_bound
from annoplan.simulators.costs import RateCard
from annoplan.simulators.errors import SimulatorInputError
from annoplan.simulators.query_strategies import (
    QueryContext,
    QueryStrategy,
    make_strategy,
    top_k,
    with_labeled,
)
from annoplan.simulators.volumes import Volumes

__all__ = [
    "DEFAULT_CALIBRATION_SIZE",
    "POLICIES",
    "ROUTES",
    "ItemOutcomes",
    "ReplayResult",
    "ReplayRound",
    "default_n_eval",
    "replay_pool",
]

FloatArray = npt.NDArray[np.float64]
IndexArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]

ROUTES: tuple[str, ...] = ("unlabeled", "label", "review", "correction", "auto_accepted", "audited")
"""How a pool item ended up labeled; ``ItemOutcomes.route`` holds indices into this tuple."""

DEFAULT_CALIBRATION_SIZE = 200
"""Items of the evaluation set whose confidence and correctness are recorded each round."""


@dataclass(frozen=True)
class ReplayRound(Volumes[int]):
    """State after one round of a replay: its volumes of work (:class:`simulators.volumes.Volumes`, counts
    cumulative since the start) and what they cost and delivered.

    Attributes
    ----------
    round_index : int
        1 for the first round.
    human_labels : int
        Items touched by humans (fresh labels + reviews + corrections; audits not included).
    fresh_labels, reviews, corrections, audits, auto_accepted : int
        Items labeled from scratch, pre-labels reviewed (right), corrected (wrong), auto-accepted
        items audited, items auto-accepted (audited ones included).
    cost : float
        Cost so far, in the rate card's currency units.
    label_errors : int
        Wrong labels left among the accepted items (auto-accepted, not audited, and wrong).
    remaining : int
        Pool items without a label.
    n_train : int
        Items the current model was trained on (human-checked items).
    metric : float or None
        Accuracy of the current model on the evaluation set (None while no model exists).
    n_eval : int
        Evaluation set size (items).
    confidence_threshold : float or None
        ``hybrid``: the auto-accept threshold in force this round (after its re-certification).
    calibration_confidence : tuple of float
        Max class probability of the current model on the calibration sample (random held-out
        items).
    calibration_correct : tuple of bool
        Whether the model's prediction was right on each of those items.
    """

    round_index: int
    human_labels: int
    cost: float
    label_errors: int
    remaining: int
    n_train: int
    metric: float | None
    n_eval: int
    calibration_confidence: tuple[float, ...] = ()
    calibration_correct: tuple[bool, ...] = ()
    confidence_threshold: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able values; the calibration sample as ``{"confidence", "correct"}``."""
        return {
            "round": self.round_index,
            "human_labels": self.human_labels,
            "fresh_labels": self.fresh_labels,
            "reviews": self.reviews,
            "corrections": self.corrections,
            "audits": self.audits,
            "auto_accepted": self.auto_accepted,
            "cost": self.cost,
            "label_errors": self.label_errors,
            "remaining": self.remaining,
            "n_train": self.n_train,
            "metric": self.metric,
            "n_eval": self.n_eval,
            "confidence_threshold": self.confidence_threshold,
            "calibration": {
                "confidence": list(self.calibration_confidence),
                "correct": list(self.calibration_correct),
            },
        }


@dataclass(frozen=True, eq=False)
class ItemOutcomes:
    """What happened to each pool item (arrays aligned on the pool, length ``pool_size``).

    Attributes
    ----------
    pool_rows : numpy.ndarray of intp
        Row of the input data set each pool item comes from.
    route : numpy.ndarray of int8
        Index into :data:`ROUTES` (0 = never labeled).
    round_index : numpy.ndarray of int
        Round in which the item was labeled (0 = never).
    confidence : numpy.ndarray of float
        Model confidence (max class probability) when the item was pre-labeled or auto-accepted; NaN
        for fresh labels and unlabeled items.
    label_correct : numpy.ndarray of bool
        Whether the delivered label is right (False for unlabeled items).
    """

    pool_rows: IndexArray
    route: npt.NDArray[np.int8]
    round_index: npt.NDArray[np.int64]
    confidence: FloatArray
    label_correct: BoolArray


@dataclass(frozen=True)
class ReplayResult(Volumes[int]):
    """Totals (:class:`simulators.volumes.Volumes`, counts in items) and history of one replay.

    Attributes
    ----------
    policy, strategy : str
        The policy run and the query strategy it used (``"random"`` where items were chosen at
        random, ``"least_confidence"`` for hybrid routing).
    batch_size : int
        Items sent to humans per round.
    confidence_threshold : float or None
        Auto-accept threshold (hybrid only), as given (each round's is in ``history``).
    max_label_error, delta : float or None
        The label-error goal the lot audits kept, and its confidence (hybrid with a goal only).
    lots, lots_rejected : int
        Lots audited against the label-error goal, and those the audit rejected (hybrid with a goal
        only; 0 otherwise).
    max_labels : int or None
        Cap on human-touched items (None: no cap).
    pool_size, n_eval : int
        Items in the pool and in the evaluation set.
    cost : float
        Total cost in the rate card's currency units.
    human_labels, fresh_labels, reviews, corrections, auto_accepted, audits, rounds : int
        Totals, as in :class:`ReplayRound`.
    label_error : float
        Share of the labeled items whose label is wrong: the ``unlabeled`` items are not counted, neither
        as right nor as wrong. With every item labeled, the share of the pool left wrong.
    unlabeled : int
        Pool items left without a label.
    final_metric : float or None
        Accuracy of the last model on the evaluation set.
    costs : RateCard
        The unit prices used.
    history : tuple of ReplayRound
        One record per round.
    items : ItemOutcomes
        Per-item outcomes (not part of :meth:`to_dict`, nor of equality).
    """

    policy: str
    strategy: str
    batch_size: int
    confidence_threshold: float | None
    max_label_error: float | None
    delta: float | None
    lots: int
    lots_rejected: int
    max_labels: int | None
    pool_size: int
    n_eval: int
    cost: float
    human_labels: int
    label_error: float
    unlabeled: int
    final_metric: float | None
    costs: RateCard
    history: tuple[ReplayRound, ...]
    items: ItemOutcomes = field(repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able totals, settings, rate card and history."""
        return {
            "policy": self.policy,
            "strategy": self.strategy,
            "batch_size": self.batch_size,
            "confidence_threshold": self.confidence_threshold,
            "max_label_error": self.max_label_error,
            "delta": self.delta,
            "lots": self.lots,
            "lots_rejected": self.lots_rejected,
            "max_labels": self.max_labels,
            "pool_size": self.pool_size,
            "n_eval": self.n_eval,
            "cost": self.cost,
            "human_labels": self.human_labels,
            "fresh_labels": self.fresh_labels,
            "reviews": self.reviews,
            "corrections": self.corrections,
            "auto_accepted": self.auto_accepted,
            "audits": self.audits,
            "rounds": self.rounds,
            "label_error": self.label_error,
            "unlabeled": self.unlabeled,
            "final_metric": self.final_metric,
            "costs": self.costs.to_dict(),
            "history": [record.to_dict() for record in self.history],
        }


class _Replay:
    """Mutable bookkeeping of one replay: boolean masks over the pool and running counters.

    The remaining items are kept twice, as a mask over the pool (``remaining``) and over the rows the whole
    pool is predicted in (``remaining_rows``, over :attr:`Split.X_rows`), so that scores of the whole pool
    are ranked among the remaining items without gathering them.
    """

    def __init__(
        self,
        split: Split,
        n_classes: int,
        estimator: Any,
        costs: RateCard,
        calibration_size: int,
        rng: np.random.Generator,
        labeled: tuple[Any, IndexArray] | None = None,
    ) -> None:
        n_pool = split.n_pool
        self.labeled = labeled
        self.split = split
        self.n_classes = n_classes
        self.estimator = estimator
        self.costs = costs
        self.calibration_size = min(calibration_size, split.y_eval.size)
        self.rng = rng
        self.remaining = np.ones(n_pool, dtype=bool)
        self.remaining_rows = split.pool_mask()
        self.checked = np.zeros(n_pool, dtype=bool)
        self._checked_items = np.empty(0, dtype=np.intp)  # np.flatnonzero(checked) as of the last call
        self._newly_checked: list[IndexArray] = []  # items checked since (checked_items merges them in)
        self.route = np.zeros(n_pool, dtype=np.int8)
        self.round_of = np.zeros(n_pool, dtype=np.int64)
        self.confidence = np.full(n_pool, np.nan)
        self.label_correct = np.zeros(n_pool, dtype=bool)
        self.class_counts = np.zeros(n_classes, dtype=np.int64)
        self.n_remaining = n_pool
        self.fresh_labels = 0
        self.reviews = 0
        self.corrections = 0
        self.audits = 0
        self.auto_accepted = 0
        self.label_errors = 0
        self.rounds = 0
        self.model: Any = None
        self.n_train = 0
        self.stale = False
        self.metric: float | None = None
        self.calibration: tuple[tuple[float, ...], tuple[bool, ...]] = ((), ())

    @property
    def human_labels(self) -> int:
        return self.fresh_labels + self.reviews + self.corrections

    def work(self) -> Volumes[int]:
        """The volumes of work so far."""
        return Volumes(
            fresh_labels=self.fresh_labels,
            reviews=self.reviews,
            corrections=self.corrections,
            audits=self.audits,
            auto_accepted=self.auto_accepted,
            rounds=self.rounds,
        )

    def candidates(self) -> IndexArray:
        return np.flatnonzero(self.remaining)

    def random_items(self, n_items: int) -> IndexArray:
        """``n_items`` remaining items drawn at random: ``rng.choice(candidates, n_items, replace=False)``,
        drawn as positions among the candidates (the same draws), which are the items themselves while no
        item has been taken."""
        positions = self.rng.choice(self.n_remaining, size=n_items, replace=False)
        return positions if self.n_remaining == self.split.n_pool else self.candidates()[positions]

    def _take(self, items: IndexArray, route: int) -> None:
        self.remaining[items] = False
        self.remaining_rows[self.split.rows(items)] = False
        self.n_remaining -= items.size
        self.route[items] = route
        self.round_of[items] = self.rounds + 1

    def _check(self, items: IndexArray) -> None:
        """Human-checked items join the training set with their true labels."""
        self.checked[items] = True
        self._newly_checked.append(np.array(items, dtype=np.intp))
        self.class_counts += np.bincount(self.split.labels(items), minlength=self.n_classes)
        self.stale = True

    def checked_items(self) -> IndexArray:
        """The human-checked items, increasing: ``np.flatnonzero(checked)``, found by merging the items
        checked since the last call into the last answer while they are a small share of the pool (an item
        is checked once, when it is taken: the items sorted are that very array), without a pass over the
        pool."""
        if self._newly_checked:
            n_checked = self._checked_items.size + sum(part.size for part in self._newly_checked)
            if 8 * n_checked > self.checked.size:
                self._checked_items = np.flatnonzero(self.checked)
            else:
                self._checked_items = np.sort(np.concatenate([self._checked_items, *self._newly_checked]))
            self._newly_checked = []
        return self._checked_items

    def label_fresh(self, items: IndexArray) -> None:
        """Humans label ``items`` from scratch."""
        self._take(items, ROUTES.index("label"))
        self._check(items)
        self.label_correct[items] = True
        self.fresh_labels += items.size

    def label_prelabeled(self, items: IndexArray, confidence: FloatArray, right: BoolArray) -> None:
        """Humans check the pre-labels of ``items``: review if right, correction if wrong."""
        n_right = int(np.count_nonzero(right))
        self._take(items, ROUTES.index("review"))
        self.route[items[~right]] = ROUTES.index("correction")
        self._check(items)
        self.confidence[items] = confidence
        self.label_correct[items] = True
        self.reviews += n_right
        self.corrections += items.size - n_right

    def auto_accept(
        self, items: IndexArray, confidence: FloatArray, right: BoolArray, audited: BoolArray
    ) -> None:
        """Accept the model's labels of ``items``; the ``audited`` ones are checked by humans (and fixed)."""
        self._take(items, ROUTES.index("auto_accepted"))
        self.route[items[audited]] = ROUTES.index("audited")
        self.confidence[items] = confidence
        self.label_correct[items] = right | audited
        self.auto_accepted += items.size
        self.audits += int(np.count_nonzero(audited))
        self.label_errors += int(np.count_nonzero(~right & ~audited))
        if audited.any():
            self._check(items[audited])

    def top_scored(self, strategy: QueryStrategy, n_batch: int) -> IndexArray:
        """The ``n_batch`` remaining items whose class probabilities score highest under a ``proba_only``
        ``strategy``, highest first, ties at the cut broken at random (all of them when they fit the batch):
        the choice :meth:`~simulators.query_strategies.QueryStrategy.select_scored` makes from their scores.

        While the remaining items are at least half of the pool, the whole pool is scored
        (:func:`~simulators._common.predicts_whole_pool`) and ranked where items remain, without gathering
        their scores; else the remaining items' rows are predicted alone.
        """
        if n_batch >= self.n_remaining:
            return self.candidates()
        split = self.split
        if not predicts_whole_pool(split, self.n_remaining):
            candidates = self.candidates()
            scores = strategy.proba_scores(predict_proba(self.model, split.features(candidates)))
            return strategy.select_scored(candidates, scores, n_batch, self.rng)
        scores = np.asarray(strategy.proba_scores(predict_proba(self.model, split.X_rows)), dtype=np.float64)
        return split.items_at(top_k(scores, n_batch, self.rng, where=self.remaining_rows))

    def retrain(self) -> None:
        """Refit on all human-checked items (when new ones arrived and two classes are present)."""
        if not self.stale or np.count_nonzero(self.class_counts) < 2:
            return
        train = self.checked_items()
        X_train, y_train = with_labeled(self.split.features(train), self.split.labels(train), self.labeled)
        warm = self.model is not None and getattr(self.estimator, "warm_start", False)
        if warm and self.model.classes_.size != np.count_nonzero(self.class_counts):
            self.estimator = clone(self.estimator)  # a warm start needs the classes it was fitted on
        self.model = self.estimator.fit(X_train, y_train)
        self.n_train = y_train.size
        self.stale = False
        _, confidence, predicted = predict_confidence(self.model, self.split.X_eval)
        correct = predicted == self.split.y_eval
        self.metric = float(np.mean(correct))
        n_cal = self.calibration_size
        self.calibration = (
            tuple(confidence[:n_cal].tolist()),
            tuple(correct[:n_cal].tolist()),
        )

    def end_round(self) -> ReplayRound:
        """Retrain, then record the round."""
        self.retrain()
        self.rounds += 1
        work = self.work()
        return ReplayRound(
            **vars(work),
            round_index=self.rounds,
            human_labels=self.human_labels,
            cost=self.costs.total(work),
            label_errors=self.label_errors,
            remaining=self.n_remaining,
            n_train=self.n_train,
            metric=self.metric,
            n_eval=int(self.split.y_eval.size),
            calibration_confidence=self.calibration[0],
            calibration_correct=self.calibration[1],
        )


@dataclass(frozen=True)
class PolicyOptions:
    """What :func:`replay_pool` was asked to run, checked: each policy takes the options it uses."""

    batch_size: int
    max_labels: int | None
    query_strategy: QueryStrategy
    confidence_threshold: float
    max_label_error: float | None
    delta: float


class ReplayPolicy:
    """A labeling policy as the replay runs it on real data, one round at a time.

    Subclasses with a ``name`` register in :data:`REPLAY_POLICIES`; ``plan_strategy`` is the name of the
    same process in plans (the Monte Carlo's :data:`simulators.montecarlo.LABELING_STRATEGIES`). The
    contract suite in ``tests/simulators/test_replay_policies.py`` covers every one of them.
    """

    name: ClassVar[str]
    plan_strategy: ClassVar[str]

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            REPLAY_POLICIES[cls.name] = cls

    def __init__(self, options: PolicyOptions) -> None:
        self.batch_size = options.batch_size
        self.max_labels = options.max_labels

    @property
    def reads_pool_features(self) -> bool:
        """Whether the policy reads the pool's features as one array (``Split.X_pool``), besides training and
        predicting: when it does not, the replay reads the pool from the data set's rows, without copying."""
        return False

    def start(self, state: _Replay) -> None:
        """Set up on the pool before the first round."""

    def run_round(self, state: _Replay) -> bool:
        """Run one round; False (and nothing done) when the policy has stopped."""
        raise NotImplementedError

    @property
    def threshold(self) -> float | None:
        """The auto-accept threshold in force (None: the policy auto-accepts nothing)."""
        return None

    def summary(self) -> dict[str, Any]:
        """What :class:`ReplayResult` records of the policy besides the work."""
        return {
            "strategy": "random",
            "confidence_threshold": None,
            "max_label_error": None,
            "delta": None,
            "lots": 0,
            "lots_rejected": 0,
        }


#: the policies :func:`replay_pool` runs, by name
REPLAY_POLICIES: dict[str, type[ReplayPolicy]] = {}


class RandomLabeling(ReplayPolicy):
    """Humans label random items from scratch (label cost each), up to ``max_labels``."""

    name = "random"
    plan_strategy = "manual"

    def run_round(self, state: _Replay) -> bool:
        n_batch = min(self.batch_size, state.n_remaining)
        if self.max_labels is not None:
            n_batch = min(n_batch, self.max_labels - state.human_labels)
        if n_batch <= 0:
            return False
        self.label(state, self.choose(state, n_batch))
        return True

    def choose(self, state: _Replay, n_batch: int) -> IndexArray:
        """The ``n_batch`` items humans get this round (random)."""
        return state.random_items(n_batch)

    def label(self, state: _Replay, batch: IndexArray) -> None:
        """Humans label ``batch`` (from scratch)."""
        state.label_fresh(batch)


def _rows(proba: FloatArray) -> tuple[FloatArray]:
    """The probability rows themselves (:func:`simulators._common.predict_items` keeps the items')."""
    return (proba,)


class ActiveLearningPolicy(RandomLabeling):
    """Humans label the items a query strategy picks (label cost each); random items before a model."""

    name = "active_learning"
    plan_strategy = "active_learning"

    def __init__(self, options: PolicyOptions) -> None:
        super().__init__(options)
        self.query_strategy = options.query_strategy

    @property
    def reads_pool_features(self) -> bool:
        return not self.query_strategy.proba_only

    def start(self, state: _Replay) -> None:
        if not self.query_strategy.proba_only:
            self.query_strategy.prepare(state.split.X_pool)

    def choose(self, state: _Replay, n_batch: int) -> IndexArray:
        if state.model is None:
            return super().choose(state, n_batch)
        strategy = self.query_strategy
        if strategy.proba_only:  # scored from the probabilities alone: no candidates' rows copied
            return state.top_scored(strategy, n_batch)
        candidates, split = state.candidates(), state.split
        proba = predict_items(state.model, split, candidates, _rows)[0] if strategy.uses_proba else None
        train = state.checked_items()
        context = QueryContext(
            candidates=candidates,
            X_pool=split.X_pool,
            proba=proba,
            train_indices=train,
            y_train=split.labels(train),
            n_classes=state.n_classes,
            estimator=state.estimator,
            labeled=state.labeled,
        )
        return strategy.select(context, n_batch, state.rng)

    def summary(self) -> dict[str, Any]:
        strategy = self.query_strategy
        return super().summary() | {"strategy": strategy.name or type(strategy).__name__}


class PreLabelingPolicy(RandomLabeling):
    """Random items; the current model pre-labels each one a human touches (review cost if right,
    correction cost if wrong). Before any model exists the items are labeled from scratch."""

    name = "prelabel"
    plan_strategy = "prelabel"

    def label(self, state: _Replay, batch: IndexArray) -> None:
        if state.model is None:
            state.label_fresh(batch)
            return
        _, confidence, predicted = predict_confidence(state.model, state.split.features(batch))
        state.label_prelabeled(batch, confidence, predicted == state.split.labels(batch))


@dataclass
class _ErrorBudget:
    """Hybrid's lot audits: the wrong labels still allowed in what remains to deliver, the guarantee's
    ``delta`` and the lots formed so far (see :mod:`simulators.acceptance`)."""

    budget_left: int
    delta: float
    lots: int = 0
    rejected: int = 0
    observed_rate: float = 0.0  #: share of wrong labels the last lot's audit found


class HybridPolicy(ReplayPolicy):
    """Audit and auto-accept the lot of items at or above the threshold it holds, route the least
    confident of the rest to humans as pre-labels; a rejected lot raises the threshold (see the module
    docstring)."""

    name = "hybrid"
    plan_strategy = "hybrid"

    def __init__(self, options: PolicyOptions) -> None:
        super().__init__(options)
        self.given_threshold = options.confidence_threshold
        self._threshold = options.confidence_threshold
        self.max_label_error, self.delta = options.max_label_error, options.delta
        self.budget: _ErrorBudget | None = None

    @property
    def threshold(self) -> float:
        return self._threshold

    def start(self, state: _Replay) -> None:
        if self.max_label_error is not None:
            pool_size = state.split.n_pool
            self.budget = _ErrorBudget(error_budget(self.max_label_error, pool_size), self.delta)

    def summary(self) -> dict[str, Any]:
        budget = self.budget
        return {
            "strategy": "least_confidence",
            "confidence_threshold": self.given_threshold,
            "max_label_error": self.max_label_error if budget is not None else None,
            "delta": self.delta if budget is not None else None,
            "lots": budget.lots if budget is not None else 0,
            "lots_rejected": budget.rejected if budget is not None else 0,
        }

    def run_round(self, state: _Replay) -> bool:
        """One round: audit and deliver the lot of confident items, route the least confident of the rest
        to humans (before a model: a random batch labeled from scratch)."""
        candidates = state.candidates()
        split = state.split
        cap = self.max_labels
        human_budget = self.batch_size if cap is None else min(self.batch_size, cap - state.human_labels)
        if state.model is None:
            n_batch = min(human_budget if human_budget > 0 else self.batch_size, candidates.size)
            state.label_fresh(state.rng.choice(candidates, size=n_batch, replace=False))
            return True
        model = state.model
        confidence, predicted = predict_items(model, split, candidates, lambda p: confidence_of(model, p))
        right = predicted == split.y_pool[candidates]
        last = human_budget <= 0  # the stop point: the rest of the pool is the lot
        lot = np.arange(candidates.size) if last else np.flatnonzero(confidence >= self._threshold)
        taken = np.zeros(candidates.size, dtype=bool)
        if lot.size:
            taken[self.deliver_lot(state, candidates, lot, confidence, right)] = True
        rest = np.flatnonzero(~taken)
        # past the stop point a rejected lot goes to humans whole (the goal outranks the stop)
        n_batch = rest.size if last else min(human_budget, rest.size)
        if n_batch > 0:
            if n_batch < rest.size:
                rest = rest[top_k(-confidence[rest], n_batch, state.rng)]
            state.label_prelabeled(candidates[rest], confidence[rest], right[rest])
        return True

    def deliver_lot(
        self,
        state: _Replay,
        candidates: IndexArray,
        lot: IndexArray,
        confidence: FloatArray,
        right: BoolArray,
    ) -> IndexArray:
        """Audit and deliver the lot ``lot`` (positions in ``candidates``); returns the positions delivered
        (the whole lot, or only its audited items when the audit rejects it, which raises the threshold)."""
        size, budget = lot.size, self.budget
        if budget is None:  # no guarantee asked: random audits at the rate card's rate
            audited = state.rng.random(size) < state.costs.audit_rate
            state.auto_accept(candidates[lot], confidence[lot], right[lot], audited)
            return lot
        budget.lots += 1
        # the error the audit is sized for: what the model predicts for the lot (its mean 1 - confidence),
        # or what the last audit found where that was more (a guess: it costs rejections or audits, never
        # the goal)
        predicted = float(np.mean(1.0 - confidence[lot]))
        expected = min(max(predicted, budget.observed_rate, 0.0), 1.0)
        plan = sampling_plan(
            budget.lots,
            size,
            candidates.size,
            budget.budget_left,
            expected,
            budget.delta,
            state.costs.audit_rate,
        )
        n_audit = plan.sample_size
        chosen = np.zeros(size, dtype=bool)
        chosen[state.rng.choice(size, size=n_audit, replace=False)] = True
        sample = lot[chosen]
        n_wrong = int(np.count_nonzero(~right[sample]))
        budget.observed_rate = n_wrong / max(n_audit, 1)
        state.auto_accept(candidates[sample], confidence[sample], right[sample], np.ones(n_audit, dtype=bool))
        if n_wrong <= plan.acceptance_number:
            rest = lot[~chosen]
            state.auto_accept(
                candidates[rest], confidence[rest], right[rest], np.zeros(rest.size, dtype=bool)
            )
            budget.budget_left -= int(wrong_left_bound(n_wrong, n_audit, size, plan.level))
            return lot
        budget.rejected += 1
        wrong = confidence[sample][~right[sample]]  # a rejected sample holds more wrong labels than expected
        if wrong.size:
            self._threshold = max(self._threshold, float(np.nextafter(wrong.min(), np.inf)))
        return sample


#: names of the labeling policies :func:`replay_pool` runs
POLICIES: tuple[str, ...] = tuple(REPLAY_POLICIES)

_thread_pools_found: tuple[int, ThreadpoolController] | None = None


def _thread_pools() -> ThreadpoolController:
    """The thread pools of the native libraries loaded (BLAS, OpenMP), which a replay limits to one thread.

    Listing the loaded libraries costs milliseconds (``threadpool_limits`` lists them on every call), so the
    list is kept, and made again whenever a module was imported since (a library comes with one).
    """
    global _thread_pools_found
    n_modules = len(sys.modules)
    if _thread_pools_found is None or _thread_pools_found[0] != n_modules:
        _thread_pools_found = (n_modules, ThreadpoolController())
    return _thread_pools_found[1]


def replay_pool(
    X: Any,
    y: Any,
    *,
    policy: str = "active_learning",
    strategy: str | QueryStrategy = "least_confidence",
    batch_size: int = 100,
    confidence_threshold: float = 0.95,
    max_label_error: float | None = None,
    delta: float = 0.05,
    labeled: tuple[Any, Any] | None = None,
    costs: RateCard | None = None,
    max_labels: int | None = None,
    n_eval: int | None = None,
    calibration_size: int = DEFAULT_CALIBRATION_SIZE,
    estimator: Any = None,
    warm_start: bool = False,
    random_state: int | np.random.Generator | None = None,
    progress: Callable[[ReplayRound], None] | None = None,
) -> ReplayResult:
    """Replay a labeling policy on a labeled data set and record what it really cost.

    Parameters
    ----------
    X : array-like of shape (n_items, n_features) or scipy sparse matrix
        Numeric features (sparse input is used as CSR).
    y : array-like of shape (n_items,)
        True labels; they play the human annotators.
    policy : {"random", "active_learning", "prelabel", "hybrid"}, default "active_learning"
        The labeling process (see the module docstring).
    strategy : str or QueryStrategy, default "least_confidence"
        Query strategy of ``active_learning`` (a key of
        :data:`simulators.query_strategies.QUERY_STRATEGIES` or an instance); the other policies choose at
        random (``hybrid`` routes the least confident).
    batch_size : int, default 100
        Items sent to humans per round.
    confidence_threshold : float, default 0.95
        ``hybrid`` only: auto-accept items whose max class probability is >= this, in [0, 1].
    max_label_error : float, optional
        ``hybrid`` only: the label-error goal (share of the pool, in (0, 1)) that the lot audits keep with
        probability ``1 - delta`` (see the module docstring). None: no guarantee; a random ``audit_rate``
        share of each lot is audited.
    delta : float, default 0.05
        ``hybrid`` with ``max_label_error``: the probability, in (0, 1), that the goal may be missed.
    labeled : (X, y), optional
        Items labeled before the replay starts (the pilot's): the first model trains on them.
    costs : RateCard, optional
        Unit prices (default: ``RateCard()``).
    max_labels : int, optional
        Cap on human-touched items (fresh labels + reviews + corrections). ``random``,
        ``active_learning`` and ``prelabel`` stop there; for ``hybrid`` it is the stop point: once
        reached, the rest of the pool is auto-accepted in one last round whatever its confidence
        (with audits). None: until the pool is exhausted.
    n_eval : int, optional
        Size of the random held-out evaluation set, in items (default: a fifth of the data, at most
        1,000).
    calibration_size : int, default 200
        Evaluation items whose confidence and correctness are recorded each round.
    estimator : classifier, optional
        Any scikit-learn classifier with ``predict_proba`` (cloned; default: logistic regression).
    warm_start : bool, default False
        Refit each round from the last round's model (estimators with a ``warm_start`` parameter, such as
        the default logistic regression): each fit converges in fewer iterations, but to a slightly
        different model than a fit from scratch, so the items chosen and the costs differ from a cold
        replay's. Off by default: a replay then reproduces what refitting from scratch does.
    random_state : int, numpy.random.Generator or None
        Seed of every random choice (split, random batches, audits, tie-breaking, committees).
    progress : callable, optional
        Called with each :class:`ReplayRound` as it completes.

    Returns
    -------
    ReplayResult
        Totals (cost in the rate card's currency units, counts in items), per-round history and
        per-item outcomes.

    Raises
    ------
    SimulatorInputError
        A ``ValueError`` naming the invalid parameter.
    """
    if policy not in REPLAY_POLICIES:
        raise SimulatorInputError(
            "policy", f"unknown policy {policy!r}; expected one of {', '.join(POLICIES)}"
        )
    query_strategy = make_strategy(strategy)
    batch_size = check_batch_size(batch_size)
    confidence_threshold = check_confidence_threshold(confidence_threshold)
    max_labels = check_max_labels(max_labels)
    costs = RateCard() if costs is None else costs
    if not isinstance(costs, RateCard):
        raise SimulatorInputError("costs", f"must be a RateCard, got {type(costs).__name__}")
    if max_label_error is not None:
        max_label_error = check_share("max_label_error", max_label_error)
    delta = check_share("delta", delta)
    calibration_size = check_count("calibration_size", calibration_size)
    model = check_warm_start(check_estimator(estimator), warm_start)
    X, y_encoded, classes = check_features_labels(X, y)
    before = None if labeled is None else check_labeled(labeled, X, classes)
    rng = check_random_state(random_state)
    options = PolicyOptions(
        batch_size, max_labels, query_strategy, confidence_threshold, max_label_error, delta
    )
    runner = REPLAY_POLICIES[policy](options)

    with _thread_pools().limit(limits=1):
        split = split_eval_pool(X, y_encoded, n_eval, rng, share=not runner.reads_pool_features)
        state = _Replay(split, classes.size, model, costs, calibration_size, rng, before)
        runner.start(state)
        if before is not None:
            state.class_counts += np.bincount(before[1], minlength=classes.size)
            state.stale = True
            state.retrain()
        history: list[ReplayRound] = []
        while state.n_remaining > 0 and runner.run_round(state):
            record = replace(state.end_round(), confidence_threshold=runner.threshold)
            history.append(record)
            if progress is not None:
                progress(record)

    pool_size = split.n_pool
    work = state.work()
    return ReplayResult(
        policy=policy,
        **runner.summary(),
        batch_size=batch_size,
        max_labels=max_labels,
        pool_size=pool_size,
        n_eval=int(split.y_eval.size),
        **vars(work),
        cost=costs.total(work),
        human_labels=state.human_labels,
        label_error=state.label_errors / max(pool_size - state.n_remaining, 1),
        unlabeled=state.n_remaining,
        final_metric=state.metric,
        costs=costs,
        history=tuple(history),
        items=ItemOutcomes(
            pool_rows=split.pool_rows,
            route=state.route,
            round_index=state.round_of,
            confidence=state.confidence,
            label_correct=state.label_correct,
        ),
    )
