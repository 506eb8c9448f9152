"""Pictures in the workbooks: what a native chart cannot draw (each strategy's cost range side by side) is a
PNG picture on the Strategies sheet; what a native chart draws (the learning curve, the threshold trade-off)
is not drawn twice."""

from __future__ import annotations

import io
import posixpath
import re
import xml.etree.ElementTree as ET
import zipfile
from typing import Any

import numpy as np
import openpyxl
import pytest
from openpyxl.utils.units import pixels_to_EMU
from PIL import Image

from annoplan.planner.schemas.plans import PlanResponse
from annoplan.reports import build_plan_workbook
from annoplan.reports.charts import COSTS_PICTURE
from annoplan.reports.model import PNG_SIGNATURE, Cell, Chart, Picture, Series, SheetBuilder, Workbook
from annoplan.reports.render import render_workbook
from annoplan.reports.sections import STRATEGY_NAMES
from tests.reports.helpers import load

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def png(width: int = 4, height: int = 3) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(buffer, format="PNG")
    return buffer.getvalue()


def sheet_drawings(data: bytes) -> dict[str, list[str]]:
    """The files each sheet's drawings link to (charts and media), by sheet title, read from the zip."""
    archive = zipfile.ZipFile(io.BytesIO(data))

    def links(part: str) -> dict[str, str]:
        """The relationships of ``part``: target part by id."""
        folder, name = posixpath.split(part)
        rels = posixpath.join(folder, "_rels", f"{name}.rels")
        if rels not in archive.namelist():
            return {}
        return {
            rel.get("Id", ""): posixpath.normpath(posixpath.join(folder, rel.get("Target", ""))).lstrip("/")
            for rel in ET.fromstring(archive.read(rels))
        }

    sheets = ET.fromstring(archive.read("xl/workbook.xml")).iter(f"{{{MAIN}}}sheet")
    parts = links("xl/workbook.xml")
    return {
        sheet.get("name", ""): [
            linked
            for drawing in links(parts[sheet.get(f"{{{REL}}}id", "")]).values()
            for linked in links(drawing).values()
        ]
        for sheet in sheets
    }


def test_the_strategies_sheet_carries_the_cost_ranges_as_a_picture(
    plan: PlanResponse, plan_request: dict[str, Any]
) -> None:
    book = build_plan_workbook(plan, plan_request)
    sheet = book.sheet("Strategies")
    (picture,) = sheet.pictures
    assert picture.png.startswith(PNG_SIGNATURE)
    assert (picture.width, picture.height) == COSTS_PICTURE
    assert picture.title == "Cost by strategy"
    assert int(picture.anchor[1:]) > len(sheet.rows) and picture.anchor.startswith("A")  # below the table
    for forecast in plan.strategies:
        assert STRATEGY_NAMES[forecast.strategy] in picture.description
    with Image.open(io.BytesIO(picture.png)) as image:
        assert image.size == COSTS_PICTURE
        pixels = np.asarray(image.convert("L"), dtype=float)
    assert (pixels < 100).mean() > 0.005  # drawn: dark axes, text and ranges
    assert build_plan_workbook(plan, plan_request).sheet("Strategies").pictures[0].png == picture.png


def test_what_a_native_chart_draws_is_not_a_picture_too(
    plan: PlanResponse, plan_request: dict[str, Any]
) -> None:
    book = build_plan_workbook(plan, plan_request)
    assert plan.thresholds  # the example simulates hybrid: the threshold sheet has its charts
    assert [c.title for c in book.sheet("Thresholds").charts] == [
        "Coverage by threshold",
        "Risk by threshold",
    ]
    (curve,) = book.sheet("Learning curve").charts
    assert {s.title for s in curve.series} >= {"P10", "P50 forecast", "P90"}
    assert [s.title for s in book.sheets if s.pictures] == ["Strategies"]


def test_the_rendered_workbook_embeds_the_picture_on_the_strategies_sheet(
    plan: PlanResponse, plan_request: dict[str, Any], workbook_bytes: bytes, book: openpyxl.Workbook
) -> None:
    (picture,) = build_plan_workbook(plan, plan_request).sheet("Strategies").pictures
    archive = zipfile.ZipFile(io.BytesIO(workbook_bytes))
    media = [name for name in archive.namelist() if name.startswith("xl/media/")]
    assert media == ["xl/media/image1.png"]
    assert archive.read("xl/media/image1.png") == picture.png
    media_by_sheet = {
        title: [name for name in linked if name.startswith("xl/media/")]
        for title, linked in sheet_drawings(workbook_bytes).items()
    }
    assert {title: media for title, media in media_by_sheet.items() if media} == {
        "Strategies": ["xl/media/image1.png"]
    }
    (image,) = book["Strategies"]._images
    anchor = image.anchor
    assert (anchor._from.row + 1, anchor._from.col + 1) == (int(picture.anchor[1:]), 1)
    assert (anchor.ext.width, anchor.ext.height) == tuple(map(pixels_to_EMU, COSTS_PICTURE))
    props = anchor.pic.nvPicPr.cNvPr
    assert props.name == "Cost by strategy" and props.descr == picture.description


def test_the_renderer_places_a_picture_beside_a_chart_with_its_own_drawing_id() -> None:
    sb = SheetBuilder("Data")
    for n in (1, 2, 3):
        sb.add(Cell(n, "count"), Cell(n * 2, "count"))
    sb.charts.append(Chart("scatter", "line", (Series("y", sb.ref(2, 1, 3), sb.ref(1, 1, 3)),), anchor="D1"))
    sb.pictures.append(Picture(png(40, 30), "D20", 80, 60, "Ranges\x07", "what it shows"))
    data = render_workbook(Workbook("t", "USD", (sb.build(),)))
    archive = zipfile.ZipFile(io.BytesIO(data))
    drawing = archive.read("xl/drawings/drawing1.xml").decode()
    assert re.findall(r'<cNvPr id="(\d+)"', drawing) == ["1", "2"]
    ws = load(data)["Data"]
    assert len(ws._charts) == 1
    (image,) = ws._images
    assert (image.anchor._from.row, image.anchor._from.col) == (19, 3)
    assert (image.anchor.ext.width, image.anchor.ext.height) == (pixels_to_EMU(80), pixels_to_EMU(60))
    props = image.anchor.pic.nvPicPr.cNvPr
    assert (props.name, props.descr) == ("Ranges", "what it shows")  # control characters cleaned


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"png": b"GIF89a"}, "PNG"),
        ({"width": 0}, "positive size"),
        ({"anchor": "not a cell"}, "anchored at a cell"),
    ],
)
def test_a_picture_is_a_png_of_a_positive_size_at_a_cell(changes: dict[str, Any], message: str) -> None:
    fields: dict[str, Any] = {"png": png(), "anchor": "A1", "width": 4, "height": 3, "title": "t", **changes}
    with pytest.raises(ValueError, match=message):
        Picture(**fields)
