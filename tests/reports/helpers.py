"""Helpers of the workbook tests: the example request made small, and loading a workbook's bytes."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import openpyxl

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE: dict[str, Any] = json.loads((ROOT / "examples" / "plan.json").read_text())


def small_request(**changes: Any) -> dict[str, Any]:
    """The example plan request with few draws and two batch sizes (fast), updated by ``changes``."""
    return {**EXAMPLE, "draws": 300, "batch_sizes": [1000, 5000], **changes}


VENDOR_COSTS = {"review": 0.2, "correction": 0.8, "audit": 0.2, "audit_rate": 0.05, "round_overhead": 50.0}


def quote_request(**changes: Any) -> dict[str, Any]:
    """A quote request on the example's pilot (300 draws), updated by ``changes``."""
    return {
        "name": "Support tickets backlog",
        "vendor": "Acme labeling",
        "notes": "Correction-only pricing.",
        "pool_size": 20_000,
        "pilot": EXAMPLE["pilot"],
        "max_label_error": 0.05,
        "vendor_costs": VENDOR_COSTS,
        "margin": 0.2,
        "draws": 300,
        "seed": 1,
        **changes,
    }


def load(data: bytes) -> openpyxl.Workbook:
    """A workbook's bytes loaded back as a spreadsheet reader sees them (formulas as text, not results)."""
    return openpyxl.load_workbook(io.BytesIO(data))


def cells(book: openpyxl.Workbook) -> list[Any]:
    """Every non-empty cell of every sheet."""
    return [cell for ws in book for row in ws.iter_rows() for cell in row if cell.value is not None]
