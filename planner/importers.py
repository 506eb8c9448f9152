"""Pilot importers: the ``pilot`` object of a plan request from what labeling teams already have.

Two sources are read (SPEC 4.1, ``annoplan pilot``):

- scored items (:func:`pilot_from_scored_items`): one record per scored item with ``round``, ``n_labels``,
  ``split`` (``eval``: a random held-out item; ``train``: one of the model's training items), ``prediction``,
  ``confidence`` and ``label``. Each round's ``value`` is the accuracy on its eval items (``n_eval`` of them),
  ``train_value`` the accuracy on its train items, and the eval items are the round's calibration sample.
- a Label Studio JSON export (:func:`pilot_from_label_studio`): tasks whose model ``predictions`` (each
  with a ``score`` and a ``model_version``) and human ``annotations`` are classification choices. Each model
  version is a round; its training labels are the annotations made before its first prediction, and the
  tasks annotated after it are its held-out items.

Both return plain JSON-ready dicts; the callers read the files and validate the result against the schema.
"""

from __future__ import annotations

import datetime
import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from annoplan.planner.errors import InvalidInputError
from annoplan.planner.schemas.common import MAX_CALIBRATION_ITEMS

#: columns every scored item carries
SCORED_COLUMNS = ("round", "n_labels", "split", "prediction", "confidence", "label")
SPLITS = ("eval", "train")
#: seed of the random subsample of a round's eval items when there are more than a calibration sample holds
CALIBRATION_SEED = 0


@dataclass(frozen=True)
class ScoredItem:
    """One scored item: after ``n_labels`` labels (round ``round``), the model predicted with ``confidence``
    and the prediction was (or was not) ``correct``."""

    round: int
    n_labels: int
    split: str
    confidence: float
    correct: bool


@dataclass(frozen=True)
class ImportedPilot:
    """An imported pilot: the ``pilot`` object of a plan request and the warnings met on the way."""

    pilot: dict[str, Any]
    warnings: tuple[str, ...]


# --- scored items -------------------------------------------------------------------------------------------


def _integer(raw: Any, where: str) -> int:
    """A whole number from a cell (``"3"``, ``3``, ``3.0``); anything else raises naming ``where``."""
    if isinstance(raw, bool):
        raise InvalidInputError(where, f"{raw!r} is TRUE/FALSE, not a whole number")
    value: float
    if isinstance(raw, int | float):
        value = float(raw)
    else:
        text = "" if raw is None else str(raw).strip()
        if not text:
            raise InvalidInputError(where, "is empty; give a whole number")
        try:
            value = float(text)
        except ValueError:
            raise InvalidInputError(where, f"{raw!r} is not a whole number") from None
    if not (math.isfinite(value) and value.is_integer()):
        raise InvalidInputError(where, f"{raw!r} is not a whole number")
    return int(value)


def _confidence(raw: Any, where: str) -> float:
    """A confidence in [0, 1]; a value in (1, 100] gets a hint that it looks like a percentage."""
    if isinstance(raw, bool) or raw is None or (isinstance(raw, str) and not raw.strip()):
        raise InvalidInputError(where, f"{raw!r} is not a number; give the model's confidence in [0, 1]")
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise InvalidInputError(
            where, f"{raw!r} is not a number; give the model's confidence in [0, 1]"
        ) from None
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        hint = (
            f" (it looks like a percentage: write {value / 100:g} for {value:g}%)" if 1 < value <= 100 else ""
        )
        raise InvalidInputError(where, f"{raw!r} is outside [0, 1]{hint}")
    return value


def _class_name(raw: Any) -> str:
    """A class as text, so that ``1``, ``1.0`` and ``"1"`` from a CSV, JSON or spreadsheet compare equal."""
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw).strip()


def scored_item(record: Mapping[str, Any], where: str) -> ScoredItem:
    """One record of scored items (keys compared case-insensitively), checked; ``where`` names it in errors
    (``row 12``)."""
    clean = {str(k).strip().lower(): v for k, v in record.items() if k is not None}
    missing = [c for c in SCORED_COLUMNS if c not in clean]
    if missing:
        raise InvalidInputError(
            where, f"missing the column(s) {', '.join(missing)}; every item needs {', '.join(SCORED_COLUMNS)}"
        )
    split = str(clean["split"]).strip().lower()
    if split not in SPLITS:
        raise InvalidInputError(
            f"{where}.split",
            f"{clean['split']!r} is not eval or train (eval: a random held-out item; train: one the model "
            "was trained on)",
        )
    for column in ("prediction", "label"):
        if clean[column] is None or not _class_name(clean[column]):
            raise InvalidInputError(f"{where}.{column}", "is empty; give the class")
    n_labels = _integer(clean["n_labels"], f"{where}.n_labels")
    if n_labels < 1:
        raise InvalidInputError(f"{where}.n_labels", f"{n_labels} is below 1; give the labels the model had")
    return ScoredItem(
        round=_integer(clean["round"], f"{where}.round"),
        n_labels=n_labels,
        split=split,
        confidence=_confidence(clean["confidence"], f"{where}.confidence"),
        correct=_class_name(clean["prediction"]) == _class_name(clean["label"]),
    )


