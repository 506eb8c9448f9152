"""Sweeps of pool replays: many ``(dataset, policy, strategy, batch size, seed)`` tasks run on one backend.

Each replay is a pure task: :class:`ReplayTask` (plain settings, a data set path and a seed) in, a small
frozen :class:`ReplayOutcome` (the learning curve and the totals) out, with no shared state. Its random
numbers come from ``numpy.random.SeedSequence(root_seed, spawn_key=(seed,))``: every task of one seed
draws the same evaluation set and the same first random batch whatever its policy and strategy, so
comparisons over seeds are paired, and a task's result does not depend on where or in which order it
runs.

Backends (:data:`BACKENDS`):

``serial``
    One task after the other in this process.
``loky``
    joblib's process pool on this machine (``n_jobs`` workers).
``dask``
    joblib's dask backend on a Dask distributed cluster: the scheduler at ``scheduler``
    (``tcp://host:8786``), or a ``LocalCluster`` of ``n_jobs`` single-threaded worker processes when none
    is given. Needs the optional extra ``annoplan[dask]``; the data set paths must be readable by every
    worker.

A worker reads and featurizes each data set once (a per-process cache) and pins BLAS to one thread per
task, so the results are identical on every backend.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from threadpoolctl import threadpool_limits

from annoplan.simulators._common import check_estimator, split_eval_pool
from annoplan.simulators._validation import check_batch_size, check_max_labels
from annoplan.simulators.costs import RateCard
from annoplan.simulators.datasets import load_dataset
from annoplan.simulators.errors import SimulatorInputError
from annoplan.simulators.query_strategies import QUERY_STRATEGIES
from annoplan.simulators.replay import POLICIES, ReplayResult, replay_pool
from annoplan.simulators.volumes import Volumes

__all__ = [
    "BACKENDS",
    "FULL_POOL",
    "ArmResult",
    "Comparison",
    "PolicyResult",
    "Quantiles",
    "ReplayOutcome",
    "ReplayTask",
    "TargetResult",
    "compare_outcomes",
    "labels_to_reach",
    "load_features",
    "make_tasks",
    "map_tasks",
    "quantiles_of",
    "run_sweep",
    "run_task",
    "saving_vs_random",
    "task_generator",
]

Task = TypeVar("Task")
Result = TypeVar("Result")

BACKENDS: tuple[str, ...] = ("serial", "loky", "dask")
"""Where :func:`run_sweep` runs its tasks."""

FULL_POOL = "full_pool"
"""The reference task's policy: a model trained on every pool item, scored on the same evaluation set."""

DATASET_CACHE_SIZE = 4
"""Data sets a worker keeps featurized (tasks of one data set follow each other)."""


@dataclass(frozen=True)
class ReplayTask:
    """One replay of a sweep: plain settings, picklable, with no state.

    Attributes
    ----------
    data : str
        Path of the data set (``.npz`` or ``.csv``, as :func:`simulators.datasets.load_dataset` reads).
    policy : str
        ``random``, ``active_learning``, ``prelabel``, ``hybrid``, or :data:`FULL_POOL` (the reference).
    strategy : str
        Query strategy of ``active_learning`` (``random`` for the random policy and the reference,
        ``random`` for prelabel, ``least_confidence`` for hybrid: how they choose items).
    batch_size : int
        Items sent to humans per round.
    seed : int
        Replicate number; with ``root_seed`` it gives the task's random numbers.
    root_seed : int
        Entropy of the sweep's ``SeedSequence``.
    max_labels : int or None
        Cap on human-touched items (None: the whole pool).
    costs : RateCard
        Unit prices.
    confidence_threshold : float
        ``hybrid`` only: the auto-accept threshold.
    """

    data: str
    policy: str
    strategy: str
    batch_size: int
    seed: int
    root_seed: int = 0
    max_labels: int | None = None
    costs: RateCard = field(default_factory=RateCard)
    confidence_threshold: float = 0.95

    @property
    def arm(self) -> str:
        """What the task compares: the strategy's name for random and active learning, else the policy's."""
        return self.strategy if self.policy in ("random", "active_learning") else self.policy

    def rng(self) -> np.random.Generator:
        """The task's generator, from ``SeedSequence(root_seed, spawn_key=(seed,))``."""
        return np.random.default_rng(np.random.SeedSequence(self.root_seed, spawn_key=(self.seed,)))


