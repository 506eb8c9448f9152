"""``/v1/plans``: create, read back, idempotency, tenants, limits, persistence and failure safety."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from annoplan import planner
from annoplan.api.problems import PROBLEM_MEDIA_TYPE
from annoplan.api.reports import XLSX_MEDIA_TYPE
from annoplan.api.routes import plans as plans_routes
from annoplan.api.storage import RecordRow, Storage
from annoplan.planner.schemas.plans import PlanRequest
from tests.api.conftest import AUTH, OTHER_AUTH


def stored_rows(client: TestClient) -> list[tuple[str, str, str, str]]:
    """Every stored row, as (kind, id, request, response): what a failed request must leave untouched."""
    storage = client.app.state.storage  # type: ignore[attr-defined]
    with storage.engine.connect() as connection:
        rows = connection.execute(select(RecordRow.kind, RecordRow.id, RecordRow.request, RecordRow.response))
        return sorted(tuple(row) for row in rows)


@contextmanager
def full(storage: Storage) -> Iterator[None]:
    """The SQLite store as if its disk were full: no page can be added (SQLite's own SQLITE_FULL)."""
    from sqlalchemy import event, text

    def cap(connection: Any, _record: Any) -> None:
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        connection.execute(f"PRAGMA max_page_count={pages}")

    storage.engine.dispose()
    event.listen(storage.engine, "connect", cap)
    try:
        yield
    finally:
        event.remove(storage.engine, "connect", cap)
        storage.engine.dispose()
        with storage.engine.connect() as connection:
            connection.execute(text("SELECT 1"))


def test_create_returns_201_with_location_and_a_plan(
    client: TestClient, plan_request: dict[str, Any]
) -> None:
    response = client.post("/v1/plans", json=plan_request, headers=AUTH)
    assert response.status_code == 201
    plan = response.json()
    assert response.headers["location"] == f"/v1/plans/{plan['id']}"
    assert {s["strategy"] for s in plan["strategies"]} == {"manual", "prelabel", "active_learning", "hybrid"}
    assert plan["recommendation"]["strategy"] in {s["strategy"] for s in plan["strategies"]}
    assert plan["currency"] == "USD"


def test_money_is_decimal_strings_in_minor_units_and_survives_storage(
    client: TestClient, plan_request: dict[str, Any]
) -> None:
    created = client.post("/v1/plans", json=plan_request, headers=AUTH)
    cost = created.json()["recommendation"]["cost"]
    for value in cost.values():
        assert isinstance(value, str)
        assert Decimal(value) == Decimal(value).quantize(Decimal("0.01"))
    read = client.get(created.headers["location"], headers=AUTH)
    assert read.status_code == 200
    assert read.content == created.content  # byte for byte, no float round trip


def test_the_api_answers_what_the_python_api_answers(
    client: TestClient, plan_request: dict[str, Any]
) -> None:
    over_http = client.post("/v1/plans", json=plan_request, headers=AUTH).json()
    direct = planner.make_plan(plan_request).model_dump(mode="json")
    for data in (over_http, direct):
        data.pop("id")
    assert over_http == direct


def test_a_plan_belongs_to_the_key_that_created_it(client: TestClient, plan_request: dict[str, Any]) -> None:
    location = client.post("/v1/plans", json=plan_request, headers=AUTH).headers["location"]
    other = client.get(location, headers=OTHER_AUTH)
    assert other.status_code == 404
    assert other.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert client.get(f"{location}/report.xlsx", headers=OTHER_AUTH).status_code == 404
    assert client.get(location, headers=AUTH).status_code == 200


def test_unknown_id_is_a_404_problem(client: TestClient) -> None:
    response = client.get("/v1/plans/0123456789abcdef", headers=AUTH)
    assert response.status_code == 404
    problem = response.json()
    assert problem["type"] == "urn:annoplan:problem:not-found"
    assert problem["instance"] == "/v1/plans/0123456789abcdef"
    assert "0123456789abcdef" in problem["detail"]


def test_idempotent_retry_replays_the_stored_plan(client: TestClient, plan_request: dict[str, Any]) -> None:
    headers = AUTH | {"Idempotency-Key": "order-42"}
    first = client.post("/v1/plans", json=plan_request, headers=headers)
    # the same request, its keys in another order: the same JSON
    retry = client.post("/v1/plans", json=dict(reversed(list(plan_request.items()))), headers=headers)
    assert retry.status_code == 201
    assert retry.content == first.content
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.headers["location"] == first.headers["location"]
    assert len(stored_rows(client)) == 1


def test_idempotency_key_reused_with_another_body_is_422_and_stores_nothing(
    client: TestClient, plan_request: dict[str, Any]
) -> None:
    headers = AUTH | {"Idempotency-Key": "order-42"}
    first = client.post("/v1/plans", json=plan_request, headers=headers)
    before = stored_rows(client)
    conflict = client.post("/v1/plans", json=plan_request | {"seed": 7}, headers=headers)
    assert conflict.status_code == 422
    assert conflict.json()["type"] == "urn:annoplan:problem:idempotency-key-reused"
    assert first.json()["id"] in conflict.json()["detail"]
    assert stored_rows(client) == before


def test_idempotency_keys_are_per_api_key(client: TestClient, plan_request: dict[str, Any]) -> None:
    first = client.post("/v1/plans", json=plan_request, headers=AUTH | {"Idempotency-Key": "k"})
    other = client.post("/v1/plans", json=plan_request, headers=OTHER_AUTH | {"Idempotency-Key": "k"})
    assert other.status_code == 201
    assert other.json()["id"] != first.json()["id"]


def test_without_idempotency_key_every_post_creates_a_plan(
    client: TestClient, plan_request: dict[str, Any]
) -> None:
    ids = {client.post("/v1/plans", json=plan_request, headers=AUTH).json()["id"] for _ in range(2)}
    assert len(ids) == 2


def test_concurrent_retries_with_one_key_store_one_plan(
    client: TestClient, plan_request: dict[str, Any]
) -> None:
    headers = AUTH | {"Idempotency-Key": "burst"}
    responses: list[Any] = []

    def post() -> None:
        responses.append(client.post("/v1/plans", json=plan_request, headers=headers))

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.status_code for r in responses] == [201] * 4
    assert len({r.json()["id"] for r in responses}) == 1
    assert len(stored_rows(client)) == 1


