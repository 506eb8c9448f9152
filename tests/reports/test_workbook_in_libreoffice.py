"""A real spreadsheet opens the plan workbook: LibreOffice (headless) renders it to PDF, with every sheet on
a page, no column too narrow for its numbers (``###``), and computes the live formulas to the plan's costs.

``make test`` installs LibreOffice Calc and poppler when they are missing.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from planner.schemas.plans import PlanResponse
from reports.sections import STRATEGY_NAMES
from simulators.costs import RateCard

TIMEOUT = 240


def convert(data: bytes, to: str, workdir: Path) -> Path:
    """``data`` saved as ``plan.xlsx`` and converted by LibreOffice to ``to`` in ``workdir/out``, with a
    profile of its own (parallel runs do not share one)."""
    soffice = shutil.which("soffice")
    assert soffice, "LibreOffice is missing: make test installs libreoffice-calc-nogui"
    source = workdir / "plan.xlsx"
    source.write_bytes(data)
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
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=TIMEOUT,
    )
    converted = out / f"plan.{to}"
    assert converted.is_file(), f"LibreOffice wrote no {to}"
    return converted


def poppler(tool: str, *args: str) -> str:
    path = shutil.which(tool)
    assert path, f"{tool} is missing: make test installs poppler-utils"
    return subprocess.run([path, *args], check=True, capture_output=True, text=True, timeout=60).stdout


def test_the_workbook_renders_to_pdf_with_every_sheet_readable(
    workbook_bytes: bytes, book: openpyxl.Workbook, plan: PlanResponse, tmp_path: Path
) -> None:
    pdf = convert(workbook_bytes, "pdf", tmp_path)
    pages = re.search(r"^Pages:\s+(\d+)", poppler("pdfinfo", str(pdf)), re.M)
    assert pages and int(pages.group(1)) >= len(book.sheetnames)
    text = poppler("pdftotext", "-layout", str(pdf), "-")
    assert "###" not in text
    assert plan.name and plan.name in text
    for heading in ("Annotation plan", "Costs at the Assumptions' unit prices", "Sensitivity to unit prices"):
        assert heading in text
    for footer in book.sheetnames:
        assert footer in text


def test_the_spreadsheet_computes_the_live_costs_to_the_plan(
    workbook_bytes: bytes, plan: PlanResponse, plan_request: dict[str, Any], tmp_path: Path
) -> None:
    recalculated = openpyxl.load_workbook(convert(workbook_bytes, "xlsx", tmp_path), data_only=True)
    ws = recalculated["Costs"]
    header = [c.value for c in ws[4]]
    live = header.index("Mean cost (live)")
    rows = {row[0]: row for row in ws.iter_rows(min_row=5, values_only=True) if row[0]}
    card = RateCard.from_mapping(plan_request["costs"])
    for forecast in plan.strategies:
        expected = float(card.total(**forecast.expected_work.model_dump()))
        assert rows[STRATEGY_NAMES[forecast.strategy]][live] == pytest.approx(expected, rel=1e-9)