@dataclass(frozen=True)
class ReplayOutcome:
    """The small result of one task: its learning curve and totals.

    Attributes
    ----------
    task : ReplayTask
        The task run.
    labels : tuple of int
        Human-touched items after each round that had a model (fresh labels, reviews, corrections).
    metric : tuple of float
        Accuracy of that round's model on the held-out evaluation set.
    cost : tuple of float
        Cost so far after each of those rounds, in the rate card's currency units.
    total_cost : float
        Cost of the whole run.
    human_labels, corrections, auto_accepted, audits, rounds, pool_size, n_eval : int
        Totals of the run (items; rounds).
    label_error : float
        Share of the pool left with a wrong label.
    """

    task: ReplayTask
    labels: tuple[int, ...]
    metric: tuple[float, ...]
    cost: tuple[float, ...]
    total_cost: float
    human_labels: int
    corrections: int
    auto_accepted: int
    audits: int
    rounds: int
    pool_size: int
    n_eval: int
    label_error: float

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able values (the task's settings, the curve, the totals)."""
        task = self.task
        return {
            "data": Path(task.data).name,
            "policy": task.policy,
            "strategy": task.strategy,
            "batch_size": task.batch_size,
            "seed": task.seed,
            "max_labels": task.max_labels,
            "labels": list(self.labels),
            "metric": list(self.metric),
            "cost": list(self.cost),
            "total_cost": self.total_cost,
            "human_labels": self.human_labels,
            "corrections": self.corrections,
            "auto_accepted": self.auto_accepted,
            "audits": self.audits,
            "rounds": self.rounds,
            "pool_size": self.pool_size,
            "n_eval": self.n_eval,
            "label_error": self.label_error,
        }


def make_tasks(
    datasets: Sequence[str | Path],
    *,
    strategies: Sequence[str] = ("random", "least_confidence"),
    policies: Sequence[str] = (),
    batch_size: int | Callable[[str], int] = 100,
    max_labels: int | Callable[[str], int | None] | None = None,
    seeds: int = 3,
    root_seed: int = 0,
    costs: RateCard | None = None,
    confidence_threshold: float = 0.95,
    reference: bool = True,
) -> tuple[ReplayTask, ...]:
    """Every task of a sweep: each data set x seed x arm, plus each data set's full-pool reference.

    Parameters
    ----------
    datasets : sequence of str or Path
        Data set paths.
    strategies : sequence of str
        Query strategies replayed by random labeling (``random``) or active learning (the others).
    policies : sequence of str
        Whole-pool policies replayed too (``prelabel``, ``hybrid``); they are not capped by ``max_labels``.
    batch_size : int or callable
        Items per round, or a function of the data set path giving them.
    max_labels : int, None or callable
        Cap on human labels of the strategies' runs (None: the whole pool), or a function of the path.
    seeds : int
        Replicates per data set (>= 1).
    root_seed : int
        Entropy of the sweep's ``SeedSequence`` (>= 0).
    costs : RateCard, optional
        Unit prices (default ``RateCard()``).
    confidence_threshold : float
        ``hybrid``'s auto-accept threshold.
    reference : bool
        Also a :data:`FULL_POOL` task per data set and seed (the accuracy of a model trained on the
        whole pool), which targets given as shares need.

    Returns
    -------
    tuple of ReplayTask
        Ordered by data set, seed, then arm.
    """
    for name in strategies:
        if name not in QUERY_STRATEGIES:
            raise SimulatorInputError(
                "strategy", f"unknown strategy {name!r}; expected one of {', '.join(QUERY_STRATEGIES)}"
            )
    for name in policies:
        if name not in ("prelabel", "hybrid"):
            raise SimulatorInputError("policy", f"unknown policy {name!r}; expected prelabel or hybrid")
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise SimulatorInputError("seeds", f"must be an integer >= 1, got {seeds!r}")
    if isinstance(root_seed, bool) or not isinstance(root_seed, int) or root_seed < 0:
        raise SimulatorInputError("random_state", f"must be an integer >= 0, got {root_seed!r}")
    costs = RateCard() if costs is None else costs
    tasks: list[ReplayTask] = []
    for path in datasets:
        data = str(path)
        batch = check_batch_size(batch_size(data) if callable(batch_size) else batch_size)
        cap = check_max_labels(max_labels(data) if callable(max_labels) else max_labels)
        for seed in range(seeds):
            base = ReplayTask(data, FULL_POOL, "random", batch, seed, root_seed, costs=costs)
            if reference:
                tasks.append(base)
            for name in strategies:
                policy = "random" if name == "random" else "active_learning"
                tasks.append(replace(base, policy=policy, strategy=name, max_labels=cap))
            for name in policies:
                strategy = "least_confidence" if name == "hybrid" else "random"
                tasks.append(
                    replace(base, policy=name, strategy=strategy, confidence_threshold=confidence_threshold)
                )
    return tuple(tasks)


def _features(data: str) -> tuple[Any, Any]:
    """The data set's features and labels, built once per process and version of the file: its path, size
    and modification time (a file written again under the same path is read again)."""
    try:
        stat = Path(data).stat()
    except OSError:  # reading it says what is wrong, naming the field
        return _read_features(data, 0, -1)
    return _read_features(data, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=DATASET_CACHE_SIZE)
def _read_features(data: str, mtime_ns: int, size: int) -> tuple[Any, Any]:
    """:func:`_features` of one version of the file (the cache's key)."""
    X, y, _ = load_dataset(data)
    return X, y


def run_task(task: ReplayTask) -> ReplayOutcome:
    """Run one task (a pure function of the task: same task, same outcome, on any machine).

    Parameters
    ----------
    task : ReplayTask

    Returns
    -------
    ReplayOutcome
    """
    X, y = _features(task.data)
    with threadpool_limits(limits=1):
        if task.policy == FULL_POOL:
            return _full_pool(task, X, y)
        if task.policy not in POLICIES:
            raise SimulatorInputError("policy", f"unknown policy {task.policy!r}")
        result = replay_pool(
            X,
            y,
            policy=task.policy,
            strategy=task.strategy if task.policy == "active_learning" else "least_confidence",
            batch_size=task.batch_size,
            confidence_threshold=task.confidence_threshold,
            costs=task.costs,
            max_labels=task.max_labels,
            calibration_size=0,
            random_state=task.rng(),
        )
    return _outcome(task, result)


def _outcome(task: ReplayTask, result: ReplayResult) -> ReplayOutcome:
    rounds = [r for r in result.history if r.metric is not None]
    return ReplayOutcome(
        task=task,
        labels=tuple(r.human_labels for r in rounds),
        metric=tuple(float(r.metric) for r in rounds if r.metric is not None),
        cost=tuple(r.cost for r in rounds),
        total_cost=result.cost,
        human_labels=result.human_labels,
        corrections=result.corrections,
        auto_accepted=result.auto_accepted,
        audits=result.audits,
        rounds=result.rounds,
        pool_size=result.pool_size,
        n_eval=result.n_eval,
        label_error=result.label_error,
    )


def _full_pool(task: ReplayTask, X: Any, y: Any) -> ReplayOutcome:
    """Accuracy of a model trained on the whole pool, on the evaluation set the task's replays draw."""
    from annoplan.simulators._validation import check_features_labels

    X, y_encoded, _ = check_features_labels(X, y)
    split = split_eval_pool(X, y_encoded, None, task.rng())
    model = check_estimator(None).fit(split.X_pool, split.y_pool)
    accuracy = float(np.mean(model.predict(split.X_eval) == split.y_eval))
    n_pool = int(split.y_pool.size)
    return ReplayOutcome(
        task=task,
        labels=(n_pool,),
        metric=(accuracy,),
        cost=(0.0,),
        total_cost=0.0,
        human_labels=n_pool,
        corrections=0,
        auto_accepted=0,
        audits=0,
        rounds=1,
        pool_size=n_pool,
        n_eval=int(split.y_eval.size),
        label_error=0.0,
    )


def map_tasks(
    function: Callable[[Task], Result],
    tasks: Sequence[Task],
    *,
    backend: str = "serial",
    n_jobs: int = 1,
    scheduler: str | None = None,
    order: Sequence[int] | None = None,
) -> Iterator[Result]:
    """``function`` of every task, in the tasks' order as they complete, on a backend (see the module
    docstring): the engine of :func:`run_sweep` and of the benchmarks' backtests. ``function`` must be a
    module-level function (workers import it) and each task picklable. ``order`` (a permutation of the
    tasks' indices) is the order the workers get them in, e.g. the longest first so that none runs alone at
    the end; the results still come back in the tasks' order."""
    if backend not in BACKENDS:
        raise SimulatorInputError(
            "backend", f"unknown backend {backend!r}; expected one of {', '.join(BACKENDS)}"
        )
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs < 1:
        raise SimulatorInputError("n_jobs", f"must be an integer >= 1, got {n_jobs!r}")
    if scheduler is not None and backend != "dask":
        raise SimulatorInputError("scheduler", "needs the dask backend (--backend dask)")
    if order is not None:
        if sorted(order) != list(range(len(tasks))):
            raise SimulatorInputError("order", "must hold every task's index once")
        results = map_tasks(
            function, [tasks[i] for i in order], backend=backend, n_jobs=n_jobs, scheduler=scheduler
        )
        return _in_task_order(results, order)
    if backend == "serial":
        return map(function, tasks)
    if backend == "loky":
        return _joblib_map(function, tasks, n_jobs)
    return _dask_map(function, tasks, n_jobs, scheduler)


def _in_task_order(results: Iterator[Result], order: Sequence[int]) -> Iterator[Result]:
    """``results`` (of the tasks in ``order``) in the tasks' own order, each as soon as those before it."""
    waiting: dict[int, Result] = {}
    following = 0
    for index, result in zip(order, results, strict=True):
        waiting[index] = result
        while following in waiting:
            yield waiting.pop(following)
            following += 1


def task_generator(
    tasks: Sequence[ReplayTask], *, backend: str = "serial", n_jobs: int = 1, scheduler: str | None = None
) -> Iterator[ReplayOutcome]:
    """The outcomes of ``tasks`` in their order, as they complete (see :func:`run_sweep`)."""
    return map_tasks(run_task, tasks, backend=backend, n_jobs=n_jobs, scheduler=scheduler)


def _joblib_map(function: Callable[[Task], Result], tasks: Sequence[Task], n_jobs: int) -> Iterator[Result]:
    from joblib import Parallel, delayed, parallel_config

    with parallel_config(backend="loky", n_jobs=n_jobs, inner_max_num_threads=1):
        yield from Parallel(return_as="generator")(delayed(function)(task) for task in tasks)


def _dask_map(
    function: Callable[[Task], Result], tasks: Sequence[Task], n_jobs: int, scheduler: str | None
) -> Iterator[Result]:
    try:
        from distributed import Client, LocalCluster
    except ImportError as error:
        raise SimulatorInputError(
            "backend", "dask needs the optional extra: pip install 'annoplan[dask]'"
        ) from error
    from joblib import Parallel, delayed, parallel_config

    if scheduler is None:
        # the scheduler's HTTP server starts even without a dashboard: on a free port (None means 8787, and a
        # second cluster on the machine falls back from it with a warning)
        cluster = LocalCluster(n_workers=n_jobs, threads_per_worker=1, processes=True, dashboard_address=":0")
        client = Client(cluster)
    else:
        cluster = None
        try:
            client = Client(scheduler, timeout="10s")
        except OSError as error:
            raise SimulatorInputError(
                "scheduler", f"cannot reach the Dask scheduler at {scheduler}: {error}"
            ) from error
    try:
        with parallel_config(backend="dask", wait_for_workers_timeout=60):
            yield from Parallel(return_as="generator")(delayed(function)(task) for task in tasks)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def run_sweep(
    tasks: Sequence[ReplayTask],
    *,
    backend: str = "serial",
    n_jobs: int = 1,
    scheduler: str | None = None,
    progress: Callable[[ReplayOutcome], None] | None = None,
) -> tuple[ReplayOutcome, ...]:
    """Run every task on a backend; the outcomes come back in the tasks' order.

    Parameters
    ----------
    tasks : sequence of ReplayTask
        From :func:`make_tasks` (or built by hand).
    backend : {"serial", "loky", "dask"}, default "serial"
        Where to run (see the module docstring).
    n_jobs : int, default 1
        Worker processes (``loky``; ``dask`` without a scheduler: the LocalCluster's workers).
    scheduler : str, optional
        ``dask`` only: the address of a running scheduler (``tcp://host:8786``).
    progress : callable, optional
        Called with each outcome as it arrives (in the tasks' order).

    Returns
    -------
    tuple of ReplayOutcome
        Identical whatever the backend and the number of workers.
    """
    outcomes: list[ReplayOutcome] = []
    for outcome in task_generator(tasks, backend=backend, n_jobs=n_jobs, scheduler=scheduler):
        outcomes.append(outcome)
        if progress is not None:
            progress(outcome)
    return tuple(outcomes)


# --- comparing arms over seeds ------------------------------------------------------------------------------


def load_features(data: str | Path) -> tuple[Any, Any]:
    """The features and labels of a data set, built once per process (the cache the tasks use)."""
    return _features(str(data))


@dataclass(frozen=True)
class Quantiles:
    """P10, P50 and P90 over seeds; None where the quantile falls on a run that never got there."""

    p10: float | None
    p50: float | None
    p90: float | None

    def to_dict(self) -> dict[str, float | None]:
        return {"p10": self.p10, "p50": self.p50, "p90": self.p90}


def quantiles_of(values: Sequence[float | None]) -> Quantiles:
    """P10/P50/P90 (linear interpolation) of ``values``; None counts as never (above every number)."""
    if not values:
        return Quantiles(None, None, None)
    ordered = np.sort(np.array([np.inf if v is None else v for v in values], dtype=np.float64))

    def quantile(q: float) -> float | None:
        position = (ordered.size - 1) * q
        low, frac = int(np.floor(position)), position - np.floor(position)
        value = ordered[low] if frac == 0 else ordered[low] + frac * (ordered[low + 1] - ordered[low])
        return float(value) if np.isfinite(value) else None

    return Quantiles(quantile(0.1), quantile(0.5), quantile(0.9))


def labels_to_reach(labels: Sequence[float], metric: Sequence[float], level: float) -> float | None:
    """Labels at which a learning curve first reaches ``level``, linear between rounds (None: never)."""
    reached = np.flatnonzero(np.asarray(metric) >= level)
    if reached.size == 0:
        return None
    i = int(reached[0])
    if i == 0:
        return float(labels[0])
    n0, n1, m0, m1 = labels[i - 1], labels[i], metric[i - 1], metric[i]
    return float(n0 + (n1 - n0) * (level - m0) / (m1 - m0))


@dataclass(frozen=True)
class TargetResult:
    """How one arm reached one target over the seeds.

    Attributes
    ----------
    target : float
        The target as given (a share of the full-pool accuracy, or an accuracy with ``absolute``).
    level : Quantiles
        The accuracy it stands for, over seeds.
    labels : Quantiles
        Human labels to reach it (None: a quantile the runs never reached within their labels).
    reached : float
        Share of seeds that reached it.
    cost : Quantiles
        Cost when it was reached, in the rate card's currency units.
    saving : Quantiles or None
        ``1 - labels / random's labels`` of the same seed, over the seeds where it says something (not for
        random). A run that never reached the target counts with its bound (its last labels).
    lost : float or None
        Share of those seeds where the arm needed more labels than random.
    n_compared, n_flat : int
        Seeds in ``saving``, and seeds left out because the first model (trained on the batch every arm
        shares) already reached the target, or neither run reached it.
    """

    target: float
    level: Quantiles
    labels: Quantiles
    reached: float
    cost: Quantiles
    saving: Quantiles | None
    lost: float | None
    n_compared: int
    n_flat: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "level": self.level.to_dict(),
            "labels": self.labels.to_dict(),
            "reached": self.reached,
            "cost": self.cost.to_dict(),
            "saving_vs_random": None if self.saving is None else self.saving.to_dict(),
            "lost_to_random": self.lost,
            "n_compared": self.n_compared,
            "n_left_out": self.n_flat,
        }


