"""``POST /v1/pilots/import``: the page's upload reads a pilot with the importers ``annoplan pilot`` uses,
from scored items (CSV, JSON lines), a Label Studio export, a pilot JSON or a plan request."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from annoplan.api.cli import app
from tests.api.conftest import AUTH, example
from tests.test_cli_pilot import label_studio_export, scored_items, write_csv, write_jsonl

IMPORT = "/v1/pilots/import"


def cli_pilot(path: Path) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["pilot", str(path)])
    assert result.exit_code == 0, result.output
    pilot: dict[str, Any] = json.loads(result.stdout)
    return pilot


@pytest.mark.parametrize("writer", [write_csv, write_jsonl], ids=["csv", "jsonl"])
def test_scored_items_read_as_the_cli_reads_them(client: TestClient, tmp_path: Path, writer: Any) -> None:
    path = writer(tmp_path / "items", scored_items(seed=3))
    response = client.post(IMPORT, json={"content": path.read_text()}, headers=AUTH)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["source"] == "scored_items"
    pilot = body["pilot"]
    assert pilot == cli_pilot(path)
    assert [r["n_labels"] for r in pilot["rounds"]] == [100, 200, 400]


def test_a_label_studio_export_read_as_the_cli_reads_it(client: TestClient, tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    path.write_text(json.dumps(label_studio_export(seed=1)))
    response = client.post(IMPORT, json={"content": path.read_text()}, headers=AUTH)
    assert response.status_code == 200, response.text
    assert response.json()["source"] == "label_studio"
    assert response.json()["pilot"] == cli_pilot(path)


def test_a_plan_request_gives_its_pilot(client: TestClient) -> None:
    request = example("plan.json")
    response = client.post(IMPORT, json={"content": json.dumps(request, indent=1)}, headers=AUTH)
    assert response.status_code == 200
    assert response.json()["source"] == "request"
    assert response.json()["pilot"]["rounds"] == request["pilot"]["rounds"]
    pilot_only = client.post(IMPORT, json={"content": json.dumps(request["pilot"])}, headers=AUTH)
    assert pilot_only.json()["source"] == "pilot"


@pytest.mark.parametrize(
    ("content", "named"),
    [
        ("round,n_labels\n1,100\n", "missing the column"),
        ('{"metric": "accuracy", "rounds": [{"n_labels": 10, "value": 2.0}]}', "rounds"),
        ('{"pilot": {"rounds": "many"}}', "pilot.rounds"),
        ("[1, 2", "not valid JSON"),
        ('{"round": 1}\n{"round": oops}\n', "line 2"),
    ],
)
def test_bad_files_are_422_naming_what_is_wrong(client: TestClient, content: str, named: str) -> None:
    response = client.post(IMPORT, json={"content": content}, headers=AUTH)
    assert response.status_code == 422
    assert named in response.json()["detail"]


def test_n_labels_only_for_label_studio_and_a_key_is_needed(client: TestClient, tmp_path: Path) -> None:
    content = write_csv(tmp_path / "items.csv", scored_items()).read_text()
    response = client.post(IMPORT, json={"content": content, "n_labels": {"v1": 100}}, headers=AUTH)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "n_labels"
    assert client.post(IMPORT, json={"content": content}).status_code == 401
