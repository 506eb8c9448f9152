"""A real spreadsheet opens the plan workbook: LibreOffice (headless) renders it to PDF, with every sheet on
a page, no column too narrow for its numbers (``###``) and the embedded picture printed, and computes the
live formulas to the plan's costs.

``make test`` installs LibreOffice Calc and poppler when they are missing.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from annoplan.planner.quotes import make_quote
from annoplan.planner.schemas.plans import PlanResponse
from annoplan.reports import quote_workbook
from annoplan.reports.charts import COSTS_PICTURE
from annoplan.reports.sections import STRATEGY_NAMES
from annoplan.simulators.costs import RateCard
from tests.reports.helpers import load, quote_request

TIMEOUT = 240


def convert(files: dict[str, bytes], to: str, workdir: Path) -> dict[str, Path]:
    """Workbooks (by file stem) saved in ``workdir`` and converted by LibreOffice to ``to`` in one run, with
    a profile of its own (parallel runs do not share one)."""
    soffice = shutil.which("soffice")
    assert soffice, "LibreOffice is missing: make test installs libreoffice-calc-nogui"
    sources = []
    for stem, data in files.items():
        sources.append(workdir / f"{stem}.xlsx")
        sources[-1].write_bytes(data)
    out = workdir / "out"
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={(workdir / 'profile').as_uri()}",
            "--headless",
            "--convert-to",
            to,
            "--outdir",
            str(out),
            *map(str, sources),
        ],
        check=True,
        capture_output=True,
        timeout=TIMEOUT,
    )
    converted = {stem: out / f"{stem}.{to}" for stem in files}
    assert all(path.is_file() for path in converted.values()), f"LibreOffice wrote no {to}"
    return converted


def pdf_text(pdf: Path, sheets: list[str]) -> str:
    """The text of a rendered workbook, after checking that every sheet has a page."""
    pages = re.search(r"^Pages:\s+(\d+)", poppler("pdfinfo", str(pdf)), re.M)
    assert pages and int(pages.group(1)) >= len(sheets)
    text = poppler("pdftotext", "-layout", str(pdf), "-")
    for footer in sheets:
        assert footer in text
    return text


def poppler(tool: str, *args: str) -> str:
    path = shutil.which(tool)
    assert path, f"{tool} is missing: make test installs poppler-utils"
    return subprocess.run([path, *args], check=True, capture_output=True, text=True, timeout=60).stdout


def test_the_plan_and_quote_workbooks_render_to_pdf_with_every_sheet_readable(
    workbook_bytes: bytes, book: openpyxl.Workbook, plan: PlanResponse, tmp_path: Path
) -> None:
    quote = make_quote(quote_request())
    quote_bytes = quote_workbook(quote, quote_request())
    pdfs = convert({"plan": workbook_bytes, "quote": quote_bytes}, "pdf", tmp_path)
    text = pdf_text(pdfs["plan"], book.sheetnames)
    assert "###" not in text
    assert plan.name and plan.name in text
    for heading in ("Annotation plan", "Costs at the Assumptions' unit prices", "Sensitivity to unit prices"):
        assert heading in text
    # the costs picture is printed at its own pixels on the Strategies sheet's page (pdfimages -list: page,
    # number, type, width, height, ...; its transparency comes as a second "smask" image)
    images = [line.split() for line in poppler("pdfimages", "-list", str(pdfs["plan"])).splitlines()[2:]]
    ((page, *_),) = [row for row in images if row[2] == "image"]
    assert [tuple(map(int, row[3:5])) for row in images if row[2] == "image"] == [COSTS_PICTURE]
    assert "Strategies side by side" in poppler("pdftotext", "-f", page, "-l", page, str(pdfs["plan"]), "-")
    text = pdf_text(pdfs["quote"], load(quote_bytes).sheetnames)
    assert "###" not in text
    assert quote.price_cap is not None and f"{Decimal(quote.price_cap):,} USD" in text


def test_the_spreadsheet_computes_the_live_costs_to_the_plan(
    workbook_bytes: bytes, plan: PlanResponse, plan_request: dict[str, Any], tmp_path: Path
) -> None:
    recalculated = openpyxl.load_workbook(
        convert({"plan": workbook_bytes}, "xlsx", tmp_path)["plan"], data_only=True
    )
    ws = recalculated["Costs"]
    header = [c.value for c in ws[4]]
    live = header.index("Mean cost (live)")
    rows = {row[0]: row for row in ws.iter_rows(min_row=5, values_only=True) if row[0]}
    card = RateCard.from_mapping(plan_request["costs"])
    for forecast in plan.strategies:
        expected = float(card.total(forecast.expected_work.volumes()))
        assert rows[STRATEGY_NAMES[forecast.strategy]][live] == pytest.approx(expected, rel=1e-9)
