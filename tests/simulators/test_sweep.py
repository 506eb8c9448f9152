"""The sweep engine: pure tasks, paired seeds, and the same results on every backend."""

from __future__ import annotations

import json
import socket
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import make_classification

from annoplan.simulators.costs import RateCard
from annoplan.simulators.errors import SimulatorInputError
from annoplan.simulators.sweep import (
    FULL_POOL,
    ReplayOutcome,
    ReplayTask,
    load_features,
    make_tasks,
    map_tasks,
    run_sweep,
    run_task,
)


@pytest.fixture(scope="module")
def small_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """500 items, 3 classes, as an .npz the command line would read."""
    X, y = make_classification(
        n_samples=500, n_features=6, n_informative=4, n_classes=3, class_sep=1.0, random_state=1
    )
    path = tmp_path_factory.mktemp("sweep") / "small.npz"
    np.savez(path, X=X, y=y)
    return path


def as_json(outcomes: tuple[ReplayOutcome, ...]) -> str:
    return json.dumps([outcome.to_dict() for outcome in outcomes])


def test_serial_loky_and_a_dask_local_cluster_give_the_same_json(small_data: Path) -> None:
    tasks = make_tasks(
        [small_data],
        strategies=["random", "least_confidence", "qbc"],
        policies=["hybrid"],
        batch_size=25,
        max_labels=150,
        seeds=2,
        costs=RateCard(label=1.0, review=0.3, correction=1.2, audit=0.5, audit_rate=0.1),
    )
    serial = as_json(run_sweep(tasks, backend="serial"))
    loky = as_json(run_sweep(tasks, backend="loky", n_jobs=2))
    dask = as_json(run_sweep(tasks, backend="dask", n_jobs=2))
    assert serial == loky
    assert serial == dask
    assert len(json.loads(serial)) == len(tasks) == 2 * 5


def test_a_local_dask_cluster_takes_a_free_port_beside_another_on_the_dashboards() -> None:
    # two sweeps on one machine (two users, two test runs) each start a local cluster: the second must not
    # fall back from a taken fixed port with a warning
    taken = socket.socket()
    try:
        taken.bind(("127.0.0.1", 8787))
        taken.listen()
    except OSError:
        pass  # already taken by something else: the same situation
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("error", message="Port .* is already in use")
            assert list(map_tasks(abs, [-1, 2, -3], backend="dask", n_jobs=1)) == [1, 2, 3]
    finally:
        taken.close()


@pytest.mark.parametrize("backend", ["serial", "loky"])
def test_any_module_level_function_maps_over_tasks_in_their_order(backend: str) -> None:
    """The backtests run their own task functions on the same engine."""
    tasks = [-3, 1, -4, 1, -5, 9, -2, 6]
    assert list(map_tasks(abs, tasks, backend=backend, n_jobs=2)) == [3, 1, 4, 1, 5, 9, 2, 6]
    handed_out = [5, 7, 0, 2, 1, 3, 4, 6]  # e.g. the longest first: the results keep the tasks' order
    assert list(map_tasks(abs, tasks, backend=backend, n_jobs=2, order=handed_out)) == [
        3,
        1,
        4,
        1,
        5,
        9,
        2,
        6,
    ]
    with pytest.raises(SimulatorInputError) as error:
        list(map_tasks(abs, tasks, order=[0, 0, 1, 2, 3, 4, 5, 6]))
    assert error.value.field == "order"


def test_outcomes_come_back_in_the_tasks_order_and_each_task_is_pure(small_data: Path) -> None:
    tasks = make_tasks([small_data], strategies=["random", "margin"], batch_size=30, max_labels=120, seeds=2)
    forward = run_sweep(tasks)
    backward = run_sweep(tasks[::-1])
    assert [o.task for o in forward] == list(tasks)
    assert as_json(forward) == as_json(backward[::-1])
    assert run_task(tasks[1]) == forward[1]


