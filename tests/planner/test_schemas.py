"""Bounds the request schemas share: what an error guarantee may ask for, and list items bounded by type.

A plan or a quote with ``delta`` 1e-17 once reached the planner, whose calibration-size search never ended;
the schemas now admit only goals and deltas whose guarantee a calibration sample can carry.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from annoplan.planner.errors import InvalidInputError
from annoplan.planner.schemas import FitRequest, PlanRequest, QuoteRequest
from annoplan.planner.schemas.common import (
    MAX_CALIBRATION_ITEMS,
    MAX_DELTA,
    MAX_LABEL_ERROR,
    MIN_DELTA,
    MIN_LABEL_ERROR,
    TIGHTEST_CALIBRATION_SIZE,
)
from annoplan.planner.schemas.curves import MAX_LABELS
from annoplan.planner.thresholds import calibration_size_needed
from annoplan.planner.validation import parse_request

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PLAN: dict[str, Any] = json.loads((EXAMPLES / "plan.json").read_text())
QUOTE: dict[str, Any] = json.loads((EXAMPLES / "quote.json").read_text())
FIT: dict[str, Any] = json.loads((EXAMPLES / "pilot_fit.json").read_text())


def changed(request: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    """A copy of ``request`` with the entry at ``path`` replaced."""
    out = copy.deepcopy(request)
    node = out
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return out


PLAN_DATASET = changed(PLAN, ("goal",), {"type": "labeled_dataset", "max_label_error": 0.05})

#: (model, request, path of the field, its bounds)
GUARANTEE_FIELDS = {
    "plan delta": (PlanRequest, PLAN_DATASET, ("delta",), (MIN_DELTA, MAX_DELTA)),
    "plan max_label_error": (
        PlanRequest,
        PLAN_DATASET,
        ("goal", "max_label_error"),
        (MIN_LABEL_ERROR, MAX_LABEL_ERROR),
    ),
    "quote delta": (QuoteRequest, QUOTE, ("delta",), (MIN_DELTA, MAX_DELTA)),
    "quote max_label_error": (QuoteRequest, QUOTE, ("max_label_error",), (MIN_LABEL_ERROR, MAX_LABEL_ERROR)),
}


@pytest.mark.parametrize("value", [1e-17, 1e-20, 1e-300, 0.0, 0.9])
@pytest.mark.parametrize(
    ("model", "request_", "path", "bounds"), GUARANTEE_FIELDS.values(), ids=GUARANTEE_FIELDS
)
def test_a_guarantee_no_sample_could_carry_is_refused_naming_the_field(
    model: type[PlanRequest | QuoteRequest],
    request_: dict[str, Any],
    path: tuple[str, ...],
    bounds: tuple[float, float],
    value: float,
) -> None:
    with pytest.raises(InvalidInputError) as info:
        parse_request(model, changed(request_, path, value))
    assert info.value.field == ".".join(path), str(info.value)


@pytest.mark.parametrize(
    ("model", "request_", "path", "bounds"), GUARANTEE_FIELDS.values(), ids=GUARANTEE_FIELDS
)
def test_the_bounds_themselves_are_accepted_and_just_beyond_them_refused(
    model: type[PlanRequest | QuoteRequest],
    request_: dict[str, Any],
    path: tuple[str, ...],
    bounds: tuple[float, float],
) -> None:
    low, high = bounds
    for value in (low, high):
        parse_request(model, changed(request_, path, value))
    for value in (low * (1 - 1e-9), high * (1 + 1e-9)):
        with pytest.raises(InvalidInputError) as info:
            parse_request(model, changed(request_, path, value))
        assert info.value.field == ".".join(path)


def test_the_tightest_guarantee_needs_a_sample_one_request_can_carry() -> None:
    needed = calibration_size_needed(MIN_LABEL_ERROR, MIN_DELTA)
    assert needed == TIGHTEST_CALIBRATION_SIZE <= MAX_CALIBRATION_ITEMS
    assert calibration_size_needed(MAX_LABEL_ERROR, MAX_DELTA) == 1  # the loosest: one right item


@pytest.mark.parametrize(
    ("field", "values", "named"),
    [
        ("at_labels", [100, 200, 0], "at_labels[2]"),
        ("at_labels", [-5], "at_labels[0]"),
        ("at_labels", [100, MAX_LABELS + 1], "at_labels[1]"),
        ("targets", [0.9, 1.5], "targets[1]"),
        ("targets", [-0.1], "targets[0]"),
    ],
)
def test_list_items_out_of_bounds_are_refused_naming_the_item(
    field: str, values: list[float], named: str
) -> None:
    with pytest.raises(InvalidInputError) as info:
        parse_request(FitRequest, changed(FIT, (field,), values))
    assert info.value.field == named
    assert str(info.value).startswith(named)
    parse_request(FitRequest, changed(FIT, ("at_labels",), [1, MAX_LABELS]))
    parse_request(FitRequest, changed(FIT, ("targets",), [0.0, 1.0]))