def test_concurrent_requests_with_one_key_compute_once(
    client: TestClient, plan_request: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    computed: list[int] = []
    make_plan = planner.make_plan

    def counted(request: Any) -> Any:
        computed.append(1)
        return make_plan(request)

    monkeypatch.setattr(planner, "make_plan", counted)
    headers = AUTH | {"Idempotency-Key": "twenty"}
    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(
            pool.map(lambda _: client.post("/v1/plans", json=plan_request, headers=headers), range(20))
        )
    assert [r.status_code for r in responses] == [201] * 20
    assert len({r.json()["id"] for r in responses}) == 1
    assert len(computed) == 1
    assert len(stored_rows(client)) == 1


def test_a_full_store_answers_503_stores_nothing_and_keeps_what_it_has(
    client: TestClient, plan_request: dict[str, Any]
) -> None:
    kept = client.post("/v1/plans", json=plan_request, headers=AUTH)
    storage = client.app.state.storage  # type: ignore[attr-defined]
    with full(storage):
        response = client.post("/v1/plans", json=plan_request, headers=AUTH)
        ready = client.get("/readyz")
        read = client.get(kept.headers["Location"], headers=AUTH)
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert response.json()["type"] == "urn:annoplan:problem:storage-full"
    assert response.headers["Retry-After"]
    assert ready.status_code == 503 and "full" in ready.json()["detail"]
    assert read.status_code == 200 and read.content == kept.content
    assert [row[1] for row in stored_rows(client)] == [kept.json()["id"]]
    assert client.get("/readyz").status_code == 200  # room again: ready again


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there"])
def test_malformed_idempotency_key_is_422_naming_the_header(
    client: TestClient, plan_request: dict[str, Any], key: str
) -> None:
    response = client.post("/v1/plans", json=plan_request, headers=AUTH | {"Idempotency-Key": key})
    assert response.status_code == 422
    assert response.json()["errors"][0] | {"message": ""} == {
        "field": "Idempotency-Key",
        "in": "header",
        "message": "",
        "type": response.json()["errors"][0]["type"],
    }


def test_invalid_plan_names_every_field_as_a_dotted_path(
    client: TestClient, plan_request: dict[str, Any]
) -> None:
    plan_request["pilot"]["rounds"][2]["value"] = 1.5
    plan_request["costs"]["label"] = -1
    plan_request["surprise"] = True
    response = client.post("/v1/plans", json=plan_request, headers=AUTH)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    problem = response.json()
    assert {e["field"] for e in problem["errors"]} == {"pilot.rounds[2].value", "costs.label", "surprise"}
    assert problem["detail"].startswith("pilot.rounds[2].value: ")
    assert set(problem) == {"type", "title", "status", "detail", "instance", "errors"}


def test_union_members_do_not_leak_into_field_paths(client: TestClient, plan_request: dict[str, Any]) -> None:
    plan_request["goal"] = {"type": "labeled_dataset", "max_label_error": 2}
    plan_request["pilot"]["metric"] = {"name": "", "higher_is_better": True}
    response = client.post("/v1/plans", json=plan_request, headers=AUTH)
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"goal.max_label_error", "pilot.metric.name"} <= fields
    assert not any(tag in f for f in fields for tag in ("literal", "MetricSpec", "labeled_dataset"))