@dataclass(frozen=True)
class ArmResult:
    """One strategy (random labeling or active learning with a query strategy) over the seeds.

    Attributes
    ----------
    arm : str
        The strategy's name.
    targets : tuple of TargetResult
    final_metric : Quantiles
        Accuracy at the last round.
    curve_labels : tuple of int
        Labels of the rounds common to every seed.
    curve : tuple of Quantiles
        Accuracy at those labels over seeds (the learning curve and its band).
    """

    arm: str
    targets: tuple[TargetResult, ...]
    final_metric: Quantiles
    curve_labels: tuple[int, ...]
    curve: tuple[Quantiles, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "strategy": self.arm,
            "targets": [t.to_dict() for t in self.targets],
            "final_metric": self.final_metric.to_dict(),
            "curve": [
                {"labels": n, **q.to_dict()} for n, q in zip(self.curve_labels, self.curve, strict=True)
            ],
        }


@dataclass(frozen=True)
class PolicyResult:
    """A whole-pool policy (pre-labeling, hybrid routing) over the seeds, against labeling it all by hand.

    Attributes
    ----------
    policy : str
    cost, manual_cost : Quantiles
        Its cost and that of labeling the whole pool from scratch in the same batches (currency units).
    saving : Quantiles
        ``1 - cost / manual_cost`` per seed.
    lost : float
        Share of seeds where it cost more than labeling by hand.
    human_labels, corrections, auto_accepted : Quantiles
        Work volumes (items).
    label_error : Quantiles
        Share of the pool delivered wrong.
    """

    policy: str
    cost: Quantiles
    manual_cost: Quantiles
    saving: Quantiles
    lost: float
    human_labels: Quantiles
    corrections: Quantiles
    auto_accepted: Quantiles
    label_error: Quantiles

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "cost": self.cost.to_dict(),
            "manual_cost": self.manual_cost.to_dict(),
            "saving_vs_manual": self.saving.to_dict(),
            "lost_to_manual": self.lost,
            "human_labels": self.human_labels.to_dict(),
            "corrections": self.corrections.to_dict(),
            "auto_accepted": self.auto_accepted.to_dict(),
            "label_error": self.label_error.to_dict(),
        }