def pilot_from_scored_items(records: Iterable[tuple[str, Mapping[str, Any]]]) -> ImportedPilot:
    """The pilot of scored items: per round the accuracy on eval items, on train items, and a calibration
    sample.

    Parameters
    ----------
    records : iterable of (str, mapping)
        one per item: where it is (``line 12``, named in errors) and its fields ``round``, ``n_labels``
        (labels the round's model was trained on, count), ``split`` (``eval`` or ``train``), ``prediction``,
        ``confidence`` (in [0, 1]) and ``label``.

    Returns
    -------
    ImportedPilot
        ``pilot``: ``metric`` accuracy, ``rounds`` (``n_labels``, ``value``, ``n_eval``, ``train_value`` where
        the round has train items) sorted by ``n_labels``, and ``calibration`` (one sample per round); a round
        with more eval items than a sample holds gets a seeded random subsample of them, with a warning.

    Raises
    ------
    InvalidInputError
        naming the row and column: a missing column, a bad value, a round whose rows disagree on ``n_labels``,
        a round without eval items, two rounds with the same ``n_labels``, fewer than 2 rounds.
    """
    items = [scored_item(record, where) for where, record in records]
    if not items:
        raise InvalidInputError("FILE", "holds no scored items; give one row per scored item")
    return _pilot_from_items(items, lambda r: f"round {r}")


def _pilot_from_items(items: Sequence[ScoredItem], round_name: Any) -> ImportedPilot:
    """Aggregate checked items into rounds and calibration samples (shared by both importers)."""
    by_round: dict[int, list[ScoredItem]] = {}
    for item in items:
        by_round.setdefault(item.round, []).append(item)
    rounds: list[dict[str, Any]] = []
    calibration: list[dict[str, Any]] = []
    warnings: list[str] = []
    for key, members in by_round.items():
        n_labels = {m.n_labels for m in members}
        if len(n_labels) > 1:
            raise InvalidInputError(
                f"{round_name(key)}.n_labels",
                f"its items disagree ({', '.join(f'{n:,}' for n in sorted(n_labels))}); every item of a "
                "round was scored by the same model, trained on one number of labels",
            )
        evaluated = [m for m in members if m.split == "eval"]
        trained = [m for m in members if m.split == "train"]
        if not evaluated:
            raise InvalidInputError(
                round_name(key), "has no eval items; score the round's model on random held-out items"
            )
        entry: dict[str, Any] = {
            "n_labels": members[0].n_labels,
            "value": sum(m.correct for m in evaluated) / len(evaluated),
            "n_eval": len(evaluated),
        }
        if trained:
            entry["train_value"] = sum(m.correct for m in trained) / len(trained)
        rounds.append(entry)
        sample = evaluated
        if len(sample) > MAX_CALIBRATION_ITEMS:
            rng = np.random.default_rng(CALIBRATION_SEED)
            keep = np.sort(rng.choice(len(sample), MAX_CALIBRATION_ITEMS, replace=False))
            sample = [sample[i] for i in keep]
            warnings.append(
                f"{round_name(key)}: {len(evaluated):,} eval items, more than a calibration sample holds; "
                f"a random {MAX_CALIBRATION_ITEMS:,} of them are its calibration sample (value uses all)"
            )
        calibration.append(
            {
                "n_labels": members[0].n_labels,
                "confidence": [m.confidence for m in sample],
                "correct": [m.correct for m in sample],
            }
        )
    order = sorted(range(len(rounds)), key=lambda i: rounds[i]["n_labels"])
    keys = list(by_round)
    for a, b in itertools.pairwise(order):
        if rounds[a]["n_labels"] == rounds[b]["n_labels"]:
            raise InvalidInputError(
                f"{round_name(keys[b])}.n_labels",
                f"{round_name(keys[a])} has the same n_labels ({rounds[a]['n_labels']:,}); a later round's "
                "model is trained on more labels",
            )
    if len(rounds) < 2:
        raise InvalidInputError(
            "FILE", f"holds items of {round_name(keys[0])} only; a pilot needs at least 2 rounds"
        )
    pilot = {
        "metric": "accuracy",
        "rounds": [rounds[i] for i in order],
        "calibration": [calibration[i] for i in order],
    }
    return ImportedPilot(pilot=pilot, warnings=tuple(warnings))


# --- Label Studio -------------------------------------------------------------------------------------------


def _choice(results: Any, where: str) -> str | None:
    """The class of a classification result list (the first ``choices`` value), or None without one."""
    if not isinstance(results, list):
        raise InvalidInputError(f"{where}.result", "is not a list of results")
    for result in results:
        if not isinstance(result, dict):
            continue
        value = result.get("value")
        choices = value.get("choices") if isinstance(value, dict) else None
        if isinstance(choices, list) and choices:
            if len(choices) > 1:
                raise InvalidInputError(
                    f"{where}.result",
                    f"chooses {len(choices)} classes; only single-choice classification is read",
                )
            return _class_name(choices[0])
    return None