def test_planner_invalid_input_is_422_with_its_field(
    client: TestClient, plan_request: dict[str, Any]
) -> None:
    plan_request["pilot"]["calibration"][0]["correct"] = plan_request["pilot"]["calibration"][0]["correct"][
        :-1
    ]
    response = client.post("/v1/plans", json=plan_request, headers=AUTH)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "pilot.calibration[0]"


def test_hybrid_alone_without_what_it_needs_is_invalid_input(
    client: TestClient, plan_request: dict[str, Any]
) -> None:
    plan_request.update(strategies=["hybrid"], goal={"type": "model_metric", "target": 0.95})
    response = client.post("/v1/plans", json=plan_request, headers=AUTH)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "strategies"


def test_a_plan_too_large_for_the_server_is_refused_before_computing(
    make_client: Callable[..., TestClient], plan_request: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    client = make_client(max_plan_work=1_000_000)
    monkeypatch.setattr(planner, "make_plan", lambda request: pytest.fail("computed an oversized plan"))
    plan_request.update(draws=20_000, batch_sizes=[1], pool_size=10**9)
    response = client.post("/v1/plans", json=plan_request, headers=AUTH)
    assert response.status_code == 422
    problem = response.json()
    assert problem["type"] == "urn:annoplan:problem:simulation-too-large"
    assert "1,000,000" in problem["detail"] and "20,000 draws" in problem["detail"]
    assert {e["field"] for e in problem["errors"]} == {"draws", "batch_sizes"}


def test_plans_survive_a_restart(
    make_client: Callable[..., TestClient], plan_request: dict[str, Any]
) -> None:
    first = make_client()
    created = first.post("/v1/plans", json=plan_request, headers=AUTH | {"Idempotency-Key": "once"})
    first.app.state.storage.dispose()  # type: ignore[attr-defined]
    restarted = make_client()  # a new app on the same database file
    read = restarted.get(created.headers["location"], headers=AUTH)
    assert read.status_code == 200
    assert read.content == created.content
    retry = restarted.post("/v1/plans", json=plan_request, headers=AUTH | {"Idempotency-Key": "once"})
    assert retry.content == created.content


def test_failed_requests_never_alter_stored_plans(
    make_client: Callable[..., TestClient], plan_request: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    client = make_client(max_body_bytes=200_000)
    client.post("/v1/plans", json=plan_request, headers=AUTH | {"Idempotency-Key": "kept"})
    before = stored_rows(client)
    failures = [
        client.post("/v1/plans", json=plan_request | {"draws": 1}, headers=AUTH),
        client.post("/v1/plans", json=plan_request | {"seed": 1}, headers=AUTH | {"Idempotency-Key": "kept"}),
        client.post("/v1/plans", content=b"{", headers=AUTH | {"Content-Type": "application/json"}),
        client.post("/v1/plans", content=b"x" * 300_000, headers=AUTH | {"Content-Type": "application/json"}),
        client.post("/v1/plans", json=plan_request),
    ]
    monkeypatch.setattr(planner, "make_plan", lambda request: 1 / 0)
    failures.append(client.post("/v1/plans", json=plan_request, headers=AUTH))
    assert [r.status_code for r in failures] == [422, 422, 400, 413, 401, 500]
    assert stored_rows(client) == before


def test_a_failed_write_is_rolled_back_whole(
    client: TestClient, plan_request: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    def fail_after_flush(session: Session, context: Any) -> None:
        raise RuntimeError("disk full")

    event.listen(Session, "after_flush", fail_after_flush)
    try:
        response = client.post("/v1/plans", json=plan_request, headers=AUTH)
    finally:
        event.remove(Session, "after_flush", fail_after_flush)
    assert response.status_code == 500
    assert "disk full" not in response.text
    assert stored_rows(client) == []


def test_report_is_an_xlsx_attachment_of_the_plan(client: TestClient, plan_request: dict[str, Any]) -> None:
    plan_request["name"] = '=HYPERLINK("http://x")'
    created = client.post("/v1/plans", json=plan_request, headers=AUTH)
    plan_id = created.json()["id"]
    report = client.get(f"/v1/plans/{plan_id}/report.xlsx", headers=AUTH)
    assert report.status_code == 200
    assert report.headers["content-type"] == XLSX_MEDIA_TYPE
    assert report.headers["content-disposition"] == f'attachment; filename="annoplan-plan-{plan_id}.xlsx"'
    book = openpyxl.load_workbook(io.BytesIO(report.content))
    assert {"Summary", "Assumptions", "Strategies"} <= set(book.sheetnames)
    named = [
        cell
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if isinstance(cell.value, str) and "HYPERLINK" in cell.value
    ]
    assert named, "the plan's name is in the workbook"
    assert all(cell.data_type == "s" for cell in named)  # as text, never as a formula


def test_report_of_an_unknown_plan_is_404(client: TestClient) -> None:
    response = client.get("/v1/plans/nope/report.xlsx", headers=AUTH)
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE


def test_stored_request_reads_back_as_the_same_request(
    client: TestClient, plan_request: dict[str, Any]
) -> None:
    client.post("/v1/plans", json=plan_request, headers=AUTH)
    [(_, _, request, _)] = stored_rows(client)
    assert PlanRequest.model_validate_json(request) == PlanRequest.model_validate(plan_request)
    assert json.loads(request)["delta"] == 0.05  # defaults filled in, for the report


def test_the_size_check_runs_off_the_event_loop(
    client: TestClient, plan_request: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counting a plan's work certifies thresholds on the calibration sample (half a second for a large
    sample): while it runs, the server answers other requests."""
    entered, release = threading.Event(), threading.Event()

    def slow_admission(body: PlanRequest, limit: int) -> None:
        entered.set()
        release.wait(timeout=30)

    monkeypatch.setattr(plans_routes, "admit_plan", slow_admission)
    # one event loop serves every request, as under a server (outside a with block each request has its own)
    with client, ThreadPoolExecutor(max_workers=2) as pool:
        plan = pool.submit(client.post, "/v1/plans", json=plan_request, headers=AUTH)
        assert entered.wait(timeout=30)
        health = pool.submit(client.get, "/healthz")
        answered = health.result(timeout=10).status_code  # a blocked event loop would hold it 30 s
        release.set()
        assert answered == 200
        assert plan.result().status_code == 201
