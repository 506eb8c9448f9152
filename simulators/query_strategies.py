"""Query strategies: which unlabeled items a model asks humans to label next.

Each strategy is a small subclass of :class:`QueryStrategy` that declares its ``name`` and scores
candidates (higher = more informative); the base class owns batch selection (top ``batch_size``
scores, ties broken at random) and registers every named subclass in :data:`QUERY_STRATEGIES`, so the
contract tests cover it at once. A strategy whose score of an item is a function of that item's class
probabilities alone (``proba_only``: least confidence, margin, entropy) also scores any block of
probability rows (:meth:`QueryStrategy.proba_scores`), so that the replay can score the whole pool's
probabilities and rank the candidates' scores among them (:func:`top_k` with ``where``, the choice
:meth:`QueryStrategy.select_scored` makes) instead of copying the candidates' rows out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.special import entr
from sklearn.base import ClassifierMixin, clone
from sklearn.cluster import KMeans
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import normalize

from annoplan.simulators._validation import check_batch_size
from annoplan.simulators.errors import SimulatorInputError

__all__ = [
    "BALD",
    "QUERY_STRATEGIES",
    "ClusterMargin",
    "ClusterMarginBalanced",
    "DensityWeighted",
    "Entropy",
    "ExpectedErrorReduction",
    "LeastConfidence",
    "Margin",
    "QueryByCommittee",
    "QueryContext",
    "QueryStrategy",
    "RandomSampling",
    "bald_scores",
    "make_strategy",
    "row_max",
    "top_k",
]

FloatArray = npt.NDArray[np.float64]
IndexArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]

QUERY_STRATEGIES: dict[str, type[QueryStrategy]] = {}
"""Query strategies by name; each :class:`QueryStrategy` subclass with a ``name`` registers here."""


def make_default_classifier() -> ClassifierMixin:
    """The default classifier: L2 logistic regression with enough iterations to converge."""
    return LogisticRegression(max_iter=1000)


@dataclass(frozen=True)
class QueryContext:
    """What a strategy may look at when it scores candidates.

    Parameters
    ----------
    candidates : numpy.ndarray of intp, shape (n_candidates,)
        Pool row indices the strategy may choose from.
    X_pool : numpy.ndarray or scipy.sparse.csr_matrix, shape (n_pool, n_features)
        Features of the whole pool.
    proba : numpy.ndarray of shape (n_candidates, n_seen_classes) or None
        Class probabilities of the current model for the candidates (None before any model exists).
    train_indices : numpy.ndarray of intp
        Pool row indices of the human-checked items the current model was trained on.
    y_train : numpy.ndarray of intp
        Their (encoded) labels.
    n_classes : int
        Number of classes in the data set.
    estimator : classifier or None
        Unfitted prototype of the model, for strategies that train their own (committee); None means
        the default logistic regression.
    labeled : (features, encoded labels) or None
        Items outside the pool the current model was also trained on (a pilot's), or None.
    """

    candidates: IndexArray
    X_pool: Any
    proba: FloatArray | None = None
    train_indices: IndexArray | None = None
    y_train: IndexArray | None = None
    n_classes: int = 2
    estimator: Any = None
    labeled: tuple[Any, IndexArray] | None = None


class QueryStrategy:
    """Base class of query strategies.

    Subclasses set ``name`` (which registers them), ``uses_proba`` (whether :meth:`score` reads the
    current model's probabilities, so the replay computes them), ``uses_model`` (whether the choice
    depends on what a model learned, so that it should favour uncertain items), and implement
    :meth:`score`, or only :meth:`proba_scores` where an item's score is a function of its class
    probabilities alone (then also set ``proba_only``). Constructors only store settings; state learned
    from the pool in :meth:`prepare` ends with an underscore.
    """

    name: ClassVar[str] = ""
    uses_proba: ClassVar[bool] = True
    uses_model: ClassVar[bool] = True
    #: the score of an item is a function of its own class probabilities alone (:meth:`proba_scores`): not of
    #: the features, the training items, the other candidates or randomness, and :meth:`select` and
    #: :meth:`select_scored` are the base class's. The replay then neither prepares the strategy nor builds a
    #: :class:`QueryContext`: it scores the whole pool's probabilities and chooses as :meth:`select_scored`
    #: does, ranking the candidates' scores where they sit (:func:`top_k` with ``where``).
    proba_only: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.name:
            QUERY_STRATEGIES[cls.name] = cls

    def prepare(self, X_pool: Any) -> QueryStrategy:
        """Precompute what depends only on the pool's features (once per replay); return self."""
        return self

    def score(self, context: QueryContext, rng: np.random.Generator) -> FloatArray:
        """Informativeness of each candidate (higher is asked first).

        Parameters
        ----------
        context : QueryContext
            Candidates and what is known about them.
        rng : numpy.random.Generator
            Source of randomness for stochastic strategies.

        Returns
        -------
        numpy.ndarray of float, shape (n_candidates,)

        Notes
        -----
        The base class scores the candidates' probability rows with :meth:`proba_scores`.
        """
        if context.proba is None:
            raise SimulatorInputError("proba", f"strategy {self.name!r} needs the model's probabilities")
        return self.proba_scores(context.proba)

    def proba_scores(self, proba: FloatArray) -> FloatArray:
        """Informativeness of the items whose class probabilities are the rows of ``proba`` (``proba_only``).

        Each row's score must be computed from that row alone, so that scoring all rows and keeping some gives
        the very numbers scoring those rows alone does.

        Parameters
        ----------
        proba : numpy.ndarray of shape (n_rows, n_seen_classes)
            Class probabilities, one row per item.

        Returns
        -------
        numpy.ndarray of float, shape (n_rows,)
        """
        raise NotImplementedError(f"strategy {self.name!r} does not score from probabilities alone")

    def select_scored(
        self, candidates: IndexArray, scores: FloatArray, batch_size: int, rng: np.random.Generator
    ) -> IndexArray:
        """The choice :meth:`select` makes once the candidates' scores are known.

        For a ``proba_only`` strategy,
        ``select_scored(candidates, proba_scores(pool_proba)[candidates], batch_size, rng)`` is
        ``select`` with ``context.proba = pool_proba[candidates]``: the whole pool's probabilities are
        scored and only the candidates' scores kept, without copying their probability rows out (the replay
        ranks them where they sit instead, with :func:`top_k` and ``where``).

        Parameters
        ----------
        candidates : numpy.ndarray of intp, shape (n_candidates,)
            Pool row indices to choose from.
        scores : numpy.ndarray of float, shape (n_candidates,)
            Their scores, as :meth:`score` gives them.
        batch_size : int
            Items to select (>= 1).
        rng : numpy.random.Generator
            Source of randomness (tie-breaking).

        Returns
        -------
        numpy.ndarray of intp
            Selected pool row indices, most informative first (all candidates when they fit the batch).
        """
        batch_size = check_batch_size(batch_size)
        candidates = np.asarray(candidates, dtype=np.intp)
        if candidates.size <= batch_size:
            return candidates.copy()
        return candidates[top_k(np.asarray(scores, dtype=np.float64), batch_size, rng)]

    def select(self, context: QueryContext, batch_size: int, rng: np.random.Generator) -> IndexArray:
        """Choose up to ``batch_size`` distinct candidates with the highest scores.

        Ties are broken at random. When there are no more candidates than ``batch_size``, all are
        returned.

        Parameters
        ----------
        context : QueryContext
            Candidates and what is known about them.
        batch_size : int
            Items to select (>= 1).
        rng : numpy.random.Generator
            Source of randomness (tie-breaking and stochastic strategies).

        Returns
        -------
        numpy.ndarray of intp
            Selected pool row indices, a subset of ``context.candidates``, most informative first.
        """
        batch_size = check_batch_size(batch_size)
        candidates = np.asarray(context.candidates, dtype=np.intp)
        if candidates.size <= batch_size:
            return candidates.copy()
        if self.uses_proba and context.proba is None:
            raise SimulatorInputError("proba", f"strategy {self.name!r} needs the model's probabilities")
        return self.select_scored(candidates, self.score(context, rng), batch_size, rng)


def top_k(scores: FloatArray, k: int, rng: np.random.Generator, where: BoolArray | None = None) -> IndexArray:
    """Positions of the ``k`` highest scores, highest first; ties at the cut are broken at random.

    The ``k``-th highest score (the cut) is found among the positions at or above a bar a sample of the
    scores places (:func:`_cut_above_sample`: one comparison over the scores, and a partition of a few times
    ``k`` of them), else by partitioning a negated copy of the scores in place (O(n), no array of positions);
    the positions above the cut are sorted by score, and random numbers are drawn only for the positions tied
    with the cut when the tie straddles it. The result is the one ``argpartition`` over the scores gives
    (:func:`_top_k_argpartition`): the same positions, in the same order, from the same random draws. Where
    equal scores are kept in an order their values do not decide (two above the cut, or several at the cut
    all kept), that ranking is the one used.

    Parameters
    ----------
    scores : numpy.ndarray of float, shape (n,)
        Scores, higher first (NaN is not allowed).
    k : int
        Positions to return, 1 <= k <= the positions that compete.
    rng : numpy.random.Generator
        Source of randomness for tie-breaking.
    where : numpy.ndarray of bool, shape (n,), optional
        Only the positions where it holds compete: the result is
        ``candidates[top_k(scores[candidates], k, rng)]`` for ``candidates = np.flatnonzero(where)``, found
        without gathering the candidates' scores (the replay ranks the whole pool's scores so).

    Returns
    -------
    numpy.ndarray of intp, shape (k,)
    """
    found = _cut_above_sample(scores, k, where)
    if found is None:
        negated = np.negative(scores)
        if where is not None:
            np.copyto(negated, np.inf, where=~where)  # the positions left out rank below every number
        negated.partition(k - 1)
        cut = -negated[k - 1]
        at_or_above = None
    else:
        cut, at_or_above = found
    if np.isfinite(cut):  # the k highest are numbers, at positions that compete
        if at_or_above is None:
            at_or_above = np.flatnonzero(scores >= cut if where is None else (scores >= cut) & where)
        values = scores[at_or_above]
        above = at_or_above[values > cut]
        above = above[np.argsort(-scores[above])]
        at_cut = at_or_above[values == cut]
        straddles = at_or_above.size > k
        highest = scores[above]
        if (straddles or at_cut.size == 1) and not np.any(highest[1:] == highest[:-1]):
            if straddles:
                at_cut = rng.choice(at_cut, size=k - above.size, replace=False)
            return np.concatenate([above, at_cut])
    if where is None:
        return _top_k_argpartition(scores, k, rng)
    candidates = np.flatnonzero(where)
    return candidates[_top_k_argpartition(scores[candidates], k, rng)]


#: :func:`top_k` looks for its cut among the scores above a sample's only in at least this many scores
SAMPLED_CUT_MIN_SCORES = 16_384
#: scores sampled (every n-th) to place the bar the k highest are looked for above
CUT_SAMPLE_SIZE = 8_192


def _cut_above_sample(scores: FloatArray, k: int, where: BoolArray | None) -> tuple[Any, IndexArray] | None:
    """The ``k``-th highest competing score (the cut) and the competing positions at or above it (increasing),
    found among the positions at or above a bar: or None where that cannot be told so.

    The bar is a score high in an evenly spaced sample of the competing ones, placed so that about twice ``k``
    positions should reach it; the positions that reach it are found in one comparison over the scores. When
    at least ``k`` competing positions reach it, the ``k``-th highest competing score is at or above the bar,
    so it is the ``k``-th highest among those positions, and every competing position at or above it is among
    them: the cut and the positions partitioning all the scores gives, at a fraction of the cost (the
    partition then covers a few times ``k`` values instead of them all). Else (too few reach the bar: the
    sample misjudged the scores), or where the scores are few or ``k`` a large share of them, None.
    """
    n_scores = scores.size
    n_competing = n_scores if where is None else int(np.count_nonzero(where))
    if n_scores < SAMPLED_CUT_MIN_SCORES or 8 * k > n_competing:
        return None
    step = max(1, n_scores // CUT_SAMPLE_SIZE)
    sample = scores[::step] if where is None else scores[::step][where[::step]]
    rank = int(np.ceil(2.0 * k * sample.size / n_competing)) + 16  # the bar: the sample's rank-th highest
    if rank > sample.size:
        return None
    bar = np.partition(sample, sample.size - rank)[sample.size - rank]
    if not np.isfinite(bar):
        return None
    reach = np.flatnonzero(scores >= bar)
    if where is not None:
        reach = reach[where[reach]]
    if reach.size < k:
        return None
    values = scores[reach]
    cut = np.partition(values, reach.size - k)[reach.size - k]
    return cut, reach[values >= cut]


def _top_k_argpartition(scores: FloatArray, k: int, rng: np.random.Generator) -> IndexArray:
    """:func:`top_k` by one ``argpartition`` over the scores; equal scores in the top keep the order it
    leaves them in."""
    top = np.argpartition(-scores, k - 1)[:k]
    cut = scores[top].min()
    n_tied = int(np.count_nonzero(scores == cut))
    kept = top[scores[top] > cut]
    if n_tied > top.size - kept.size:
        tied = np.flatnonzero(scores == cut)
        top = np.concatenate([kept, rng.choice(tied, size=k - kept.size, replace=False)])
    return top[np.argsort(-scores[top], kind="stable")]


#: class probabilities with at most this many columns are reduced column by column (:func:`row_best`)
FEW_CLASSES = 32


def row_best(proba: FloatArray) -> tuple[FloatArray, IndexArray]:
    """Each row's largest value and its column (the first on ties, as ``argmax``).

    With few columns a running maximum over the columns gives the same numbers many times faster than
    ``proba.max(axis=1)`` and ``argmax(axis=1)``, which reduce over a short inner axis (on two classes and
    10^6 rows they were half of a replay's own time).
    """
    if proba.ndim != 2 or proba.shape[1] > FEW_CLASSES or proba.shape[1] == 0:
        best = proba.argmax(axis=1)
        return proba[np.arange(proba.shape[0]), best], best
    top = proba[:, 0].copy()
    column = np.zeros(proba.shape[0], dtype=np.intp)
    for j in range(1, proba.shape[1]):
        higher = proba[:, j] > top
        column[higher] = j
        np.maximum(top, proba[:, j], out=top)
    return top, column


def row_max(proba: FloatArray) -> FloatArray:
    """Each row's largest value (a new array): the first array :func:`row_best` gives, without its column."""
    if proba.ndim != 2 or not 2 <= proba.shape[1] <= FEW_CLASSES:
        return row_best(proba)[0]
    top = np.maximum(proba[:, 0], proba[:, 1])
    for j in range(2, proba.shape[1]):
        np.maximum(top, proba[:, j], out=top)
    return top


def least_confidence_scores(proba: FloatArray) -> FloatArray:
    """1 - max class probability, per row of ``proba`` (dimensionless, in [0, 1 - 1/K])."""
    top = row_max(proba)
    if top.dtype == np.float64:  # a new array: no second one is needed
        return np.subtract(1.0, top, out=top)
    return np.asarray(1.0 - top, dtype=np.float64)


def margin_scores(proba: FloatArray) -> FloatArray:
    """1 - (top probability - second probability), per row (dimensionless, in [0, 1])."""
    if proba.shape[1] < 2:
        return np.zeros(proba.shape[0])
    top_two = np.partition(proba, proba.shape[1] - 2, axis=1)[:, -2:]
    return np.asarray(1.0 - (top_two[:, 1] - top_two[:, 0]), dtype=np.float64)


def entropy_scores(proba: FloatArray) -> FloatArray:
    """Shannon entropy of each row of ``proba``, in nats."""
    return np.asarray(entr(proba).sum(axis=1), dtype=np.float64)


class RandomSampling(QueryStrategy):
    """Uniformly random items: the baseline every other strategy must beat."""

    name = "random"
    uses_proba = False
    uses_model = False

    def score(self, context: QueryContext, rng: np.random.Generator) -> FloatArray:
        """Uniform random scores."""
        return rng.random(np.asarray(context.candidates).size)


class LeastConfidence(QueryStrategy):
    """Items whose most likely class has the lowest probability."""

    name = "least_confidence"
    proba_only = True

    def proba_scores(self, proba: FloatArray) -> FloatArray:
        """1 - max class probability."""
        return least_confidence_scores(proba)


class Margin(QueryStrategy):
    """Items with the smallest gap between the two most likely classes."""

    name = "margin"
    proba_only = True

    def proba_scores(self, proba: FloatArray) -> FloatArray:
        """1 - (p_first - p_second)."""
        return margin_scores(proba)


class Entropy(QueryStrategy):
    """Items with the highest entropy of the predicted class distribution."""

    name = "entropy"
    proba_only = True

    def proba_scores(self, proba: FloatArray) -> FloatArray:
        """Predictive entropy in nats."""
        return entropy_scores(proba)


class QueryByCommittee(QueryStrategy):
    """Query by committee: bagged copies of the model vote; the highest vote entropy is asked first.

    Parameters
    ----------
    n_members : int, default 5
        Committee size; each member is trained on a bootstrap resample of the human-checked items.
    """

    name = "qbc"
    uses_proba = False

    def __init__(self, n_members: int = 5) -> None:
        self.n_members = n_members

    def score(self, context: QueryContext, rng: np.random.Generator) -> FloatArray:
        """Vote entropy (nats) of the committee's predicted labels."""
        X_train, y_train, prototype = _training_set(context, "query by committee")
        if self.n_members < 2:
            raise SimulatorInputError("n_members", f"must be >= 2, got {self.n_members}")
        candidates = np.asarray(context.candidates, dtype=np.intp)
        X_candidates = context.X_pool[candidates]
        votes = np.zeros((candidates.size, context.n_classes))
        rows = np.arange(candidates.size)
        for _ in range(self.n_members):
            sample = self._bootstrap(y_train, rng)
            member = clone(prototype).fit(X_train[sample], y_train[sample])
            votes[rows, np.asarray(member.predict(X_candidates), dtype=np.intp)] += 1.0
        return np.asarray(entr(votes / self.n_members).sum(axis=1), dtype=np.float64)

    @staticmethod
    def _bootstrap(y_train: IndexArray, rng: np.random.Generator, n_tries: int = 10) -> IndexArray:
        """A bootstrap resample holding at least two classes (all items if none is found)."""
        n_train = y_train.size
        for _ in range(n_tries):
            sample = rng.integers(0, n_train, size=n_train)
            if np.unique(y_train[sample]).size >= 2:
                return sample
        return np.arange(n_train)


class DensityWeighted(QueryStrategy):
    """Density-weighted uncertainty: uncertainty x representativeness (Settles & Craven 2008).

    Representativeness is the mean cosine similarity of an item to the whole pool, mapped to [0, 1]
    as (1 + cos) / 2, computed once per pool in :meth:`prepare` in O(n_items x n_features).

    Parameters
    ----------
    uncertainty : {"entropy", "least_confidence", "margin"}, default "entropy"
        The uncertainty measure that is weighted.
    beta : float, default 1.0
        Exponent of the density weight.
    """

    name = "density"

    def __init__(self, uncertainty: str = "entropy", beta: float = 1.0) -> None:
        self.uncertainty = uncertainty
        self.beta = beta

    def prepare(self, X_pool: Any) -> DensityWeighted:
        """Compute each pool item's mean cosine similarity to the pool (``density_``)."""
        unit_rows = normalize(X_pool, norm="l2", axis=1)
        mean_direction = np.asarray(unit_rows.mean(axis=0)).ravel()
        mean_cosine = np.asarray(unit_rows @ mean_direction, dtype=np.float64).ravel()
        self.density_: FloatArray = np.clip((1.0 + mean_cosine) / 2.0, 0.0, 1.0)
        return self

    def score(self, context: QueryContext, rng: np.random.Generator) -> FloatArray:
        """Uncertainty x density ** beta."""
        assert context.proba is not None
        measures = {
            "entropy": entropy_scores,
            "least_confidence": least_confidence_scores,
            "margin": margin_scores,
        }
        if self.uncertainty not in measures:
            raise SimulatorInputError(
                "uncertainty",
                f"unknown measure {self.uncertainty!r}; expected one of {sorted(measures)}",
            )
        if not hasattr(self, "density_"):
            self.prepare(context.X_pool)
        density = self.density_[np.asarray(context.candidates, dtype=np.intp)]
        return np.asarray(measures[self.uncertainty](context.proba) * density**self.beta)


def _member_proba(member: Any, X: Any, n_classes: int) -> FloatArray:
    """A fitted model's class probabilities as columns of all ``n_classes`` (classes it never saw: 0)."""
    proba = np.zeros((X.shape[0], n_classes))
    proba[:, np.asarray(member.classes_, dtype=np.intp)] = member.predict_proba(X)
    return proba


def stack_rows(blocks: list[Any]) -> Any:
    """The rows of feature blocks ``blocks`` one after the other (sparse when the first block is)."""
    return sp.vstack(blocks) if sp.issparse(blocks[0]) else np.vstack(blocks)


def with_labeled(X: Any, y: IndexArray, labeled: tuple[Any, IndexArray] | None) -> tuple[Any, IndexArray]:
    """A model's training set: the ``labeled`` items from outside the pool (a pilot's; None: none), then the
    pool items with features ``X`` and (encoded) labels ``y``."""
    if labeled is None:
        return X, y
    X_before, y_before = labeled
    return stack_rows([X_before, X]), np.concatenate([y_before, y])


def _training_set(context: QueryContext, who: str) -> tuple[Any, IndexArray, Any]:
    """The features and labels the current model was trained on (:func:`with_labeled`: the ``labeled``
    items from outside the pool, then the pool's human-checked ones) and the unfitted model prototype of
    ``context``."""
    if context.train_indices is None or context.y_train is None:
        raise SimulatorInputError("train_indices", f"{who} needs the training items")
    prototype = context.estimator if context.estimator is not None else make_default_classifier()
    X_train, y_train = with_labeled(
        context.X_pool[np.asarray(context.train_indices, dtype=np.intp)],
        np.asarray(context.y_train, dtype=np.intp),
        context.labeled,
    )
    return X_train, y_train, prototype


def bald_scores(member_proba: FloatArray) -> FloatArray:
    """Mutual information between the prediction and the committee member, per candidate, in nats.

    Parameters
    ----------
    member_proba : numpy.ndarray of shape (n_members, n_candidates, n_classes)
        Each member's class probabilities.

    Returns
    -------
    numpy.ndarray of float, shape (n_candidates,)
        ``H(mean_m p_m) - mean_m H(p_m)``: high where the members disagree, 0 where they agree (even on
        an uncertain item).
    """
    total = entropy_scores(member_proba.mean(axis=0))
    expected = entr(member_proba).sum(axis=2).mean(axis=0)
    return np.asarray(np.maximum(total - expected, 0.0), dtype=np.float64)


class BALD(QueryStrategy):
    """BALD (Houlsby et al. 2011) on a bootstrap committee: the items whose label the members disagree on
    most, by the mutual information between the prediction and the member.

    Parameters
    ----------
    n_members : int, default 5
        Committee size; each member is trained on a bootstrap resample of the human-checked items.
    """

    name = "bald"
    uses_proba = False

    def __init__(self, n_members: int = 5) -> None:
        self.n_members = n_members

    def score(self, context: QueryContext, rng: np.random.Generator) -> FloatArray:
        """Mutual information (nats) between the prediction and the committee member."""
        X_train, y_train, prototype = _training_set(context, "BALD")
        if self.n_members < 2:
            raise SimulatorInputError("n_members", f"must be >= 2, got {self.n_members}")
        X_candidates = context.X_pool[np.asarray(context.candidates, dtype=np.intp)]
        members = []
        for _ in range(self.n_members):
            sample = QueryByCommittee._bootstrap(y_train, rng)
            member = clone(prototype).fit(X_train[sample], y_train[sample])
            members.append(_member_proba(member, X_candidates, context.n_classes))
        return bald_scores(np.stack(members))


class ExpectedErrorReduction(QueryStrategy):
    """Expected error reduction (Roy and McCallum 2001) on a candidate subsample.

    For each candidate of the subsample and each class, the model is refitted with that label added; the
    candidate's score is minus the expected error of the refitted models (weighted by the current model's
    probability of each label) on a random sample of the unlabeled pool, measured as the expected 0/1 loss
    ``sum(1 - max class probability)``. Cost: ``n_candidates x n_classes`` fits per round.

    Parameters
    ----------
    n_candidates : int, default 20
        Candidates scored per round: half the most uncertain (least confidence), half at random from the
        rest; the others are never chosen while the subsample holds a batch.
    n_pool_sample : int, default 200
        Unlabeled items the expected error is measured on.
    """

    name = "eer"

    def __init__(self, n_candidates: int = 20, n_pool_sample: int = 200) -> None:
        self.n_candidates = n_candidates
        self.n_pool_sample = n_pool_sample

    def select(self, context: QueryContext, batch_size: int, rng: np.random.Generator) -> IndexArray:
        """The best ``batch_size`` of the subsample (widened to the batch when the batch is larger)."""
        if isinstance(batch_size, int) and batch_size > self.n_candidates:
            return ExpectedErrorReduction(batch_size, self.n_pool_sample).select(context, batch_size, rng)
        return super().select(context, batch_size, rng)

    def score(self, context: QueryContext, rng: np.random.Generator) -> FloatArray:
        """Minus the expected 0/1 loss after adding each candidate (-inf outside the subsample)."""
        assert context.proba is not None
        for name in ("n_candidates", "n_pool_sample"):
            if getattr(self, name) < 1:
                raise SimulatorInputError(name, f"must be >= 1, got {getattr(self, name)}")
        X_train, y_train, prototype = _training_set(context, "expected error reduction")
        candidates = np.asarray(context.candidates, dtype=np.intp)
        n = candidates.size
        size = min(n, self.n_candidates)
        uncertain = top_k(least_confidence_scores(context.proba), max(1, size // 2), rng)
        others = np.setdiff1d(np.arange(n), uncertain)
        subsample = np.concatenate([uncertain, rng.choice(others, size=size - uncertain.size, replace=False)])
        measured = candidates[rng.choice(n, size=min(n, self.n_pool_sample), replace=False)]
        X_measured = context.X_pool[measured]
        scores = np.full(n, -np.inf)
        for position in subsample:
            x = context.X_pool[candidates[position : position + 1]]
            X_added = stack_rows([X_train, x])
            expected = 0.0
            for label in np.flatnonzero(context.proba[position] > 0):
                model = clone(prototype).fit(X_added, np.append(y_train, label))
                error = float(np.sum(1.0 - model.predict_proba(X_measured).max(axis=1)))
                expected += float(context.proba[position, label]) * error
            scores[position] = -expected
        return scores


class ClusterMargin(QueryStrategy):
    """Cluster-margin batches (Citovsky et al. 2021): the most uncertain items, clustered, one per cluster.

    The ``pool_factor x batch_size`` candidates with the smallest margin are clustered into ``batch_size``
    clusters (k-means on the features); each cluster gives its smallest-margin item, so a batch does not
    spend its labels on near-duplicates. With ``balance_classes``, clusters whose item the model assigns to
    the classes rarest among the labeled items come first (rare classes get their labels first).

    Parameters
    ----------
    pool_factor : float, default 4.0
        How many times the batch the uncertain set holds (wider: more diversity, less uncertainty).
    balance_classes : bool, default False
        Favour the rare classes (see above).
    """

    name = "cluster_margin"

    def __init__(self, pool_factor: float = 4.0, balance_classes: bool = False) -> None:
        self.pool_factor = pool_factor
        self.balance_classes = balance_classes

    def score(self, context: QueryContext, rng: np.random.Generator) -> FloatArray:
        """The margin score (the batch itself is chosen by :meth:`select`)."""
        assert context.proba is not None
        return margin_scores(context.proba)

    def select(self, context: QueryContext, batch_size: int, rng: np.random.Generator) -> IndexArray:
        """One smallest-margin item from each of ``batch_size`` clusters of the uncertain set."""
        batch_size = check_batch_size(batch_size)
        candidates = np.asarray(context.candidates, dtype=np.intp)
        if candidates.size <= batch_size:
            return candidates.copy()
        if context.proba is None:
            raise SimulatorInputError("proba", f"strategy {self.name!r} needs the model's probabilities")
        if not self.pool_factor >= 1.0:
            raise SimulatorInputError("pool_factor", f"must be >= 1, got {self.pool_factor}")
        margin = margin_scores(context.proba)
        n_uncertain = min(candidates.size, int(np.ceil(self.pool_factor * batch_size)))
        uncertain = top_k(margin, n_uncertain, rng)  # most uncertain first
        if n_uncertain == batch_size:
            return candidates[uncertain]
        clusters = KMeans(
            n_clusters=batch_size, n_init=1, random_state=int(rng.integers(2**31 - 1))
        ).fit_predict(context.X_pool[candidates[uncertain]])
        _, first = np.unique(clusters, return_index=True)  # each cluster's most uncertain item
        chosen = uncertain[np.sort(first)]
        if chosen.size < batch_size:  # fewer distinct clusters (duplicates): fill by margin
            rest = uncertain[~np.isin(uncertain, chosen)]
            chosen = np.concatenate([chosen, rest[: batch_size - chosen.size]])
        if self.balance_classes and context.y_train is not None:
            labeled = np.bincount(np.asarray(context.y_train, dtype=np.intp), minlength=context.n_classes)
            predicted = context.proba[chosen].argmax(axis=1)
            chosen = chosen[np.argsort(labeled[predicted], kind="stable")]
        return candidates[chosen]


class ClusterMarginBalanced(ClusterMargin):
    """Cluster-margin batches with the rare classes first (``balance_classes=True``)."""

    name = "cluster_margin_balanced"

    def __init__(self, pool_factor: float = 4.0, balance_classes: bool = True) -> None:
        super().__init__(pool_factor, balance_classes)


def make_strategy(strategy: str | QueryStrategy) -> QueryStrategy:
    """Return a strategy instance from its registered name (or the instance itself).

    Parameters
    ----------
    strategy : str or QueryStrategy
        A key of :data:`QUERY_STRATEGIES` or a ready instance.

    Returns
    -------
    QueryStrategy
    """
    if isinstance(strategy, QueryStrategy):
        return strategy
    if not isinstance(strategy, str) or strategy not in QUERY_STRATEGIES:
        raise SimulatorInputError(
            "strategy", f"unknown strategy {strategy!r}; expected one of {', '.join(QUERY_STRATEGIES)}"
        )
    return QUERY_STRATEGIES[strategy]()