def _timestamp(raw: Any, where: str) -> datetime.datetime | None:
    """A Label Studio ``created_at`` (ISO 8601) as an aware datetime, or None when absent."""
    if raw is None:
        return None
    try:
        stamp = datetime.datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInputError(where, f"{raw!r} is not an ISO 8601 time") from None
    return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=datetime.UTC)


def pilot_from_label_studio(tasks: Any, n_labels: Mapping[str, int] | None = None) -> ImportedPilot:
    """The pilot of a Label Studio JSON export of classification tasks with model predictions.

    Parameters
    ----------
    tasks : list
        the export: tasks with ``annotations`` (human; cancelled ones ignored, the first of the rest counts)
        and ``predictions`` (each with ``model_version``, ``score`` in [0, 1], ``result`` with ``choices``,
        optional ``created_at``).
    n_labels : mapping of str to int, optional
        labels each model version was trained on. By default, the annotations made before the version's first
        prediction (which needs ``created_at`` on predictions and annotations).

    Returns
    -------
    ImportedPilot
        one round per model version, ordered by its training labels; a task annotated before the version's
        first prediction is one of its train items, one annotated after it (or any, with ``n_labels`` given)
        an eval item.

    Raises
    ------
    InvalidInputError
        naming the task (``tasks[3].predictions[0].score``) and what is wrong.
    """
    if not isinstance(tasks, list):
        raise InvalidInputError("FILE", "a Label Studio export is a JSON list of tasks")
    given = dict(n_labels or {})
    labeled: list[tuple[str, datetime.datetime | None, int]] = []  # (class, annotated at, task index)
    predicted: list[tuple[str, str, float, datetime.datetime | None, int]] = []
    for t, task in enumerate(tasks):
        where = f"tasks[{t}]"
        if not isinstance(task, dict):
            raise InvalidInputError(where, "is not a task object")
        human = [
            (a, i)
            for i, a in enumerate(task.get("annotations") or [])
            if isinstance(a, dict) and not a.get("was_cancelled")
        ]
        if human:
            annotation, i = human[0]
            label = _choice(annotation.get("result"), f"{where}.annotations[{i}]")
            if label is not None:
                stamp = _timestamp(annotation.get("created_at"), f"{where}.annotations[{i}].created_at")
                labeled.append((label, stamp, t))
        for p, prediction in enumerate(task.get("predictions") or []):
            at = f"{where}.predictions[{p}]"
            if not isinstance(prediction, dict):
                raise InvalidInputError(at, "is not a prediction object")
            choice = _choice(prediction.get("result"), at)
            if choice is None:
                continue
            score = prediction.get("score")
            if score is None:
                scores = [r.get("score") for r in prediction.get("result") or [] if isinstance(r, dict)]
                score = next((s for s in scores if s is not None), None)
            if score is None:
                raise InvalidInputError(f"{at}.score", "is missing; export the model's confidence as score")
            version = str(prediction.get("model_version") or "").strip()
            if not version:
                raise InvalidInputError(f"{at}.model_version", "is missing; it names the round's model")
            stamp = _timestamp(prediction.get("created_at"), f"{at}.created_at")
            predicted.append((version, choice, _confidence(score, f"{at}.score"), stamp, t))
    if not predicted:
        raise InvalidInputError("FILE", "has no tasks with classification predictions (choices and a score)")
    label_of = {t: (label, stamp) for label, stamp, t in labeled}
    versions = list(dict.fromkeys(version for version, *_ in predicted))
    unknown = sorted(set(given) - set(versions))
    if unknown:
        raise InvalidInputError(
            "--n-labels",
            f"no predictions of model version(s) {', '.join(unknown)} (found: {', '.join(versions)})",
        )
    items: list[ScoredItem] = []
    for number, version in enumerate(versions, start=1):
        own = [p for p in predicted if p[0] == version]
        stamps = [p[3] for p in own if p[3] is not None]
        first = min(stamps) if stamps else None
        if version in given:
            trained_on = given[version]
        elif first is None or any(stamp is None for _, stamp, _ in labeled):
            raise InvalidInputError(
                "--n-labels",
                f"model version {version!r}: the export has no created_at times to count its training "
                f"labels; give them as --n-labels {version}=N",
            )
        else:
            trained_on = sum(1 for _, stamp, _ in labeled if stamp is not None and stamp < first)
        if trained_on < 1:
            raise InvalidInputError(
                "--n-labels",
                f"model version {version!r} was trained on no labels; give --n-labels {version}=N",
            )
        for _, choice, confidence, _, t in own:
            if t not in label_of:
                continue
            label, annotated = label_of[t]
            train = version not in given and annotated is not None and first is not None and annotated < first
            items.append(
                ScoredItem(
                    round=number,
                    n_labels=trained_on,
                    split="train" if train else "eval",
                    confidence=confidence,
                    correct=choice == label,
                )
            )
    if not items:
        raise InvalidInputError("FILE", "no task has both a model prediction and a human annotation")
    return _pilot_from_items(items, lambda r: f"model version {versions[r - 1]!r}")
