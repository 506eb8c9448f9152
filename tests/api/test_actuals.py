"""``/v1/plans/{id}/actuals``: report rounds, read the answer back, tenants, errors and limits."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient

from annoplan.api.problems import PROBLEM_MEDIA_TYPE
from tests.api.conftest import AUTH, OTHER_AUTH


def create_plan(client: TestClient, plan_request: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/v1/plans", json=plan_request, headers=AUTH)
    assert response.status_code == 201
    plan: dict[str, Any] = response.json()
    return plan


def first_round(plan: dict[str, Any], pool_size: int, cost: str) -> dict[str, Any]:
    forecast = next(f for f in plan["strategies"] if f["strategy"] == plan["recommendation"]["strategy"])
    row = forecast["schedule"][0]
    auto = pool_size - row["remaining"] - row["human_labels"]
    return {"round": 1, "human_labels": row["human_labels"], "cost": cost, "auto_accepted": auto}


def test_actuals_are_answered_stored_and_read_back(client: TestClient, plan_request: dict[str, Any]) -> None:
    plan = create_plan(client, plan_request)
    body = {"rounds": [first_round(plan, plan_request["pool_size"], "99999.00")]}
    response = client.post(f"/v1/plans/{plan['id']}/actuals", json=body, headers=AUTH)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["plan_id"] == plan["id"]
    assert answer["spent"] == "99999.00"
    assert answer["status"] == "over_plan"
    assert Decimal(answer["forecast"]["cost"]["p50"]) > Decimal("99999.00")
    assert answer["burn_up"][0]["actual"] == "99999.00"
    assert answer["advice"] and all(isinstance(s, str) for s in answer["advice"])
    read = client.get(f"/v1/plans/{plan['id']}/actuals", headers=AUTH)
    assert read.status_code == 200
    assert read.json() == answer


def test_a_new_report_replaces_the_last(client: TestClient, plan_request: dict[str, Any]) -> None:
    plan = create_plan(client, plan_request)
    url = f"/v1/plans/{plan['id']}/actuals"
    first = first_round(plan, plan_request["pool_size"], "99999.00")
    assert client.post(url, json={"rounds": [first]}, headers=AUTH).status_code == 200
    lower = first | {"cost": "1.00"}
    assert client.post(url, json={"rounds": [lower]}, headers=AUTH).status_code == 200
    answer = client.get(url, headers=AUTH).json()
    assert answer["spent"] == "1.00"
    assert answer["status"] == "under_plan"


def test_actuals_belong_to_the_plans_key(client: TestClient, plan_request: dict[str, Any]) -> None:
    plan = create_plan(client, plan_request)
    url = f"/v1/plans/{plan['id']}/actuals"
    body = {"rounds": [first_round(plan, plan_request["pool_size"], "500.00")]}
    assert client.post(url, json=body, headers=OTHER_AUTH).status_code == 404
    assert client.post(url, json=body, headers=AUTH).status_code == 200
    assert client.get(url, headers=OTHER_AUTH).status_code == 404
    assert client.get(url, headers={}).status_code == 401


def test_no_actuals_yet_and_a_deleted_plan_are_404(client: TestClient, plan_request: dict[str, Any]) -> None:
    plan = create_plan(client, plan_request)
    url = f"/v1/plans/{plan['id']}/actuals"
    missing = client.get(url, headers=AUTH)
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith(PROBLEM_MEDIA_TYPE)
    body = {"rounds": [first_round(plan, plan_request["pool_size"], "500.00")]}
    assert client.post(url, json=body, headers=AUTH).status_code == 200
    assert client.delete(f"/v1/plans/{plan['id']}", headers=AUTH).status_code == 204
    assert client.get(url, headers=AUTH).status_code == 404


def test_bad_actuals_are_422_naming_the_field(client: TestClient, plan_request: dict[str, Any]) -> None:
    plan = create_plan(client, plan_request)
    url = f"/v1/plans/{plan['id']}/actuals"
    float_cost = client.post(
        url, json={"rounds": [{"round": 1, "human_labels": 5, "cost": 1.5}]}, headers=AUTH
    )
    assert float_cost.status_code == 422
    assert [e["field"] for e in float_cost.json()["errors"]] == ["rounds[0].cost"]
    too_many = {"rounds": [{"round": 1, "human_labels": plan_request["pool_size"] + 1, "cost": "1"}]}
    response = client.post(url, json=too_many, headers=AUTH)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "rounds[0].human_labels"
    assert client.get(url, headers=AUTH).status_code == 404  # nothing stored


def test_a_replan_over_the_servers_cap_is_refused(
    make_client: Callable[..., TestClient], plan_request: dict[str, Any]
) -> None:
    client = make_client(max_plan_work=10**9)
    plan = create_plan(client, plan_request)
    capped = make_client(max_plan_work=1)
    body = {"rounds": [first_round(plan, plan_request["pool_size"], "500.00")]}
    response = capped.post(f"/v1/plans/{plan['id']}/actuals", json=body, headers=AUTH)
    assert response.status_code == 422
    assert "re-plan" in response.json()["detail"]


def test_the_workbook_gains_a_burn_up_sheet_once_actuals_exist(
    client: TestClient, plan_request: dict[str, Any]
) -> None:
    import io

    import openpyxl

    plan = create_plan(client, plan_request)
    report = f"/v1/plans/{plan['id']}/report.xlsx"
    before = openpyxl.load_workbook(io.BytesIO(client.get(report, headers=AUTH).content))
    assert "Burn-up" not in before.sheetnames
    body = {"rounds": [first_round(plan, plan_request["pool_size"], "777.00")]}
    assert client.post(f"/v1/plans/{plan['id']}/actuals", json=body, headers=AUTH).status_code == 200
    after = openpyxl.load_workbook(io.BytesIO(client.get(report, headers=AUTH).content))
    rows = [row for row in after["Burn-up"].iter_rows(values_only=True) if row and row[0] == 1]
    assert rows[-1][4] == 777
