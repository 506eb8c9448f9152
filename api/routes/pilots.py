"""``POST /v1/pilots/import``: the ``pilot`` object of a plan request from a file's text (computed, not
stored).

The text is what ``annoplan pilot FILE`` reads (scored items as CSV or JSON lines, a Label Studio JSON
export), or a pilot JSON, or a plan or quote request whose ``pilot`` is taken. The web page sends the files
people upload here, so that the page and the command line read pilots with the same importers.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import Field

from annoplan.api.bodies import JSONRoute
from annoplan.api.problems import problem_responses
from annoplan.planner.errors import InvalidInputError
from annoplan.planner.importers import ImportedPilot, pilot_from_label_studio, pilot_from_scored_items
from annoplan.planner.schemas.common import ResponseModel, StrictModel
from annoplan.planner.schemas.curves import Pilot
from annoplan.planner.validation import parse_request

router = APIRouter(prefix="/pilots", tags=["pilots"], route_class=JSONRoute)

#: the longest file text taken (characters); the request body's own cap usually binds first
MAX_CONTENT_CHARS = 20_000_000
#: the Label Studio fields that mark a JSON array as an export of tasks (not scored items)
LABEL_STUDIO_FIELDS = frozenset({"predictions", "annotations", "data"})

ModelVersion = Annotated[str, Field(min_length=1, max_length=200)]
Source = Literal["scored_items", "label_studio", "pilot", "request"]


class PilotImportRequest(StrictModel):
    """A file's text, and for a Label Studio export the labels each model version was trained on."""

    content: str = Field(
        min_length=1,
        max_length=MAX_CONTENT_CHARS,
        description=(
            "the file's text: scored items (CSV with a header, or JSON lines: round, n_labels, split "
            "eval|train, prediction, confidence, label), a Label Studio JSON export, a pilot JSON or a plan "
            "or quote request"
        ),
    )
    n_labels: dict[ModelVersion, Annotated[int, Field(ge=1)]] | None = Field(
        default=None,
        max_length=1000,
        description="Label Studio only: the labels each model version was trained on (default: the "
        "annotations made before its first prediction)",
    )


class PilotImportResponse(ResponseModel):
    """The pilot read, what it was read from, and the warnings met on the way."""

    source: Source = Field(description="what the text was read as")
    pilot: Pilot
    warnings: list[str]


def _json(text: str) -> Any:
    """The JSON document in ``text``; invalid JSON raises naming the line and column."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(
            "content", f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    except RecursionError:
        raise InvalidInputError("content", "JSON nested too deep to read") from None


def _whole_json(text: str) -> Any:
    """``text`` as one JSON document, or None when it is not one (JSON lines are several)."""
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return None


def _records(text: str) -> list[tuple[str, Mapping[str, Any]]]:
    """Scored items from CSV or JSON-lines ``text``, each named by its line."""
    records: list[tuple[str, Mapping[str, Any]]] = []
    if text.lstrip().startswith("{"):
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except (json.JSONDecodeError, RecursionError):
                raise InvalidInputError("content", f"line {number}: not a JSON object") from None
            if not isinstance(record, dict):
                raise InvalidInputError("content", f"line {number}: expected a JSON object per line")
            records.append((f"line {number}", record))
        return records
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        for row in reader:
            if all(v is None or not str(v).strip() for v in row.values()):
                continue
            records.append((f"line {reader.line_num}", row))
    except csv.Error as exc:
        raise InvalidInputError("content", f"line {reader.line_num}: not valid CSV ({exc})") from None
    return records


def import_pilot(body: PilotImportRequest) -> PilotImportResponse:
    """Read ``body.content`` as the first of: a JSON object (a pilot, or a request with one), a JSON array
    (a Label Studio export, or scored items), JSON lines or CSV of scored items."""
    text = body.content.lstrip("\ufeff")
    start = text.lstrip()[:1]
    source: Source
    document = _whole_json(text) if start == "{" else None
    if isinstance(document, dict):
        source = "request" if "pilot" in document else "pilot"
        raw = document["pilot"] if source == "request" else document
        imported = ImportedPilot(pilot=raw, warnings=())
    elif start == "[":
        document = _json(text)
        tasks = any(isinstance(t, dict) and (LABEL_STUDIO_FIELDS & set(t)) for t in document)
        if tasks:
            source = "label_studio"
            imported = pilot_from_label_studio(document, body.n_labels)
        else:
            source = "scored_items"
            records = [(f"items[{i}]", r if isinstance(r, dict) else {}) for i, r in enumerate(document)]
            imported = pilot_from_scored_items(records)
    else:
        source = "scored_items"
        imported = pilot_from_scored_items(_records(text))
    if body.n_labels and source != "label_studio":
        raise InvalidInputError("n_labels", "only a Label Studio export takes it")
    try:
        pilot = parse_request(Pilot, imported.pilot)
    except InvalidInputError as error:
        where = "pilot." if source == "request" else ""
        raise InvalidInputError("content", f"{where}{error}") from None
    return PilotImportResponse(source=source, pilot=pilot, warnings=list(imported.warnings))


@router.post(
    "/import",
    operation_id="importPilot",
    summary="Read a pilot from a file's text",
    response_model_exclude_none=True,
    responses=problem_responses(400, 401, 413, 415, 422),
)
def import_pilot_route(body: PilotImportRequest) -> PilotImportResponse:
    """The ``pilot`` object of a plan request from scored items (CSV or JSON lines), a Label Studio export,
    a pilot JSON or a plan or quote request, read as ``annoplan pilot`` reads them; nothing is stored."""
    return import_pilot(body)