@dataclass(frozen=True)
class Comparison:
    """Every arm and policy of a sweep compared over its cases (data set x seed).

    Attributes
    ----------
    targets : tuple of float
    absolute : bool
        Whether the targets are accuracies (else shares of the full-pool accuracy).
    n_cases : int
        Data set x seed pairs.
    full_pool_metric : Quantiles
        Accuracy of a model trained on the whole pool.
    arms : tuple of ArmResult
    policies : tuple of PolicyResult
    """

    targets: tuple[float, ...]
    absolute: bool
    n_cases: int
    full_pool_metric: Quantiles
    arms: tuple[ArmResult, ...]
    policies: tuple[PolicyResult, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "targets": list(self.targets),
            "absolute": self.absolute,
            "cases": self.n_cases,
            "full_pool_metric": self.full_pool_metric.to_dict(),
            "strategies": [arm.to_dict() for arm in self.arms],
            "policies": [policy.to_dict() for policy in self.policies],
        }


Case = tuple[str, int]


def _reach(outcome: ReplayOutcome, level: float) -> tuple[float | None, float | None]:
    """Labels and cost at which a run first reached ``level`` (None, None: never)."""
    n = labels_to_reach(outcome.labels, outcome.metric, level)
    if n is None:
        return None, None
    return n, float(np.interp(n, outcome.labels, outcome.cost))