def test_arms_of_one_seed_are_paired_and_seeds_differ(small_data: Path) -> None:
    tasks = make_tasks(
        [small_data],
        strategies=["random", "least_confidence", "entropy"],
        batch_size=40,
        max_labels=200,
        seeds=2,
    )
    outcomes = {(o.task.arm, o.task.seed): o for o in run_sweep(tasks) if o.task.policy != FULL_POOL}
    for seed in (0, 1):
        # the same evaluation set and the same first random batch: the first model is the same
        first = {outcomes[(arm, seed)].metric[0] for arm in ("random", "least_confidence", "entropy")}
        assert len(first) == 1
        assert outcomes[("random", seed)].labels == (40, 80, 120, 160, 200)
    assert outcomes[("random", 0)].metric != outcomes[("random", 1)].metric


def test_the_reference_trains_on_the_whole_pool_of_the_same_split(small_data: Path) -> None:
    tasks = make_tasks([small_data], strategies=["random"], batch_size=50, max_labels=100, seeds=1)
    reference, random_run = run_sweep(tasks)
    assert reference.task.policy == FULL_POOL
    assert reference.pool_size == random_run.pool_size == 400
    assert reference.n_eval == random_run.n_eval == 100
    assert reference.labels == (400,)
    # four times the labels: the full-pool model beats the 100-label one on this data
    assert reference.metric[0] > random_run.metric[-1] - 0.02


def test_root_seed_changes_every_replay(small_data: Path) -> None:
    def tasks(root_seed: int) -> tuple[ReplayTask, ...]:
        return make_tasks(
            [small_data],
            root_seed=root_seed,
            strategies=["random"],
            batch_size=50,
            max_labels=100,
            seeds=1,
            reference=False,
        )

    first = run_sweep(tasks(0))
    second = run_sweep(tasks(1))
    assert first[0].metric != second[0].metric


def test_batch_size_and_cap_may_depend_on_the_data_set(small_data: Path) -> None:
    tasks = make_tasks(
        [small_data],
        strategies=["random"],
        batch_size=lambda path: 10 if path.endswith("small.npz") else 1,
        max_labels=lambda path: 30,
        seeds=1,
        reference=False,
    )
    (outcome,) = run_sweep(tasks)
    assert outcome.labels == (10, 20, 30)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"strategies": ["coin_flip"]}, "strategy"),
        ({"policies": ["manual"]}, "policy"),
        ({"seeds": 0}, "seeds"),
        ({"root_seed": -1}, "random_state"),
        ({"batch_size": 0}, "batch_size"),
    ],
)
def test_bad_settings_name_their_field(small_data: Path, kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(SimulatorInputError) as error:
        make_tasks([small_data], **kwargs)  # type: ignore[arg-type]
    assert error.value.field == field


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"backend": "spark"}, "backend"),
        ({"backend": "loky", "n_jobs": 0}, "n_jobs"),
        ({"backend": "loky", "scheduler": "tcp://127.0.0.1:8786"}, "scheduler"),
    ],
)
def test_bad_backends_name_their_field(small_data: Path, kwargs: dict[str, object], field: str) -> None:
    tasks = make_tasks([small_data], strategies=["random"], batch_size=50, max_labels=50, seeds=1)
    with pytest.raises(SimulatorInputError) as error:
        run_sweep(tasks, **kwargs)  # type: ignore[arg-type]
    assert error.value.field == field


def test_a_data_set_written_again_is_read_again(tmp_path: Path) -> None:
    # the features are cached per process: a file replaced under the same path (a second `compare` in one
    # Python session, a test writing its data again) must not be answered with the old file's items
    path = tmp_path / "data.npz"
    np.savez(path, X=np.zeros((40, 2)), y=np.arange(40) % 2)
    assert load_features(path)[1].size == 40
    np.savez(path, X=np.ones((60, 2)), y=np.arange(60) % 2)
    X, y = load_features(path)
    assert y.size == 60 and X.shape == (60, 2)
