"""Calibration samples and the checks every entry point of :mod:`planner.thresholds` runs on them."""

from __future__ import annotations

from typing import Literal, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from annoplan.planner.errors import InvalidInputError
from annoplan.planner.thresholds.bounds import Array

#: the error that a threshold guarantees: among auto-accepted items, or over the whole pool
RiskKind = Literal["selective", "pool"]
RISK_KINDS: tuple[RiskKind, ...] = ("selective", "pool")


class CalibrationRound(NamedTuple):
    """One pilot round's calibration sample; a plain ``(n_labels, confidence, correct)`` tuple also works.

    Attributes
    ----------
    n_labels : human labels the model of that round was trained on (count, > 0).
    confidence : the model's confidence on each item of a random held-out set (score in [0, 1], higher
        means more likely right, e.g. the max class probability).
    correct : whether the model's prediction on each item was right (bool, same length).
    """

    n_labels: float
    confidence: ArrayLike
    correct: ArrayLike


def _name(prefix: str, field: str) -> str:
    return f"{prefix}.{field}" if prefix else field


def check_sample(
    confidence: ArrayLike, correct: ArrayLike, field: str = ""
) -> tuple[Array, NDArray[np.bool_]]:
    """Validate one calibration sample: confidences in [0, 1], booleans, equal non-zero lengths.

    Parameters
    ----------
    confidence, correct : the sample (see :class:`CalibrationRound`).
    field : dotted path of the sample in the request (``pilot.calibration[2]``), prefixed to error fields.

    Returns
    -------
    (confidence, correct) : float and bool arrays of shape (n,).

    Raises
    ------
    InvalidInputError
        naming ``<field>.confidence`` or ``<field>.correct``.
    """
    conf_field, correct_field = _name(field, "confidence"), _name(field, "correct")
    try:
        conf = np.asarray(confidence, dtype=float)
    except (TypeError, ValueError):
        raise InvalidInputError(conf_field, "must be a list of numbers in [0, 1]") from None
    if conf.ndim != 1:
        raise InvalidInputError(conf_field, "must be a flat list of numbers in [0, 1]")
    if conf.size == 0:
        raise InvalidInputError(conf_field, "is empty: a calibration sample needs at least one item")
    if not np.all((conf >= 0.0) & (conf <= 1.0)):  # also rejects NaN
        bad = int(np.flatnonzero(~((conf >= 0.0) & (conf <= 1.0)))[0])
        raise InvalidInputError(f"{conf_field}[{bad}]", f"must be in [0, 1], got {conf[bad]}")
    raw = np.asarray(correct)
    if raw.ndim != 1:
        raise InvalidInputError(correct_field, "must be a flat list of true/false")
    if raw.shape != conf.shape:
        raise InvalidInputError(
            correct_field, f"has {raw.size} items but confidence has {conf.size}: one per item"
        )
    if raw.dtype != np.bool_:
        try:
            numeric = raw.astype(float)
        except (TypeError, ValueError):
            raise InvalidInputError(correct_field, "must be a list of true/false") from None
        if not np.all((numeric == 0.0) | (numeric == 1.0)):
            raise InvalidInputError(correct_field, "must be a list of true/false (or 1/0)")
        raw = numeric == 1.0
    return conf, raw


def check_risk_kind(risk: str) -> RiskKind:
    """``risk`` if it names a risk kind, else :class:`InvalidInputError` naming ``risk``."""
    for kind in RISK_KINDS:
        if risk == kind:
            return kind
    raise InvalidInputError("risk", f"must be one of {', '.join(RISK_KINDS)}, got {risk!r}")


def check_thresholds(thresholds: ArrayLike, field: str = "thresholds") -> Array:
    """Distinct thresholds in [0, 1], sorted from the most confident down."""
    try:
        grid = np.asarray(thresholds, dtype=float)
    except (TypeError, ValueError):
        raise InvalidInputError(field, "must be a list of numbers in [0, 1]") from None
    grid = np.atleast_1d(grid)
    if grid.ndim != 1 or grid.size == 0:
        raise InvalidInputError(field, "must be a non-empty flat list of numbers in [0, 1]")
    if not np.all((grid >= 0.0) & (grid <= 1.0)):
        raise InvalidInputError(field, "must be in [0, 1]")
    return np.unique(grid)[::-1].copy()