def saving_vs_random(run: ReplayOutcome, random_run: ReplayOutcome, level: float) -> float | None:
    """``1 - labels / random's labels`` at ``level``; a run that never got there counts with its last labels
    (a bound); None when the first (shared) model reached it or neither run did."""
    n_arm, _ = _reach(run, level)
    n_random, _ = _reach(random_run, level)
    if n_arm is None and n_random is None:
        return None
    if n_random is not None and n_random <= random_run.labels[0] and n_arm == run.labels[0]:
        return None
    arm_labels = run.labels[-1] if n_arm is None else n_arm
    random_labels = random_run.labels[-1] if n_random is None else n_random
    return 1.0 - arm_labels / random_labels


def _curve(runs: Sequence[ReplayOutcome]) -> tuple[tuple[int, ...], tuple[Quantiles, ...]]:
    """The rounds every run had, and the accuracy quantiles at them."""
    n_rounds = min(len(run.labels) for run in runs)
    labels = runs[0].labels[:n_rounds]
    if any(run.labels[:n_rounds] != labels for run in runs):  # batches differ by data set
        return (), ()
    return labels, tuple(quantiles_of([run.metric[i] for run in runs]) for i in range(n_rounds))


def compare_outcomes(
    outcomes: Iterable[ReplayOutcome], targets: Sequence[float], *, absolute: bool = False
) -> Comparison:
    """Compare every arm with random labeling, and every whole-pool policy with labeling by hand.

    Parameters
    ----------
    outcomes : iterable of ReplayOutcome
        A sweep's outcomes with, per case (data set and seed), a ``random`` run, the other arms' runs and,
        unless ``absolute``, the :data:`FULL_POOL` reference.
    targets : sequence of float
        Shares of the full-pool accuracy (e.g. 0.95), or accuracies with ``absolute``.
    absolute : bool, default False

    Returns
    -------
    Comparison
    """
    by_case: dict[Case, dict[str, ReplayOutcome]] = {}
    for outcome in outcomes:
        task = outcome.task
        arm = FULL_POOL if task.policy == FULL_POOL else task.arm
        by_case.setdefault((task.data, task.seed), {})[arm] = outcome
    cases = sorted(by_case)
    if not cases or any("random" not in by_case[case] for case in cases):
        raise SimulatorInputError("strategy", "the comparison needs a random run in every case")
    if not absolute and any(FULL_POOL not in by_case[case] for case in cases):
        raise SimulatorInputError("targets", "shares of the full-pool accuracy need the full-pool reference")
    reference = {case: by_case[case][FULL_POOL].metric[0] for case in cases if FULL_POOL in by_case[case]}
    levels = {case: [t if absolute else t * reference[case] for t in targets] for case in cases}
    names = [name for name in by_case[cases[0]] if name != FULL_POOL]
    arms: list[ArmResult] = []
    policies: list[PolicyResult] = []
    for name in names:
        runs = [by_case[case][name] for case in cases]
        if runs[0].task.policy in ("prelabel", "hybrid"):
            policies.append(_policy_result(name, runs))
            continue
        results = []
        for j, target in enumerate(targets):
            reach = [_reach(run, levels[case][j]) for run, case in zip(runs, cases, strict=True)]
            savings = None
            lost = None
            n_compared = n_flat = 0
            if name != "random":
                compared = [
                    saving_vs_random(run, by_case[case]["random"], levels[case][j])
                    for run, case in zip(runs, cases, strict=True)
                ]
                kept = [s for s in compared if s is not None]
                n_compared, n_flat = len(kept), len(compared) - len(kept)
                savings = quantiles_of(kept)
                lost = float(np.mean([s < 0 for s in kept])) if kept else None
            results.append(
                TargetResult(
                    target=float(target),
                    level=quantiles_of([levels[case][j] for case in cases]),
                    labels=quantiles_of([n for n, _ in reach]),
                    reached=float(np.mean([n is not None for n, _ in reach])),
                    cost=quantiles_of([c for _, c in reach]),
                    saving=savings,
                    lost=lost,
                    n_compared=n_compared,
                    n_flat=n_flat,
                )
            )
        curve_labels, curve = _curve(runs)
        arms.append(
            ArmResult(
                name, tuple(results), quantiles_of([run.metric[-1] for run in runs]), curve_labels, curve
            )
        )
    return Comparison(
        targets=tuple(float(t) for t in targets),
        absolute=absolute,
        n_cases=len(cases),
        full_pool_metric=quantiles_of(list(reference.values())),
        arms=tuple(arms),
        policies=tuple(policies),
    )


def _policy_result(name: str, runs: Sequence[ReplayOutcome]) -> PolicyResult:
    manual = [
        float(
            run.task.costs.total(
                Volumes(
                    fresh_labels=run.pool_size,
                    reviews=0,
                    corrections=0,
                    audits=0,
                    auto_accepted=0,
                    rounds=-(-run.pool_size // run.task.batch_size),
                )
            )
        )
        for run in runs
    ]
    savings = [1.0 - run.total_cost / m if m > 0 else 0.0 for run, m in zip(runs, manual, strict=True)]
    return PolicyResult(
        policy=name,
        cost=quantiles_of([run.total_cost for run in runs]),
        manual_cost=quantiles_of(manual),
        saving=quantiles_of(savings),
        lost=float(np.mean([s < 0 for s in savings])),
        human_labels=quantiles_of([run.human_labels for run in runs]),
        corrections=quantiles_of([run.corrections for run in runs]),
        auto_accepted=quantiles_of([run.auto_accepted for run in runs]),
        label_error=quantiles_of([run.label_error for run in runs]),
    )
