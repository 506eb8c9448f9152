"""Excel workbooks of plans and quotes: a plain sheet model built from a planner result, rendered to ``.xlsx``
bytes by one renderer.

``plan_workbook(plan, request) -> bytes`` and ``quote_workbook(quote, request) -> bytes`` are the entry
points; :mod:`reports.model` is the sheet model and :mod:`reports.render` the renderer.
"""

from annoplan.reports.plan import build_plan_workbook, plan_workbook
from annoplan.reports.quote import build_quote_workbook, quote_workbook

__all__ = ["build_plan_workbook", "build_quote_workbook", "plan_workbook", "quote_workbook"]
