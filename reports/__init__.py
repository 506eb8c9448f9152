"""Excel workbooks of plans (and quotes): a plain sheet model built from a planner result, rendered to
``.xlsx`` bytes by one renderer.

``plan_workbook(plan, request) -> bytes`` is the entry point; :mod:`reports.model` is the sheet model and
:mod:`reports.render` the renderer.
"""

from reports.plan import build_plan_workbook, plan_workbook

__all__ = ["build_plan_workbook", "plan_workbook"]
