"""A plan of the bundled example (small: 300 draws, two batch sizes) and its workbook, shared by the tests."""

from __future__ import annotations

from typing import Any

import openpyxl
import pytest

from annoplan.planner import make_plan
from annoplan.planner.schemas.plans import PlanResponse
from annoplan.reports import plan_workbook
from tests.reports.helpers import load, small_request


@pytest.fixture(scope="session")
def plan_request() -> dict[str, Any]:
    return small_request()


@pytest.fixture(scope="session")
def plan(plan_request: dict[str, Any]) -> PlanResponse:
    return make_plan(plan_request)


@pytest.fixture(scope="session")
def workbook_bytes(plan: PlanResponse, plan_request: dict[str, Any]) -> bytes:
    return plan_workbook(plan, plan_request)


@pytest.fixture(scope="session")
def book(workbook_bytes: bytes) -> openpyxl.Workbook:
    return load(workbook_bytes)
