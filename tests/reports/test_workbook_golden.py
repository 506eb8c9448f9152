"""Golden content of the plan workbook: a fixed plan and request (``golden/``) give a workbook whose loaded
content (sheet names, every value, number formats, merged ranges, defined names, dropdowns, chart series
references, where each picture sits, its size and title) equals ``golden/plan_workbook.json``. Compared
after loading, never byte for byte; a picture's pixels depend on the drawing library's version: left out.

After an intended change, regenerate with ``ANNOPLAN_UPDATE_GOLDEN=1 pytest tests/reports`` and review the
diff of ``golden/``: that re-plans the bundled example (300 draws, two batch sizes; schedules and threshold
table trimmed) and rewrites the three files.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.utils import get_column_letter
from openpyxl.utils.units import EMU_to_pixels

from annoplan.planner import make_plan
from annoplan.planner.schemas.plans import PlanResponse
from annoplan.reports import plan_workbook
from tests.reports.helpers import load, small_request

GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("ANNOPLAN_UPDATE_GOLDEN") == "1"


def regenerate() -> None:
    """The fixed request and plan: the example, small, its schedules and threshold table trimmed."""
    request = small_request()
    plan = make_plan(request).model_dump(mode="json")
    plan["id"] = "0" * 32
    for forecast in plan["strategies"]:
        forecast["schedule"] = forecast["schedule"][:3]
    plan["thresholds"] = [row for i, row in enumerate(plan["thresholds"]) if row["chosen"] or i % 5 == 0]
    (GOLDEN / "plan_request.json").write_text(json.dumps(request) + "\n")
    (GOLDEN / "plan_response.json").write_text(json.dumps(plan, indent=1) + "\n")


def plain(value: Any) -> Any:
    """A cell value as stable JSON: floats to 12 significant digits."""
    if isinstance(value, float):
        return float(f"{value:.12g}")
    return value


def series_refs(series: Any) -> list[Any]:
    title = series.tx.v if series.tx is not None else None
    if series.xVal is not None:
        return [title, series.xVal.numRef.f, series.yVal.numRef.f]
    return [title, series.cat.strRef.f if series.cat.strRef else series.cat.numRef.f, series.val.numRef.f]


def picture(image: Any) -> dict[str, Any]:
    """Where a picture sits, its size in pixels and its title (not its pixels)."""
    anchor = image.anchor
    return {
        "anchor": f"{get_column_letter(anchor._from.col + 1)}{anchor._from.row + 1}",
        "size": [EMU_to_pixels(anchor.ext.width), EMU_to_pixels(anchor.ext.height)],
        "title": anchor.pic.nvPicPr.cNvPr.name,
    }


def digest(book: openpyxl.Workbook) -> dict[str, Any]:
    """What a reader of the workbook sees, as plain data."""
    sheets = []
    for ws in book:
        sheets.append(
            {
                "title": ws.title,
                "freeze": ws.freeze_panes,
                "orientation": ws.page_setup.orientation,
                "cells": {
                    c.coordinate: [plain(c.value), c.data_type, c.number_format, c.style]
                    for row in ws.iter_rows()
                    for c in row
                    if c.value is not None
                },
                "merged": sorted(str(r) for r in ws.merged_cells.ranges),
                "validations": sorted(
                    [str(v) for v in (dv.type, dv.formula1, dv.formula2, dv.sqref)]
                    for dv in ws.data_validations.dataValidation
                ),
                "charts": [
                    {
                        "type": type(chart).__name__,
                        "title": chart.title.tx.rich.p[0].r[0].t,
                        "series": [series_refs(s) for s in chart.series],
                    }
                    for chart in ws._charts
                ],
                "pictures": [picture(image) for image in ws._images],
            }
        )
    names = {name: dn.attr_text for name, dn in book.defined_names.items()}
    return {"sheets": sheets, "names": names}


def test_the_plan_workbook_matches_its_golden_content() -> None:
    if UPDATE:
        regenerate()
    request = json.loads((GOLDEN / "plan_request.json").read_text())
    plan = PlanResponse.model_validate_json((GOLDEN / "plan_response.json").read_text())
    found = digest(load(plan_workbook(plan, request)))
    path = GOLDEN / "plan_workbook.json"
    if UPDATE:
        path.write_text(json.dumps(found, indent=1, sort_keys=True) + "\n")
    expected = json.loads(path.read_text())
    assert [s["title"] for s in found["sheets"]] == [s["title"] for s in expected["sheets"]]
    for got, want in zip(found["sheets"], expected["sheets"], strict=True):
        assert got == want, got["title"]
    assert found["names"] == expected["names"]
